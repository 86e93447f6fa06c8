import t from 'tap';
import { Readable } from 'node:stream';
import { validateSped, type ValidationResult } from '../../src/sped/validator.js';
import { SPED_CODES } from '../../src/sped/findings.js';
import { joinLines, lineOf, linesOf, setField, syntheticFile } from '../helpers/sped.js';
import { defects } from '../helpers/sped-defects.js';
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
