import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateNfeXml } from '../../src/nfe/generate.js';
import { loadCertificate } from '../../src/nfe/cert.js';
import { signXml } from '../../src/nfe/sign.js';
import { validateSchemas } from '../../src/nfe/schema-validate.js';
import { makeTestCerts, needTools, TEST_CNPJ } from '../helpers/certs.js';

const xsd = fileURLToPath(new URL('../../../shared/xsd/nfe/PL_010_V1.30/', import.meta.url));
const skip = !existsSync(xsd) ? `no ${xsd}` : needTools('xmllint', 'openssl').skip;

t.test('generated notes, signed, validate against PL_010 nfe_v4.00.xsd (xmllint)', { skip }, async (t) => {
  const certs = makeTestCerts();
  const cred = loadCertificate(certs.modernPfx, certs.password);
  const dir = t.testdir({});
  const files: string[] = [];
  for (let s = 1; s <= 12; s++) {
    const xml = signXml(generateNfeXml(s * 31, { model: s % 3 ? '55' : '65', ibsCbs: s % 4 !== 0, emitterCnpj: TEST_CNPJ }), cred);
    const f = join(dir, `${s}.xml`);
    writeFileSync(f, xml);
    files.push(f);
  }
  const out = execFileSync('xmllint', ['--noout', '--schema', join(xsd, 'nfe_v4.00.xsd'), ...files], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.equal(out, '');
  // and through the project's own batch validator: no findings
  const res = await validateSchemas(files.map((f, i) => ({ source: `g${i}`, kind: 'NFe' as const, version: '4.00', bytes: execFileSync('cat', [f]) })), xsd);
  t.same([...res.values()].flat(), []);
});

t.test('unsigned document: NFE_SCHEMA finding with a line', { skip }, async (t) => {
  const res = await validateSchemas([{ source: 'u', kind: 'NFe', version: '4.00', bytes: generateNfeXml(1) }], xsd);
  const f = res.get('u')!;
  t.equal(f[0]?.code, 'NFE_SCHEMA');
  t.match(f[0]?.message, /Signature/);
});
