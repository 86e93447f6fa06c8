// to-jsonl and stats of one file in byte ranges on two threads (src/sped/line-ranges.ts) must give exactly the
// output of one thread: the JSON Lines byte for byte, every finding in order with its line, the result (counts,
// encoding, layout, signature), the stats summary. Checked on mutants of generated files of every layout cut into
// many small ranges, with CRLF and LF, Windows-1252 and UTF-8 (invalid UTF-8 too), a signature block, no final line
// break, overlong lines; and on checkpoints: a run on threads resumed on one thread and the other way round.
// Workers run dist/pool/worker.js: `npm run build` first.
import t from 'tap';
import { Readable } from 'node:stream';
import { createPool } from '../../src/pool/pool.js';
import { spedToJsonl, type SpedToJsonlOptions, type SpedToJsonlResult } from '../../src/sped/jsonl.js';
import { spedStats, type SpedStatsOptions, type SpedStatsResult } from '../../src/sped/stats.js';
import { spedToCsv, type SpedToCsvOptions } from '../../src/sped/csv.js';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { lineRanges, type RangePlan } from '../../src/sped/line-ranges.js';
import type { SpedCheckpoint } from '../../src/sped/checkpoint.js';
import type { SpedFinding } from '../../src/sped/findings.js';
import type { LayoutId } from '../../src/sped/layout.js';
import { collect, linesOf, mutateLines, prng, syntheticFile, tempDir, writeTemp } from '../helpers/sped.js';

const pool = createPool({ threads: 2 });
t.teardown(() => pool.close());

interface JsonlRun {
  bytes: Buffer;
  findings: SpedFinding[];
  result: SpedToJsonlResult;
}

async function jsonl(path: string, options: SpedToJsonlOptions): Promise<JsonlRun> {
  const findings: SpedFinding[] = [];
  let result: SpedToJsonlResult | null = null;
  const bytes = await collect(async (out) => {
    result = await spedToJsonl(path, out, { ...options, onFinding: (f) => findings.push(f) });
  });
  return { bytes, findings, result: result! };
}

async function stats(path: string, options: SpedStatsOptions): Promise<{ result: SpedStatsResult; findings: SpedFinding[] }> {
  const findings: SpedFinding[] = [];
  const result = await spedStats(path, { ...options, onFinding: (f) => findings.push(f) });
  return { result, findings };
}

const LAYOUTS: LayoutId[] = ['efd-icms-ipi', 'efd-contribuicoes', 'ecd'];
const ROUNDS = 40;

for (const layout of LAYOUTS) {
  t.test(`${layout}: to-jsonl and stats on two threads in many ranges = one thread, on ${ROUNDS} mutants`, async (t) => {
    const lines = linesOf(await syntheticFile({ layout, documents: 50, seed: 5, profile: 'realistic', products: 40, participants: 12, accounts: 30 }));
    const rnd = prng(layout.length * 104729 + 3);
    let differing = 0;
    let ranges = 0;
    let reruns = 0;
    let withFindings = 0;
    for (let round = 0; round < ROUNDS && differing <= 3; round++) {
      const eol = rnd() < 0.3 ? '\n' : '\r\n';
      const utf8 = rnd() < 0.25;
      let text = mutateLines(lines, rnd).map((l) => `${l}${eol}`).join('');
      if (rnd() < 0.15) text = text.slice(0, -eol.length); // no final line break
      let bytes = Buffer.from(text, utf8 ? 'utf8' : 'latin1');
      // invalid UTF-8 in a UTF-8 file: a Latin-1 byte in a later line
      if (utf8 && rnd() < 0.5) bytes = Buffer.concat([bytes, Buffer.from(`|0200|X\xe9Y|${eol}`, 'latin1')]);
      // a PVA signature block after 9999 (binary; a line in it may look like a record)
      if (rnd() < 0.15) bytes = Buffer.concat([bytes, Buffer.from('SBRCAAEPDR\x00\x01|C100|x\n|C100|', 'latin1')]);
      const path = writeTemp('mutant.txt', bytes);
      const options = {
        ...(rnd() < 0.15 ? { maxLineBytes: 40 + Math.floor(rnd() * 80) } : {}),
        ...(rnd() < 0.1 ? { layout } : {}),
        ...(rnd() < 0.1 ? { encoding: 'windows-1252' as const } : {}),
      };
      const rangeBytes = 1 + Math.floor(rnd() * 3000);
      let plan: RangePlan | null = null;
      const one = await jsonl(path, options);
      const two = await jsonl(path, { ...options, pool, rangeBytes, onPlan: (p) => (plan = p) });
      const same = t.ok(one.bytes.equals(two.bytes), `round ${round}: the same JSON Lines (${one.bytes.length} bytes)`) &&
        t.strictSame(two.findings, one.findings, `round ${round}: the same findings`) &&
        t.strictSame(two.result, one.result, `round ${round}: the same result`);
      t.ok(plan !== null, `round ${round}: converted in ranges`);
      const p = plan as RangePlan | null;
      ranges += p?.ranges ?? 0;
      reruns += p?.reruns ?? 0;
      if (one.findings.length > 0) withFindings++;
      const statsOptions = { ...(options.layout ? { layout: options.layout } : {}), ...(options.maxLineBytes ? { maxLineBytes: options.maxLineBytes } : {}), maxFindings: 5 };
      const s1 = await stats(path, statsOptions);
      const s2 = await stats(path, { ...statsOptions, pool, rangeBytes: rangeBytes * 3 });
      const sameStats = t.strictSame(s2, s1, `round ${round}: the same stats`);
      if (!same || !sameStats) differing++;
    }
    t.equal(differing, 0, 'no mutant differs');
    t.ok(ranges > ROUNDS * 5, `in many ranges (${ranges}, ${reruns} run again)`);
    t.ok(withFindings >= ROUNDS / 3, `many mutants have findings (${withFindings})`);
  });
}

/** A to-csv run: every file's bytes (in the order the result lists them), the findings, the result or the error. */
async function csv(path: string, options: SpedToCsvOptions): Promise<{ files: [string, string][]; findings: SpedFinding[]; result: unknown; left: string[] }> {
  const dir = tempDir('fiscal-csv-ranges-');
  const findings: SpedFinding[] = [];
  let result: unknown;
  let files: [string, string][] = [];
  try {
    const r = await spedToCsv(path, dir, { ...options, onFinding: (f) => findings.push(f) });
    files = r.files.map((f) => [basename(f.path), readFileSync(f.path, 'latin1')]);
    result = { ...r, files: r.files.map((f) => ({ ...f, path: basename(f.path) })) };
  } catch (err) {
    result = { error: (err as Error).message, code: (err as { code?: string }).code };
  }
  return { files, findings, result, left: readdirSync(dir).filter((n) => !files.some(([f]) => f === n)) };
}

for (const layout of LAYOUTS) {
  t.test(`${layout}: to-csv on two threads in many ranges = one thread, on ${ROUNDS / 2} mutants`, async (t) => {
    const lines = linesOf(await syntheticFile({ layout, documents: 40, seed: 7, profile: 'realistic', products: 30, participants: 10, accounts: 20 }));
    const rnd = prng(layout.length * 7727 + 5);
    let differing = 0;
    let ranges = 0;
    let reruns = 0;
    for (let round = 0; round < ROUNDS / 2 && differing <= 3; round++) {
      const eol = rnd() < 0.3 ? '\n' : '\r\n';
      let bytes = Buffer.from(mutateLines(lines, rnd).map((l) => `${l}${eol}`).join(''), rnd() < 0.2 ? 'utf8' : 'latin1');
      if (rnd() < 0.15) bytes = Buffer.concat([bytes, Buffer.from('SBRCAAEPDR\x00\x01|C100|x\n|C100|', 'latin1')]);
      const path = writeTemp('csv-mutant.txt', bytes);
      const options: SpedToCsvOptions = {
        ...(rnd() < 0.3 ? { delimiter: ';' } : {}),
        ...(rnd() < 0.3 ? { decimalComma: true } : {}),
        ...(rnd() < 0.3 ? { bom: true } : {}),
        ...(rnd() < 0.1 ? { maxRegisters: 3 + Math.floor(rnd() * 20) } : {}),
      };
      let plan: RangePlan | null = null;
      const one = await csv(path, options);
      const two = await csv(path, { ...options, pool, rangeBytes: 1 + Math.floor(rnd() * 3000), onPlan: (p) => (plan = p) });
      const same = t.strictSame(two.files, one.files, `round ${round}: the same files, byte for byte (${one.files.length})`) &&
        t.strictSame(two.findings, one.findings, `round ${round}: the same findings`) &&
        t.strictSame(two.result, one.result, `round ${round}: the same result`);
      t.strictSame(two.left, [], 'no temporary folder left behind');
      const p = plan as RangePlan | null;
      ranges += p?.ranges ?? 0;
      reruns += p?.reruns ?? 0;
      if (!same) differing++;
    }
    t.equal(differing, 0, 'no mutant differs');
    t.ok(ranges > ROUNDS * 2, `in many ranges (${ranges}, ${reruns} run again)`);
  });
}

t.test('a run on threads resumes on one thread and the other way round: the same bytes as a clean run', async (t) => {
  const bytes = await syntheticFile({ layout: 'efd-icms-ipi', documents: 400, seed: 9, profile: 'realistic', products: 60, participants: 20 });
  const path = writeTemp('resume.txt', bytes);
  const clean = await jsonl(path, {});
  for (const [first, second] of [[pool, undefined], [undefined, pool]] as const) {
    const checkpoints: SpedCheckpoint[] = [];
    const run1 = await jsonl(path, {
      ...(first ? { pool: first, rangeBytes: 3000 } : {}),
      checkpointEveryBytes: 20_000,
      onCheckpoint: async (cp) => void checkpoints.push(cp),
    });
    t.ok(run1.bytes.equals(clean.bytes), 'the checkpointed run gives the clean bytes');
    t.ok(checkpoints.length >= 3, `checkpoints taken (${checkpoints.length})`);
    const cp = checkpoints[Math.floor(checkpoints.length / 2)]!;
    t.ok(run1.bytes.subarray(cp.outputBytes, cp.outputBytes + 9).toString().startsWith('{"line":'), 'a checkpoint is between two output lines');
    const rest = await jsonl(path, { ...(second ? { pool: second, rangeBytes: 2500 } : {}), resumeFrom: cp });
    t.ok(Buffer.concat([clean.bytes.subarray(0, cp.outputBytes), rest.bytes]).equals(clean.bytes), `${first ? 'threads' : 'one thread'} → ${second ? 'threads' : 'one thread'}: prefix + resumed = clean`);
    t.strictSame(rest.result.info, clean.result.info, 'the same info');
  }
});

t.test('to-csv: a run on threads stopped after a checkpoint resumes on one thread and the other way round', async (t) => {
  const bytes = await syntheticFile({ layout: 'efd-icms-ipi', documents: 400, seed: 10, profile: 'realistic', products: 60, participants: 20 });
  const path = writeTemp('csv-resume.txt', bytes);
  const clean = await csv(path, {});
  for (const [first, second] of [[pool, undefined], [undefined, pool]] as const) {
    const dir = tempDir('fiscal-csv-resume-');
    const checkpoints: SpedCheckpoint[] = [];
    const stop = new AbortController();
    const threads = (p: typeof pool | undefined): SpedToCsvOptions => (p ? { pool: p, rangeBytes: 3000 } : {});
    await t.rejects(
      spedToCsv(path, dir, {
        ...threads(first),
        checkpointEveryBytes: 20_000,
        signal: stop.signal,
        onCheckpoint: async (cp) => {
          checkpoints.push(cp);
          if (checkpoints.length === 3) stop.abort(new Error('stopped'));
        },
      }),
      /stopped/,
      'the first run stops after its third checkpoint',
    );
    t.ok(readdirSync(dir).some((n) => n.startsWith('.fiscal-csv-')), 'its temporary folder is kept for the resumed run');
    const r = await spedToCsv(path, dir, { ...threads(second), resumeFrom: checkpoints.at(-1)! });
    const files = r.files.map((f) => [basename(f.path), readFileSync(f.path, 'latin1')]);
    t.strictSame(files, clean.files, `${first ? 'threads' : 'one thread'} → ${second ? 'threads' : 'one thread'}: the clean run's files`);
    t.strictSame({ ...r, files: r.files.map((f) => ({ ...f, path: basename(f.path) })) }, clean.result, 'and its result');
    t.strictSame(readdirSync(dir).filter((n) => n.startsWith('.')), [], 'no temporary folder left');
  }
});

t.test('streams and small files run on one thread', async (t) => {
  const bytes = await syntheticFile({ layout: 'efd-icms-ipi', documents: 30, seed: 8 });
  const path = writeTemp('small.txt', bytes);
  let told = false;
  const small = await jsonl(path, { pool, onPlan: () => (told = true) });
  t.notOk(told, 'a small file is not cut');
  const streamed = await collect(async (o) => void (await spedToJsonl(Readable.from([bytes]), o, { pool, onPlan: () => (told = true) })));
  t.ok(streamed.equals(small.bytes), 'a stream gives the same bytes');
  t.notOk(told, 'a stream is not cut');
});

t.test('lineRanges: cuts at line starts and counts the lines before each', async (t) => {
  const text = 'a\nbb\n\nccc\r\ndddd\ne';
  const path = writeTemp('cuts.txt', text);
  for (const step of [1, 2, 3, 5, 100]) {
    const got = [];
    for await (const r of lineRanges(path, 0, 0, text.length, step)) got.push(r);
    t.equal(got[0]!.start, 0);
    t.equal(got.at(-1)!.end, text.length, 'the last range ends at the file end');
    t.ok(got.at(-1)!.last);
    for (const [i, r] of got.entries()) {
      t.ok(r.start === 0 || text[r.start - 1] === '\n', `step ${step}: range ${i} starts a line`);
      t.equal(r.lines, text.slice(0, r.start).split('\n').length - 1, `step ${step}: lines before range ${i}`);
      if (i > 0) t.equal(r.start, got[i - 1]!.end, 'ranges are contiguous');
      if (!r.last) t.ok(r.end - r.start >= step, 'a range has at least the step');
    }
  }
});
