#!/usr/bin/env node
// Writes the bundled fixtures in fixtures/ from the project's own generators (run after `npm run build`):
//   node scripts/gen-fixtures.mjs
// The outputs are committed. The SPED files are deterministic; the NF-e documents are signed with a test
// certificate that openssl makes afresh on each run (its private key is thrown away), so their signatures
// change from run to run while the content stays the same.
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpedWriter } from '../dist/sped/writer.js';
import { syntheticRecords } from '../dist/sped/synthetic.js';
import { generateNfeXml } from '../dist/nfe/generate.js';
import { loadCertificate } from '../dist/nfe/cert.js';
import { signXml } from '../dist/nfe/sign.js';
import { addQrCodeToXml } from '../dist/nfe/qrcode.js';
import { makeBenchPfx } from '../bench/lib/nfe-cert.mjs';

const root = new URL('../', import.meta.url);
mkdirSync(new URL('fixtures/sped/', root), { recursive: true });

async function writeSped(name, options) {
  const path = new URL(`fixtures/sped/${name}`, root);
  const out = createWriteStream(path);
  const w = new SpedWriter(out, { layout: options.layout });
  for (const rec of syntheticRecords(options)) await w.write(rec[0], rec.slice(1));
  await w.finish();
  out.end();
  await once(out, 'close');
  return path;
}

await writeSped('efd-icms-ipi-2026-01.txt', { layout: 'efd-icms-ipi', documents: 40, seed: 2026 });
await writeSped('efd-contribuicoes-2026-01.txt', { layout: 'efd-contribuicoes', documents: 30, seed: 2026 });
await writeSped('ecd-2026.txt', { layout: 'ecd', documents: 30, seed: 2026, periodStart: '2026-01-01' });
// A retailer's month: NFC-e of three checkouts (no participant, no C170; some cancelled), NF-e issued and
// received (entries with C170), energy bills, freight, the inventory; it must validate with no finding.
await writeSped('efd-icms-ipi-2026-01-retailer.txt', { layout: 'efd-icms-ipi', profile: 'retailer', documents: 500, seed: 2026, products: 300, participants: 80 });

// A file as users receive them from a hand-edited spreadsheet: a document removed without fixing the totals,
// and one item pointing at a product that is not in 0200.
const good = readFileSync(new URL('fixtures/sped/efd-icms-ipi-2026-01.txt', root), 'latin1').split('\r\n');
const broken = [];
let skipping = false;
let removed = 0;
for (const line of good) {
  if (line.startsWith('|C100|') && removed === 0 && line.includes('|00|1|7|')) { skipping = true; removed++; continue; }
  if (skipping && (line.startsWith('|C170|') || line.startsWith('|C190|'))) continue;
  skipping = false;
  broken.push(line);
}
const item = broken.findIndex((l) => l.startsWith('|C170|2|'));
broken[item] = broken[item].replace(/^\|C170\|2\|[^|]*\|/, '|C170|2|I999|');
writeFileSync(new URL('fixtures/sped/efd-icms-ipi-2026-01-broken.txt', root), broken.join('\r\n'), 'latin1');

// NF-e / NFC-e: notes of a fictitious emitter signed with a throw-away A1 test certificate
const CNPJ = '11222333000181';
const nfeDir = new URL('fixtures/nfe/', root);
rmSync(nfeDir, { recursive: true, force: true });
mkdirSync(nfeDir, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'fiscal-fixtures-'));
const { pfx, password } = makeBenchPfx(work, CNPJ);
const creds = loadCertificate(readFileSync(pfx), password);
const keyOf = (xml) => /Id="NFe(\w{44})"/.exec(xml)[1];
const put = (name, xml) => writeFileSync(new URL(name, nfeDir), xml);
for (let seed = 1; seed <= 4; seed++) {
  const xml = signXml(generateNfeXml(seed, { emitterCnpj: CNPJ, ibsCbs: seed % 2 === 1 }), creds);
  put(`${keyOf(xml)}-nfe.xml`, xml);
}
const nfce = signXml(generateNfeXml(5, { emitterCnpj: CNPJ, model: '65' }), creds);
put(`${keyOf(nfce)}-nfce.xml`, addQrCodeToXml(nfce, { cscId: '000001', csc: 'CSC-DE-TESTE-0000000000000000001' }).xml);
// a note edited after signing (a value changed by hand): verify must report the digest mismatch
const edited = signXml(generateNfeXml(6, { emitterCnpj: CNPJ }), creds).replace(/<xPed>[^<]*<\/xPed>|<infCpl>/, (m) => (m === '<infCpl>' ? '<infCpl>EDITADO ' : m));
const tampered = edited.includes('EDITADO') ? edited : edited.replace(/<natOp>([^<]*)<\/natOp>/, '<natOp>$1 EDITADA</natOp>');
put(`${keyOf(tampered)}-nfe-edited-after-signing.xml`, tampered);
rmSync(work, { recursive: true, force: true });
console.log('fixtures written to fixtures/sped/ and fixtures/nfe/');
