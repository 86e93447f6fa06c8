#!/usr/bin/env node
/**
 * from-docs benchmark (issue 9): `fiscal sped from-docs` on a generated month of NF-e and CF-e against `fiscal nfe
 * to-jsonl` reading the same documents, in the same run; and peak RSS at two sizes (flat memory: the larger month
 * must not need much more). Measures the BUILT library (dist/; `npm run build` first).
 *
 *   node bench/from-docs.mjs [--notes 5000] [--coupons 50000] [--small 0.2] [--runs 3] [--budget-mb 16] [--layout efd-contribuicoes]
 *
 * `--layout` is from-docs' (default efd-icms-ipi): `efd-contribuicoes` measures the EFD-Contribuições of the
 * same documents (C170 for every NF-e, C175, C870, block M) against the same to-jsonl baseline.
 *
 * Setup (not measured): `--notes` NF-e (half issued, half received) and `--coupons` CF-e of March 2026 from the
 * project's generators, written into a temp directory (one file each); a `--small` fraction of them (hard links)
 * for the RSS comparison. Each scenario is one child process pinned to one core (`taskset -c 0`), stdout to
 * /dev/null; documents/s is the median wall time over the runs, peak RSS the kernel's (`/usr/bin/time -f %M`).
 * Wall time is only meaningful on an idle machine; CPU seconds (user + system) are printed too. Prints the figures; exit 1 when from-docs is slower than to-jsonl on the same documents.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildNfe } from '../dist/nfe/build.js';
import { generateNfe } from '../dist/nfe/generate.js';
import { generateCfe } from '../dist/coupons/cfe/generate.js';

const { values: a } = parseArgs({ options: { notes: { type: 'string', default: '5000' }, coupons: { type: 'string', default: '50000' }, small: { type: 'string', default: '0.2' }, runs: { type: 'string', default: '3' }, 'budget-mb': { type: 'string', default: '16' }, layout: { type: 'string', default: 'efd-icms-ipi' } } });
const NOTES = Number(a.notes);
const COUPONS = Number(a.coupons);
const RUNS = Number(a.runs);
const CNPJ = '11222333000181';
const root = mkdtempSync(join(tmpdir(), 'fiscal-bench-from-docs-'));
const big = join(root, 'big');
const small = join(root, 'small');
mkdirSync(big);
mkdirSync(small);
const company = join(root, 'company.json');
writeFileSync(company, JSON.stringify({
  name: 'EMPRESA DE TESTE', cnpj: CNPJ, uf: 'SP', ie: '110042490114', codMun: '3550308', profile: 'A', activity: '1',
  address: { fantasia: 'TESTE', cep: '01001000', end: 'RUA A', bairro: 'CENTRO' },
  accountant: { name: 'CONTADOR', cpf: '52998224725', crc: 'SP1', email: 'c@x.example', codMun: '3550308' }, icmsDue: { day: 20, revenueCode: '046-2' },
}));
const everySmall = Math.round(1 / Number(a.small));
let n = 0;
const put = (name, xml) => {
  const p = join(big, name);
  writeFileSync(p, xml);
  if (n++ % everySmall === 0) linkSync(p, join(small, name));
};
const day = (i) => `2026-03-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00-03:00`;
for (let i = 1; i <= NOTES; i++) {
  const doc = i % 2 === 0 ? generateNfe(i, { emitterCnpj: CNPJ, dhEmi: day(i) }) : generateNfe(i, { dhEmi: day(i) });
  if (i % 2 === 1) doc.NFe.infNFe.dest.CNPJ = CNPJ;
  put(`n${i}.xml`, buildNfe(doc).xml);
}
for (let i = 1; i <= COUPONS; i++) put(`c${i}.xml`, generateCfe(i, { emitterCnpj: CNPJ, dEmi: `202603${String(1 + (i % 28)).padStart(2, '0')}` }).xml);
const bin = new URL('../bin/fiscal.js', import.meta.url).pathname;

function once(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('taskset', ['-c', '0', '/usr/bin/time', '-f', '%M %U %S', process.execPath, bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const lines = r.stderr.toString().trim().split('\n');
  const [rss, user, sys] = lines[lines.length - 1].split(' ').map(Number);
  return { ms, rssKiB: rss, cpu: user + sys, status: r.status };
}
function scenario(name, args, docs) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(once(args));
  runs.sort((x, y) => x.ms - y.ms);
  const median = runs[Math.floor(runs.length / 2)];
  const rss = Math.max(...runs.map((r) => r.rssKiB));
  console.log(`${name.padEnd(22)} ${docs} docs  ${(docs / (median.ms / 1000)).toFixed(0).padStart(7)} docs/s  ${(median.ms / 1000).toFixed(2)} s wall  ${median.cpu.toFixed(2)} s CPU  peak RSS ${(rss / 1024).toFixed(0)} MiB  exit ${median.status}`);
  return { rate: docs / (median.ms / 1000), cpu: median.cpu, rss };
}
const total = NOTES + COUPONS;
const smallDocs = Math.ceil(total / everySmall);
console.log(`from-docs bench (${a.layout}): ${NOTES} NF-e + ${COUPONS} CF-e (small: ${smallDocs}), ${RUNS} runs, one core`);
const jsonl = scenario('nfe to-jsonl', ['nfe', 'to-jsonl', '--threads', '1', '--no-progress', big], total);
const fromDocs = (dir) => ['sped', 'from-docs', '--layout', a.layout, '--company', company, '--period', '2026-03', '--budget-mb', a['budget-mb'], '--threads', '1', '--no-progress', dir];
const fd = scenario('sped from-docs', fromDocs(big), total);
const fdSmall = scenario('sped from-docs (small)', fromDocs(small), smallDocs);
console.log(`from-docs / to-jsonl: ${(fd.rate / jsonl.rate).toFixed(2)}× the rate, ${(fd.cpu / jsonl.cpu).toFixed(2)}× the CPU; peak RSS ${(fdSmall.rss / 1024).toFixed(0)} → ${(fd.rss / 1024).toFixed(0)} MiB for ${(total / smallDocs).toFixed(1)}× the documents`);
rmSync(root, { recursive: true, force: true });
execFileSync('true');
process.exitCode = fd.rate >= jsonl.rate ? 0 : 1;
