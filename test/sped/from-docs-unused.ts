import t, { type Test } from 'tap';
import { PassThrough, Writable } from 'node:stream';
import { buildNfe } from '../../src/nfe/build.js';
import { cnpjFromNumber, generateInutNFeXml, generateNfe, generateProcInutNFeXml, type InutAnswer, type InutOptions } from '../../src/nfe/generate.js';
import { spedFromDocs, type FromDocsOptions, type FromDocsSummary } from '../../src/sped/from-docs.js';
import type { DocFinding } from '../../src/sped/from-docs-extract.js';
import { validateSped } from '../../src/sped/validator.js';
import { COMPANY_CNPJ, company, spedRecords, writeMonth } from '../helpers/from-docs.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The processed inutilização of a range (unsigned: from-docs reads, it does not verify). */
const inut = (o: Partial<InutOptions>, answer: InutAnswer): string => {
  const opts: InutOptions = { cnpj: COMPANY_CNPJ, first: 1, serie: '2', ...o };
  return generateProcInutNFeXml(generateInutNFeXml(opts, answer), opts, answer);
};
const NOV = (d: number): string => `2022-11-${String(d).padStart(2, '0')}T09:00:00-03:00`;

async function generate(sources: string[], options: Partial<FromDocsOptions>): Promise<{ text: string; summary: FromDocsSummary; findings: DocFinding[] }> {
  const chunks: Buffer[] = [];
  const out = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb(); } });
  const findings: DocFinding[] = [];
  const summary = await spedFromDocs(sources, out, { company: company(), period: '2022-11', threads: 1, onFinding: (f) => findings.push(f), ...options });
  return { text: Buffer.concat(chunks).toString('latin1'), summary, findings };
}

async function validate(t: Test, text: string): Promise<void> {
  const s = new PassThrough();
  s.end(Buffer.from(text, 'latin1'));
  const v = await validateSped(s);
  t.equal(v.errorCount, 0, `validator: no error (${v.errors.slice(0, 5).map((e) => `${e.line}: ${e.code} ${e.message}`).join('; ')})`);
  t.equal(v.warningCount, 0, 'validator: no warning');
}

const codes = (findings: DocFinding[]): string[] => findings.map((f) => `${f.code} ${f.severity} ${f.source.replace(/^.*\//, '')}`).sort();

// an issued note, number 2 of series 2 (seed 1), and the inutilização of 1–4 of series 2: 2 was issued after all
const note = generateNfe(1, { emitterCnpj: COMPANY_CNPJ, dhEmi: NOV(5) });
const files: [string, string][] = [
  ['issued-2.xml', buildNfe(note).xml],
  ['inut-1-4.xml', inut({ first: 1, last: 4 }, { dhRecbto: NOV(8) })],
  ['z-inut-1-4-copy.xml', inut({ first: 1, last: 4 }, { dhRecbto: NOV(8) })],
  ['inut-nfce-7.xml', inut({ model: '65', serie: '1', first: 7 }, { dhRecbto: NOV(2) })],
  ['inut-other-company.xml', inut({ cnpj: cnpjFromNumber(777), first: 9 }, { dhRecbto: NOV(8) })],
  ['inut-refused.xml', inut({ first: 20, last: 21 }, { dhRecbto: NOV(8), cStat: '563', xMotivo: 'Rejeicao: Ja existe pedido de inutilizacao com a mesma faixa' })],
  ['inut-december.xml', inut({ first: 30 }, { dhRecbto: '2022-12-01T09:00:00-03:00' })],
  ['inut-edited.xml', inut({ first: 40, last: 41 }, { dhRecbto: NOV(8) }).replace('<nNFFin>41</nNFFin>', '<nNFFin>42</nNFFin>')],
  ['inut-request-only.xml', generateInutNFeXml({ cnpj: COMPANY_CNPJ, first: 50, serie: '2' })],
];
const dir = tempDir('fiscal-from-docs-unused-');
writeMonth(dir, files);

t.test('a homologated inutilização of the company: one C100 COD_SIT 05 per number, in the period of its dhRecbto', async (t) => {
  t.equal(note.NFe.infNFe.ide.nNF, '2');
  t.equal(note.NFe.infNFe.ide.serie, '2');
  const { text, summary, findings } = await generate([dir], {});
  await validate(t, text);
  const empty = (n: number): string => '|'.repeat(n);
  // REG IND_OPER IND_EMIT COD_PART COD_MOD COD_SIT SER NUM_DOC, then the 21 other fields of C100 empty
  const unused = (mod: string, ser: string, num: number): string => `|C100|1|0||${mod}|05|${ser}|${num}${empty(22)}`;
  const c100 = text.split('\r\n').filter((l) => l.startsWith('|C100|'));
  t.same(c100.filter((l) => l.includes('|05|')), [unused('65', '1', 7), unused('55', '2', 1), unused('55', '2', 3), unused('55', '2', 4)],
    'exactly these lines: by date (the NFC-e range was voided on the 2nd), model, series and number; 2 is the issued note');
  const recs = spedRecords(text).filter((r) => r[0] === 'C100');
  t.same(recs.map((r) => `${r[5]} ${r[4]}/${r[6]}/${r[7]}`), ['05 65/1/7', '00 55/2/2', '05 55/2/1', '05 55/2/3', '05 55/2/4'], 'the note of the 5th before the numbers voided on the 8th');
  t.equal(summary.unusedNumbers, 4);
  t.equal(summary.notes, 5);
  t.same(codes(findings), [
    'FROMDOCS_DUPLICATE warning z-inut-1-4-copy.xml',
    'FROMDOCS_OTHER_COMPANY warning inut-other-company.xml',
    'FROMDOCS_OUT_OF_PERIOD warning inut-december.xml',
    'FROMDOCS_UNSUPPORTED warning inut-request-only.xml',
    'FROMDOCS_UNUSED_CONFLICT warning inut-1-4.xml',
    'NFE_INUT_MISMATCH error inut-edited.xml',
    'NFE_INUT_MISMATCH error inut-edited.xml',
    'NFE_INUT_NOT_HOMOLOGATED warning inut-refused.xml',
  ]);
  const byCode = (c: string): DocFinding => findings.find((f) => f.code === c)!;
  t.match(byCode('FROMDOCS_UNUSED_CONFLICT').message, new RegExp(`number 2 of series 2 \\(model 55\\) is voided here but note ${note.NFe.infNFe['@Id'].slice(3)} \\(.*issued-2\\.xml\\) was issued with it`));
  t.match(byCode('FROMDOCS_DUPLICATE').message, /^4 of the unused numbers 1–4 of series 2 \(model 55\) already read from .*inut-1-4\.xml: counted once$/);
  t.match(byCode('FROMDOCS_OTHER_COMPANY').message, /unused numbers 9–9 of series 2 \(model 55\) are of CNPJ \d{14}, not of company 11222333000181/);
  t.match(byCode('NFE_INUT_MISMATCH').message, /^\/procInutNFe\/inutNFe\/infInut\/@Id: Id ID\d{41} does not match the fields/);
  t.equal(summary.findings.errors, 2, 'a malformed inutilização is an error (exit 1), the others are still booked');
});

t.test('the output does not depend on the order of the documents', async (t) => {
  const reversed = tempDir('fiscal-from-docs-unused-rev-');
  // the copy first: the same numbers are booked, the duplicate is the other file
  writeMonth(reversed, [...files].reverse());
  const a = await generate([dir], {});
  const b = await generate([reversed], {});
  t.equal(b.text, a.text);
});

t.test('from 2023 the situation is discontinued: reported, not booked', async (t) => {
  const d = tempDir('fiscal-from-docs-unused-2026-');
  writeMonth(d, [['inut.xml', inut({ first: 3, last: 5 }, { dhRecbto: '2026-03-10T09:00:00-03:00' })]]);
  const { text, summary, findings } = await generate([d], { period: '2026-03' });
  await validate(t, text);
  t.notMatch(text, /\|C100\|/);
  t.equal(summary.unusedNumbers, 0);
  t.same(findings.map((f) => f.code), ['FROMDOCS_UNUSED_NOT_BOOKED']);
  t.match(findings[0]!.message, /from 2023 an unused number is not booked \(COD_SIT 05 discontinued\)/);
});

t.test('the EFD-Contribuições does not book unused numbers', async (t) => {
  const d = tempDir('fiscal-from-docs-unused-contrib-');
  writeMonth(d, [['issued-2.xml', buildNfe(note).xml], ['inut.xml', inut({ first: 3, last: 5 }, { dhRecbto: NOV(8) })]]);
  const { text, summary, findings } = await generate([d], { layout: 'efd-contribuicoes' });
  await validate(t, text);
  t.equal(spedRecords(text).filter((r) => r[0] === 'C100').length, 1, 'the note only');
  t.equal(summary.unusedNumbers, 0);
  t.same(findings.map((f) => f.code), ['FROMDOCS_UNUSED_NOT_BOOKED']);
  t.match(findings[0]!.message, /EFD-Contribuições does not book unused numbers/);
});

t.test('a range too large to be one inutilização is refused', async (t) => {
  const d = tempDir('fiscal-from-docs-unused-large-');
  writeMonth(d, [['inut.xml', inut({ first: 1, last: 10001 }, { dhRecbto: NOV(8) })]]);
  const { summary, findings } = await generate([d], {});
  t.same(findings.map((f) => [f.code, f.severity]), [['FROMDOCS_UNUSED_TOO_MANY', 'error']]);
  t.equal(summary.unusedNumbers, 0);
});
