import t from 'tap';
import { createHash } from 'node:crypto';
import { loadCertificate } from '../../src/nfe/cert.js';
import { addQrCodeToXml, buildQrCode, checkQrCode, qrCodeUrls, qrFieldsFromXml, type QrDocumentFields } from '../../src/nfe/qrcode.js';
import { signXml } from '../../src/nfe/sign.js';
import { verifyXml } from '../../src/nfe/verify.js';
import { makeTestCerts, needTools } from '../helpers/certs.js';
import { haveShared, nfeKey, nfeXml, tmpFile, xmllintSchema, xmlsecVerify } from '../helpers/sign-fixtures.js';

const KEY = nfeKey({ mod: '65' });
const base: QrDocumentFields = { key: KEY, cUF: '35', tpAmb: '2', tpEmis: '1', dhEmi: '2025-06-10T10:00:00-03:00', vNF: '10.00', digVal: 'abcdefghijklmnopqrstuvwxyz0=', dest: null };
const CSC = 'ABCDEF0123456789ABCDEF0123456789ABCD';

t.test('v2 online and offline', async (t) => {
  const url = buildQrCode(base, { cscId: '000001', csc: CSC });
  const expectedHash = createHash('sha1').update(`${KEY}|2|2|1${CSC}`).digest('hex').toUpperCase();
  t.equal(url, `${qrCodeUrls('35', '2').qrCode}${KEY}|2|2|1|${expectedHash}`, 'cIdToken without leading zeros');
  t.same(checkQrCode(url, base, { csc: CSC }), []);
  t.same(checkQrCode(url, base, { csc: 'other' }).map((f) => f.message), ['qrCode hash does not match the CSC']);
  const off = { ...base, tpEmis: '9' };
  const ourl = buildQrCode(off, { cscId: '1', csc: CSC, url: 'https://example.org/qr' });
  const hex = Buffer.from(base.digVal as string).toString('hex');
  t.match(ourl, new RegExp(`^https://example.org/qr\\?p=${KEY}\\|2\\|2\\|10\\|10\\.00\\|${hex}\\|1\\|[0-9A-F]{40}$`));
  t.same(checkQrCode(ourl, off, { csc: CSC }), []);
  t.same(checkQrCode(ourl, { ...off, vNF: '11.00' }, { csc: CSC }).map((f) => f.message), ['qrCode vNF 10.00 is not the document\'s 11.00']);
  t.throws(() => buildQrCode({ ...base, cUF: '11' }, { cscId: '1', csc: CSC }), { code: 'NFE_QRCODE_URL_UNKNOWN' });
  t.throws(() => buildQrCode(base, {}), { code: 'NFE_QRCODE_INPUT' });
});

t.test('v3 online and offline (signed with the certificate)', needTools('openssl'), async (t) => {
  t.equal(buildQrCode(base, { version: 3 }), `${qrCodeUrls('35', '2').qrCode}${KEY}|3|2`);
  const creds = loadCertificate(makeTestCerts().modernPfx, makeTestCerts().password);
  const off = { ...base, tpEmis: '9', dest: { type: 2 as const, id: '52998224725' } };
  const url = buildQrCode(off, { version: 3, privateKey: creds.privateKey });
  t.match(url, new RegExp(`\\|3\\|2\\|10\\|10\\.00\\|2\\|52998224725\\|[A-Za-z0-9+/]+=*$`));
  t.same(checkQrCode(url, off, { publicKey: creds.certificate.publicKey }), []);
  t.equal(checkQrCode(url.replace('|10.00|', '|10.01|'), off, { publicKey: creds.certificate.publicKey }).length, 2);
});

t.test('infNFeSupl added after signing: signature intact, schema valid, xmlsec1 OK', { skip: needTools('openssl', 'xmlsec1', 'xmllint').skip || (haveShared() ? false : 'needs ../shared') }, async (t) => {
  const creds = loadCertificate(makeTestCerts().modernPfx, makeTestCerts().password);
  const signed = signXml(nfeXml({ mod: '65' }), creds);
  for (const version of [2, 3] as const) {
    const { xml, qrCode } = addQrCodeToXml(signed, { version, cscId: '1', csc: CSC });
    t.match(xml, /<\/infNFe><infNFeSupl><qrCode>[^<]+<\/qrCode><urlChave>[^<]+<\/urlChave><\/infNFeSupl><Signature /);
    t.ok(verifyXml(xml).ok, `v${version}: signature still verifies`);
    const p = tmpFile(`nfce-v${version}.xml`, xml);
    t.ok(xmlsecVerify(p).ok, `v${version}: xmlsec1`);
    const sx = xmllintSchema(p);
    t.ok(sx.ok, `v${version}: schema ${sx.output}`);
    const again = addQrCodeToXml(xml, { version, cscId: '1', csc: CSC });
    t.equal(again.xml.match(/<infNFeSupl>/g)?.length, 1, 'replaced, not duplicated');
    t.same(checkQrCode(qrCode, qrFieldsFromXml(xml).fields, { csc: CSC }), []);
  }
});
