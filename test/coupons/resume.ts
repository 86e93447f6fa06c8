/**
 * Checkpoints of the coupon summary. Library: a run stopped right after a checkpoint, then a run from a snapshot of
 * its key-store file, gives a clean run's summary — for a plain file of concatenated documents (resumed at a byte
 * offset), a zip and a CSV export (resumed by skipping the items already read), with cancellations on both sides
 * of the checkpoint and a memory budget small enough that checkpoints also come from the budget. Task: an attempt
 * stopped after its 2nd checkpoint, the task again: attempts 2, resumed, the output a clean run's bytes, no
 * key-store file left. Crash: `fiscal run` killed with SIGKILL after the ledger holds a checkpoint, then again.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarizeCoupons, type SummarizeCouponsOptions } from '../../src/coupons/summary.js';
import { summaryJson } from '../../src/coupons/summary-format.js';
import { KeyStore } from '../../src/common/key-store.js';
import { loadCsvMapping } from '../../src/coupons/csv-mapping.js';
import { openLedger } from '../../src/tasks/open-ledger.js';
import { runTask } from '../../src/tasks/run-task.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { envForTest, stopAfterCheckpoint } from '../helpers/stopping-ledger.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cfe, cfeCancel } from '../helpers/coupons.js';
import { writeZip } from '../helpers/zip.js';

const BIN = fileURLToPath(new URL('../../bin/fiscal.js', import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL('../../dist/tasks/coupons-task.js', import.meta.url)));

/** `n` sales; every 10th cancelled (the cancellation 25 documents later, some after a checkpoint); redeliveries. */
function stream(n = 600): string[] {
  const docs: string[] = [];
  for (let s = 1; s <= n; s++) {
    docs.push(cfe(s).xml);
    if (s % 10 === 0 && s > 25) docs.push(cfeCancel(s - 25).xml);
    if (s % 37 === 0) docs.push(cfe(s - 30).xml);
  }
  docs.push(cfeCancel(9999).xml); // an orphan
  return docs;
}

/** Runs with checkpoints and stops (rejects) right after checkpoint number `stopAt`; returns the file to resume from. */
async function stoppedRun(t: Test, sources: string[], path: string, stopAt: number, extra: SummarizeCouponsOptions = {}): Promise<number> {
  let seen = 0;
  let read = 0;
  await t.rejects(summarizeCoupons(sources, {
    ...extra,
    checkpoints: { path, resume: false, every: 120, onCheckpoint: async (at) => { read = at.read; if (++seen === stopAt) throw new Error('stopped here'); } },
  }), { message: 'stopped here' });
  return read;
}

const KINDS = ['plain', 'zip', 'csv', 'tree', 'zip-csv'] as const;

t.test('stopped after a checkpoint and resumed from a snapshot: a clean run\'s summary', async (t) => {
  const dir = tempDir('coupons-resume-');
  const docs = stream();
  writeFileSync(join(dir, 'day.xml'), docs.join('\n'));
  let zip: string | null = join(dir, 'day.zip');
  if (!writeZip(zip, docs.map((d, i) => [`c${String(i).padStart(5, '0')}.xml`, d]))) zip = null;
  // a POS export of the same sales, one row per coupon, cancellations as rows of their own later on
  writeFileSync(join(dir, 'map.json'), JSON.stringify({ rows: 'coupon', cancelledValues: ['S'], columns: { key: 'key', date: 'day', gross: 'value', cancelled: 'c' } }));
  const mapping = loadCsvMapping(join(dir, 'map.json'));
  const rows = ['key,day,value,c'];
  for (let s = 1; s <= 600; s++) {
    rows.push(`${cfe(s).key},2026-01-05,${s}.${String(s % 100).padStart(2, '0')},N`);
    if (s % 10 === 0 && s > 25) rows.push(`${cfe(s - 25).key},2026-01-05,0.00,S`);
  }
  writeFileSync(join(dir, 'pos.csv'), rows.join('\n') + '\n');
  // a tree: one file per document, and the POS export between them
  mkdirSync(join(dir, 'tree', 'b'), { recursive: true });
  docs.forEach((d, i) => writeFileSync(join(dir, 'tree', `${i < 300 ? 'a' : 'c'}-${String(i).padStart(4, '0')}.xml`), d));
  writeFileSync(join(dir, 'tree', 'b', 'pos.csv'), rows.join('\n') + '\n');
  // a zip of 300 documents and the POS export: the 3rd checkpoint falls in its CSV entry
  const mixed = join(dir, 'mixed.zip');
  if (zip) writeZip(mixed, [...docs.slice(0, 300).map((d, i): [string, string] => [`c${i}.xml`, d]), ['pos.csv', rows.join('\n') + '\n']]);

  for (const kind of KINDS) {
    await t.test(kind, { skip: kind.startsWith('zip') && !zip ? 'python3 zipfile is needed to write the zip' : false }, async (t) => {
      const paths = { plain: join(dir, 'day.xml'), zip: zip!, csv: join(dir, 'pos.csv'), tree: join(dir, 'tree'), 'zip-csv': mixed };
      const sources = [paths[kind]];
      const extra: SummarizeCouponsOptions = { threads: 2, keyMemoryBytes: 32 * 1024, ...(kind !== 'plain' && kind !== 'zip' ? { mapping } : {}) };
      const clean = await summarizeCoupons(sources, extra);
      const first = join(dir, `${kind}-1.db`);
      const read = await stoppedRun(t, sources, first, 3, extra);
      t.ok(read > 0, `stopped after the 3rd checkpoint, ${read} items read`);
      const second = join(dir, `${kind}-2.db`);
      KeyStore.snapshot(first, second);
      let checkpoints = 0;
      const resumed = await summarizeCoupons(sources, { ...extra, checkpoints: { path: second, resume: true, every: 120, onCheckpoint: async () => { checkpoints++; } } });
      t.equal(resumed.resumedFromItem, read, 'resumed where the last checkpoint was');
      t.ok(checkpoints > 0, 'and went on taking checkpoints');
      t.equal(summaryJson(resumed), summaryJson(clean), 'the same summary as a clean run');
      t.ok(clean.totals.cancelled > 50, `${clean.totals.cancelled} cancelled`);
    });
  }
});

t.test('a durable key store never holds keys past its last checkpoint', async (t) => {
  const dir = tempDir('coupons-keys-');
  const path = join(dir, 'k.db');
  const a = new KeyStore({ path, memoryBytes: 1 });
  a.set('K1', { state: 'sale', data: 'x' });
  t.ok(a.overBudget, 'over its budget, and still in memory: a durable store does not spill by itself');
  a.commit('{"n":1}');
  a.set('K2', { state: 'sale', data: 'y' });
  a.close();
  const b = new KeyStore({ path });
  t.equal(b.checkpoint(), '{"n":1}');
  t.same(b.get('K1'), { state: 'sale', data: 'x' });
  t.equal(b.get('K2'), undefined, 'K2 came after the checkpoint: not in the file');
  b.close();
});


const keyFiles = (dir: string): string[] => readdirSync(dir).filter((n) => n.includes('.keys-'));

t.test('the task: stopped after its 2nd checkpoint, then again: resumed, a clean run\'s bytes', async (t) => {
  const dir = tempDir('coupons-resume-task-');
  const input = join(dir, 'day.xml');
  writeFileSync(input, stream().join('\n'));
  envForTest(t, 'FISCAL_CHECKPOINT_DOCUMENTS', '100');
  const task = { type: 'coupons.summary', input, output: join(dir, 'summary.json'), options: { json: true } };
  const workDir = join(dir, '.fiscal');
  const { ledger, checkpoint } = await stopAfterCheckpoint(t, task, 2, workDir);
  const cp = (checkpoint as { coupons: { db: string; read: number } }).coupons;
  t.equal(cp.read, 200, 'the ledger holds the 2nd checkpoint');
  t.same(keyFiles(dir).filter((n) => !n.endsWith('-wal') && !n.endsWith('-shm')), [cp.db], 'the file it names is kept');

  const m = await runTask(task, { ledger, leaseMs: 200, workDir });
  t.match(m, { status: 'done', attempts: 2, counts: { resumedFromItem: 200 } });
  const clean = await runTask({ ...task, output: join(dir, 'clean.json') }, { ledger: new MemoryLedger(), workDir });
  t.equal(clean.counts.resumedFromItem, undefined);
  t.equal(readFileSync(join(dir, 'summary.json'), 'utf8'), readFileSync(join(dir, 'clean.json'), 'utf8'), 'byte for byte');
  t.same(keyFiles(dir), [], 'no key-store file left once done');
  t.equal((await runTask(task, { ledger, leaseMs: 200, workDir })).reused, true);
});

t.test('kill -9 of `fiscal run` after a checkpoint, then the same task again', { skip: BUILT ? false : 'needs the built CLI: npm run build' }, async (t) => {
  const dir = tempDir('coupons-crash-');
  const input = join(dir, 'day.xml');
  writeFileSync(input, stream(4000).join('\n'));
  const ledgerUrl = `sqlite:${join(dir, 'ledger.db')}`;
  const task = join(dir, 'task.json');
  writeFileSync(task, JSON.stringify({ type: 'coupons.summary', input, output: join(dir, 'out.json'), options: { json: true } }));
  const env = { ...process.env, FISCAL_CHECKPOINT_DOCUMENTS: '300' };
  const child = spawn(process.execPath, [BIN, 'run', task, '--ledger', ledgerUrl, '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const exit = once(child, 'exit');
  // kill once the ledger holds a checkpoint
  const ledger = await openLedger(ledgerUrl);
  try {
    for (let i = 0; i < 600; i++) {
      const [e] = await ledger.list();
      if (e?.checkpoint) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGKILL');
    await exit;
    const [e] = await ledger.list();
    t.ok(e?.checkpoint, 'killed with a checkpoint in the ledger');
    t.equal(e?.status, 'running');
  } finally {
    await ledger.close();
  }
  // the killed attempt's lease runs out, then this one takes over
  const again = spawn(process.execPath, [BIN, 'run', task, '--ledger', ledgerUrl, '--threads', '1'], { stdio: ['ignore', 'pipe', 'inherit'], env });
  let out = '';
  again.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  await once(again, 'exit');
  const m = JSON.parse(out.trim().split('\n').pop()!) as { status: string; counts: { resumedFromItem?: number } };
  t.equal(m.status, 'done');
  t.ok((m.counts.resumedFromItem ?? 0) > 0, `resumed from item ${m.counts.resumedFromItem}, not from zero`);
  const clean = await summarizeCoupons(input, { threads: 1 });
  t.equal(readFileSync(join(dir, 'out.json'), 'utf8'), summaryJson(clean), 'a clean run\'s summary');
  t.same(keyFiles(dir), []);
});
