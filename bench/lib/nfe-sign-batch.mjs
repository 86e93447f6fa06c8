/**
 * The `sign` scenario of bench/nfe.mjs: one process signs every `.xml` of IN_DIR with the built library
 * (loadCertificate + signXml, certificate checks on, as `fiscal nfe sign` does) and writes the signed documents
 * under the same names into OUT_DIR. The PFX password comes from $BENCH_PFX_PASSWORD.
 *
 *   node bench/lib/nfe-sign-batch.mjs IN_DIR OUT_DIR CERT.pfx
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCertificate } from '../../dist/nfe/cert.js';
import { signXml } from '../../dist/nfe/sign.js';

const [inDir, outDir, pfx] = process.argv.slice(2);
if (!inDir || !outDir || !pfx) throw new Error('usage: nfe-sign-batch.mjs IN_DIR OUT_DIR CERT.pfx');
const creds = loadCertificate(readFileSync(pfx), process.env.BENCH_PFX_PASSWORD ?? '');
mkdirSync(outDir, { recursive: true });
let n = 0;
for (const name of readdirSync(inDir).filter((f) => f.endsWith('.xml')).sort()) {
  writeFileSync(join(outDir, name), signXml(readFileSync(join(inDir, name)), creds));
  n++;
}
process.stderr.write(`${n} signed\n`);
