#!/usr/bin/env node
/**
 * Coupon-stream benchmark (issue 9, first part): coupons/s and peak RSS of `fiscal coupons summary -` on
 * generated CF-e SAT streams (src/coupons/cfe/generate.ts, distinct keys, 1% cancelled after their sale, 1%
 * delivered twice), at two sizes, to show whether RSS stays flat. The stream is written by a generator process
 * and piped into the CLI process, which runs under `/usr/bin/time -f %M` (peak RSS in KiB). Measures the BUILT CLI
 * (`npm run bench:coupons` builds first).
 *
 *   npm run bench:coupons                              100,000 and 1,000,000 coupons
 *   node bench/coupons.mjs --sizes 20000,100000 [--key-memory 16] [--heap 96]
 *
 * --heap N runs the CLI with --max-old-space-size=N: a run that finishes under a small heap cap shows that what
 * it keeps alive is bounded (peak RSS alone also counts garbage V8 has not collected yet).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const sizes = arg('sizes', '100000,1000000').split(',').map(Number);
const keyMemory = arg('key-memory', '16');
const heap = arg('heap', null);

const GENERATOR = `
import { generateCfe, generateCfeCancellation } from ${JSON.stringify(join(root, 'dist/coupons/cfe/generate.js'))};
const n = Number(process.argv[1]);
let buf = [];
let size = 0;
const flush = () => new Promise((resolve) => { const ok = process.stdout.write(buf.join('')); buf = []; size = 0; ok ? resolve() : process.stdout.once('drain', resolve); });
for (let s = 1; s <= n; s++) {
  const x = generateCfe(s, { dEmi: '202601' + String(1 + (s % 28)).padStart(2, '0'), items: 1 + (s % 3) }).xml;
  buf.push(x); size += x.length;
  if (s % 100 === 0) { const c = generateCfeCancellation(s - 50, { dEmi: '202601' + String(1 + ((s - 50) % 28)).padStart(2, '0'), items: 1 + ((s - 50) % 3) }).xml; buf.push(c); size += c.length; }
  if (s % 100 === 1 && s > 1) { const d = generateCfe(s - 1, { dEmi: '202601' + String(1 + ((s - 1) % 28)).padStart(2, '0'), items: 1 + ((s - 1) % 3) }).xml; buf.push(d); size += d.length; }
  if (size > 1 << 20) await flush();
}
await flush();
`;

async function measure(n) {
  const gen = spawn(process.execPath, ['--input-type=module', '-e', GENERATOR, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const started = performance.now();
  const cli = spawn('/usr/bin/time', ['-f', '%M', process.execPath, join(root, 'bin/fiscal.js'), 'coupons', 'summary', '-', '--json', '--by', 'day,equipment,cst,cfop,rate', '--key-memory', keyMemory], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...(heap ? { NODE_OPTIONS: `--max-old-space-size=${heap}` } : {}) } });
  gen.stdout.pipe(cli.stdin);
  let out = '';
  let err = '';
  cli.stdout.on('data', (c) => (out += c));
  cli.stderr.on('data', (c) => (err += c));
  const code = await new Promise((resolve) => cli.on('close', resolve));
  const seconds = (performance.now() - started) / 1000;
  const rssKiB = Number(err.trim().split('\n').pop());
  const totals = JSON.parse(out).totals;
  return { n, code, seconds, rssMiB: rssKiB / 1024, totals };
}

for (const n of sizes) {
  const r = await measure(n);
  console.log(`${n} coupons: ${r.seconds.toFixed(1)} s (generator and summary, piped), ${Math.round(r.totals.read / r.seconds)} documents/s, peak RSS ${r.rssMiB.toFixed(0)} MiB${heap ? ` (heap cap ${heap} MiB)` : ''}, key memory ${keyMemory} MiB, ` +
    `counted ${r.totals.coupons}, cancelled ${r.totals.cancelled}, duplicates ${r.totals.duplicates}, exit ${r.code}`);
}
