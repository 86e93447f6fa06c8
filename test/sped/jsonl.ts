import t from 'tap';
import { Readable } from 'node:stream';
import { InvalidInputError } from '../../src/errors.js';
import type { SpedFinding } from '../../src/sped/findings.js';
import { parseJsonLine, spedFromJsonl, spedToJsonl } from '../../src/sped/jsonl.js';
import { loadLayout } from '../../src/sped/layout.js';
import { recountTotals } from '../helpers/sped-totals.js';
import { collect } from '../helpers/sped.js';
import { decodeCp1252, isRegenerated, sampleLines, samplePaths, SAMPLES_MISSING } from '../helpers/sped-samples.js';


const text = (lines: string[], eol = '\r\n'): Readable => Readable.from([Buffer.from(lines.map((l) => l + eol).join(''), 'latin1')]);
const HEADER = '|0000|020|0|01012026|31012026|EMPRESA LTDA|11222333000181||SP|110042490114|3550308|||A|1|';
const C170_DEFS = loadLayout('efd-icms-ipi').fieldsFor('C170', '020')!;
const C170 = `|${C170_DEFS.map((d) => (d.pos === 1 ? 'C170' : `v${d.pos}`)).join('|')}|extra|`;

t.test('to-jsonl: line, register, raw fields by name; NAME#POS for repeats, #POS beyond the layout', async (t) => {
  const findings: SpedFinding[] = [];
  const out = await collect((o) => spedToJsonl(text([HEADER, '|0001|0|', 'oops', C170]), o, { onFinding: (f) => findings.push(f) }));
  const rows = out.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { line: number; register: string; fields: Record<string, string> });
  t.equal(rows.length, 3);
  t.same(rows[0]!.fields.DT_INI, '01012026');
  t.same(rows[1], { line: 2, register: '0001', fields: { IND_MOV: '0' } });
  const c170 = rows[2]!;
  t.equal(c170.line, 4);
  const pis = C170_DEFS.filter((d) => d.name === 'ALIQ_PIS').map((d) => d.pos);
  t.equal(pis.length, 2, 'C170 repeats ALIQ_PIS');
  t.equal(c170.fields.ALIQ_PIS, `v${pis[0]}`, 'first occurrence by name');
  t.equal(c170.fields[`ALIQ_PIS#${pis[1]}`], `v${pis[1]}`, 'later occurrence keyed NAME#POS');
  t.equal(c170.fields[`#${C170_DEFS.length + 1}`], 'extra', 'beyond the layout: #POS');
  t.equal(Object.keys(c170.fields).length, C170_DEFS.length);
  t.same(findings.map((f) => [f.line, f.code]), [[3, 'SPED_LINE_FORMAT']]);
});

t.test('to-jsonl: empty input and no records are findings', async (t) => {
  const f1: SpedFinding[] = [];
  await collect((o) => spedToJsonl(Readable.from([]), o, { onFinding: (f) => f1.push(f) }));
  t.same(f1.map((f) => f.code), ['SPED_EMPTY']);
  const f2: SpedFinding[] = [];
  await collect((o) => spedToJsonl(text(['hello']), o, { onFinding: (f) => f2.push(f) }));
  t.same(f2.map((f) => f.code), ['SPED_LINE_FORMAT', 'SPED_NOT_SPED']);
});

t.test('from-jsonl: bad lines are InvalidInputErrors naming the line', async (t) => {
  const good = JSON.stringify({ line: 1, register: '0000', fields: { COD_VER: '020', COD_FIN: '0', DT_INI: '01012026', DT_FIN: '31012026', NOME: 'X', CNPJ: '11222333000181' } });
  const cases: [string, string, RegExp][] = [
    ['{"register": "0005", "fields": {', 'SPED_JSONL_SYNTAX', /line 3: not valid JSON/],
    ['[1,2]', 'SPED_JSONL_SHAPE', /line 3: expected an object/],
    ['{"register": 5, "fields": {}}', 'SPED_JSONL_SHAPE', /"register" must be a string/],
    ['{"register": "0005", "fields": {"FANTASIA": 1.5}}', 'SPED_JSONL_SHAPE', /never JSON floats/],
    ['{"register": "0005", "fields": {"NOPE": "1"}}', 'SPED_WRITE_FIELD', /line 3: 0005: unknown field 'NOPE'/],
    ['{"register": "0005", "fields": {"FANTASIA": "a|b"}}', 'SPED_WRITE_VALUE', /line 3: 0005 FANTASIA#2/],
  ];
  for (const [line, code, message] of cases) {
    const input = Readable.from([Buffer.from(`${good}\n\n${line}\n`)]);
    let err: unknown = null;
    try {
      await collect((o) => spedFromJsonl(input, o));
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof InvalidInputError, line);
    t.match(err, { code, line: 3, message }, line);
  }
  await t.rejects(collect((o) => spedFromJsonl(Readable.from([]), o)), { code: 'SPED_JSONL_EMPTY' });
  await t.rejects(collect((o) => spedFromJsonl(Readable.from([Buffer.from('{"a":\xff}', 'latin1')]), o)), { code: 'SPED_JSONL_ENCODING' });
  t.throws(() => parseJsonLine('null', 9), { code: 'SPED_JSONL_SHAPE', line: 9 });
});

t.test('from-jsonl: a BOM, the layout from the 0000 names, numbers as integers', async (t) => {
  const lines = [
    { register: '0000', fields: { COD_VER: '6', TIPO_ESCRIT: '0', IND_SIT_ESP: '', NUM_REC_ANTERIOR: '', DT_INI: '01112020', DT_FIN: '30112020', NOME: 'X', CNPJ: '11222333000181' } },
    { register: 'M100', fields: { COD_CRED: '101', IND_CRED_ORI: 0 } },
  ];
  const input = Readable.from([Buffer.from(`\ufeff${lines.map((l) => JSON.stringify(l)).join('\n')}`)]);
  const out = await collect((o) => spedFromJsonl(input, o).then((s) => t.equal(s.layout, 'efd-contribuicoes')));
  const rows = out.toString('latin1').split('\r\n').slice(0, -1);
  t.equal(rows[0], '|0000|006|0|||01112020|30112020|X|11222333000181|', 'COD_VER padded; fields up to the last one given');
  t.ok(rows.includes('|M100|101|0|'));
  t.same(recountTotals(rows), []);
});

t.test('round trip of the samples: to-jsonl then from-jsonl gives the same records', { skip: SAMPLES_MISSING }, async (t) => {
  for (const path of samplePaths()) {
    const jsonl = await collect((o) => spedToJsonl(path, o));
    const sped = await collect((o) => spedFromJsonl(Readable.from([jsonl]), o));
    t.notOk(sped.toString('latin1').replace(/\r\n/g, '').includes('\n'), `${path}: CRLF only`);
    const out = decodeCp1252(sped).split('\r\n').slice(0, -1);
    const original = sampleLines(path);
    t.same(out.filter((l) => !isRegenerated(l)), original.filter((l) => !isRegenerated(l)), `${path}: same records`);
    t.same(recountTotals(out), [], `${path}: totals hold`);
    if (path.includes('efd-icms-ipi-017')) t.same(out, original, `${path}: a valid file comes back line for line`);
  }
});
