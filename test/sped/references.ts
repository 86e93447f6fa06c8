// References to block 0 on a file of real cardinality: thousands of items and participants, codes with Latin-1
// bytes, units written in another case than their 0190 code. The byte path and the string path must agree, whole
// or fed in small chunks (values that straddle chunk boundaries), and the findings must be the expected ones.
import t, { type Test } from 'tap';
import { PassThrough, Readable } from 'node:stream';
import { cnpjCheckDigits } from '../../src/common/check-digits.js';
import { fixTotals } from '../../src/sped/fix-totals.js';
import { validateSped, type ValidationResult } from '../../src/sped/validator.js';
import { joinLines, lineOf, linesOf, prng, syntheticFile } from '../helpers/sped.js';

const ITEMS = 4000;
const PARTS = 3000;
const UNITS = ['UN', 'KG', 'PÇ', 'CX'];
const itemCode = (i: number): string => (i % 4 === 0 ? String(7891000000000 + i * 37) : i % 4 === 1 ? String(i).padStart(6, '0') : i % 4 === 2 ? `IT-${i}` : `AÇÚ${i}`);
const partCode = (p: number): string => (p % 3 === 0 ? `C${String(p).padStart(7, '0')}` : p % 3 === 1 ? `F${p}` : `FORNEÇ${p}`);
const cnpj = (n: number): string => {
  const base = `${String(10000000 + n).padStart(8, '0')}0001`;
  return base + cnpjCheckDigits(base);
};
/** The unit as an item names it: the 0190 code in another case for some items (Un, kg, pç). */
const unitOf = (i: number): string => {
  const u = UNITS[i % UNITS.length]!;
  return i % 5 === 0 ? u.toLowerCase() : i % 5 === 1 ? u[0] + u.slice(1).toLowerCase() : u;
};

/** A valid generated file rewritten to many distinct codes (skewed use), with totals regenerated. */
async function manyCodes(): Promise<Buffer> {
  const clean = await syntheticFile({ layout: 'efd-icms-ipi', documents: 400, seed: 3 });
  const rnd = prng(11);
  const skew = (n: number): number => Math.min(n - 1, Math.floor(n * rnd() ** 3));
  const out: string[] = [];
  for (const line of linesOf(clean)) {
    const f = line.split('|');
    const reg = f[1];
    if (reg === '0150') {
      if (f[2] === 'P1') {
        for (let p = 0; p < PARTS; p++) {
          const g = f.slice();
          g[2] = partCode(p);
          g[3] = `COMÉRCIO SÃO JOÃO ${p}`;
          g[5] = cnpj(p + 100);
          out.push(g.join('|'));
        }
      }
      continue;
    }
    if (reg === '0190') {
      for (const u of UNITS) out.push(`|0190|${u}|UNIDADE ${u}|`);
      continue;
    }
    if (reg === '0200') {
      if (f[2] === 'I1') {
        for (let i = 0; i < ITEMS; i++) {
          const g = f.slice();
          g[2] = itemCode(i);
          g[3] = `AÇÚCAR CRISTAL ${i}`;
          g[6] = unitOf(i + 1);
          out.push(g.join('|'));
        }
      }
      continue;
    }
    if (reg === 'C100') f[4] = partCode(skew(PARTS));
    if (reg === 'C170') {
      const i = skew(ITEMS);
      f[3] = itemCode(i);
      f[6] = unitOf(i);
    }
    out.push(f.join('|'));
  }
  const sink = new PassThrough();
  const parts: Buffer[] = [];
  sink.on('data', (c: Buffer) => parts.push(c));
  await fixTotals(Readable.from([joinLines(out)]), sink);
  return Buffer.concat(parts);
}

/** The file fed whole and in pieces of `step` bytes, on both paths: all four results must be the same. */
async function allWays(t: Test, file: Buffer, step: number, what: string): Promise<ValidationResult> {
  const pieces = (): Readable => {
    const parts: Buffer[] = [];
    for (let i = 0; i < file.length; i += step) parts.push(file.subarray(i, i + step));
    return Readable.from(parts);
  };
  const whole = await validateSped(Readable.from([file]), { maxErrors: 0 });
  t.strictSame(await validateSped(Readable.from([file]), { maxErrors: 0, bytePath: false }), whole, `${what}: string path = byte path`);
  t.strictSame(await validateSped(pieces(), { maxErrors: 0 }), whole, `${what}: in ${step}-byte chunks, byte path`);
  t.strictSame(await validateSped(pieces(), { maxErrors: 0, bytePath: false }), whole, `${what}: in ${step}-byte chunks, string path`);
  return whole;
}

t.test('thousands of codes, Latin-1 codes, units in another case: valid, on every path and chunking', async (t) => {
  const file = await manyCodes();
  const lines = linesOf(file);
  t.equal(lines.filter((l) => l.startsWith('|0200|')).length, ITEMS);
  t.equal(lines.filter((l) => l.startsWith('|0150|')).length, PARTS);
  t.ok(lines.some((l) => l.startsWith('|C170|') && l.split('|')[6] === 'Un'), 'some items name Un for UN');
  const r = await allWays(t, file, 7, 'clean');
  t.strictSame(r.errors, [], 'no finding');
  t.ok(r.valid);
});

t.test('references that do not resolve: reported at their lines, the same on every path', async (t) => {
  const lines = linesOf(await manyCodes());
  const bad = lines.slice();
  const edits: { line: number; pos: number; value: string; expect: string | null }[] = [];
  const c170 = (n: number): number => lineOf(lines, 'C170', n);
  const c100 = (n: number): number => lineOf(lines, 'C100', n);
  const set = (line: number, pos: number, value: string, expect: string | null): void => {
    const f = bad[line - 1]!.split('|');
    f[pos] = value;
    bad[line - 1] = f.join('|');
    edits.push({ line, pos, value, expect });
  };
  set(c170(3), 3, 'IT-NOPE', 'COD_ITEM');
  set(c170(10), 3, itemCode(2).toLowerCase(), 'COD_ITEM'); // it-2: items are exact, only units ignore case
  set(c170(20), 3, itemCode(3).replace('Ç', 'C'), 'COD_ITEM'); // AÇÚ3 without its cedilla
  set(c170(30), 3, itemCode(ITEMS - 1), null); // the last item of the long tail: found
  set(c170(40), 6, 'LT', 'UNID'); // no 0190 LT
  set(c170(50), 6, 'pÇ', null); // PÇ in another case: found
  set(c170(60), 6, 'UNI', 'UNID');
  set(c100(5), 4, partCode(PARTS - 1), null);
  set(c100(6), 4, partCode(2).toLowerCase(), 'COD_PART'); // forneç2
  set(c100(7), 4, `${partCode(5)} `, 'COD_PART'); // a trailing space is another code
  const file = joinLines(bad);
  for (const step of [5, 4096]) {
    const r = await allWays(t, file, step, `with bad references, ${step}`);
    const refs = r.errors.filter((e) => e.code === 'SPED_REF_MISSING');
    t.strictSame(
      refs.map((e) => [e.line, e.field]),
      edits.filter((e) => e.expect !== null).sort((a, b) => a.line - b.line).map((e) => [e.line, e.expect]),
      'one SPED_REF_MISSING per unresolved reference, at its line and field',
    );
    t.strictSame(r.errors.filter((e) => e.code !== 'SPED_REF_MISSING'), [], 'and nothing else');
  }
  const r = await validateSped(Readable.from([file]), { maxErrors: 0 });
  t.match(r.errors.find((e) => e.field === 'COD_PART' && e.message.includes('forne'))?.message ?? '', /^COD_PART 'forneç2' has no 0150 record$/, 'the message quotes the value as written');
});
