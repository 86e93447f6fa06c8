import t from 'tap';
import { loadCertificate } from '../../src/nfe/cert.js';
import { generateNfeXml } from '../../src/nfe/generate.js';
import { signXml } from '../../src/nfe/sign.js';
import { verifyXml } from '../../src/nfe/verify.js';
import { OTHER_CNPJ, makeTestCerts, needTools } from '../helpers/certs.js';
import { SHARED, envEventoXml, enviNFeXml, haveShared, nfeXml, tmpFile, xmllintSchema, xmlsecVerify } from '../helpers/sign-fixtures.js';

const tools = needTools('openssl', 'xmlsec1', 'xmllint');
const schemaSkip = tools.skip || (haveShared() ? false : 'needs ../shared/xsd (the shared folder beside the repo)');
const XSD = (f: string): string => `${SHARED}xsd/nfe/PL_010_V1.30/${f}`;

t.test('signed NFe: shape, xmlsec1, xmllint schema, our verify', { skip: schemaSkip }, async (t) => {
  const c = makeTestCerts();
  for (const [flavour, pfx] of [['legacy', c.legacyPfx], ['modern', c.modernPfx]] as const) {
    const creds = loadCertificate(pfx, c.password);
    const signed = signXml(nfeXml(), creds);
    t.match(signed, /<\/infNFe><Signature xmlns="http:\/\/www.w3.org\/2000\/09\/xmldsig#"><SignedInfo>/, 'Signature right after infNFe');
    t.match(signed, /<Reference URI="#NFe\d{44}">/);
    t.equal(signed.match(/<X509Certificate>/g)?.length, 1, 'one certificate');
    const p = tmpFile(`signed-${flavour}.xml`, signed);
    const ox = xmlsecVerify(p);
    t.ok(ox.ok, `${flavour}: xmlsec1 ${ox.output}`);
    const sx = xmllintSchema(p);
    t.ok(sx.ok, `${flavour}: xmllint ${sx.output}`);
    t.ok(verifyXml(signed).ok);
  }
});

t.test('generated NF-e (with IBS/CBS) signed: xmlsec1 and schema', { skip: schemaSkip }, async (t) => {
  const creds = loadCertificate(makeTestCerts().modernPfx, makeTestCerts().password);
  for (const seed of [1, 2, 3]) {
    const signed = signXml(generateNfeXml(seed), creds, { checkCertificate: false });
    const p = tmpFile(`gen-${seed}.xml`, signed);
    t.ok(xmlsecVerify(p).ok, `seed ${seed}: xmlsec1`);
    const sx = xmllintSchema(p);
    t.ok(sx.ok, `seed ${seed}: schema ${sx.output}`);
  }
});

t.test('event and batch', { skip: schemaSkip }, async (t) => {
  const creds = loadCertificate(makeTestCerts().modernPfx, makeTestCerts().password);
  const ev = signXml(envEventoXml(), creds);
  const pe = tmpFile('event.xml', ev);
  t.ok(xmlsecVerify(pe, 'infEvento').ok, 'xmlsec1 --id-attr:Id infEvento');
  t.ok(xmllintSchema(pe, XSD('envEventoCancNFe_v1.00.xsd')).ok, 'envEventoCancNFe schema');
  t.match(ev, /<Reference URI="#ID110111\d{44}01">/);
  const batch = signXml(enviNFeXml(3), creds);
  t.equal(batch.match(/<Signature /g)?.length, 3, 'each NFe signed');
  const pb = tmpFile('batch.xml', batch);
  t.ok(xmlsecVerify(pb).ok, 'xmlsec1 (first signature)');
  t.ok(xmllintSchema(pb, XSD('enviNFe_v4.00.xsd')).ok, 'enviNFe schema');
  const r = verifyXml(batch);
  t.ok(r.ok);
  t.equal(r.signatures.length, 3, 'we verify all three');
  // a batch with the second NFe changed: only that one fails
  const second = batch.indexOf('<nNF>2</nNF>');
  const broken = batch.slice(0, second) + '<nNF>2</nNF> ' + batch.slice(second + 12);
  const rb = verifyXml(broken);
  t.same(rb.findings.map((f) => f.code), ['NFE_DIGEST_MISMATCH']);
});

t.test('signing refusals', { skip: tools.skip }, async (t) => {
  const c = makeTestCerts();
  const creds = loadCertificate(c.modernPfx, c.password);
  t.throws(() => signXml(nfeXml({ cnpj: OTHER_CNPJ }), creds), { code: 'CERT_CNPJ_MISMATCH' });
  t.throws(() => signXml(nfeXml(), loadCertificate(c.expiredPfx, c.password)), { code: 'CERT_NOT_VALID' });
  t.throws(() => signXml(nfeXml({ dhEmi: '2019-06-10T10:00:00-03:00' }), creds), { code: 'CERT_NOT_VALID' }, 'before notBefore');
  t.doesNotThrow(() => signXml(nfeXml({ cnpj: OTHER_CNPJ }), creds, { checkCertificate: false }));
  t.throws(() => signXml(signXml(nfeXml(), creds), creds), { code: 'NFE_ALREADY_SIGNED' });
  t.throws(() => signXml('<foo/>', creds), { code: 'NFE_NOTHING_TO_SIGN' });
  t.throws(() => signXml('<!DOCTYPE x><NFe/>', creds), { code: 'NFE_DOCTYPE_REFUSED' });
  const icp = loadCertificate(c.icpPfx, c.password);
  t.ok(verifyXml(signXml(nfeXml(), icp)).ok, 'otherName certificate signs');
});

t.test('ISO-8859-1 input is signed over its characters and declared UTF-8 on output', { skip: tools.skip }, async (t) => {
  const creds = loadCertificate(makeTestCerts().modernPfx, makeTestCerts().password);
  const xml = `<?xml version="1.0" encoding="ISO-8859-1"?>${nfeXml({ infCpl: 'AÇÚCAR' })}`;
  const signed = signXml(Buffer.from(xml, 'latin1'), creds);
  t.match(signed, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
  t.match(signed, /AÇÚCAR/);
  t.ok(verifyXml(Buffer.from(signed, 'utf8')).ok);
  t.ok(xmlsecVerify(tmpFile('latin1.xml', signed)).ok, 'xmlsec1');
});

t.test('rsa-sha256 option', { skip: tools.skip }, async (t) => {
  const creds = loadCertificate(makeTestCerts().modernPfx, makeTestCerts().password);
  const signed = signXml(nfeXml(), creds, { algorithm: 'rsa-sha256' });
  t.match(signed, /rsa-sha256/);
  t.ok(verifyXml(signed).ok);
  t.ok(xmlsecVerify(tmpFile('sha256.xml', signed)).ok, 'xmlsec1');
});
