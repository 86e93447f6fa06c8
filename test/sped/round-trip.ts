// Lossless round trips: fix-totals on a file whose totals hold changes no byte, and to-jsonl | from-jsonl gives it
// back byte for byte (with --encoding/--line-ends for UTF-8 and LF inputs) — on every valid fixture, on the
// samples whose totals hold, on a Windows-1252 CRLF file with accents, and on a PVA-ordered file (9900 sorted by
// register code) made with the project's writer.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fixTotals, type FixTotalsOptions } from '../../src/sped/fix-totals.js';
import { spedFromJsonl, spedToJsonl, type SpedFromJsonlOptions } from '../../src/sped/jsonl.js';
import { syntheticRecords, type SyntheticOptions } from '../../src/sped/synthetic.js';
import { validateSped } from '../../src/sped/validator.js';
import { SpedWriter, type SpedWriterOptions } from '../../src/sped/writer.js';
import { collect, joinLines, linesOf } from '../helpers/sped.js';
import { sampleLines, samplePaths, SAMPLES_MISSING } from '../helpers/sped-samples.js';
import { recountTotals } from '../helpers/sped-totals.js';


const fixed = (bytes: Buffer, options: FixTotalsOptions = {}): Promise<Buffer> => collect((o) => fixTotals(Readable.from([bytes]), o, options));

/** to-jsonl, then from-jsonl with the encoding and line end to-jsonl reported (as the CLI's note tells). */
async function viaJsonl(bytes: Buffer, options: SpedFromJsonlOptions = {}): Promise<Buffer> {
  let told: SpedFromJsonlOptions = {};
  const jsonl = await collect(async (o) => {
    const r = await spedToJsonl(Readable.from([bytes]), o);
    told = { outputEncoding: r.info.encoding === 'utf-8' ? 'utf-8' : 'windows-1252', lineEnd: r.lineEnd ?? 'crlf' };
  });
  return collect((o) => spedFromJsonl(Readable.from([jsonl]), o, { ...told, ...options }));
}

/** A file from the generator's records through the writer, with `extra` records (e.g. 9900 lines) before finish. */
async function written(options: SyntheticOptions, writer: SpedWriterOptions = {}, edit: (rec: string[]) => string[] = (r) => r, extra: string[][] = []): Promise<Buffer> {
  return collect(async (out) => {
    const w = new SpedWriter(out, { layout: options.layout, ...writer });
    for (const rec of syntheticRecords(options)) await w.writeFields(edit(rec));
    for (const rec of extra) await w.writeFields(rec);
    await w.finish();
  });
}

function same(t: { pass(m: string): void; fail(m: string): void }, actual: Buffer, expected: Buffer, name: string): void {
  if (actual.equals(expected)) {
    t.pass(name);
    return;
  }
  const a = actual.toString('latin1').split('\n');
  const e = expected.toString('latin1').split('\n');
  const i = e.findIndex((l, k) => a[k] !== l);
  t.fail(`${name}: first difference at line ${i + 1}: ${JSON.stringify(a[i])} instead of ${JSON.stringify(e[i])} (${actual.length} bytes, expected ${expected.length})`);
}

const FIXTURES = new URL('../../fixtures/sped/', import.meta.url);

t.test('every valid fixture: fix-totals and to-jsonl | from-jsonl change no byte', async (t) => {
  let checked = 0;
  for (const name of readdirSync(FIXTURES).filter((f) => f.endsWith('.txt')).sort()) {
    const bytes = readFileSync(new URL(name, FIXTURES));
    const v = await validateSped(Readable.from([bytes]), { maxErrors: 0 });
    if (!v.valid) {
      // a broken fixture: its totals are repaired, so bytes change; the repair is checked in fix-totals.ts
      t.notOk(name.includes('2026-01.txt') && !name.includes('broken'), `${name} is meant to be broken`);
      continue;
    }
    same(t, await fixed(bytes), bytes, `${name}: fix-totals`);
    same(t, await viaJsonl(bytes), bytes, `${name}: to-jsonl | from-jsonl`);
    checked++;
  }
  t.ok(checked >= 3, `${checked} fixtures`);
});

t.test('the samples whose totals hold: fix-totals and the JSONL round trip give the same bytes', { skip: SAMPLES_MISSING }, async (t) => {
  let checked = 0;
  for (const path of samplePaths()) {
    const bytes = readFileSync(path);
    const lines = sampleLines(path);
    const blank = bytes.toString('latin1').split(/\r?\n/).slice(0, -1).some((l) => l === '');
    if (recountTotals(lines).length > 0 || blank) continue; // totals or blank lines to repair: bytes must change
    same(t, await fixed(bytes), bytes, `${path}: fix-totals`);
    same(t, await viaJsonl(bytes), bytes, `${path}: to-jsonl | from-jsonl --encoding/--line-ends as noted`);
    checked++;
  }
  t.ok(checked >= 1, `${checked} samples with right totals`);
});

t.test('Windows-1252 with CRLF and accents, UTF-8 with LF: byte for byte', async (t) => {
  const accents = (rec: string[]): string[] => (rec[0] === '0150' || rec[0] === '0200' ? rec.map((v, i) => (i === 2 ? `${v} AÇÚCAR CAFÉ MAÇÃ €` : v)) : rec);
  const cp = await written({ layout: 'efd-icms-ipi', documents: 8, seed: 4 }, {}, accents);
  t.ok(cp.includes(Buffer.from([0xc7])) && cp.includes(Buffer.from('\r\n')), 'Windows-1252 (Ç is one byte), CRLF');
  t.same((await validateSped(Readable.from([cp]), { maxErrors: 0 })).errors, []);
  same(t, await fixed(cp), cp, 'Windows-1252 CRLF: fix-totals');
  same(t, await viaJsonl(cp), cp, 'Windows-1252 CRLF: to-jsonl | from-jsonl (defaults)');
  same(t, await viaJsonl(cp, { outputEncoding: undefined, lineEnd: undefined }), cp, 'the defaults are Windows-1252 and CRLF');

  const utf8 = await written({ layout: 'efd-icms-ipi', documents: 8, seed: 4 }, { encoding: 'utf-8', lineEnd: 'lf' }, accents);
  t.ok(utf8.includes(Buffer.from('AÇÚCAR', 'utf8')) && !utf8.includes(Buffer.from('\r')), 'UTF-8, LF');
  same(t, await fixed(utf8), utf8, 'UTF-8 LF: fix-totals keeps both');
  same(t, await viaJsonl(utf8), utf8, 'UTF-8 LF: to-jsonl | from-jsonl --encoding utf-8 --line-ends lf');
  same(t, await fixed(utf8, { outputEncoding: 'windows-1252', lineEnd: 'crlf' }), cp, 'UTF-8 LF: fix-totals --encoding windows-1252 --line-ends crlf gives the standard file');
  const jsonlDefaults = await collect(async (o) => {
    const jsonl = await collect((j) => spedToJsonl(Readable.from([utf8]), j));
    await spedFromJsonl(Readable.from([jsonl]), o);
  });
  same(t, jsonlDefaults, cp, 'from-jsonl without options writes the standard Windows-1252 CRLF');
});

/** 9900 lines sorted by register code, as the PVA writes them, for the records of `plain` (a writer's output). */
function pvaList(plain: Buffer): string[][] {
  const lines = linesOf(plain);
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l.split('|')[1]!, (counts.get(l.split('|')[1]!) ?? 0) + 1);
  return [...counts.keys()].sort().map((reg) => ['9900', reg, String(counts.get(reg))]);
}

for (const layout of ['efd-icms-ipi', 'efd-contribuicoes', 'ecd'] as const) {
  t.test(`${layout}: a PVA-ordered file (9900 sorted by register code) comes back byte for byte`, async (t) => {
    const options = { layout, documents: 10, seed: 9 };
    const plain = await written(options);
    const pva = await written(options, {}, undefined, pvaList(plain));
    const listed = linesOf(pva).filter((l) => l.startsWith('|9900|')).map((l) => l.split('|')[2]!);
    t.same(listed, listed.slice().sort(), 'the 9900 list is sorted by register code');
    t.not(listed.join(), linesOf(plain).filter((l) => l.startsWith('|9900|')).map((l) => l.split('|')[2]!).join(), 'not the order of first appearance');
    t.same((await validateSped(Readable.from([pva]), { maxErrors: 0 })).errors, [], 'valid');
    same(t, await fixed(pva), pva, 'fix-totals');
    same(t, await viaJsonl(pva), pva, 'to-jsonl | from-jsonl');
    same(t, await fixed(plain), plain, 'a file in order of first appearance keeps that order');
  });
}

t.test('9900 order: registers the input did not list come after the listed ones; listed but absent ones go', async (t) => {
  const lines = linesOf(await written({ layout: 'efd-icms-ipi', documents: 4, seed: 2 }));
  const list = lines.filter((l) => l.startsWith('|9900|'));
  // reverse the list, drop C170's line, add one for a register the file does not have
  const edited = [...lines.filter((l) => !l.startsWith('|9900|') && !l.startsWith('|9990|') && !l.startsWith('|9999|'))];
  const reversed = list.slice().reverse().filter((l) => !l.startsWith('|9900|C170|'));
  const input = joinLines([...edited, ...reversed.slice(0, 3), '|9900|C800|1|', ...reversed.slice(3), '|9990|1|', '|9999|1|']);
  const out = linesOf(await fixed(input)).filter((l) => l.startsWith('|9900|')).map((l) => l.split('|')[2]!);
  const expected = reversed.map((l) => l.split('|')[2]!);
  t.same(out, [...expected, 'C170'], 'the input order, then C170 (not listed)');
  t.same(recountTotals(linesOf(await fixed(input))), []);
});

t.test('an optional block present but empty (ECD block C) stays', async (t) => {
  const lines = linesOf(await written({ layout: 'ecd', documents: 3, seed: 1 }));
  t.notOk(lines.some((l) => l.startsWith('|C001|')), 'the generator leaves block C out');
  const at = lines.findIndex((l) => l.startsWith('|0990|')) + 1;
  const withC = joinLines([...lines.slice(0, at), '|C001|1|', '|C990|2|', ...lines.slice(at)]);
  const repaired = await fixed(withC);
  const out = linesOf(repaired);
  t.same(out.slice(at, at + 2), ['|C001|1|', '|C990|2|'], 'block C kept, empty');
  t.same(recountTotals(out), []);
  same(t, await fixed(repaired), repaired, 'and a second pass changes nothing');
  same(t, await viaJsonl(repaired), repaired, 'nor the JSONL round trip');
  // its opener says data when records follow
  const withData = joinLines([...lines.slice(0, at), '|C001|1|', ...lines.slice(at)]);
  t.notOk(linesOf(await fixed(withData)).includes('|C001|0|'), 'an X001 with nothing after it in its block stays IND_MOV 1');
});
