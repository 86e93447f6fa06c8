/**
 * Resumable from-docs: a run stopped after a checkpoint and continued from a snapshot of its store gives a clean
 * run's bytes and counts, from a checkpoint in the middle of the reading and from the one after it (only the
 * file left to write), on one thread and on workers; and the `sped.from-docs` task stopped after a checkpoint,
 * then run again, resumes and leaves no store file behind.
 */
import t, { type Test } from 'tap';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { snapshotSqlite } from '../../src/common/sqlite-checkpoint.js';
import { spedFromDocs, type FromDocsOptions, type FromDocsSummary } from '../../src/sped/from-docs.js';
import { runTask } from '../../src/tasks/run-task.js';
import { PERIOD, company, makeMonth, writeMonth } from '../helpers/from-docs.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { envForTest, stopAfterCheckpoint } from '../helpers/stopping-ledger.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeZip } from '../helpers/zip.js';

async function generate(sources: string[], options: Partial<FromDocsOptions> = {}): Promise<{ bytes: Buffer; summary: FromDocsSummary; findings: string[] }> {
  const chunks: Buffer[] = [];
  const out = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb(); } });
  const findings: string[] = [];
  const summary = await spedFromDocs(sources, out, { company: company(), period: PERIOD, threads: 1, onFinding: (f) => findings.push(`${f.code} ${f.source}`), ...options });
  return { bytes: Buffer.concat(chunks), summary, findings };
}

const dir = tempDir('fiscal-from-docs-resume-');
const month = makeMonth(3);
mkdirSync(join(dir, 'month'));
writeMonth(join(dir, 'month'), month.files);
const sources = [join(dir, 'month')];

/** Runs with a checkpoint every 7 documents and stops right after checkpoint number `stopAt`; the documents it had read. */
async function stopped(t: Test, path: string, stopAt: number, extra: Partial<FromDocsOptions>): Promise<{ documents: number; loaded: boolean }> {
  let seen = 0;
  let at = { documents: 0, loaded: false };
  await t.rejects(generate(sources, { ...extra, checkpoints: { path, resume: false, every: 7, onCheckpoint: async (a) => { at = a; if (++seen === stopAt) throw new Error('stopped here'); } } }), { message: 'stopped here' });
  return at;
}

t.test('stopped after a checkpoint, resumed from a snapshot: a clean run\'s bytes', async (t) => {
  const clean = await generate(sources);
  const total = clean.summary.documents;
  t.ok(total > 30, `${total} documents`);
  const checkpointsOfARun = Math.floor(total / 7) + 1;
  for (const [name, stopAt, threads] of [['in the reading', 2, 1], ['in the reading, on workers', 3, 2], ['after the reading', checkpointsOfARun, 1]] as const) {
    await t.test(name, async (t) => {
      const first = join(dir, `${name}-1.db`.replace(/[ ,]/g, '-'));
      const at = await stopped(t, first, stopAt, { threads });
      t.equal(at.loaded, stopAt === checkpointsOfARun, `checkpoint ${stopAt}: ${at.documents} documents${at.loaded ? ', all read' : ''}`);
      const second = `${first}.resume`;
      snapshotSqlite(first, second);
      let later = 0;
      const resumed = await generate(sources, { threads, checkpoints: { path: second, resume: true, every: 7, onCheckpoint: async () => void later++ } });
      t.equal(resumed.summary.resumedFromDocument, at.documents, 'continued where the checkpoint was');
      t.ok(resumed.bytes.equals(clean.bytes), 'the same bytes as a clean run');
      t.same({ ...resumed.summary, resumedFromDocument: 0 }, clean.summary, 'the same summary (documents, duplicates, finding counts)');
      t.same(resumed.findings, clean.findings.slice(clean.findings.length - resumed.findings.length), 'only the findings after the checkpoint are reported again');
      t.ok(at.loaded ? later === 0 : later > 0, at.loaded ? 'nothing left to read: no checkpoint' : 'and went on taking checkpoints');
    });
  }
});

const storeFiles = (d: string): string[] => readdirSync(d).filter((n) => n.includes('.docs-'));

t.test('the task: stopped after its 2nd checkpoint, then again: resumed, a clean run\'s bytes', async (t) => {
  const d = tempDir('fiscal-from-docs-task-');
  envForTest(t, 'FISCAL_CHECKPOINT_DOCUMENTS', '10');
  // a task's input is one file: the month as a zip
  const input = join(d, 'month.zip');
  if (!writeZip(input, month.files)) {
    t.comment('python3 zipfile is needed to write the zip: not run');
    return;
  }
  const task = { type: 'sped.from-docs', input, output: join(d, 'efd.txt'), options: { company: JSON.parse(JSON.stringify(company())) as Record<string, unknown>, period: PERIOD } };
  const workDir = join(d, '.fiscal');
  const { ledger, checkpoint } = await stopAfterCheckpoint(t, task, 2, workDir);
  const cp = (checkpoint as { fromDocs: { db: string; documents: number } }).fromDocs;
  t.equal(cp.documents, 20, 'the ledger holds the 2nd checkpoint');
  t.same(storeFiles(d).filter((n) => !n.endsWith('-wal') && !n.endsWith('-shm')), [cp.db], 'the file it names is kept');

  const m = await runTask(task, { ledger, leaseMs: 200, workDir });
  t.match(m, { status: 'done', attempts: 2, counts: { resumedFromDocument: 20 } });
  const clean = await runTask({ ...task, output: join(d, 'clean.txt') }, { ledger: new MemoryLedger(), workDir });
  t.equal(clean.counts.resumedFromDocument, undefined);
  t.same({ ...m.counts, resumedFromDocument: undefined }, { ...clean.counts, resumedFromDocument: undefined });
  t.ok(readFileSync(join(d, 'efd.txt')).equals(readFileSync(join(d, 'clean.txt'))), 'byte for byte');
  t.same(storeFiles(d), [], 'no store file left once done');
  t.equal((await runTask(task, { ledger, leaseMs: 200, workDir })).reused, true);
});
