// NF-e batches on the pool: every batch function gives the same output, findings, documents and summary at one
// thread (inline) and on two workers, from a directory, a zip and stdin, with and without failFast; the jobs do
// go to workers, several documents at a time, never more than the window ahead. Workers run dist/ (npm run build).
import t from 'tap';
import { Readable } from 'node:stream';
import { threadId } from 'node:worker_threads';
import { nfeToCsv, nfeToJsonl } from '../../src/nfe/batch-convert.js';
import { validateNfeSources } from '../../src/nfe/batch-validate.js';
import { verifyNfeSources, type VerifiedDocument } from '../../src/nfe/batch-verify.js';
import type { NfeBatchOptions } from '../../src/nfe/batch.js';
import { JOB_LIMITS, WINDOW_PER_THREAD, withNfePool } from '../../src/nfe/batch-pool.js';
import type { NfeFinding } from '../../src/nfe/findings.js';
import { createPool, type FiscalPool, type RunJobOptions } from '../../src/pool/pool.js';
import { needTools } from '../helpers/certs.js';
import { MIXED_MAX_BYTES, writeMixedBatch, type MixedBatch } from '../helpers/nfe-mixed-batch.js';
import { sink } from '../helpers/sink.js';

/** A pool that records what it is asked to run: job names, documents per job, jobs pending at once. */
function recording(pool: FiscalPool): FiscalPool & { jobs: string[]; sizes: number[]; maxPending: number } {
  let pending = 0;
  const rec = {
    threads: pool.threads,
    jobs: [] as string[],
    sizes: [] as number[],
    maxPending: 0,
    async run<R>(job: string, payload: unknown, options?: RunJobOptions): Promise<R> {
      rec.jobs.push(job);
      rec.sizes.push((payload as { docs: unknown[] }).docs.length);
      rec.maxPending = Math.max(rec.maxPending, ++pending);
      try {
        return await pool.run<R>(job, payload, options);
      } finally {
        pending--;
      }
    },
    close: () => pool.close(),
  };
  return rec;
}

interface Outcome {
  out: string;
  findings: NfeFinding[];
  progress: number[];
  summary: unknown;
  documents?: VerifiedDocument[];
}

type Source = { name: string; sources: string; stdin?: () => Readable };

/** Runs one batch function with `where` (threads or a pool) and collects everything it gives. */
async function runAll(kind: string, src: Source, where: Pick<NfeBatchOptions, 'threads' | 'pool'>, failFast = false): Promise<Outcome> {
  const out = sink();
  const findings: NfeFinding[] = [];
  const progress: number[] = [];
  const documents: VerifiedDocument[] = [];
  const base = {
    ...where,
    maxBytes: MIXED_MAX_BYTES,
    failFast,
    onProgress: (n: number) => void progress.push(n),
    ...(src.stdin ? { stdin: src.stdin() } : {}),
  };
  const onFinding = (f: NfeFinding): void => void findings.push(f);
  let summary: unknown;
  if (kind === 'to-jsonl') summary = await nfeToJsonl(src.sources, out, { ...base, onFinding });
  else if (kind === 'to-csv') summary = await nfeToCsv(src.sources, out, { ...base, onFinding });
  else if (kind === 'to-csv --items') summary = await nfeToCsv(src.sources, out, { ...base, onFinding, items: true, delimiter: ';', decimalComma: true });
  else if (kind === 'validate') summary = await validateNfeSources(src.sources, { ...base, onFinding });
  else {
    const s = await verifyNfeSources(src.sources, { ...base, onDocument: (d) => void documents.push(d) });
    summary = { ...s, outcomes: [...s.outcomes] };
  }
  return { out: out.text(), findings, progress, summary, ...(kind === 'verify' ? { documents } : {}) };
}

const KINDS = ['to-jsonl', 'to-csv', 'to-csv --items', 'validate', 'verify'];
const NOTES = 16; // with the broken ones, more documents than one job takes (JOB_LIMITS)

t.test('threads 1 and 2 give the same output, findings, progress and summary', needTools('openssl'), async (t) => {
  const b: MixedBatch = writeMixedBatch(t.testdir(), NOTES);
  const sources: Source[] = [
    { name: 'directory', sources: b.dir },
    ...(b.zip ? [{ name: 'zip', sources: b.zip }] : []),
    { name: 'stdin', sources: '-', stdin: () => Readable.from([b.stdin]) },
  ];
  if (!b.zip) t.comment('python3 not available to write the zip: zip input not checked');
  // one pool of two workers for every run (a pool per call would start workers each time: slow on a loaded machine)
  const pool = recording(createPool({ threads: 2 }));
  t.teardown(() => pool.close());
  for (const src of sources) {
    for (const kind of KINDS) {
      for (const failFast of [false, true]) {
        const label = `${kind} ${src.name}${failFast ? ' failFast' : ''}`;
        const one = await runAll(kind, src, { threads: 1 }, failFast);
        const two = await runAll(kind, src, { pool }, failFast);
        t.same(two, one, `${label}: 2 threads = 1 thread`);
        t.equal(two.out, one.out, `${label}: the same bytes`);
        const s = one.summary as { documents: number; stopped: boolean };
        if (failFast) {
          t.ok(s.stopped && s.documents < b.documents, `${label}: stopped early (${s.documents} documents)`);
        } else {
          t.equal(s.documents, b.documents, `${label}: every document`);
          t.same(one.progress, Array.from({ length: b.documents }, (_, i) => i + 1), `${label}: progress once per document, in order`);
        }
      }
    }
  }
  // `threads: 2` without a pool: one made for the call, its workers started with the second job
  const dir = sources[0]!;
  t.same(await runAll('verify', dir, { threads: 2 }), await runAll('verify', dir, { threads: 1 }), 'a pool made for the call = 1 thread');
  t.ok(pool.jobs.includes('nfe.verify') && pool.jobs.includes('nfe.to-jsonl') && pool.jobs.includes('nfe.validate') && pool.jobs.includes('nfe.to-csv'));
  t.ok(pool.jobs.includes('nfe.events'), 'to-csv reads the events first');
  t.ok(Math.max(...pool.sizes) > 1, 'several documents per job on workers');
  t.ok(Math.max(...pool.sizes) <= JOB_LIMITS.documents, 'never more than the job limit');
  t.ok(pool.maxPending <= WINDOW_PER_THREAD * pool.threads, `never more than the window pending (${pool.maxPending})`);
});

t.test('the batch holds what it should: every kind of failure, at its place', needTools('openssl'), async (t) => {
  const b = writeMixedBatch(t.testdir(), NOTES);
  const src = { name: 'directory', sources: b.dir };
  const verify = await runAll('verify', src, { threads: 2 });
  const outcomes = new Map((verify.summary as { outcomes: [string, number][] }).outcomes);
  t.equal(outcomes.get('NFE_TOO_LARGE'), 1, 'the big note is over the cap');
  t.equal(outcomes.get('NFE_DIGEST_MISMATCH'), 2, 'the tampered note and the re-indented one');
  t.equal(outcomes.get('NFE_XML_MALFORMED'), 1);
  t.equal(outcomes.get('OK'), b.documents - 5, 'the notes, their duplicate and the signed event');
  const docs = verify.documents!;
  t.match(docs.find((d) => d.source.endsWith('event-cancel.xml'))!.report, { ok: true, root: 'procEventoNFe' });
  t.type(docs.find((d) => d.report?.signatures[0]?.certificate)!.report!.signatures[0]!.certificate!.notAfter, Date, 'dates survive the thread boundary');

  const jsonl = await runAll('to-jsonl', src, { threads: 2 });
  const codes = jsonl.findings.map((f) => `${f.source.slice(b.dir.length + 1)} ${f.code}`);
  // the re-indented note is the tampered one's note (the same key) before its whitespace changed
  t.same(codes, ['0/not-nfe.xml NFE_UNKNOWN_ROOT', '1/reindented.xml NFE_DUPLICATE_KEY', '2/big.xml NFE_TOO_LARGE', '2/duplicate.xml NFE_DUPLICATE_KEY', '2/malformed.xml NFE_XML_MALFORMED']);
  t.equal(jsonl.out.trim().split('\n').length, b.documents - 3, 'a line per readable document');

  const csv = await runAll('to-csv', src, { threads: 2 });
  const rows = csv.out.trim().split('\n');
  t.equal(rows.filter((r) => r.endsWith(',cancelled')).length, 1, 'the note with a cancellation event elsewhere in the batch');
});

t.test('a pool made for a call starts its workers with the second job: the first runs in this thread', async (t) => {
  const ids = await withNfePool({ threads: 2 }, async (pool) => {
    t.equal(pool.threads, 2);
    const first = await pool.run<{ threadId: number }>('pool.echo', { value: 1 });
    const next = await Promise.all([2, 3, 4].map((value) => pool.run<{ threadId: number }>('pool.echo', { value, delayMs: 20 })));
    return [first.threadId, ...next.map((r) => r.threadId)];
  });
  t.equal(ids[0], threadId, 'the first job: this thread');
  t.ok(ids.slice(1).every((id) => id !== threadId), 'the next ones: workers');
  const one = await withNfePool({ threads: 1 }, (pool) => Promise.all([1, 2].map((value) => pool.run<{ threadId: number }>('pool.echo', { value }))));
  t.same(one.map((r) => r.threadId), [threadId, threadId], 'threads 1: always this thread');
});
