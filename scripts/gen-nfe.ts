#!/usr/bin/env node
// Generates deterministic NF-e/NFC-e 4.00 documents (unsigned) from seeds: the fixtures and benchmark batches.
//   TS_NODE_TRANSPILE_ONLY=1 node --import @tapjs/typescript/import scripts/gen-nfe.ts \
//     --count 10000 [--seed 1] [--model 55|65] [--no-ibscbs] [--cnpj 14CHARS] [--out-dir DIR]
// With --out-dir each document is written as DIR/<key>-nfe.xml; without it the documents are concatenated on
// stdout (one per line), which `fiscal nfe to-jsonl -` reads back. The library API is src/nfe/generate.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateNfeBatch } from '../src/nfe/generate.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    model: { type: 'string', default: '55' },
    'no-ibscbs': { type: 'boolean', default: false },
    cnpj: { type: 'string' },
    'out-dir': { type: 'string' },
  },
});
const model = values.model === '65' ? '65' : '55';
const outDir = values['out-dir'];
if (outDir) mkdirSync(outDir, { recursive: true });
const opts = { model, ibsCbs: !values['no-ibscbs'], ...(values.cnpj ? { emitterCnpj: values.cnpj } : {}) } as const;
for (const { key, xml } of generateNfeBatch(Number(values.count), Number(values.seed), opts)) {
  if (outDir) writeFileSync(join(outDir, `${key}-nfe.xml`), xml);
  else process.stdout.write(`${xml}\n`);
}
