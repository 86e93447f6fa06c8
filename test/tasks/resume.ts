// Resumable tasks: sped.to-jsonl, sped.fix-totals and sped.to-csv record their checkpoints in the ledger and a
// later attempt of the same key continues from the last one. In process (each type): an attempt stopped right
// after a checkpoint is recorded, then the task again: a clean run's output, attempts 2, resumed from the offset.
// With a real crash: `fiscal run` in a child process killed with SIGKILL in the middle of a ~150 MB conversion
// (after the ledger holds a checkpoint), then the same task again: byte-identical output, done once (attempts 2,
// one completion, a third delivery reused), and the manifest records where it resumed (not from zero).
// The child needs the built CLI (`npm run build`; `npm test` builds first).
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spedToJsonl } from '../../src/sped/jsonl.js';
import { spedToCsv } from '../../src/sped/csv.js';
import { fixTotals } from '../../src/sped/fix-totals.js';
import { openLedger } from '../../src/tasks/open-ledger.js';
import { runTask, type TaskManifest } from '../../src/tasks/run-task.js';
import { createPool, type FiscalPool } from '../../src/pool/pool.js';
import { partialPathFor } from '../../src/tasks/io.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { stoppingAt } from '../helpers/stopping-ledger.js';
import { bigFile, checkpointBytesFor, folderBytes } from '../helpers/sped-resume.js';
import { tempDir } from '../helpers/sped.js';

const BIN = fileURLToPath(new URL('../../bin/fiscal.js', import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL('../../dist/tasks/types.js', import.meta.url)));

/** The library's own clean run of a conversion into `out` (a file, or a folder for to-csv). */
async function cleanRun(type: string, input: string, out: string): Promise<void> {
  if (type === 'sped.to-csv') {
    await spedToCsv(input, out);
    return;
  }
  const stream = createWriteStream(out);
  if (type === 'sped.to-jsonl') await spedToJsonl(input, stream);
  else await fixTotals(input, stream, { outputEncoding: 'keep', lineEnd: 'keep' });
  stream.end();
  await once(stream, 'finish');
}


/** The attempt stopped right after its 2nd checkpoint (`first` options), then the task again (`second`): checked done. */
async function stopThenResume(
  t: Test,
  dir: string,
  type: string,
  input: string,
  first: { pool?: FiscalPool } = {},
): Promise<{ ledger: MemoryLedger; task: { type: string; input: string; output: string }; workDir: string; cp: { inputOffset: number }; m: TaskManifest }> {
  const ledger = new MemoryLedger();
  const output = join(dir, `${type}.out`);
  const task = { type, input, output };
  const stop = new AbortController();
  const workDir = join(dir, '.fiscal');
  await t.rejects(runTask(task, { ledger: stoppingAt(ledger, 2, stop), signal: stop.signal, leaseMs: 200, workDir, ...first }), { message: 'stopped after a checkpoint' });
  const [entry] = await ledger.list();
  t.equal(entry!.status, 'running', 'the stopped attempt left its claim running');
  const cp = (entry!.checkpoint as { sped: { inputOffset: number } }).sped;
  t.ok(cp.inputOffset > 0, `its checkpoint is in the ledger (offset ${cp.inputOffset})`);
  t.notOk(existsSync(output), 'nothing at the target yet');
  const m = await runTask(task, { ledger, leaseMs: 200, workDir });
  t.equal(m.status, 'done');
  t.equal(m.counts.resumedFromByte, cp.inputOffset, 'resumed from the recorded checkpoint');
  const clean = join(dir, `${type}.clean`);
  await cleanRun(type, input, clean);
  if (type === 'sped.to-csv') t.same(folderBytes(output), folderBytes(clean), 'the CSV files equal a clean run\'s');
  else t.ok(readFileSync(output).equals(readFileSync(clean)), 'the output equals a clean run\'s, byte for byte');
  return { ledger, task, workDir, cp, m };
}

t.test('in process: an attempt stopped after its 2nd checkpoint, then the task again, resumes', async (t) => {
  const dir = tempDir('fiscal-resume-task-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'efd.txt');
  await bigFile(input, 6e6);
  checkpointBytesFor(t, 1 << 20);
  for (const type of ['sped.to-jsonl', 'sped.fix-totals', 'sped.to-csv']) {
    await t.test(type, async (t) => {
      const { ledger, task, workDir, m } = await stopThenResume(t, dir, type, input);
      t.equal(m.attempts, 2, 'attempts 2: the second took over the expired lease');
      const done = await ledger.get(m.key!);
      t.equal(done!.status, 'done');
      t.equal(done!.checkpoint, null, 'no checkpoint left once done');
      const again = await runTask(task, { ledger, leaseMs: 200, workDir });
      t.equal(again.reused, true, 'a third delivery reuses the manifest');
      t.equal(again.attempts, 2);
    });
  }
});

t.test('on a pool: an attempt on two threads stopped after a checkpoint resumes on one thread', async (t) => {
  const dir = tempDir('fiscal-resume-pool-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'efd.txt');
  await bigFile(input, 10e6); // over 8 MiB: converted in byte ranges on the pool
  checkpointBytesFor(t, 1 << 20);
  const pool = createPool({ threads: 2 });
  t.teardown(() => pool.close());
  for (const type of ['sped.to-jsonl', 'sped.to-csv']) await t.test(type, async (t) => void (await stopThenResume(t, dir, type, input, { pool })));
});

t.test('a recorded checkpoint that no longer fits is dropped: the attempt starts from zero', async (t) => {
  const dir = tempDir('fiscal-resume-task-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'efd.txt');
  await bigFile(input, 4e6);
  checkpointBytesFor(t, 1 << 20);
  const ledger = new MemoryLedger();
  const output = join(dir, 'csv');
  const task = { type: 'sped.to-csv', input, output };
  const workDir = join(dir, '.fiscal');
  const stop = new AbortController();
  await t.rejects(runTask(task, { ledger: stoppingAt(ledger, 1, stop), signal: stop.signal, leaseMs: 200, workDir }));
  const [entry] = await ledger.list();
  // the partial directory stays, but the conversion's temporary folder in it is gone
  const partial = partialPathFor(output, entry!.key);
  for (const name of readdirSync(partial)) rmSync(join(partial, name), { recursive: true, force: true });
  const m = await runTask(task, { ledger, leaseMs: 200, workDir });
  t.equal(m.status, 'done', 'done, not failed on SPED_CHECKPOINT_MISMATCH');
  t.equal(m.attempts, 2);
  t.equal(m.counts.resumedFromByte, undefined, 'started from zero');
  const clean = join(dir, 'clean');
  await cleanRun('sped.to-csv', input, clean);
  t.same(folderBytes(output), folderBytes(clean), 'a clean run\'s files');
});

/** Runs `fiscal run`, resolving at its exit; `watch` may kill it. */
async function fiscalRun(args: string[], env: Record<string, string>, watch?: (kill: () => void) => Promise<void>): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const p = spawn(process.execPath, [BIN, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  p.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  p.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exit = once(p, 'exit') as Promise<[number | null, string | null]>;
  if (watch) await watch(() => p.kill('SIGKILL'));
  const [code, signal] = await exit;
  return { code, signal, stdout, stderr };
}

t.test('kill -9 of `fiscal run` mid-conversion, then the same task again', { skip: BUILT ? false : 'needs the built CLI: npm run build' }, async (t) => {
  const dir = tempDir('fiscal-crash-task-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'efd.txt');
  await bigFile(input, 150e6);
  const size = statSync(input).size;
  const output = join(dir, 'out.jsonl');
  const taskFile = join(dir, 'task.json');
  writeFileSync(taskFile, JSON.stringify({ type: 'sped.to-jsonl', input, output }));
  const ledgerUrl = `sqlite:${join(dir, 'ledger.db')}`;
  const env = { FISCAL_CHECKPOINT_BYTES: String(16 * 1024 * 1024) };
  const args = [taskFile, '--ledger', ledgerUrl];

  let recorded: { inputOffset: number; outputBytes: number } | null = null;
  const crashed = await fiscalRun(args, env, async (kill) => {
    // wait until the ledger holds a checkpoint of the running attempt, then kill
    const ledger = await openLedger(ledgerUrl);
    try {
      for (;;) {
        const [entry] = await ledger.list();
        if (entry?.status === 'done') break;
        if (entry?.checkpoint) {
          recorded = (entry.checkpoint as { sped: { inputOffset: number; outputBytes: number } }).sped;
          kill();
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await ledger.close();
    }
  });
  t.equal(crashed.signal, 'SIGKILL', 'the first `fiscal run` was killed');
  t.ok(recorded, 'after the ledger recorded a checkpoint');
  const ledger = await openLedger(ledgerUrl);
  t.teardown(() => ledger.close());
  const [dead] = await ledger.list();
  t.equal(dead!.status, 'running', 'its claim is left running (its lease runs out)');
  t.equal(dead!.attempts, 1);
  const cp = (dead!.checkpoint as { sped: { inputOffset: number } }).sped;
  t.ok(cp.inputOffset > 0 && cp.inputOffset < size, `the last checkpoint is mid-file (${cp.inputOffset} of ${size})`);
  t.notOk(existsSync(output), 'no output at the target: a reader never sees a partial one');

  const second = await fiscalRun(args, env);
  t.equal(second.code, 0, `the second run is done ${second.stderr}`);
  const manifest = JSON.parse(second.stdout) as TaskManifest;
  t.equal(manifest.status, 'done');
  t.equal(manifest.attempts, 2, 'attempts 2');
  t.equal(manifest.counts.resumedFromByte, cp.inputOffset, 'resumed from the last checkpoint, not from zero');

  const clean = join(dir, 'clean.jsonl');
  await cleanRun('sped.to-jsonl', input, clean);
  t.ok(readFileSync(output).equals(readFileSync(clean)), `the output equals a clean run's, byte for byte (${statSync(clean).size} bytes)`);
  t.equal(manifest.output && 'sha256' in manifest.output ? manifest.output.bytes : -1, statSync(clean).size);

  const entry = await ledger.get(manifest.key!);
  t.equal(entry!.status, 'done', 'the ledger shows it done');
  t.equal(entry!.attempts, 2);
  t.same(entry!.manifest, manifest, 'one completion: the manifest recorded is the one printed');
  const third = await fiscalRun(args, env);
  const reused = JSON.parse(third.stdout) as TaskManifest;
  t.equal(reused.reused, true, 'the same task once more is reused, no work');
  t.same({ ...reused, reused: false, durationMs: 0 }, { ...manifest, durationMs: 0 });
});
