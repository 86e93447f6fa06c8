/**
 * Test certificates, generated with the openssl binary into a temporary directory (never committed):
 * a test CA, A1 end-entity certificates (CNPJ in the subject CN `NAME:CNPJ`, or in the ICP-Brasil otherName
 * 2.16.76.1.3.3 of subjectAltName), an expired one, and PKCS#12 files in both flavours: legacy
 * (RC2-40 certificates / 3DES key, SHA-1 MAC) and modern (AES-256-CBC with PBKDF2, SHA-256 MAC).
 *
 * The set is built once per machine and version into os.tmpdir() (atomic rename), so parallel test files share it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const VERSION = 'v3';
export const TEST_PASSWORD = 'senha-de-teste-123';
export const TEST_CNPJ = '11222333000181';
/** A second, unrelated CNPJ (valid digits) for mismatch tests. */
export const OTHER_CNPJ = '11444777000161';

export interface TestCerts {
  readonly dir: string;
  /** PEM of the test CA (a trust anchor for --trust). */
  readonly caPem: string;
  /** Directory holding only the CA certificate, for `--trust DIR`. */
  readonly trustDir: string;
  /** CN `EMPRESA TESTE LTDA:11222333000181`, valid 2020-01-01..2040-01-01, legacy PFX (RC2-40 / 3DES). */
  readonly legacyPfx: Buffer;
  /** Same key and certificate, modern PFX (AES-256-CBC, PBKDF2 hmacWithSHA256, SHA-256 MAC). */
  readonly modernPfx: Buffer;
  /** CN without CNPJ; CNPJ in subjectAltName otherName 2.16.76.1.3.3 (modern PFX). */
  readonly icpPfx: Buffer;
  /** CN `EMPRESA VENCIDA:11222333000181`, valid 2020-01-01..2021-01-01 (modern PFX). */
  readonly expiredPfx: Buffer;
  /** Certificate only, no private key (modern PFX). */
  readonly noKeyPfx: Buffer;
  /** Self-signed certificate not issued by the test CA, CN `OUTRA:11222333000181` (modern PFX). */
  readonly selfSignedPfx: Buffer;
  readonly password: string;
}

export function hasTool(name: string): boolean {
  const r = spawnSync(name, ['--version'], { stdio: 'ignore' });
  if (r.error === undefined) return true;
  return spawnSync(name, ['version'], { stdio: 'ignore' }).error === undefined;
}

/**
 * The skip option for a tap test that needs external tools. In CI (CI=true) the tools must be present:
 * a missing one makes the test run (and fail loudly) instead of skipping.
 */
export function needTools(...tools: string[]): { skip: string | false } {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0 || process.env.CI === 'true') return { skip: false };
  return { skip: `needs ${missing.join(', ')}: apt-get install -y libxml2-utils xmlsec1 openssl` };
}

const CNF = (dir: string): string => `
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = ${dir}
database = ${dir}/index.txt
new_certs_dir = ${dir}/newcerts
serial = ${dir}/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[ policy_any ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_ee ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_icp ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment
subjectAltName = @icp_san
[ icp_san ]
otherName.1 = 2.16.76.1.3.3;OCTETSTRING:${TEST_CNPJ}
email.1 = fiscal@example.com
`;

function ossl(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
}

function build(dir: string): void {
  mkdirSync(join(dir, 'newcerts'));
  mkdirSync(join(dir, 'trust'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'openssl.cnf'), CNF(dir));
  const cnf = ['-config', join(dir, 'openssl.cnf')];
  const pw = { FISCAL_TEST_PW: TEST_PASSWORD };
  ossl(dir, ['genrsa', '-out', 'ca.key', '2048']);
  ossl(dir, ['genrsa', '-out', 'ee.key', '2048']);
  ossl(dir, ['genrsa', '-out', 'other.key', '2048']);
  ossl(dir, ['req', '-new', ...cnf, '-key', 'ca.key', '-subj', '/C=BR/O=Fiscal Engine Test/CN=Fiscal Engine Test CA', '-out', 'ca.csr']);
  ossl(dir, ['ca', '-batch', ...cnf, '-selfsign', '-keyfile', 'ca.key', '-in', 'ca.csr', '-extensions', 'v3_ca',
    '-startdate', '20200101000000Z', '-enddate', '20450101000000Z', '-notext', '-out', 'ca.pem']);
  const issue = (name: string, subj: string, ext: string, start: string, end: string): void => {
    ossl(dir, ['req', '-new', ...cnf, '-key', 'ee.key', '-subj', subj, '-out', `${name}.csr`]);
    ossl(dir, ['ca', '-batch', ...cnf, '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', `${name}.csr`, '-extensions', ext,
      '-startdate', start, '-enddate', end, '-notext', '-out', `${name}.pem`]);
  };
  issue('ee', `/C=BR/O=ICP-Brasil/OU=Certificado PJ A1/CN=EMPRESA TESTE LTDA:${TEST_CNPJ}`, 'v3_ee', '20200101000000Z', '20400101000000Z');
  issue('icp', '/C=BR/O=ICP-Brasil/OU=Certificado PJ A1/CN=EMPRESA TESTE ICP LTDA', 'v3_icp', '20200101000000Z', '20400101000000Z');
  issue('expired', `/C=BR/O=ICP-Brasil/CN=EMPRESA VENCIDA:${TEST_CNPJ}`, 'v3_ee', '20200101000000Z', '20210101000000Z');
  ossl(dir, ['req', '-new', '-x509', ...cnf, '-key', 'other.key', '-subj', `/C=BR/CN=OUTRA:${TEST_CNPJ}`, '-days', '7300', '-out', 'self.pem']);

  const pass = ['-passout', 'env:FISCAL_TEST_PW'];
  ossl(dir, ['pkcs12', '-export', '-legacy', '-certpbe', 'PBE-SHA1-RC2-40', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1',
    '-inkey', 'ee.key', '-in', 'ee.pem', '-name', 'legacy', ...pass, '-out', 'legacy.pfx'], pw);
  const modern = (name: string, key: string | null, cert: string): void => {
    const keyArgs = key === null ? ['-nokeys'] : ['-inkey', key];
    ossl(dir, ['pkcs12', '-export', '-certpbe', 'AES-256-CBC', '-keypbe', 'AES-256-CBC', '-macalg', 'sha256',
      ...keyArgs, '-in', cert, '-name', name, ...pass, '-out', `${name}.pfx`], pw);
  };
  modern('modern', 'ee.key', 'ee.pem');
  modern('icp', 'ee.key', 'icp.pem');
  modern('expired', 'ee.key', 'expired.pem');
  modern('nokey', null, 'ee.pem');
  modern('self', 'other.key', 'self.pem');
  writeFileSync(join(dir, 'trust', 'ca.pem'), readFileSync(join(dir, 'ca.pem')));
}

let cached: TestCerts | null = null;

/** Builds (or reuses) the test certificate set. Needs the openssl binary. */
export function makeTestCerts(): TestCerts {
  if (cached) return cached;
  const dir = join(tmpdir(), `fiscal-engine-test-certs-${VERSION}`);
  if (!existsSync(join(dir, 'done'))) {
    const work = mkdtempSync(join(tmpdir(), 'fiscal-certs-'));
    build(work);
    writeFileSync(join(work, 'done'), '');
    try {
      renameSync(work, dir);
    } catch {
      rmSync(work, { recursive: true, force: true }); // another test file won the race
    }
  }
  const r = (f: string): Buffer => readFileSync(join(dir, f));
  cached = {
    dir,
    caPem: r('ca.pem').toString('utf8'),
    trustDir: join(dir, 'trust'),
    legacyPfx: r('legacy.pfx'),
    modernPfx: r('modern.pfx'),
    icpPfx: r('icp.pfx'),
    expiredPfx: r('expired.pfx'),
    noKeyPfx: r('nokey.pfx'),
    selfSignedPfx: r('self.pfx'),
    password: TEST_PASSWORD,
  };
  return cached;
}
