/**
 * Sign and verify throughput on one core, against xmlsec1 (one process per file) on a sample of the same files.
 * Run: node --import=@tapjs/typescript/import bench/nfe-signature.ts [count]   (needs openssl, xmlsec1)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCertificate } from '../src/nfe/cert.js';
import { generateNfeBatch } from '../src/nfe/generate.js';
import { signXml } from '../src/nfe/sign.js';
import { verifyXml } from '../src/nfe/verify.js';
import { makeTestCerts } from '../test/helpers/certs.js';

const count = Number(process.argv[2] ?? 5000);
const certs = makeTestCerts();
const creds = loadCertificate(certs.modernPfx, certs.password);
const docs = [...generateNfeBatch(count, 1)].map((d) => d.xml);
const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0);

let t0 = process.hrtime.bigint();
const signed = docs.map((d) => Buffer.from(signXml(d, creds, { checkCertificate: false }), 'utf8'));
const signS = Number(process.hrtime.bigint() - t0) / 1e9;

t0 = process.hrtime.bigint();
let ok = 0;
for (const b of signed) if (verifyXml(b).ok) ok++;
const verifyS = Number(process.hrtime.bigint() - t0) / 1e9;
if (ok !== signed.length) throw new Error(`${signed.length - ok} documents failed verification`);

const dir = mkdtempSync(join(tmpdir(), 'fiscal-bench-sig-'));
const sample = signed.slice(0, Math.min(200, signed.length));
const files = sample.map((b, i) => { const p = join(dir, `${i}.xml`); writeFileSync(p, b); return p; });
t0 = process.hrtime.bigint();
for (const f of files) {
  const r = spawnSync('xmlsec1', ['--verify', '--id-attr:Id', 'infNFe', '--insecure', '--enabled-key-data', 'x509', f], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`xmlsec1 rejected ${f}`);
}
const xmlsecS = Number(process.hrtime.bigint() - t0) / 1e9;

const fmt = (n: number): string => n.toFixed(0);
console.log(`documents            ${count} (avg ${(bytes / count / 1024).toFixed(1)} KiB unsigned)`);
console.log(`sign                 ${fmt(count / signS)} docs/s`);
console.log(`verify               ${fmt(count / verifyS)} docs/s`);
console.log(`xmlsec1 per file     ${fmt(files.length / xmlsecS)} docs/s (${files.length} files)`);
console.log(`verify / xmlsec1     ${(count / verifyS / (files.length / xmlsecS)).toFixed(1)}x`);
