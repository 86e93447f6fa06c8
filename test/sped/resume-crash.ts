// A real crash: a child process converts a big file with checkpoints (output fsynced, then the checkpoint written
// to a JSON file), is killed with SIGKILL after some checkpoints (its output already longer than the last
// checkpoint covers), and is run again from the last checkpoint: the output equals a clean run's byte for byte,
// the summary too, and the second process resumed (it read the input from the checkpoint on, not from zero).
// Needs the built library (`npm run build`; `npm test` builds first).
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { SpedCheckpoint } from '../../src/sped/checkpoint.js';
import { bigFile, folderBytes } from '../helpers/sped-resume.js';
import { tempDir } from '../helpers/sped.js';

const CHILD = fileURLToPath(new URL('../helpers/resume-child.mjs', import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL('../../dist/sped/checkpoint.js', import.meta.url)));

interface Done {
  done: true;
  resumedFrom: number | null;
  rchar: number;
  outputBytesWritten: number | null;
  startBytes: number;
  checkpoints: number;
  result: { files?: { path: string }[] } & Record<string, unknown>;
}

/** Runs the child; resolves at its exit with its stdout lines. `onLine` may kill it. */
async function child(args: string[], onLine: (line: string, kill: () => void) => void = () => {}): Promise<{ code: number | null; signal: string | null; lines: string[] }> {
  const p = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let rest = '';
  p.stdout.setEncoding('utf8').on('data', (s: string) => {
    rest += s;
    for (let nl = rest.indexOf('\n'); nl !== -1; nl = rest.indexOf('\n')) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      lines.push(line);
      onLine(line, () => p.kill('SIGKILL'));
    }
  });
  p.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code, signal] = (await once(p, 'exit')) as [number | null, string | null];
  if (code !== 0 && signal === null) throw new Error(`child failed (${code}): ${stderr}`);
  return { code, signal, lines };
}

const doneOf = (lines: string[]): Done => JSON.parse(lines[lines.length - 1]!) as Done;

const CASES = [
  { kind: 'to-jsonl', size: 100e6, every: 8 * 1024 * 1024, holdAt: 5 },
  { kind: 'fix-totals', size: 32e6, every: 4 * 1024 * 1024, holdAt: 4 },
  { kind: 'to-csv', size: 24e6, every: 4 * 1024 * 1024, holdAt: 4 },
] as const;

t.test('kill -9 mid-conversion, then resume from the last checkpoint', { skip: BUILT ? false : 'needs the built library: npm run build' }, async (t) => {
  const dir = tempDir('sped-crash-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'big.txt');
  await bigFile(input, Math.max(...CASES.map((c) => c.size)));
  for (const c of CASES) {
    await t.test(c.kind, async (t) => {
      // the smaller cases read a shorter copy of the same shape
      const file = c.size === 100e6 ? input : join(dir, `big-${c.kind}.txt`);
      if (file !== input) await bigFile(file, c.size);
      const size = statSync(file).size;
      const clean = join(dir, `${c.kind}.clean`);
      const out = join(dir, `${c.kind}.out`);
      const cpFile = join(dir, `${c.kind}.cp.json`);
      const cleanRun = doneOf((await child([c.kind, file, clean, join(dir, `${c.kind}.clean-cp.json`), '--every', String(c.every)])).lines);

      let held = false;
      const crashed = await child([c.kind, file, out, cpFile, '--every', String(c.every), '--hold-at', String(c.holdAt)], (line, kill) => {
        if (line === 'holding') {
          held = true;
          kill();
        }
      });
      t.equal(crashed.signal, 'SIGKILL', 'killed with SIGKILL');
      t.ok(held, `killed at checkpoint ${c.holdAt}, its output written but not recorded`);
      const cp = JSON.parse(readFileSync(cpFile, 'utf8')) as SpedCheckpoint;
      t.equal(crashed.lines.filter((l) => l.startsWith('checkpoint ')).length, c.holdAt - 1, `${c.holdAt - 1} checkpoints recorded before the kill`);
      t.ok(cp.inputOffset > 0 && cp.inputOffset < size, `the last checkpoint is mid-file (${cp.inputOffset} of ${size})`);
      if (c.kind !== 'to-csv') t.ok(statSync(out).size > cp.outputBytes, 'the killed output is longer than the checkpoint covers (torn)');

      const resumed = doneOf((await child([c.kind, file, out, cpFile, '--every', String(c.every), '--resume'])).lines);
      if (c.kind === 'to-csv') {
        t.same(folderBytes(out), folderBytes(clean), 'the CSV files equal a clean run\'s, byte for byte');
        const rel = (d: Done, base: string): unknown => ({ ...d.result, files: d.result.files!.map((f) => ({ ...f, path: f.path.slice(base.length) })) });
        t.same(rel(resumed, out), rel(cleanRun, clean), 'the same summary');
      } else {
        t.ok(readFileSync(out).equals(readFileSync(clean)), `the output equals a clean run's, byte for byte (${statSync(clean).size} bytes)`);
        t.same(resumed.result, cleanRun.result, 'the same summary');
        t.equal(resumed.startBytes, cp.outputBytes, 'the resumed run kept the checkpoint\'s output bytes');
        t.equal(resumed.startBytes + resumed.outputBytesWritten!, statSync(clean).size, 'and wrote only the rest');
      }
      t.equal(resumed.resumedFrom, cp.inputOffset, 'resumed from the checkpoint');
      // the clean run read the input once plus its modules and layouts; the resumed one the input from the offset on
      const overhead = cleanRun.rchar - size;
      t.ok(resumed.rchar < size - cp.inputOffset + overhead + 4 * 1024 * 1024, `the resumed process read ${resumed.rchar} bytes, not the whole input again (${size} + ${overhead})`);
      t.ok(resumed.checkpoints < cleanRun.checkpoints, `fewer checkpoints (${resumed.checkpoints} < ${cleanRun.checkpoints})`);
    });
  }
});
