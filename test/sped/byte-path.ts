// The validator's byte path (src/sped/byte-path.ts) must give exactly the string path's result: every finding,
// in order, with the same line, field and message, and the same counters. Checked on mutants of generated files
// (field-level edits aimed at the byte checks, and raw byte edits), on chunked input, on a UTF-8 and a
// Windows-1252 file, and on the shared samples.
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { validateSped, type ValidationResult } from '../../src/sped/validator.js';
import { RecordFields, RegisterCheck } from '../../src/sped/byte-path.js';
import { loadLayout } from '../../src/sped/layout.js';
import { joinLines, linesOf, prng, SHARED, syntheticFile } from '../helpers/sped.js';

/** Values aimed at the byte checks' edges: empty, signs, commas, decimals, sizes, dates, digits, letters, bytes. */
const FIELD_VALUES = [
  '', '0', '1', '2', '9', '-1', '-0,00', '1,5', '1,50', '1,505', '1,', ',5', '1.5', '1.000,00', '00', '01', '08', '09',
  '000', '1102', '5102', '12345678901234567890', '31022026', '29022028', '29022026', '01012026', '31012026', '01022026',
  '00012026', '01131999', '012026', '132026', 'A', 'N', 'D', 'C', 'X', 'UN', 'I2', 'P2', 'ZZZ', '1 ', ' ', 'ç', '\xe7',
  '\x80', '\xc3\xa7', '18,00', '18,000', '123456,00', '35260110000102000160550010000000011000079197',
  '35260110000102000160550010000000011000079198', '10000042000186', '10000042000187', '12345678909', '1234567890A',
  // the Guia's exceptions: situations (COD_SIT) and models (COD_MOD) they depend on
  '02', '03', '04', '05', '06', '07', '55', '65', '66', '57', '63',
];

/** Values the exceptions turn on or judge: situations, models, directions, a participant, an amount, empty. */
const EXCEPTION_VALUES = ['', '00', '02', '03', '04', '05', '06', '07', '08', '55', '65', '66', '57', '63', '0', '1', '00001', '1,00'];

/**
 * One to four edits: a field replaced, emptied, added or removed, or a raw byte changed. With `aim`, most edits go
 * to the lines it picks (the document registers the Guia's exceptions are about).
 */
function mutate(lines: readonly string[], rnd: () => number, aim: readonly number[] = []): string[] {
  const out = [...lines];
  const edits = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < edits; k++) {
    const li = aim.length > 0 && rnd() < 0.7 ? aim[Math.floor(rnd() * aim.length)]! : Math.floor(rnd() * out.length);
    if (li >= out.length) continue;
    const line = out[li]!;
    const fields = line.split('|');
    // an aimed line: mostly its first fields (direction, participant, model, situation, series, number, key)
    const span = aim.length > 0 && rnd() < 0.5 ? Math.min(9, fields.length - 2) : fields.length - 2;
    const fi = 1 + Math.floor(rnd() * Math.max(1, span));
    const kind = rnd();
    const values = aim.length > 0 && rnd() < 0.5 ? EXCEPTION_VALUES : FIELD_VALUES;
    if (kind < 0.6) fields[fi] = values[Math.floor(rnd() * values.length)]!;
    else if (kind < 0.7) fields.splice(fi, 1);
    else if (kind < 0.8) fields.splice(fi, 0, FIELD_VALUES[Math.floor(rnd() * FIELD_VALUES.length)]!);
    else if (kind < 0.85) {
      out.splice(li, 1);
      continue;
    } else {
      const pos = Math.floor(rnd() * line.length);
      const ch = '|0,9A-\x80\xe9 '[Math.floor(rnd() * 10)]!;
      out[li] = line.slice(0, pos) + ch + line.slice(pos + 1);
      continue;
    }
    out[li] = fields.join('|');
  }
  return out;
}

async function both(input: Buffer | (() => Readable)): Promise<[ValidationResult, ValidationResult]> {
  const src = (): Readable | string => (Buffer.isBuffer(input) ? Readable.from([input]) : input());
  const bytes = await validateSped(src(), { maxErrors: 0 });
  const strings = await validateSped(src(), { maxErrors: 0, bytePath: false });
  return [bytes, strings];
}

for (const layout of ['efd-icms-ipi', 'efd-contribuicoes', 'ecd'] as const) {
  t.test(`${layout}: byte path = string path on 200 mutants`, async (t) => {
    const clean = await syntheticFile({ layout, documents: 8, seed: 5 });
    const lines = linesOf(clean);
    const [b0, s0] = await both(clean);
    t.ok(b0.valid && s0.valid, 'the generated file is clean on both paths');
    const rnd = prng(layout.length * 7919 + 3);
    let differing = 0;
    let withFindings = 0;
    for (let round = 0; round < 200; round++) {
      const bad = joinLines(mutate(lines, rnd));
      // fed in small pieces half of the time: lines that straddle chunks
      const step = round % 2 === 0 ? bad.length : 1 + Math.floor(rnd() * 200);
      const pieces = (): Readable => {
        const parts: Buffer[] = [];
        for (let i = 0; i < bad.length; i += step) parts.push(bad.subarray(i, i + step));
        return Readable.from(parts);
      };
      const [b, s] = await both(pieces);
      if (!t.strictSame(b, s, `round ${round}: same result`, { skip: false })) {
        differing++;
        if (differing > 3) break;
      }
      if (s.errors.length > 0) withFindings++;
    }
    t.equal(differing, 0);
    t.ok(withFindings > 150, `most mutants have findings (${withFindings}/200)`);
  });
}

t.test("a retailer's file: byte path = string path on 200 mutants aimed at the Guia's exceptions", async (t) => {
  const clean = await syntheticFile({ layout: 'efd-icms-ipi', profile: 'retailer', documents: 60, seed: 7, products: 40, participants: 12 });
  const lines = linesOf(clean);
  const [b0, s0] = await both(clean);
  t.ok(b0.valid && s0.valid, 'the generated file is clean on both paths');
  // the documents: C100 (NFC-e, NF-e, cancelled), C500 and D100
  const aim = lines.flatMap((l, i) => (/^\|(C100|C500|D100)\|/.test(l) ? [i] : []));
  const rnd = prng(6151);
  let differing = 0;
  let exceptional = 0;
  for (let round = 0; round < 200; round++) {
    const bad = joinLines(mutate(lines, rnd, aim));
    const [b, s] = await both(bad);
    if (!t.strictSame(b, s, `round ${round}: same result`, { skip: false })) {
      differing++;
      if (differing > 3) break;
    }
    if (s.errors.some((e) => / for an? .*\(Guia Prático|SPED_CHILD_NOT_ALLOWED/.test(`${e.message} ${e.code}`))) exceptional++;
  }
  t.equal(differing, 0);
  t.ok(exceptional > 40, `many mutants break an exception (${exceptional}/200)`);
});

t.test('a UTF-8 file: lines beyond ASCII take the string path, with the same findings', async (t) => {
  const lines = linesOf(await syntheticFile({ layout: 'efd-icms-ipi', documents: 4, seed: 9 }));
  const i = lines.findIndex((l) => l.startsWith('|C170|'));
  const f = lines[i]!.split('|');
  f[4] = 'AÇÚCAR CRISTAL'; // DESCR_COMPL
  lines[i] = f.join('|');
  const j = lines.findIndex((l, k) => k > i && l.startsWith('|C170|'));
  const g = lines[j]!.split('|');
  g[6] = 'ÇÇÇÇÇÇ'; // UNID: 6 characters, 12 bytes
  lines[j] = g.join('|');
  const buf = Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'utf8');
  const [b, s] = await both(buf);
  t.equal(b.encoding, 'utf-8');
  t.strictSame(b, s);
});

t.test('a Windows-1252 file: sizes count one character per byte on both paths', async (t) => {
  const lines = linesOf(await syntheticFile({ layout: 'efd-icms-ipi', documents: 4, seed: 9 }));
  const i = lines.findIndex((l) => l.startsWith('|C170|'));
  const f = lines[i]!.split('|');
  f[6] = '\x80\xe7\xe7\xe7\xe7\xe7'; // UNID: 6 characters
  lines[i] = f.join('|');
  const j = lines.findIndex((l, k) => k > i && l.startsWith('|C170|'));
  const g = lines[j]!.split('|');
  g[6] = '\x80\xe7\xe7\xe7\xe7\xe7\xe7'; // 7: too long
  lines[j] = g.join('|');
  const [b, s] = await both(joinLines(lines));
  t.equal(b.encoding, 'windows-1252');
  t.ok(b.errors.some((e) => e.code === 'SPED_REF_MISSING' && e.field === 'UNID'), 'the unit is decoded the same way (€ç…) and missing from 0190');
  t.ok(b.errors.some((e) => e.code === 'SPED_FIELD_SIZE' && e.line === j + 1));
  t.strictSame(b, s);
});

t.test('RegisterCheck: a clean C170 passes, each broken field does not', async (t) => {
  const lay = loadLayout('efd-icms-ipi');
  const def = lay.register('C170')!;
  const check = new RegisterCheck(def, lay.fieldsFor('C170', '020')!, { start: 20260101, end: 20260131 });
  const view = new RecordFields();
  const good = '|C170|1|I2||1,00000|UN|628,07||0|000|1102||628,07|18,00|113,05||||||||||||||||||||||||';
  const run = (line: string): boolean => {
    const buf = Buffer.from(line, 'latin1');
    const n = check.scan(buf, 0, buf.length, false, view);
    return n >= 0 && check.clean(n, null);
  };
  t.ok(run(good));
  view.setBytes(Buffer.from(good, 'latin1'), 38, 'ascii');
  t.equal(run(good) && view.get(2), 'I2', 'fields read back from the bytes');
  for (const [i, v] of [[1, ''], [1, '1a'], [4, '1,000001'], [4, '1.0'], [6, '-'], [8, '2'], [9, '00'], [10, '11021'], [13, '12345,00']] as const) {
    const f = good.split('|');
    f[i + 1] = v;
    t.notOk(run(f.join('|')), `field ${i + 1} = '${v}'`);
  }
  t.notOk(run(`${good}|`), 'one field too many');
  t.notOk(run(good.slice(0, -2)), 'one field too few');
});

const sampleDir = fileURLToPath(new URL('samples/sped/', SHARED));
t.test('the shared samples: byte path = string path', { skip: existsSync(sampleDir) ? false : `samples not found at ${sampleDir}` }, async (t) => {
  for (const name of readdirSync(sampleDir).filter((n) => n.endsWith('.txt'))) {
    const buf = readFileSync(sampleDir + name);
    const [b, s] = await both(buf);
    t.strictSame(b, s, name);
  }
});
