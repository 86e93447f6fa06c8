import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { buildNfe } from '../../src/nfe/build.js';
import { generateNfe } from '../../src/nfe/generate.js';
import { spedFromDocs, type FromDocsOptions, type FromDocsSummary } from '../../src/sped/from-docs.js';
import type { DocFinding } from '../../src/sped/from-docs-extract.js';
import { parseCompany } from '../../src/sped/from-docs-company.js';
import { validateSped } from '../../src/sped/validator.js';
import { COMPANY_CNPJ, PERIOD, cents, company, makeMonth, spedRecords, writeMonth } from '../helpers/from-docs.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Runs from-docs into memory: the file's bytes, the summary and the findings. */
async function generate(sources: string[], options: Partial<FromDocsOptions> = {}): Promise<{ bytes: Buffer; summary: FromDocsSummary; findings: DocFinding[] }> {
  const chunks: Buffer[] = [];
  const out = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb(); } });
  const findings: DocFinding[] = [];
  const summary = await spedFromDocs(sources, out, { company: company(), period: PERIOD, threads: 1, onFinding: (f) => findings.push(f), ...options });
  return { bytes: Buffer.concat(chunks), summary, findings };
}

async function validate(t: Test, bytes: Buffer): Promise<void> {
  const s = new PassThrough();
  s.end(bytes);
  const v = await validateSped(s);
  t.equal(v.errorCount, 0, `validator: no error (${v.errors.filter((e) => e.severity === 'error').slice(0, 5).map((e) => `${e.line}: ${e.code} ${e.message}`).join('; ')})`);
  t.equal(v.warningCount, 0, `validator: no warning (${v.errors.slice(0, 5).map((e) => `${e.line}: ${e.code} ${e.message}`).join('; ')})`);
}

const sum = (recs: string[][], reg: string, field: number, when: (r: string[]) => boolean = () => true): bigint =>
  recs.filter((r) => r[0] === reg && when(r)).reduce((a, r) => a + cents(r[field]!), 0n);

const month = makeMonth();
const dir = tempDir('fiscal-from-docs-');
const paths = writeMonth(dir, month.files);

t.test('a month of NF-e, NFC-e and CF-e: valid EFD whose totals are the documents\' to the cent', async (t) => {
  const { bytes, summary, findings } = await generate([dir]);
  await validate(t, bytes);
  const recs = spedRecords(bytes.toString('latin1'));
  const e = month.expected;
  const c100 = recs.filter((r) => r[0] === 'C100');
  t.equal(c100.filter((r) => r[5] === '00').length, e.regularNotes, 'one regular C100 per note counted');
  t.equal(c100.filter((r) => r[5] === '02').length, e.cancelledNotes, 'cancelled notes as COD_SIT 02');
  t.same(c100.filter((r) => r[5] === '02').map((r) => r[8]).sort(), [...e.cancelledKeys].sort(), 'the cancelled ones are the ones cancelled (protocol 101, event 110111)');
  for (const r of c100.filter((x) => x[5] === '02')) {
    t.same(r.slice(9), new Array(r.length - 9).fill(''), 'a cancelled C100 carries no values');
  }
  t.equal(sum(recs, 'C100', 11, (r) => r[5] === '00'), e.vlDoc, 'Σ VL_DOC = Σ vNF of the notes counted');
  t.equal(recs.filter((r) => r[0] === 'C170').length, e.receivedItems, 'C170 for the items of the received notes only');
  const c800 = recs.filter((r) => r[0] === 'C800');
  t.equal(c800.length, e.coupons, 'one C800 per coupon of the period');
  t.equal(c800.filter((r) => r[2] === '02').length, e.cancelledCoupons, 'the cancelled coupon as COD_SIT 02');
  t.equal(sum(recs, 'C800', 5, (r) => r[2] === '00'), e.vlCfe, 'Σ VL_CFE = Σ vCFe of the coupons not cancelled');
  const e110 = recs.find((r) => r[0] === 'E110')!;
  t.equal(cents(e110[1]!), e.debits, 'E110 debits = ICMS of the notes issued and the coupons (from the XML)');
  t.equal(cents(e110[5]!), e.credits, 'E110 credits = ICMS of the notes received (from the XML)');
  const e116 = recs.find((r) => r[0] === 'E116')!;
  t.equal(cents(e116[2]!), e.debits - e.credits, 'E116: the ICMS due');
  t.equal(e116[3], '20042026', 'due on the company\'s day of the next month');
  t.equal(cents(e110[12]!), e.debits - e.credits);
  // participants: the recipients of the NF-e issued and the issuers of those received, once each
  const parts = recs.filter((r) => r[0] === '0150').map((r) => r[1]!);
  const named = new Set(c100.filter((r) => r[5] === '00' && r[4] === '55').map((r) => r[3]!));
  t.same(parts, [...named].sort(), '0150: each participant the regular C100s name, once, sorted');
  const items = recs.filter((r) => r[0] === '0200').map((r) => r[1]!);
  t.same(items, [...new Set(recs.filter((r) => r[0] === 'C170').map((r) => r[2]!))].sort(), '0200: each item the C170s name');
  const conv = recs.filter((r) => r[0] === '0220');
  t.equal(conv.length, 1, 'one 0220: the item sold by the box');
  t.match(conv[0], ['0220', 'CX', '12,000000']);
  t.ok(recs.some((r) => r[0] === '0190' && r[1] === 'CX'), '0190 has the unit of the conversion');
  // what was reported, not counted
  const byCode: Record<string, number> = {};
  for (const f of findings) byCode[f.code] = (byCode[f.code] ?? 0) + 1;
  t.same(byCode, e.findings, 'out of period, other company, duplicates and the denied note reported');
  t.ok(findings.every((f) => f.severity === 'warning'));
  t.equal(summary.duplicates, 2);
  t.equal(summary.apuration?.due, ((): string => { const d = e.debits - e.credits; return `${d / 100n}.${String(d % 100n).padStart(2, '0')}`; })());
});

t.test('a credit balance from the previous month: no ICMS due, no E116, the rest carried', async (t) => {
  const e = month.expected;
  const previous = e.debits - e.credits + 10000n; // R$ 100,00 more than the month's balance
  const text = `${previous / 100n}.${String(previous % 100n).padStart(2, '0')}`;
  const { bytes, summary } = await generate([dir], { company: company({ previousCreditBalance: text }) });
  await validate(t, bytes);
  const recs = spedRecords(bytes.toString('latin1'));
  const e110 = recs.find((r) => r[0] === 'E110')!;
  t.equal(cents(e110[9]!), previous, 'VL_SLD_CREDOR_ANT');
  t.equal(cents(e110[12]!), 0n, 'nothing to pay');
  t.equal(cents(e110[13]!), 10000n, 'VL_SLD_CREDOR_TRANSPORTAR: the R$ 100,00');
  t.notOk(recs.some((r) => r[0] === 'E116'));
  t.equal(summary.apuration?.creditToCarry, '100.00');
});

t.test('the same bytes whatever the order of the input, the way it comes (files, a zip) and the memory budget', async (t) => {
  const first = await generate([dir]);
  const reversed = await generate([...paths].reverse());
  t.ok(reversed.bytes.equals(first.bytes), 'files in reverse order: same bytes');
  const zipDir = tempDir('fiscal-from-docs-zip-');
  const zip = join(zipDir, 'month.zip');
  // a shuffled order inside the archive
  const shuffled = [...paths].sort((a, b) => (a.length * 7919) % 13 - (b.length * 7919) % 13 || (a < b ? 1 : -1));
  execFileSync('zip', ['-q', '-j', zip, ...shuffled]);
  const zipped = await generate([zip], { budgetBytes: 1024 * 1024 });
  t.ok(zipped.bytes.equals(first.bytes), 'a zip, shuffled, with a 1 MiB budget: same bytes');
  const one = await generate([dir], { threads: 1 });
  const two = await generate([dir], { threads: 2 });
  t.ok(one.bytes.equals(first.bytes) && two.bytes.equals(first.bytes), 'parsed in this thread or on 2 workers: same bytes');
  t.same(two.findings, one.findings, 'the same findings in the same order');
});

t.test('hundreds of received notes: thousands of items and participants, sorted and each once, still valid', async (t) => {
  const d = tempDir('fiscal-from-docs-many-');
  const files: [string, string][] = [];
  for (let i = 1; i <= 400; i++) {
    const doc = generateNfe(9000 + i, { items: 5, dhEmi: `2026-03-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00-03:00` });
    doc.NFe.infNFe.dest!.CNPJ = COMPANY_CNPJ;
    files.push([`r${i}.xml`, buildNfe(doc).xml]);
  }
  writeMonth(d, files);
  const { bytes, findings } = await generate([d], { budgetBytes: 1024 * 1024 });
  t.same(findings, []);
  await validate(t, bytes);
  const recs = spedRecords(bytes.toString('latin1'));
  const items = recs.filter((r) => r[0] === '0200').map((r) => r[1]!);
  t.ok(items.length > 1000, `${items.length} items`);
  t.same(items, [...new Set(items)].sort(), '0200 sorted, each once');
  t.equal(recs.filter((r) => r[0] === 'C170').length, 2000);
  const expected = files.reduce((acc, [, xml]) => acc + cents(/<ICMSTot>.*?<vICMS>([^<]+)<\/vICMS>/s.exec(xml)![1]!), 0n);
  t.equal(cents(recs.find((r) => r[0] === 'E110')![5]!), expected, 'credits: the ICMS of the 400 notes');
});

t.test('CF-e per SAT equipment and day: C860/C890 with the same totals', async (t) => {
  const { bytes } = await generate([dir], { company: company({ coupons: 'per-equipment-day' }) });
  await validate(t, bytes);
  const recs = spedRecords(bytes.toString('latin1'));
  t.equal(recs.filter((r) => r[0] === 'C800').length, 0);
  const c860 = recs.filter((r) => r[0] === 'C860');
  t.equal(c860.length, 2, 'one C860 per equipment and day (two days)');
  for (const r of c860) t.ok(r[4]! <= r[5]!, 'DOC_INI ≤ DOC_FIM');
  const e110 = recs.find((r) => r[0] === 'E110')!;
  t.equal(cents(e110[1]!), month.expected.debits, 'debits unchanged: C890 holds the coupons\' ICMS, the cancelled one left out');
  const couponIcms = sum(recs, 'C890', 6);
  const notesIcms = sum(recs, 'C190', 6, (r) => /^[567]/.test(r[2]!));
  t.equal(couponIcms + notesIcms, month.expected.debits);
});

t.test('a denied note before 2023 is a C100 with COD_SIT 04 and no values', async (t) => {
  const d = tempDir('fiscal-from-docs-2022-');
  const ok = buildNfe(generateNfe(71, { emitterCnpj: COMPANY_CNPJ, dhEmi: '2022-05-10T10:00:00-03:00' })).xml;
  const denied = buildNfe(generateNfe(72, { emitterCnpj: COMPANY_CNPJ, dhEmi: '2022-05-11T10:00:00-03:00' })).xml;
  const key = /Id="NFe(\d{44})"/.exec(denied)![1]!;
  const proc = `<nfeProc versao="4.00" xmlns="http://www.portalfiscal.inf.br/nfe">${denied.replace(/^<\?xml[^>]*\?>/, '')}<protNFe versao="4.00"><infProt><tpAmb>2</tpAmb><verAplic>SP</verAplic><chNFe>${key}</chNFe><dhRecbto>2022-05-11T10:01:00-03:00</dhRecbto><nProt>135220000000001</nProt><digVal>AAAA</digVal><cStat>302</cStat><xMotivo>Uso Denegado</xMotivo></infProt></protNFe></nfeProc>`;
  writeMonth(d, [['ok.xml', ok], ['denied.xml', proc]]);
  const { bytes, findings } = await generate([d], { period: '2022-05' });
  t.same(findings, []);
  await validate(t, bytes);
  const recs = spedRecords(bytes.toString('latin1'));
  t.equal(recs[0]![1], '016', 'the layout version of 2022');
  const c100 = recs.filter((r) => r[0] === 'C100');
  t.same(c100.map((r) => r[5]).sort(), ['00', '04']);
  const den = c100.find((r) => r[5] === '04')!;
  t.equal(den[8], key);
  t.same(den.slice(9), new Array(den.length - 9).fill(''));
});

t.test('a document that cannot be read is an error finding; the others are still booked', async (t) => {
  const d = tempDir('fiscal-from-docs-bad-');
  writeMonth(d, [['ok.xml', month.files.find(([n]) => n === 'issued-2.xml')![1]], ['broken.xml', '<NFe><infNFe>']]);
  const { bytes, findings, summary } = await generate([d]);
  t.equal(summary.findings.errors, 1);
  t.match(findings[0], { severity: 'error', code: 'NFE_XML_MALFORMED' });
  t.equal(spedRecords(bytes.toString('latin1')).filter((r) => r[0] === 'C100').length, 1);
  await validate(t, bytes);
});

t.test("texts a SPED field cannot hold ('|', line breaks, characters outside Windows-1252) are replaced, not fatal", async (t) => {
  const d = tempDir('fiscal-from-docs-text-');
  const doc = generateNfe(8101, { items: 1, dhEmi: '2026-03-09T10:00:00-03:00' });
  doc.NFe.infNFe.dest!.CNPJ = COMPANY_CNPJ;
  doc.NFe.infNFe.det[0]!.prod.xProd = 'CABO | ADAPTADOR → USB ÇÃ';
  writeMonth(d, [['r.xml', buildNfe(doc).xml]]);
  const { bytes, summary } = await generate([d]);
  await validate(t, bytes);
  t.equal(summary.replaced, 1);
  const item = spedRecords(bytes.toString('latin1')).find((r) => r[0] === '0200')!;
  t.equal(item[2], 'CABO / ADAPTADOR ? USB ÇÃ', 'the pipe and the arrow replaced, the accents kept (Windows-1252)');
});

t.test('COMPANY.json: the schema and the documented fixture', async (t) => {
  const fixture = JSON.parse(readFileSync(new URL('../../fixtures/sped/from-docs-company.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  t.equal(parseCompany(fixture).cnpj, COMPANY_CNPJ, 'the fixture is a valid company file');
  t.throws(() => parseCompany({ ...fixture, cnpj: '123' }), { code: 'FROMDOCS_COMPANY', message: /\$\.cnpj/ });
  t.throws(() => parseCompany({ ...fixture, profile: 'D' }), { code: 'FROMDOCS_COMPANY' });
  t.throws(() => parseCompany({ ...fixture, icmsDue: { day: 31, revenueCode: 'x' } }), { code: 'FROMDOCS_COMPANY' });
  const docs = readFileSync(new URL('../../docs/from-docs.md', import.meta.url), 'utf8');
  const example = /```json\n([\s\S]*?)\n```/.exec(docs);
  t.ok(example, 'docs/from-docs.md shows an example');
  t.equal(parseCompany(JSON.parse(example![1]!)).name.length > 0, true, 'the documented example is valid');
  await t.rejects(generate([dir], { period: '2026-3' }), { code: 'FROMDOCS_PERIOD' });
  mkdirSync(join(dir, 'unused'), { recursive: true });
});
