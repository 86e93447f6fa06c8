/**
 * `spedFromDocs` with `layout: 'efd-contribuicoes'`: the month of test/helpers/from-docs.ts plus documents with
 * untaxed items, as an EFD-Contribuições that our validator passes, whose PIS/COFINS bases, contributions and
 * credits equal what a tiny reader of the XML text computes here (regular expressions over the bytes, never the
 * generator under test), the same bytes whatever the input order or the memory budget.
 */
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { buildNfe } from '../../src/nfe/build.js';
import { generateNfe } from '../../src/nfe/generate.js';
import { generateCfe } from '../../src/coupons/cfe/generate.js';
import { spedFromDocs, type FromDocsOptions, type FromDocsSummary } from '../../src/sped/from-docs.js';
import type { DocFinding } from '../../src/sped/from-docs-extract.js';
import { parseCompany } from '../../src/sped/from-docs-company.js';
import { validateSped } from '../../src/sped/validator.js';
import { COMPANY_CNPJ, PERIOD, cents, company, makeMonth, spedRecords, writeMonth } from '../helpers/from-docs.js';
import { tempDir } from '../helpers/temp-dir.js';

const LAYOUT = 'efd-contribuicoes' as const;

async function generate(sources: string[], options: Partial<FromDocsOptions> = {}): Promise<{ bytes: Buffer; summary: FromDocsSummary; findings: DocFinding[] }> {
  const chunks: Buffer[] = [];
  const out = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb(); } });
  const findings: DocFinding[] = [];
  const summary = await spedFromDocs(sources, out, { layout: LAYOUT, company: company(), period: PERIOD, threads: 1, onFinding: (f) => findings.push(f), ...options });
  return { bytes: Buffer.concat(chunks), summary, findings };
}

async function validate(t: Test, bytes: Buffer): Promise<void> {
  const s = new PassThrough();
  s.end(bytes);
  const v = await validateSped(s);
  t.equal(v.layout, LAYOUT, 'the validator reads an EFD-Contribuições (from 0000)');
  const shown = v.errors.slice(0, 5).map((e) => `${e.line}: ${e.code} ${e.message}`).join('; ');
  t.equal(v.errorCount, 0, `validator: no error (${shown})`);
  t.equal(v.warningCount, 0, `validator: no warning (${shown})`);
}

// --- the month: the shared one, plus an issued note and a received one with a zero-rated item and a coupon with a monophase item
const month = makeMonth();
const zeroRated = (seed: number, received: boolean): string => {
  const doc = received ? generateNfe(seed, { items: 3, dhEmi: '2026-03-12T10:00:00-03:00' }) : generateNfe(seed, { items: 3, emitterCnpj: COMPANY_CNPJ, dhEmi: '2026-03-12T10:00:00-03:00' });
  if (received) doc.NFe.infNFe.dest!.CNPJ = COMPANY_CNPJ;
  const imp = doc.NFe.infNFe.det[0]!.imposto;
  imp.PIS = { PISNT: { CST: '06' } };
  imp.COFINS = { COFINSNT: { CST: '06' } };
  return buildNfe(doc, { computeTotals: true }).xml;
};
const monophase = generateCfe(4100, { emitterCnpj: COMPANY_CNPJ, dEmi: '20260306' }).xml
  .replace(/<PIS><PISAliq>.*?<\/PISAliq><\/PIS>/, '<PIS><PISNT><CST>04</CST></PISNT></PIS>')
  .replace(/<COFINS><COFINSAliq>.*?<\/COFINSAliq><\/COFINS>/, '<COFINS><COFINSNT><CST>04</CST></COFINSNT></COFINS>');
const files: [string, string][] = [...month.files, ['issued-zero.xml', zeroRated(6001, false)], ['received-zero.xml', zeroRated(6002, true)], ['cfe-monophase.xml', monophase]];
const dir = tempDir('fiscal-from-docs-contrib-');
const paths = writeMonth(dir, files);

// --- the tiny independent reader: which files count (the month's design), and their items' PIS/COFINS from the XML text
const NOT_COUNTED = /^(a-|april|february|other-company|denied|cancelled-by-)|-copy\.xml$|^cfe-1\.xml$/;
const counted = files.filter(([name]) => !NOT_COUNTED.test(name));
const tag = (xml: string, name: string): string => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1] ?? '0';
interface XmlItem { cst: string; bc: bigint; value: bigint; cstCofins: string; bcCofins: bigint; valueCofins: bigint }
function items(xml: string): XmlItem[] {
  return [...xml.matchAll(/<det nItem="\d+">(.*?)<\/det>/gs)].map(([, det]) => {
    const pis = /<PIS>(.*?)<\/PIS>/s.exec(det!)![1]!;
    const cofins = /<COFINS>(.*?)<\/COFINS>/s.exec(det!)![1]!;
    return { cst: tag(pis, 'CST'), bc: cents(tag(pis, 'vBC')), value: cents(tag(pis, 'vPIS')), cstCofins: tag(cofins, 'CST'), bcCofins: cents(tag(cofins, 'vBC')), valueCofins: cents(tag(cofins, 'vCOFINS')) };
  });
}
/** base × rate (in hundredths of a percent: 165 = 1.65 %), rounded half up to the cent. */
const at = (base: bigint, rate: bigint): bigint => (base * rate + 5000n) / 10000n;
const received = counted.filter(([n]) => n.startsWith('received'));
const exits = counted.filter(([n]) => !n.startsWith('received'));
const exitItems = exits.flatMap(([, xml]) => items(xml));
const entryItems = received.flatMap(([, xml]) => items(xml));
const expected = {
  pisBase: exitItems.filter((i) => i.cst === '01').reduce((a, i) => a + i.bc, 0n),
  cofinsBase: exitItems.filter((i) => i.cstCofins === '01').reduce((a, i) => a + i.bcCofins, 0n),
  exitPis: exitItems.reduce((a, i) => a + i.value, 0n),
  exitCofins: exitItems.reduce((a, i) => a + i.valueCofins, 0n),
  pisCreditBase: entryItems.filter((i) => i.cst === '01').reduce((a, i) => a + i.bc, 0n),
  cofinsCreditBase: entryItems.filter((i) => i.cstCofins === '01').reduce((a, i) => a + i.bcCofins, 0n),
  itemCredits: entryItems.filter((i) => i.cst === '01').reduce((a, i) => a + at(i.bc, 165n), 0n),
  nfeItems: counted.filter(([n]) => /^(issued|received)/.test(n)).reduce((a, [, xml]) => a + items(xml).length, 0),
};
const money = (c: bigint): string => `${c / 100n}.${String(c % 100n).padStart(2, '0')}`;

const sum = (recs: string[][], reg: string, field: number, when: (r: string[]) => boolean = () => true): bigint =>
  recs.filter((r) => r[0] === reg && when(r)).reduce((a, r) => a + cents(r[field]!), 0n);

t.test('a month of NF-e, NFC-e and CF-e as an EFD-Contribuições: valid, its PIS/COFINS the documents\' to the cent', async (t) => {
  const { bytes, summary, findings } = await generate([dir]);
  await validate(t, bytes);
  const recs = spedRecords(bytes.toString('latin1'));
  const e = month.expected;
  t.match(recs[0], ['0000', '006', '0', '', '', '01032026', '31032026', 'EMPRESA DE TESTE COMERCIO LTDA', COMPANY_CNPJ, 'SP', '3550308', '', '00', '2'], '0000: COD_VER 006, original, commerce by default');
  t.same(recs.find((r) => r[0] === '0110'), ['0110', '1', '1', '1', ''], '0110: non-cumulative, direct appropriation, basic rate');
  t.equal(recs.find((r) => r[0] === '0140')![3], COMPANY_CNPJ, '0140: the establishment');
  t.same(recs.filter((r) => r[0] === 'C010'), [['C010', COMPANY_CNPJ, '2']], 'one C010, individualized bookkeeping');
  for (const block of ['A', 'D', 'F', 'I', 'P', '1']) t.same(recs.filter((r) => r[0]![0] === block).map((r) => r[0]), [`${block}001`, `${block}990`], `block ${block} present and empty`);

  // block C
  const c100 = recs.filter((r) => r[0] === 'C100');
  t.equal(c100.filter((r) => r[5] === '00').length, e.regularNotes + 2, 'one regular C100 per note counted (the month\'s and the two zero-rated)');
  const cancelled = c100.filter((r) => r[5] === '02');
  t.same(cancelled.map((r) => r[8]).sort(), [...e.cancelledKeys].sort(), 'the cancelled notes as COD_SIT 02');
  for (const r of cancelled) t.same(r.slice(9), new Array(r.length - 9).fill(''), 'a cancelled C100 carries no values');
  t.equal(recs.filter((r) => r[0] === 'C170').length, expected.nfeItems, 'C170 for every item of the NF-e issued and received');
  t.equal(recs.filter((r) => r[0] === 'C175').length, 3, 'one C175 per NFC-e (one CFOP, CST and rate each)');
  t.ok(c100.filter((r) => r[4] === '65').every((r) => r[3] === ''), 'an NFC-e names no participant');
  t.equal(recs.filter((r) => r[0] === 'C860').length, 2, 'one C860 per SAT and day');
  const c870Pis = sum(recs, 'C870', 8);
  const couponPis = counted.filter(([n]) => n.startsWith('cfe')).flatMap(([, xml]) => items(xml)).reduce((a, i) => a + i.value, 0n);
  t.equal(c870Pis, couponPis, 'Σ C870 VL_PIS = Σ vPIS of the coupons not cancelled');
  t.ok(recs.some((r) => r[0] === 'C870' && r[5] === '04' && r[8] === '0,00'), 'the monophase item as CST 04 without PIS');
  // exits: what the documents say, item by item
  const exitPis = sum(recs, 'C170', 29, (r) => /^[567]/.test(r[10]!)) + sum(recs, 'C175', 9) + c870Pis;
  t.equal(exitPis, expected.exitPis, 'Σ VL_PIS of the exits = Σ vPIS of their items in the XML');
  const exitCofins = sum(recs, 'C170', 35, (r) => /^[567]/.test(r[10]!)) + sum(recs, 'C175', 15) + sum(recs, 'C870', 12);
  t.equal(exitCofins, expected.exitCofins, 'Σ VL_COFINS of the exits = Σ vCOFINS of their items in the XML');
  t.ok(recs.some((r) => r[0] === 'C170' && r[24] === '06' && r[29] === '0,00'), 'the zero-rated item sold: CST 06, no PIS');
  // entries: the recipient's CSTs and credits
  const entries = recs.filter((r) => r[0] === 'C170' && /^[123]/.test(r[10]!));
  t.same([...new Set(entries.map((r) => r[24]))].sort(), ['50', '73'], 'entries: CST 50 (credit) and 73 (the zero-rated acquisition)');
  t.equal(sum(recs, 'C170', 29, (r) => /^[123]/.test(r[10]!)), expected.itemCredits, 'Σ credit of the items = Σ round(vBC × 1.65 %) of the items received');

  // block M
  const one = (reg: string): string[] => {
    const found = recs.filter((r) => r[0] === reg);
    t.equal(found.length, 1, `one ${reg}`);
    return found[0]!;
  };
  const m210 = one('M210');
  t.equal(m210[1], '01', 'M210 COD_CONT 01: non-cumulative at the basic rate');
  t.equal(cents(m210[3]!), expected.pisBase, 'M210 VL_BC_CONT = Σ vBC of the exit items with CST 01');
  t.equal(m210[7], '1,6500');
  const pis = at(expected.pisBase, 165n);
  t.equal(cents(m210[10]!), pis, 'M210 VL_CONT_APUR = base × 1.65 %');
  const m610 = one('M610');
  t.equal(cents(m610[3]!), expected.cofinsBase);
  const cofins = at(expected.cofinsBase, 760n);
  t.equal(cents(m610[10]!), cofins, 'M610 VL_CONT_APUR = base × 7.6 %');
  const m100 = one('M100');
  t.equal(cents(m100[3]!), expected.pisCreditBase, 'M100 VL_BC_PIS = Σ vBC of the received items with a credit');
  const pisCredit = at(expected.pisCreditBase, 165n);
  t.equal(cents(m100[7]!), pisCredit, 'M100 VL_CRED = base × 1.65 %');
  t.same(one('M105').slice(1, 3), ['01', '50'], 'M105: goods for resale, CST 50');
  const cofinsCredit = at(expected.cofinsCreditBase, 760n);
  t.equal(cents(one('M500')[7]!), cofinsCredit);
  const m200 = one('M200');
  t.equal(cents(m200[1]!), pis, 'M200 VL_TOT_CONT_NC_PER');
  t.equal(cents(m200[2]!), pisCredit < pis ? pisCredit : pis, 'M200 VL_TOT_CRED_DESC: the credit, up to the contribution');
  t.equal(cents(m200[12]!), pis - (pisCredit < pis ? pisCredit : pis), 'M200 VL_TOT_CONT_REC');
  t.same(one('M205').slice(1), ['08', '691201', m200[12]], 'M205: the PIS to pay under its revenue code');
  const m600 = one('M600');
  t.equal(cents(m600[12]!), cofins - (cofinsCredit < cofins ? cofinsCredit : cofins));
  t.equal(summary.contributions?.pis.due, money(cents(m200[12]!)));
  t.equal(summary.contributions?.cofins.contribution, money(cofins));
  t.equal(summary.apuration, undefined, 'no ICMS apuration in an EFD-Contribuições');
  t.ok(summary.contributions!.pis.untaxedRevenue !== '0.00', 'the untaxed revenue is told (M400/M800 not written)');

  // block 0: what block C names, once each
  const parts = recs.filter((r) => r[0] === '0150').map((r) => r[1]!);
  t.same(parts, [...new Set(c100.filter((r) => r[5] === '00' && r[4] === '55').map((r) => r[3]!))].sort(), '0150: each participant the regular C100s name');
  const itemCodes = recs.filter((r) => r[0] === '0200').map((r) => r[1]!);
  t.same(itemCodes, [...new Set(recs.filter((r) => r[0] === 'C170').map((r) => r[2]!))].sort(), '0200: each item the C170s name');
  t.notOk(recs.some((r) => r[0] === '0220'), 'no 0220 in this layout');
  // reported, not counted: the same findings as the EFD ICMS/IPI
  const byCode: Record<string, number> = {};
  for (const f of findings) byCode[f.code] = (byCode[f.code] ?? 0) + 1;
  t.same(byCode, e.findings, 'out of period, other company, duplicates and the denied note reported');
  t.equal(summary.duplicates, 2);
  t.equal(summary.layout, LAYOUT);
});

t.test('the same bytes whatever the order of the input, the memory budget or the threads', async (t) => {
  const first = await generate([dir]);
  const reversed = await generate([...paths].reverse(), { budgetBytes: 1024 * 1024 });
  t.ok(reversed.bytes.equals(first.bytes), 'files in reverse order with a 1 MiB budget: same bytes');
  const two = await generate([dir], { threads: 2 });
  t.ok(two.bytes.equals(first.bytes), 'parsed on 2 workers: same bytes');
  t.same(two.findings, first.findings);
});

t.test('the cumulative regime: no credits, entries without credit, the contribution in the cumulative fields', async (t) => {
  const { bytes, summary } = await generate([dir], { company: company({ contribuicoes: { regime: 'cumulative' } }) });
  await validate(t, bytes);
  const recs = spedRecords(bytes.toString('latin1'));
  t.same(recs.find((r) => r[0] === '0110'), ['0110', '2', '', '', '9'], '0110: cumulative, detailed bookkeeping');
  t.notOk(recs.some((r) => ['M100', 'M105', 'M500', 'M505'].includes(r[0]!)), 'no credit records');
  const entries = recs.filter((r) => r[0] === 'C170' && /^[123]/.test(r[10]!));
  t.same([...new Set(entries.map((r) => r[24]))].sort(), ['70', '73'], 'entries: CST 70 (no credit) and 73');
  t.ok(entries.every((r) => r[29] === '0,00'), 'no credit on any entry');
  const m210 = recs.find((r) => r[0] === 'M210')!;
  t.equal(m210[1], '52', 'COD_CONT 52: cumulative at a rate other than the basic 0.65 %');
  const m200 = recs.find((r) => r[0] === 'M200')!;
  t.equal(cents(m200[1]!), 0n, 'nothing non-cumulative');
  t.equal(cents(m200[8]!), at(expected.pisBase, 165n), 'VL_TOT_CONT_CUM_PER');
  t.same(recs.find((r) => r[0] === 'M205')!.slice(1, 3), ['12', '810902']);
  t.equal(summary.contributions?.pis.credits, '0.00');
});

t.test('company data of the EFD-Contribuições: choices written, a substitute needs the receipt it replaces', async (t) => {
  const c = company({ activity: '0', purpose: '1', contribuicoes: { natureza: '01', specialSituation: '4', previousReceipt: 'A'.repeat(41), establishment: 'LOJA-1' } });
  const d = tempDir('fiscal-from-docs-contrib-co-');
  writeMonth(d, [['issued.xml', files.find(([n]) => n === 'issued-2.xml')![1]]]);
  const { bytes } = await generate([d], { company: c });
  await validate(t, bytes);
  const recs = spedRecords(bytes.toString('latin1'));
  t.same(recs[0]!.slice(0, 5), ['0000', '006', '1', '4', 'A'.repeat(41)]);
  t.same(recs[0]!.slice(12), ['01', '0'], 'IND_NAT_PJ 01; IND_ATIV 0 from the industrial ICMS activity');
  t.equal(recs.find((r) => r[0] === '0140')![1], 'LOJA-1');
  await t.rejects(generate([d], { company: company({ purpose: '1' }) }), { code: 'FROMDOCS_COMPANY', message: /previousReceipt/ });
  t.throws(() => company({ contribuicoes: { regime: 'presumido' } }), { code: 'FROMDOCS_COMPANY', message: /contribuicoes\.regime/ });
  await t.rejects(generate([d], { layout: 'ecd' as unknown as 'efd-icms-ipi' }), { code: 'FROMDOCS_LAYOUT' });
  const docs = readFileSync(new URL('../../docs/from-docs-contribuicoes.md', import.meta.url), 'utf8');
  const example = /```json\n([\s\S]*?)\n```/.exec(docs);
  t.ok(example, 'docs/from-docs-contribuicoes.md shows an example');
  t.equal(parseCompany(JSON.parse(example![1]!)).contribuicoes.regime, 'non-cumulative', 'the documented example is a valid company file');
});

t.test("the validator's C100 rule for the EFD-Contribuições: an NFC-e may name no participant, an NF-e must", async (t) => {
  const { bytes } = await generate([dir]);
  const lines = bytes.toString('latin1').split('\r\n');
  const i = lines.findIndex((l) => /^\|C100\|1\|0\|[^|]+\|55\|00\|/.test(l));
  t.ok(i > 0, 'a regular NF-e issued');
  const fields = lines[i]!.split('|');
  fields[4] = '';
  lines[i] = fields.join('|');
  const s = new PassThrough();
  s.end(Buffer.from(lines.join('\r\n'), 'latin1'));
  const v = await validateSped(s);
  t.same(v.errors.filter((e) => e.severity === 'error').map((e) => [e.line, e.register, e.field, e.code]), [[i + 1, 'C100', 'COD_PART', 'SPED_FIELD_REQUIRED']], 'only the NF-e without COD_PART is an error');
});
