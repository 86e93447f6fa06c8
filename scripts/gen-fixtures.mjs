#!/usr/bin/env node
// Writes the bundled fixtures in fixtures/ from the project's own generators (run after `npm run build`):
//   node scripts/gen-fixtures.mjs
// The outputs are committed; re-running gives identical bytes (the generators are deterministic).
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { SpedWriter } from '../dist/sped/writer.js';
import { syntheticRecords } from '../dist/sped/synthetic.js';

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
console.log('fixtures written to fixtures/sped/');
