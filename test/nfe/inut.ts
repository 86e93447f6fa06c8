import t from 'tap';
import { join } from 'node:path';
import { nfeToCsv, nfeToJsonl } from '../../src/nfe/batch-convert.js';
import { loadCertificate } from '../../src/nfe/cert.js';
import { generateInutNFeXml, generateProcInutNFeXml, type InutOptions } from '../../src/nfe/generate.js';
import { parseNfe } from '../../src/nfe/parse.js';
import { validateSchemas } from '../../src/nfe/schema-validate.js';
import { signXml } from '../../src/nfe/sign.js';
import { validateNfe } from '../../src/nfe/validate.js';
import { verifyXml } from '../../src/nfe/verify.js';
import { TEST_CNPJ, makeTestCerts, needTools } from '../helpers/certs.js';
import { SHARED, haveShared, tmpFile, xmllintSchema } from '../helpers/sign-fixtures.js';
import { sink } from '../helpers/sink.js';

const RANGE: InutOptions = { cnpj: TEST_CNPJ, first: 10, last: 12, serie: '2' };
const PL009 = join(SHARED, 'xsd/nfe/PL_009_V4');
const tools = needTools('openssl', 'xmllint');
const schemaSkip = tools.skip || (haveShared() ? false : 'needs ../shared/xsd (the shared folder beside the repo)');

const check = (xml: string, source = 'x') => {
  const p = parseNfe({ source, bytes: Buffer.from(xml) });
  return { parsed: p, findings: [...p.findings, ...validateNfe(p)] };
};
const codes = (xml: string) => check(xml).findings.map((f) => `${f.code} ${f.path ?? ''}`);
const signed = (() => {
  let memo: string | null = null;
  return (): string => (memo ??= signXml(generateInutNFeXml(RANGE), loadCertificate(makeTestCerts().modernPfx, makeTestCerts().password)));
})();

t.test('a generated inutilização, signed: the schema, our verify, the reader', { skip: schemaSkip }, async (t) => {
  const proc = generateProcInutNFeXml(signed(), RANGE);
  t.match(proc, /^<\?xml[^>]*\?><ProcInutNFe xmlns="http:\/\/www\.portalfiscal\.inf\.br\/nfe" versao="4\.00"><inutNFe /);
  t.match(signed(), /<Reference URI="#ID35261122233300018155002000000010000000012">/, 'the Id: cUF, ano, CNPJ, mod, serie, first, last');
  const sx = xmllintSchema(tmpFile('proc-inut.xml', proc), join(PL009, 'procInutNFe_v4.00.xsd'));
  t.ok(sx.ok, `procInutNFe_v4.00.xsd: ${sx.output}`);
  t.ok(xmllintSchema(tmpFile('inut.xml', signed()), join(PL009, 'inutNFe_v4.00.xsd')).ok, 'the request alone: inutNFe_v4.00.xsd');
  // our own XSD step picks the schema by kind
  const ours = await validateSchemas([{ source: 'p', kind: 'procInutNFe', version: '4.00', bytes: proc }], PL009);
  t.same(ours.get('p'), []);

  const r = verifyXml(proc);
  t.same(r.findings, [], 'signature verifies inside the procInutNFe');
  t.equal(r.root, 'ProcInutNFe');
  t.same(r.signatures.map((s) => [s.element, s.documentDate]), [['infInut', '2026-03-10T09:00:00-03:00']], 'judged at the answer\'s dhRecbto');
  const edited = verifyXml(proc.replace('<nNFFin>12</nNFFin>', '<nNFFin>13</nNFFin>'));
  t.same(edited.findings.map((f) => f.code), ['NFE_DIGEST_MISMATCH'], 'a range changed after signing is caught');

  const { parsed, findings } = check(proc);
  t.equal(parsed.kind, 'procInutNFe');
  t.equal(parsed.key, null, 'no access key: no note was issued');
  t.equal(parsed.version, '4.00');
  t.same(findings, []);
});

t.test('the other spelling of the root, the request and the answer alone', async (t) => {
  const proc = generateProcInutNFeXml(generateInutNFeXml(RANGE), RANGE).replace(/ProcInutNFe/g, 'procInutNFe');
  t.equal(check(proc).parsed.kind, 'procInutNFe');
  t.same(codes(proc), []);
  t.equal(check(generateInutNFeXml(RANGE)).parsed.kind, 'inutNFe');
  const ret = /<retInutNFe[\s\S]*<\/retInutNFe>/.exec(proc)![0].replace('<retInutNFe ', '<retInutNFe xmlns="http://www.portalfiscal.inf.br/nfe" ');
  t.equal(check(ret).parsed.kind, 'retInutNFe');
  t.same(codes(ret), []);
});

t.test('malformed ones: what is wrong and where', async (t) => {
  const good = generateProcInutNFeXml(generateInutNFeXml(RANGE), RANGE);
  const req = '/procInutNFe/inutNFe/infInut';
  const ret = '/procInutNFe/retInutNFe/infInut';
  t.same(codes(good.replace(/<nNFIni>10<\/nNFIni>/g, '<nNFIni>20</nNFIni>')), [`NFE_FORMAT ${req}/nNFFin`], 'a range that ends before it starts (the answer repeats it: compared, not reported twice)');
  t.same(codes(good.replace('<nNFFin>12</nNFFin>', '<nNFFin>14</nNFFin>')), [`NFE_INUT_MISMATCH ${req}/@Id`, `NFE_INUT_MISMATCH ${ret}/nNFFin`], 'the request edited: its Id and the answer disagree');
  t.same(codes(good.replace(/<CNPJ>11222333000181<\/CNPJ>/g, '<CNPJ>11222333000182</CNPJ>')), [`NFE_FORMAT ${req}/CNPJ`, `NFE_INUT_MISMATCH ${req}/@Id`], 'a CNPJ with wrong check digits');
  t.same(codes(good.replace(/<mod>55<\/mod>/g, '<mod>57</mod>')), [`NFE_FORMAT ${req}/mod`, `NFE_INUT_MISMATCH ${req}/@Id`]);
  t.same(codes(good.replace(/<retInutNFe[\s\S]*<\/retInutNFe>/, '')), ['NFE_MISSING /procInutNFe/retInutNFe']);
  t.same(codes(good.replace(/<xJust>[^<]*<\/xJust>/, '<xJust>curta</xJust>')), [`NFE_FORMAT ${req}/xJust`]);
  t.same(codes(good.replace(/<dhRecbto>[^<]*<\/dhRecbto>/, '<dhRecbto>10/03/2026</dhRecbto>')), [`NFE_FORMAT ${ret}/dhRecbto`]);
  const refused = generateProcInutNFeXml(generateInutNFeXml(RANGE), RANGE, { cStat: '563', xMotivo: 'Rejeicao: Ja existe pedido de inutilizacao com a mesma faixa' });
  const f = check(refused).findings;
  t.same(f.map((x) => [x.code, x.severity, x.path]), [['NFE_INUT_NOT_HOMOLOGATED', 'warning', `${ret}/cStat`]]);
  t.match(f[0]!.message, /cStat 563 Rejeicao: .*not homologated \(102\)/);
  t.same(codes(good.replace(/<nProt>\d+<\/nProt>/, '')), [`NFE_MISSING ${ret}/nProt`], 'a homologation without its protocol');
});

t.test('to-jsonl gives its line, to-csv no row (no note was issued)', async (t) => {
  const proc = generateProcInutNFeXml(generateInutNFeXml(RANGE), RANGE);
  const file = tmpFile('inut-batch.xml', proc);
  const out = sink();
  const sum = await nfeToJsonl([file], out, { threads: 1 });
  t.equal(sum.documents, 1);
  const line = JSON.parse(out.text()) as { kind: string; key: unknown; doc: { procInutNFe: { retInutNFe: { infInut: { cStat: string; nNFIni: string } } } } };
  t.equal(line.kind, 'procInutNFe');
  t.equal(line.key, null);
  t.equal(line.doc.procInutNFe.retInutNFe.infInut.cStat, '102');
  t.equal(line.doc.procInutNFe.retInutNFe.infInut.nNFIni, '10', 'numbers stay strings');
  const csv = sink();
  const cs = await nfeToCsv([file], csv, { threads: 1 });
  t.equal(cs.withErrors, 0);
  t.equal(csv.text().trim().split('\n').length, 1, 'the header only');
});
