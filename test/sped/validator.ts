import t from 'tap';
import { Readable } from 'node:stream';
import { validateSped, type ValidationResult } from '../../src/sped/validator.js';
import { SPED_CODES } from '../../src/sped/findings.js';
import { joinLines, lineOf, linesOf, setField, syntheticFile } from '../helpers/sped.js';
import { cnpjCheckDigits } from '../../src/common/check-digits.js';

const validate = (buf: Buffer, maxErrors = 0): Promise<ValidationResult> => validateSped(Readable.from([buf]), { maxErrors });

const icms = await syntheticFile({ layout: 'efd-icms-ipi', documents: 12, seed: 7 });
const icmsLines = linesOf(icms);

t.test('clean generated files have no finding, in every layout', async (t) => {
  for (const layout of ['efd-icms-ipi', 'efd-contribuicoes', 'ecd'] as const) {
    for (const seed of [1, 2, 3]) {
      const buf = await syntheticFile({ layout, documents: 5 + seed * 3, seed });
      const r = await validate(buf);
      t.same(r.errors, [], `${layout} seed ${seed}`);
      t.equal(r.valid, true);
      t.equal(r.layout, layout);
      t.equal(r.lines, linesOf(buf).length);
    }
  }
});

interface Defect {
  name: string;
  code: string;
  /** Returns the mutated lines and the line the finding must be reported at. */
  apply(lines: string[]): number;
  /** Findings at other lines are expected too (e.g. totals after inserting a line). */
  cascades?: boolean;
  severity?: 'error' | 'warning';
}

const defects: Defect[] = [
  { name: 'field dropped', code: 'SPED_FIELD_COUNT', apply: (l) => { const n = lineOf(l, 'C170', 4); l[n - 1] = l[n - 1]!.replace(/\|[^|]*\|$/, '|'); return n; } },
  { name: 'thousands separator', code: 'SPED_FIELD_DECIMALS', apply: (l) => { const n = lineOf(l, 'C100', 2); l[n - 1] = setField(l[n - 1]!, 12, '1.234,56'); return n; }, cascades: true },
  { name: 'too many decimals', code: 'SPED_FIELD_DECIMALS', apply: (l) => { const n = lineOf(l, 'C170', 1); l[n - 1] = setField(l[n - 1]!, 5, '1,123456'); return n; } },
  { name: 'dot as decimal separator', code: 'SPED_FIELD_DECIMALS', apply: (l) => { const n = lineOf(l, 'C170', 2); l[n - 1] = setField(l[n - 1]!, 5, '1.5'); return n; } },
  { name: 'date that does not exist', code: 'SPED_DATE_INVALID', apply: (l) => { const n = lineOf(l, 'C100', 3); l[n - 1] = setField(l[n - 1]!, 10, '30022026'); return n; } },
  { name: 'date after the period', code: 'SPED_DATE_OUT_OF_PERIOD', apply: (l) => { const n = lineOf(l, 'C100', 4); l[n - 1] = setField(l[n - 1]!, 10, '01032026'); return n; } },
  { name: 'E100 before the period', code: 'SPED_DATE_OUT_OF_PERIOD', apply: (l) => { const n = lineOf(l, 'E100'); l[n - 1] = setField(l[n - 1]!, 2, '31122025'); return n; } },
  { name: 'access key check digit', code: 'SPED_CHECK_DIGIT', apply: (l) => { const n = lineOf(l, 'C100', 5); const key = l[n - 1]!.split('|')[9]!; l[n - 1] = setField(l[n - 1]!, 9, key.slice(0, 43) + ((Number(key[43]) + 1) % 10)); return n; } },
  { name: 'CNPJ check digit', code: 'SPED_CHECK_DIGIT', apply: (l) => { const n = lineOf(l, '0150', 3); const c = l[n - 1]!.split('|')[5]!; l[n - 1] = setField(l[n - 1]!, 5, c.slice(0, 13) + ((Number(c[13]) + 1) % 10)); return n; } },
  { name: 'CPF check digit', code: 'SPED_CHECK_DIGIT', apply: (l) => { const n = lineOf(l, '0100'); l[n - 1] = setField(l[n - 1]!, 3, '52998224726'); return n; } },
  { name: 'reference to a missing item', code: 'SPED_REF_MISSING', apply: (l) => { const n = lineOf(l, 'C170', 7); l[n - 1] = setField(l[n - 1]!, 3, 'NOPE'); return n; } },
  { name: 'reference to a missing participant', code: 'SPED_REF_MISSING', apply: (l) => { const n = lineOf(l, 'C100', 6); l[n - 1] = setField(l[n - 1]!, 4, 'P999'); return n; } },
  { name: 'reference to a missing unit', code: 'SPED_REF_MISSING', apply: (l) => { const n = lineOf(l, 'C170', 3); l[n - 1] = setField(l[n - 1]!, 6, 'KG'); return n; } },
  { name: 'required field empty', code: 'SPED_FIELD_REQUIRED', apply: (l) => { const n = lineOf(l, 'C100', 7); l[n - 1] = setField(l[n - 1]!, 6, ''); return n; } },
  { name: 'exact size', code: 'SPED_FIELD_SIZE', apply: (l) => { const n = lineOf(l, 'C170', 5); l[n - 1] = setField(l[n - 1]!, 10, '00'); return n; }, cascades: true },
  { name: 'value not in the list', code: 'SPED_FIELD_VALUE', apply: (l) => { const n = lineOf(l, 'C100', 8); l[n - 1] = setField(l[n - 1]!, 6, '09'); return n; } },
  { name: 'letters in a numeric field', code: 'SPED_FIELD_TYPE', apply: (l) => { const n = lineOf(l, 'C170', 6); l[n - 1] = setField(l[n - 1]!, 2, 'A'); return n; } },
  { name: 'child before any parent', code: 'SPED_HIERARCHY', apply: (l) => { const n = lineOf(l, 'C001'); const c170 = l.splice(lineOf(l, 'C170') - 1, 1)[0]!; l.splice(n, 0, c170); return n + 1; }, cascades: true },
  { name: 'child in the wrong block', code: 'SPED_HIERARCHY', apply: (l) => { const n = lineOf(l, 'E110'); l.splice(n, 0, l[lineOf(l, 'C190') - 1]!); return n + 1; }, cascades: true },
  { name: 'unknown register', code: 'SPED_UNKNOWN_REGISTER', apply: (l) => { const n = lineOf(l, 'C190', 2); l.splice(n, 0, '|C999|1|'); return n + 1; }, cascades: true },
  { name: 'line without leading pipe', code: 'SPED_LINE_FORMAT', apply: (l) => { const n = lineOf(l, 'C170', 8); l[n - 1] = l[n - 1]!.slice(1); return n; }, cascades: true },
  { name: 'blank line', code: 'SPED_BLANK_LINE', apply: (l) => { const n = lineOf(l, 'C100', 9); l.splice(n - 1, 0, ''); return n; }, cascades: false },
  { name: 'block total', code: 'SPED_TOTAL_BLOCK', apply: (l) => { const n = lineOf(l, 'C990'); l[n - 1] = setField(l[n - 1]!, 2, '3'); return n; } },
  { name: '9900 count', code: 'SPED_TOTAL_9900', apply: (l) => { const n = l.findIndex((x) => x.startsWith('|9900|C170|')) + 1; l[n - 1] = setField(l[n - 1]!, 3, '1'); return n; } },
  { name: '9990 count', code: 'SPED_TOTAL_9990', apply: (l) => { const n = lineOf(l, '9990'); l[n - 1] = setField(l[n - 1]!, 2, '1'); return n; } },
  { name: '9999 count', code: 'SPED_TOTAL_9999', apply: (l) => { const n = lineOf(l, '9999'); l[n - 1] = setField(l[n - 1]!, 2, '7'); return n; } },
  { name: 'IND_MOV says no data', code: 'SPED_IND_MOV', apply: (l) => { const n = lineOf(l, 'C001'); l[n - 1] = setField(l[n - 1]!, 2, '1'); return n; } },
  { name: 'C190 that does not add up', code: 'SPED_CONSISTENCY', severity: 'warning', cascades: true, apply: (l) => { const n = lineOf(l, 'C100', 3); const c190 = lineOf(l, 'C190', 3); l[c190 - 1] = setField(l[c190 - 1]!, 7, '0,01'); return n; } },
  { name: 'sub-period too', code: 'SPED_OCCURRENCE', cascades: true, apply: (l) => { const n = lineOf(l, 'E110'); l.splice(n, 0, l[n - 1]!); return n + 1; } },
];

for (const d of defects) {
  t.test(`defect at a known line: ${d.name}`, async (t) => {
    const lines = icmsLines.slice();
    const at = d.apply(lines);
    const r = await validate(joinLines(lines));
    const hits = r.errors.filter((e) => e.code === d.code && e.line === at);
    t.ok(hits.length > 0, `${d.code} at line ${at}; got ${JSON.stringify(r.errors.slice(0, 5))}`);
    t.equal(hits[0]?.severity, d.severity ?? 'error');
    if (!d.cascades) {
      const elsewhere = r.errors.filter((e) => e.severity === 'error' && e.line !== at);
      t.same(elsewhere, [], 'no error anywhere else');
    }
    if ((d.severity ?? 'error') === 'error') t.equal(r.valid, false);
  });
}

t.test('direction: a register not used for saídas', async (t) => {
  const lines = icmsLines.slice();
  // C171 (fuel storage) is for entradas only: put one under an outgoing note (even documents are saídas)
  const c100 = lineOf(lines, 'C100', 1);
  t.match(lines[c100 - 1], /^\|C100\|1\|/);
  const c170 = c100 + 1;
  lines.splice(c170, 0, '|C171|1|10,000|');
  const r = await validate(joinLines(lines));
  t.ok(r.errors.some((e) => e.code === 'SPED_DIRECTION' && e.line === c170 + 1), JSON.stringify(r.errors));
});

t.test('truncated file and empty file', async (t) => {
  const cut = icmsLines.slice(0, 60);
  const r = await validate(joinLines(cut));
  t.ok(r.errors.some((e) => e.code === 'SPED_TRUNCATED' && e.line === null));
  t.equal(r.valid, false);
  const empty = await validate(Buffer.alloc(0));
  t.same(empty.errors.map((e) => e.code), ['SPED_EMPTY']);
  t.equal(empty.valid, false);
});

t.test('not SPED at all: one finding, no flood', async (t) => {
  const garbage = Buffer.alloc(200_000);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 256;
  const r = await validate(garbage);
  t.equal(r.valid, false);
  t.ok(r.errors.length <= 3, `few findings: ${r.errors.length}`);
  t.ok(r.errors.some((e) => e.code === 'SPED_NOT_SPED' || e.code === 'SPED_LINE_FORMAT'));
  const csv = await validate(Buffer.from('name;value\r\nfoo;1\r\n'));
  t.ok(csv.errors.some((e) => e.code === 'SPED_NOT_SPED' || e.code === 'SPED_LINE_FORMAT'));
});

t.test('alphanumeric CNPJ is accepted in CNPJ fields', async (t) => {
  const lines = icmsLines.slice();
  const n = lineOf(lines, '0150', 2);
  const base = '12ABC34501DE';
  lines[n - 1] = setField(lines[n - 1]!, 5, base + cnpjCheckDigits(base));
  const ok = await validate(joinLines(lines));
  t.same(ok.errors, []);
  lines[n - 1] = setField(lines[n - 1]!, 5, `${base}00`);
  const bad = await validate(joinLines(lines));
  t.same(bad.errors.map((e) => [e.line, e.code]), [[n, 'SPED_CHECK_DIGIT']]);
});

t.test('version rules', async (t) => {
  const lines = icmsLines.slice();
  lines[0] = setField(lines[0]!, 2, '019');
  const r = await validate(joinLines(lines));
  const v = r.errors.find((e) => e.code === 'SPED_VERSION');
  t.ok(v, 'COD_VER 019 in a 2026 period is reported');
  t.match(v?.message, /expected 020/);
  const old = icmsLines.slice();
  old[0] = setField(old[0]!, 2, '012');
  const r2 = await validate(joinLines(old));
  t.ok(r2.errors.some((e) => e.code === 'SPED_VERSION' && e.severity === 'warning' && /not modelled/.test(e.message)));
});

t.test('max errors truncates the list but not the counts', async (t) => {
  const lines = icmsLines.map((l) => (l.startsWith('|C170|') ? setField(l, 3, 'NOPE') : l));
  const all = await validate(joinLines(lines), 0);
  const some = await validateSped(Readable.from([joinLines(lines)]), { maxErrors: 5 });
  t.equal(some.errors.length, 5);
  t.equal(some.truncated, true);
  t.equal(some.errorCount, all.errorCount);
  t.equal(all.truncated, false);
  t.ok(all.errorCount >= 36);
});

t.test('every finding code is documented', async (t) => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const code of SPED_CODES) t.match(doc, code, `${code} in docs/errors.md`);
});
