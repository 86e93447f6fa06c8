import t from 'tap';
import { readFileSync, existsSync } from 'node:fs';
import { loadCertificate } from '../../src/nfe/cert.js';
import { signXml } from '../../src/nfe/sign.js';
import { loadTrustStore, verifyXml } from '../../src/nfe/verify.js';
import { makeTestCerts, needTools } from '../helpers/certs.js';
import { SHARED, nfeKey, nfeXml } from '../helpers/sign-fixtures.js';

const SAMPLES = `${SHARED}samples/`;

t.test('samples: we accept what xmlsec1 accepts and reject what it rejects (MANIFEST.tsv)', { skip: existsSync(`${SAMPLES}MANIFEST.tsv`) ? false : 'needs ../shared/samples' }, async (t) => {
  const rows = readFileSync(`${SAMPLES}MANIFEST.tsv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  let n = 0;
  for (const [file, , , , oracle] of rows) {
    if (!file?.endsWith('.xml') || oracle === '-') continue;
    n++;
    const r = verifyXml(readFileSync(SAMPLES + file));
    if (oracle === 'OK') t.ok(r.ok, `${file}: accepted ${JSON.stringify(r.findings)}`);
    else t.notOk(r.ok, `${file}: rejected (${oracle}) with ${r.findings.map((f) => f.code).join(',')}`);
  }
  t.ok(n >= 15);
  const pretty = verifyXml(readFileSync(`${SAMPLES}nfe/spednfe_nfe_layout4_com_prot-PRETTY.xml`));
  t.equal(pretty.findings[0]?.code, 'NFE_DIGEST_MISMATCH', 're-indented: digest mismatch');
  t.equal(verifyXml(readFileSync(`${SAMPLES}nfe/spedda_nfe-101KB.xml`)).findings[0]?.code, 'NFE_REFERENCE_MISMATCH');
  t.same(verifyXml(readFileSync(`${SAMPLES}nfe/bfr_danfe_cnpj_alfanumerico.xml`)).findings.map((f) => f.code), ['NFE_UNSIGNED']);
  const cfe = verifyXml(readFileSync(`${SAMPLES}cfe/acbr_AD35180911111111111111591234567890001684429520.xml`));
  t.equal(cfe.signatures[0]?.signatureAlgorithm, 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'CF-e SAT rsa-sha256');
  const proc = verifyXml(readFileSync(`${SAMPLES}nfe/nfelib_41170706117473000150550010000463201612756527-procNFe.xml`));
  t.equal(proc.protocol?.cStat, '100');
  t.equal(proc.key, '41170706117473000150550010000463201612756527');
  t.ok(proc.signatures[0]?.certificate?.subject);
});

t.test('protNFe checks, wrapping, unsigned, trust', needTools('openssl'), async (t) => {
  const c = makeTestCerts();
  const creds = loadCertificate(c.modernPfx, c.password);
  const signed = signXml(nfeXml(), creds);
  const digest = /<DigestValue>([^<]+)</.exec(signed)?.[1] as string;
  const proc = (ch: string, cStat: string, digVal: string): string =>
    `<nfeProc xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00">${signed}<protNFe versao="4.00"><infProt><tpAmb>2</tpAmb>` +
    `<verAplic>T</verAplic><chNFe>${ch}</chNFe><dhRecbto>2025-06-10T10:01:00-03:00</dhRecbto><nProt>135250000000001</nProt>` +
    `<digVal>${digVal}</digVal><cStat>${cStat}</cStat><xMotivo>motivo</xMotivo></infProt></protNFe></nfeProc>`;
  const key = nfeKey();
  t.ok(verifyXml(proc(key, '100', digest)).ok, 'authorised nfeProc');
  t.ok(verifyXml(proc(key, '150', digest)).ok, 'authorised late (150)');
  t.same(verifyXml(proc(key, '302', digest)).findings.map((f) => f.code), ['NFE_NOT_AUTHORIZED']);
  t.same(verifyXml(proc(key.slice(0, 43) + '0', '100', digest)).findings.map((f) => f.code), ['NFE_KEY_MISMATCH']);
  t.same(verifyXml(proc(key, '100', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=')).findings.map((f) => f.code), ['NFE_DIGVAL_MISMATCH']);

  t.same(verifyXml(nfeXml()).findings.map((f) => f.code), ['NFE_UNSIGNED'], 'unsigned');
  t.same(verifyXml('<a/>').findings.map((f) => f.code), ['NFE_UNSIGNED']);
  t.same(verifyXml(signed.replace(/URI="#NFe/, 'URI="#XNFe')).findings.map((f) => f.code).slice(0, 1), ['NFE_REFERENCE_MISMATCH'], 'reference to nothing');
  // wrapping: the signature references an infNFe that is not its sibling
  const other = nfeXml({ nNF: '2' });
  const wrapped = `<enviNFe xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00"><idLote>1</idLote><indSinc>0</indSinc>${signed.replace(' xmlns="http://www.portalfiscal.inf.br/nfe"', '')}` +
    `${other.replace(' xmlns="http://www.portalfiscal.inf.br/nfe"', '').replace('</infNFe></NFe>', `</infNFe>${/<Signature[\s\S]*<\/Signature>/.exec(signed)?.[0]}</NFe>`)}</enviNFe>`;
  const wr = verifyXml(wrapped);
  t.notOk(wr.ok, 'a copied signature does not cover another NFe');
  t.ok(wr.findings.some((f) => f.code === 'NFE_REFERENCE_MISMATCH'));
  t.same(verifyXml(signed.replace('<SignatureValue>', '<SignatureValue>AAAA')).findings.map((f) => f.code), ['NFE_SIGNATURE_INVALID']);
  t.same(verifyXml('<a><b>').findings.map((f) => f.code), ['NFE_XML_MALFORMED']);

  const trust = loadTrustStore(c.trustDir);
  const tr = verifyXml(signed, { trust });
  t.ok(tr.ok);
  t.equal(tr.signatures[0]?.certificate?.trusted, true);
  const now = `${new Date().toISOString().slice(0, 19)}-00:00`; // the self-signed certificate starts when it was made
  const self = signXml(nfeXml({ dhEmi: now }), loadCertificate(c.selfSignedPfx, c.password));
  t.same(verifyXml(self, { trust }).findings.map((f) => f.code), ['CERT_UNTRUSTED']);
  t.ok(verifyXml(self).ok, 'without --trust the chain is not judged');
  const expired = signXml(nfeXml(), loadCertificate(c.expiredPfx, c.password), { checkCertificate: false });
  t.same(verifyXml(expired).findings.map((f) => f.code), ['CERT_NOT_VALID']);
  t.equal(verifyXml(expired).signatures[0]?.certificate?.validAtDocumentDate, false);
});
