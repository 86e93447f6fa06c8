import t from 'tap';
import { CertificateError, assertCertificateFor, certificateInfo, isValidAt, loadCertificate } from '../../src/nfe/cert.js';
import { OTHER_CNPJ, TEST_CNPJ, makeTestCerts, needTools } from '../helpers/certs.js';

t.test('PKCS#12 in both flavours, CNPJ from CN or otherName, typed errors', needTools('openssl'), async (t) => {
  const c = makeTestCerts();
  const legacy = loadCertificate(c.legacyPfx, c.password);
  const modern = loadCertificate(c.modernPfx, c.password);
  t.equal(legacy.info.cnpj, TEST_CNPJ, 'legacy RC2-40/3DES file read');
  t.equal(modern.info.cnpj, TEST_CNPJ, 'modern AES-256/PBKDF2 file read');
  t.equal(legacy.info.fingerprint256, modern.info.fingerprint256, 'same certificate');
  t.equal(legacy.privateKey.asymmetricKeyType, 'rsa');
  t.match(legacy.info.subject, /CN=EMPRESA TESTE LTDA:11222333000181/);
  const icp = loadCertificate(c.icpPfx, c.password);
  t.equal(icp.info.commonName, 'EMPRESA TESTE ICP LTDA');
  t.equal(icp.info.cnpj, TEST_CNPJ, 'CNPJ from otherName 2.16.76.1.3.3');
  t.equal(certificateInfo(icp.certificateBase64).cnpj, TEST_CNPJ, 'from base64 DER too');

  t.throws(() => loadCertificate(c.modernPfx, 'wrong'), { code: 'CERT_PASSWORD' });
  t.throws(() => loadCertificate(c.legacyPfx, 'wrong'), { code: 'CERT_PASSWORD' });
  t.throws(() => loadCertificate(c.noKeyPfx, c.password), { code: 'CERT_NO_KEY' });
  t.throws(() => loadCertificate(Buffer.from('not a pfx'), c.password), { code: 'CERT_PFX_INVALID' });
  const err = (() => { try { loadCertificate(c.modernPfx, 'wrong'); } catch (e) { return e as CertificateError; } return null; })();
  t.notMatch(err?.message ?? '', /wrong$/, 'the password is not echoed');
  t.equal(err?.exitCode, 2);

  const expired = loadCertificate(c.expiredPfx, c.password).info;
  t.notOk(isValidAt(expired, new Date('2025-06-10T10:00:00-03:00')));
  t.ok(isValidAt(expired, new Date('2020-06-10T10:00:00-03:00')));
  t.throws(() => assertCertificateFor(expired, new Date('2025-06-10'), { CNPJ: TEST_CNPJ }), { code: 'CERT_NOT_VALID' });
  t.throws(() => assertCertificateFor(modern.info, new Date('2025-06-10'), { CNPJ: OTHER_CNPJ }), { code: 'CERT_CNPJ_MISMATCH' });
  t.doesNotThrow(() => assertCertificateFor(modern.info, new Date('2025-06-10'), { CNPJ: '11222333000262' }), 'same root, another branch');
});
