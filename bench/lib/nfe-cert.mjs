/**
 * The benchmark's signing certificate, made with the openssl binary (the same recipe as test/helpers/certs.ts,
 * cut down to what the benchmark needs): an RSA-2048 key, a self-signed A1-style certificate with the CNPJ in
 * the subject CN (`NAME:CNPJ`), valid 2020-01-01..2045-01-01 so that every generated emission date falls
 * inside it, exported as a modern PKCS#12 (AES-256-CBC, SHA-256 MAC).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BENCH_PASSWORD = 'senha-de-bench-123';

const CNF = (dir) => `
[ ca ]
default_ca = bench
[ bench ]
database = ${dir}/index.txt
new_certs_dir = ${dir}/newcerts
serial = ${dir}/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
[ ee ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment
`;

/** Writes `bench.pfx` for `cnpj` into `dir`; returns its path and password. Needs openssl. */
export function makeBenchPfx(dir, cnpj) {
  mkdirSync(join(dir, 'newcerts'), { recursive: true });
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'openssl.cnf'), CNF(dir));
  const ossl = (args) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BENCH_PFX_PW: BENCH_PASSWORD } });
  const cnf = ['-config', join(dir, 'openssl.cnf')];
  ossl(['genrsa', '-out', 'bench.key', '2048']);
  ossl(['req', '-new', ...cnf, '-key', 'bench.key', '-subj', `/C=BR/O=ICP-Brasil/CN=EMPRESA BENCH LTDA:${cnpj}`, '-out', 'bench.csr']);
  ossl(['ca', '-batch', ...cnf, '-selfsign', '-keyfile', 'bench.key', '-in', 'bench.csr', '-extensions', 'ee',
    '-startdate', '20200101000000Z', '-enddate', '20450101000000Z', '-notext', '-out', 'bench.pem']);
  ossl(['pkcs12', '-export', '-certpbe', 'AES-256-CBC', '-keypbe', 'AES-256-CBC', '-macalg', 'sha256',
    '-inkey', 'bench.key', '-in', 'bench.pem', '-name', 'bench', '-passout', 'env:BENCH_PFX_PW', '-out', 'bench.pfx']);
  return { pfx: join(dir, 'bench.pfx'), password: BENCH_PASSWORD };
}
