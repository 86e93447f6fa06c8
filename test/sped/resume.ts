// Resumable conversions: a run stopped after checkpoint k (and crashed later, its output longer than the
// checkpoint covers) and resumed from it — possibly several times — gives a clean run's bytes, summary and
// findings, for to-jsonl, to-csv and fix-totals, on random files of the three layouts, Windows-1252 and UTF-8,
// CRLF and LF, with findings (blank, stray and overlong lines, bad register codes, wrong totals, a signature).
// A checkpoint that does not fit the input, the conversion or the options is refused.
import t, { type Test } from 'tap';
import { cpSync, existsSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { SpedCheckpointError, type SpedCheckpoint } from '../../src/sped/checkpoint.js';
import { spedToJsonl } from '../../src/sped/jsonl.js';
import { LAYOUT_IDS, type LayoutId } from '../../src/sped/layout.js';
import type { SpedFinding } from '../../src/sped/findings.js';
import { decodeBytes } from '../../src/sped/scanner.js';
import type { SyntheticProfile } from '../../src/sped/synthetic.js';
import { convert, CONVERSIONS, crashingRun, folderBytes, type Conversion, type ConvertAllOptions } from '../helpers/sped-resume.js';
import { prng, syntheticFile, tempDir } from '../helpers/sped.js';

interface Case {
  name: string;
  bytes: Buffer;
  options: ConvertAllOptions;
}

/** A random file: a synthetic one, re-encoded, its line ends changed and defects spliced in. */
async function randomCase(seed: number, forFixTotals: boolean): Promise<Case> {
  const rnd = prng(seed);
  const layout = LAYOUT_IDS[seed % LAYOUT_IDS.length] as LayoutId;
  const profile: SyntheticProfile = rnd() < 0.6 ? 'realistic' : 'simple';
  const base = await syntheticFile({ layout, profile, documents: profile === 'realistic' ? 200 + Math.floor(rnd() * 700) : 1500 + Math.floor(rnd() * 3000), seed, products: 80, participants: 30, accounts: 60 });
  const utf8 = rnd() < 0.4;
  const lf = rnd() < 0.4;
  let text = decodeBytes(base, 0, base.length, 'windows-1252');
  const lines = text.split('\r\n');
  lines.pop();
  const defects: string[] = [];
  const overlong = rnd() < 0.3;
  for (let i = Math.floor(rnd() * 6); i > 0; i--) {
    const at = 2 + Math.floor(rnd() * (lines.length - 4));
    const pick = Math.floor(rnd() * (forFixTotals ? 3 : 4));
    const line = pick === 0 ? '' : pick === 1 ? 'texto solto sem barra' : pick === 2 ? '|C100|truncada' : '|c1x0|a|';
    lines.splice(at, 0, line);
    defects.push(JSON.stringify(line));
  }
  if (overlong) {
    lines.splice(3 + Math.floor(rnd() * (lines.length - 5)), 0, `|0450|${'X'.repeat(9000)}|`);
    defects.push('overlong');
  }
  if (rnd() < 0.3) {
    // a wrong 9900 count (fix-totals repairs it; the others copy it)
    const i = lines.findIndex((l) => l.startsWith('|9900|'));
    lines[i] = lines[i]!.replace(/\|\d+\|$/, '|999|');
    defects.push('9900');
  }
  const eol = lf ? '\n' : '\r\n';
  text = lines.join(eol) + eol;
  let bytes = utf8 ? Buffer.from(text, 'utf8') : Buffer.from(text, 'latin1');
  if (utf8 && rnd() < 0.3) {
    // invalid UTF-8 in a file decided as UTF-8: an encoding error finding
    let at = 0;
    for (let n = 0; n < 3; n++) at = bytes.indexOf(10, at) + 1;
    bytes = Buffer.concat([bytes.subarray(0, at + 6), Buffer.from([0xff, 0xfe]), bytes.subarray(at + 6)]);
    defects.push('bad utf-8');
  }
  if (rnd() < 0.2) {
    bytes = Buffer.concat([bytes, Buffer.from('SBRCAAEPDR', 'latin1'), Buffer.alloc(70000, 0x82)]);
    defects.push('signature');
  }
  const options: ConvertAllOptions = {
    checkpointEveryBytes: 1 + Math.floor(rnd() * 80_000),
    ...(overlong ? { maxLineBytes: 4096 } : {}),
  };
  const name = `seed ${seed}: ${layout} ${profile} ${utf8 ? 'utf-8' : 'latin-1'} ${lf ? 'LF' : 'CRLF'} ${bytes.length} bytes, every ${options.checkpointEveryBytes}; ${defects.join(', ') || 'no defects'}`;
  return { name, bytes, options };
}

const findingKey = (f: SpedFinding): string => `${f.line}:${f.code}:${f.severity}:${f.message}`;

/** A clean run and a run crashed and resumed `crashes` times, compared. */
async function checkResume(t: Test, kind: Conversion, c: Case, seed: number): Promise<void> {
  const rnd = prng(seed * 7919);
  const dir = tempDir('sped-resume-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'input.txt');
  writeFileSync(input, c.bytes);
  const cleanDir = join(dir, 'clean');
  const resumedDir = join(dir, 'resumed');
  const cleanFindings: SpedFinding[] = [];
  const clean = await convert(kind, input, cleanDir, { ...c.options, checkpointEveryBytes: undefined, onFinding: (f) => cleanFindings.push(f) });

  let kept = Buffer.alloc(0);
  let reported: SpedFinding[] = [];
  let from: SpedCheckpoint | null = null;
  let resumes = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    // how many checkpoints a run from here makes (probed on a copy of the output folder), then a crash among them
    const probeDir = join(dir, `probe-${attempt}`);
    if (existsSync(resumedDir)) cpSync(resumedDir, probeDir, { recursive: true });
    let count = 0;
    await convert(kind, input, probeDir, { ...c.options, resumeFrom: from ?? undefined, onCheckpoint: async () => void count++ });
    if (count === 0) break;
    const keep = 1 + Math.floor(rnd() * Math.min(3, count));
    const crashAt = keep + Math.floor(rnd() * (count - keep + 1));
    const run = await crashingRun(kind, input, resumedDir, { ...c.options, resumeFrom: from ?? undefined }, keep, crashAt);
    t.notOk(run.finished, `attempt ${attempt + 1}: crashed at checkpoint ${crashAt}, resumes from ${keep}`);
    const cp = run.checkpoint!;
    t.ok(cp.inputOffset > (from?.inputOffset ?? 0), 'each checkpoint is further than the one resumed from');
    const all = Buffer.concat([kept, run.bytes]);
    t.ok(all.length >= cp.outputBytes, 'the output holds at least what the checkpoint covers');
    kept = all.subarray(0, cp.outputBytes);
    // findings before the checkpoint's line were reported; the resumed run reports the rest
    reported = reported.concat(run.findings).filter((f) => (f.line ?? Infinity) < cp.line);
    from = cp;
    resumes++;
  }
  const run = await convert(kind, input, resumedDir, { ...c.options, resumeFrom: from ?? undefined, onFinding: (f) => reported.push(f) });
  const last = { bytes: Buffer.concat([kept, run.bytes]), result: run.result };
  t.ok(resumes >= 1, `resumed ${resumes} times`);
  if (kind === 'sped.to-csv') {
    t.same(folderBytes(resumedDir), folderBytes(cleanDir), `the CSV files are a clean run's, byte for byte (${resumes} resumes)`);
    const r = last.result as { files: { path: string }[] };
    const cr = clean.result as { files: { path: string }[] };
    const rel = (res: { files: { path: string }[] }, d: string): unknown => ({ ...res, files: res.files.map((f) => ({ ...f, path: f.path.slice(d.length) })) });
    t.same(rel(r, resumedDir), rel(cr, cleanDir), 'the same summary');
  } else {
    t.ok(last.bytes.equals(clean.bytes), `the output is a clean run's, byte for byte (${resumes} resumes, ${clean.bytes.length} bytes)`);
    t.same(last.result, clean.result, 'the same summary');
  }
  t.same(reported.map(findingKey), cleanFindings.map(findingKey), 'the findings of a clean run, each reported once');
}

const CASES = Number(process.env.RESUME_CASES ?? 8);

for (let seed = 1; seed <= CASES; seed++) {
  for (const kind of CONVERSIONS) {
    const c = await randomCase(seed, kind === 'sped.fix-totals');
    t.test(`${kind} ${c.name}`, (t) => checkResume(t, kind, c, seed));
  }
}

t.test('a checkpoint is made only between lines, and a fresh checkpointing run writes the clean bytes', async (t) => {
  const c = await randomCase(101, false);
  const dir = tempDir('sped-resume-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'input.txt');
  writeFileSync(input, c.bytes);
  const cps: SpedCheckpoint[] = [];
  const with_ = await convert('sped.to-jsonl', input, dir, { checkpointEveryBytes: 1, onCheckpoint: async (cp) => void cps.push(cp) });
  const without = await convert('sped.to-jsonl', input, dir, {});
  t.ok(with_.bytes.equals(without.bytes));
  t.same(with_.result, without.result);
  t.ok(cps.length >= Math.floor(c.bytes.length / 65536) - 1, `a checkpoint at every slice (${cps.length})`);
  for (const cp of cps) {
    if (c.bytes[cp.inputOffset - 1] !== 10) t.fail(`checkpoint at ${cp.inputOffset} is not after a line break`);
    // the line number: one more than the line breaks before the offset
    let breaks = 0;
    for (let i = c.bytes.indexOf(10); i !== -1 && i < cp.inputOffset; i = c.bytes.indexOf(10, i + 1)) breaks++;
    if (breaks + 1 !== cp.line) t.fail(`checkpoint at ${cp.inputOffset}: line ${cp.line}, expected ${breaks + 1}`);
    if (cp.outputBytes > with_.bytes.length || (cp.outputBytes > 0 && with_.bytes[cp.outputBytes - 1] !== 10)) t.fail('outputBytes ends a JSON line');
  }
  t.same(JSON.parse(JSON.stringify(cps[0])), cps[0], 'plain JSON');
  t.ok(JSON.stringify(cps[cps.length - 1]).length < 2000, 'small');
});

t.test('a checkpoint that does not fit is refused (SPED_CHECKPOINT_MISMATCH)', async (t) => {
  const c = await randomCase(202, false);
  const dir = tempDir('sped-resume-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'input.txt');
  writeFileSync(input, c.bytes);
  const run = await crashingRun('sped.to-jsonl', input, dir, { checkpointEveryBytes: 100_000 }, 1, 2);
  const cp = run.checkpoint!;
  t.ok(cp, 'a checkpoint');
  const refuse = async (what: string, input2: string, checkpoint: unknown, options: ConvertAllOptions = {}, kind: Conversion = 'sped.to-jsonl'): Promise<void> => {
    await t.rejects(convert(kind, input2, join(dir, 'out'), { ...options, resumeFrom: checkpoint as SpedCheckpoint }), { code: 'SPED_CHECKPOINT_MISMATCH', constructor: SpedCheckpointError }, what);
  };
  const other = join(dir, 'other.txt');
  const changed = Buffer.from(c.bytes);
  changed[cp.inputOffset - 10] = changed[cp.inputOffset - 10] === 0x41 ? 0x42 : 0x41;
  writeFileSync(other, changed);
  await refuse('a byte before the offset changed', other, cp);
  const head = Buffer.from(c.bytes);
  head[3] = 0x39;
  writeFileSync(other, head);
  await refuse('a byte of the first line changed', other, cp);
  writeFileSync(other, Buffer.concat([c.bytes, Buffer.from('|9999|1|\r\n')]));
  await refuse('a longer file', other, cp);
  writeFileSync(other, c.bytes);
  truncateSync(other, cp.inputOffset + 5);
  await refuse('a shorter file', other, cp);
  await refuse('another conversion', input, cp, {}, 'sped.fix-totals');
  await refuse('another conversion (to-csv)', input, cp, {}, 'sped.to-csv');
  await refuse('other options', input, cp, { maxLineBytes: 5000 });
  await refuse('another format version', input, { ...cp, version: 2 });
  await refuse('an offset beyond the file', input, { ...cp, inputOffset: c.bytes.length + 1 });
  await refuse('not a checkpoint', input, { version: 1, kind: 'sped.to-jsonl' });
  // the same checkpoint on the same file resumes
  const out = new PassThrough();
  out.resume();
  await t.resolves(spedToJsonl(input, out, { resumeFrom: cp }), 'the right file resumes');
  await t.rejects(spedToJsonl(new PassThrough().end(c.bytes), out, { resumeFrom: cp }), { code: 'SPED_CHECKPOINT_NEEDS_PATH' }, 'a stream cannot resume');
  await t.rejects(spedToJsonl(input, out, { resumeFrom: cp, start: 100 }), { code: 'SPED_CHECKPOINT_NEEDS_PATH' }, 'nor a byte range');
  await t.rejects(spedToJsonl(input, out, { onCheckpoint: async () => {}, checkpointEveryBytes: 0 }), { code: 'SPED_CHECKPOINT_OPTION' });
  await t.rejects(spedToJsonl(input, out, { onCheckpoint: async () => {}, signal: AbortSignal.abort(new Error('stop')) }), { message: 'stop' }, 'an aborted signal stops a path run');
});

t.test('to-csv: a checkpoint whose temporary folder is gone, or whose file is shorter, is refused', async (t) => {
  const c = await randomCase(303, false);
  const dir = tempDir('sped-resume-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'input.txt');
  writeFileSync(input, c.bytes);
  const out = join(dir, 'csv');
  const run = await crashingRun('sped.to-csv', input, out, { checkpointEveryBytes: 100_000 }, 1, 2);
  const cp = run.checkpoint!;
  const state = cp.state as { dir: string; files: { register: string; bytes: number }[] };
  const big = state.files.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  truncateSync(join(out, state.dir, `${big.register}.csv`), big.bytes - 1);
  await t.rejects(convert('sped.to-csv', input, out, { resumeFrom: cp }), { code: 'SPED_CHECKPOINT_MISMATCH' }, 'a file shorter than recorded');
  rmSync(join(out, state.dir), { recursive: true });
  await t.rejects(convert('sped.to-csv', input, out, { resumeFrom: cp }), { code: 'SPED_CHECKPOINT_MISMATCH' }, 'no temporary folder');
  t.same([...folderBytes(out).keys()], [], 'nothing written into the output folder');
});
