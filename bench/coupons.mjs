#!/usr/bin/env node
/**
 * Coupon-stream benchmark (issue 9): `fiscal coupons summary` on generated streams of 100,000 and 1,000,000
 * coupons, XML (CF-e SAT concatenated in one file) and CSV (a POS export of the same coupons, one row per item,
 * Windows-1252, decimal comma), at 1 and at 2 threads, whole processes. Prints wall and CPU seconds, coupons/s,
 * peak RSS (`/usr/bin/time -f %M`), the 2-thread speed-up, and checks that both thread counts print the same JSON.
 * Target: 1M coupons in under 60 s on 2 cores with flat RSS (the same peak at 100k and at 1M).
 *
 * Profiles (--profile):
 *   store (default)  shaped like a real month of a supermarket chain: 40 stores × 3 SAT equipment, a catalogue of
 *                    20,000 products with accented descriptions drawn skewed (a few in most coupons, the long tail
 *                    in few), 1 to 40 items per coupon (mean about 8), ICMS CST 00/20 at 4 rates and 40/60 without
 *                    ICMS (CFOP 5405), a Signature element of a real SAT signature's size; about 9 KB per coupon
 *   small            the first benchmark's shape: one SAT, six products, 1 to 3 items, unsigned; about 2.8 KB
 * Both: 31 days, 1% of the sales cancelled (the CFeCanc after its sale), 1% delivered twice.
 *
 *   npm run bench:coupons                                    store profile, 100k and 1M, XML and CSV
 *   node bench/coupons.mjs --sizes 20000 --profile small --formats xml --threads 1,2 --key-memory 16
 *
 * The generated files are kept in the OS temporary folder (fiscal-bench-coupons/, named by profile and size) and
 * reused by later runs; --regenerate makes them again. Measures the BUILT CLI (`npm run bench:coupons` builds).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const sizes = arg('sizes', '100000,1000000').split(',').map(Number);
const profile = arg('profile', 'store');
const formats = arg('formats', 'xml,csv').split(',');
const threadCounts = arg('threads', '1,2').split(',').map(Number);
const keyMemory = arg('key-memory', '64');
const regenerate = process.argv.includes('--regenerate');
if (!['store', 'small'].includes(profile)) throw new Error(`--profile: store or small (got ${profile})`);

const { generateCfe, generateCfeCancellation } = await import(join(root, 'dist/coupons/cfe/generate.js'));
const { cnpjFromNumber } = await import(join(root, 'dist/nfe/generate.js'));
const { mulberry32 } = await import(join(root, 'dist/common/prng.js'));

// --- the store profile ------------------------------------------------------------------------------------

const WORDS = ['ARROZ', 'FEIJÃO', 'AÇÚCAR', 'CAFÉ', 'PÃO', 'LEITE', 'MAÇÃ', 'LIMÃO', 'SABÃO', 'MACARRÃO', 'FARINHA', 'ÓLEO', 'MANTEIGA', 'REQUEIJÃO', 'PRESUNTO', 'LINGUIÇA', 'CHOCOLATE', 'BISCOITO', 'SUCO', 'ÁGUA', 'CERVEJA', 'DETERGENTE', 'ALGODÃO', 'FRANGO', 'CAMARÃO', 'PÊSSEGO', 'CATCHUP', 'MAIONESE', 'AMACIANTE', 'ESPONJA'];
const KINDS = ['INTEGRAL', 'TIPO 1', 'LIGHT', 'ZERO', 'TRADICIONAL', 'ORGÂNICO', 'PREMIUM', 'DIET', 'SEM LACTOSE', 'CONGELADO'];
const SIZES = ['1KG', '500G', '5KG', '2L', '350ML', '1L', '200G', '12UN', '90G', '750ML'];
const UNITS = ['UN', 'UN', 'UN', 'PCT', 'KG', 'CX', 'LT'];
const CSTS = [['00', '18.00'], ['00', '18.00'], ['00', '12.00'], ['00', '7.00'], ['00', '25.00'], ['20', '18.00'], ['40', ''], ['60', ''], ['60', ''], ['60', '']];

function storeCatalog(n) {
  const r = mulberry32(20261203);
  const pick = (list) => list[Math.floor(r() * list.length)];
  return Array.from({ length: n }, (_, i) => {
    const [cst, rate] = pick(CSTS);
    const gtin = r() < 0.8 ? `789${String(1000000000 + i * 7919).slice(0, 10)}` : '';
    return { code: String(10000 + i), name: `${pick(WORDS)} ${pick(KINDS)} ${pick(SIZES)}`, ncm: String(10000000 + Math.floor(r() * 89999999)), unit: pick(UNITS), gtin, cst, rate };
  });
}

const catalog = profile === 'store' ? storeCatalog(20000) : undefined;
const STORES = 40;
const SATS_PER_STORE = 3;

/** The generator options of coupon number s (1-based): day, store, equipment, items. */
function couponOptions(s) {
  const day = `202601${String(1 + (s % 31)).padStart(2, '0')}`;
  if (profile === 'small') return { dEmi: day, items: 1 + (s % 3) };
  const r = mulberry32(s * 31 + 7);
  const store = s % STORES;
  const items = Math.min(40, 1 + Math.floor(-Math.log(1 - r()) * 7)); // about exponential, mean ~8
  return {
    dEmi: day, items, catalog, signatureShaped: true,
    emitterCnpj: cnpjFromNumber(4000 + store),
    nserieSAT: String(900100000 + store * 10 + (s % SATS_PER_STORE)),
  };
}

// --- the files --------------------------------------------------------------------------------------------

const num = (v) => v.replace('.', ',');
const tag = (xml, name) => {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m ? m[1] : '';
};
const CSV_HEADER = 'Chave;Data;Descrição;CFOP;CST;Alíquota;Valor Bruto;Desconto;Base ICMS;ICMS;PIS;COFINS;Total Cupom;Cancelado\r\n';

/** The POS rows of one coupon (one per item), as a store's export writes them. */
function csvRows(xml, cancelled) {
  const key = /Id="CFe(\d{44})"/.exec(xml)[1];
  const d = tag(xml, 'dEmi');
  const date = `${d.slice(6, 8)}/${d.slice(4, 6)}/${d.slice(0, 4)}`;
  const total = tag(xml, 'vCFe');
  let out = '';
  for (const det of xml.split('<det ').slice(1)) {
    const vProd = tag(det, 'vProd');
    const rate = tag(det, 'pICMS');
    out += `${key};${date};${tag(det, 'xProd')};${tag(det, 'CFOP')};${tag(det, 'CST')};${rate ? num(rate) : ''};${num(vProd)};0,00;${rate ? num(vProd) : '0,00'};` +
      `${num(tag(det, 'vICMS') || '0.00')};${num(tag(det, 'vPIS'))};${num(tag(det, 'vCOFINS'))};${num(total)};${cancelled ? 'S' : 'N'}\r\n`;
  }
  return out;
}

const MAPPING = {
  rows: 'item', delimiter: ';', decimalComma: true, encoding: 'windows-1252', header: true, dateFormat: 'DD/MM/YYYY', cancelledValues: ['S'],
  columns: { key: 'Chave', date: 'Data', gross: 'Valor Bruto', discount: 'Desconto', icmsBase: 'Base ICMS', icmsValue: 'ICMS', pis: 'PIS', cofins: 'COFINS', cst: 'CST', cfop: 'CFOP', rate: 'Alíquota', total: 'Total Cupom', cancelled: 'Cancelado' },
};

/** Writes the XML stream and the CSV export of n coupons (kept between runs). */
async function generate(n, dir) {
  const xmlPath = join(dir, `${profile}-${n}.xml`);
  const csvPath = join(dir, `${profile}-${n}.csv`);
  const mappingPath = join(dir, 'mapping.json');
  writeFileSync(mappingPath, JSON.stringify(MAPPING));
  if (!regenerate && existsSync(xmlPath) && existsSync(csvPath)) return { xmlPath, csvPath, mappingPath };
  const started = performance.now();
  const xml = createWriteStream(`${xmlPath}.tmp`);
  const csv = createWriteStream(`${csvPath}.tmp`);
  const { default: iconv } = await import('iconv-lite');
  csv.write(iconv.encode(CSV_HEADER, 'windows-1252'));
  let xbuf = [];
  let cbuf = [];
  let size = 0;
  const flush = async () => {
    const a = xml.write(xbuf.join(''));
    const b = csv.write(iconv.encode(cbuf.join(''), 'windows-1252'));
    xbuf = [];
    cbuf = [];
    size = 0;
    await Promise.all([a ? null : once(xml, 'drain'), b ? null : once(csv, 'drain')]);
  };
  for (let s = 1; s <= n; s++) {
    const sale = generateCfe(s, couponOptions(s)).xml;
    xbuf.push(sale);
    cbuf.push(csvRows(sale, false));
    size += sale.length;
    if (s % 100 === 51) {
      // the sale before the last one is cancelled: the SAT's CFeCanc, and the POS writes the coupon's rows again, marked
      xbuf.push(generateCfeCancellation(s - 1, couponOptions(s - 1)).xml);
      cbuf.push(csvRows(generateCfe(s - 1, couponOptions(s - 1)).xml, true));
    }
    if (s % 100 === 1 && s > 1) {
      const again = generateCfe(s - 1, couponOptions(s - 1)).xml;
      xbuf.push(again);
      cbuf.push(csvRows(again, false));
      size += again.length;
    }
    if (size > 1 << 22) await flush();
  }
  await flush();
  xml.end();
  csv.end();
  await Promise.all([once(xml, 'finish'), once(csv, 'finish')]);
  renameSync(`${xmlPath}.tmp`, xmlPath);
  renameSync(`${csvPath}.tmp`, csvPath);
  console.log(`generated ${n} coupons (${profile}): ${(statSync(xmlPath).size / 1e6).toFixed(0)} MB XML, ${(statSync(csvPath).size / 1e6).toFixed(0)} MB CSV in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return { xmlPath, csvPath, mappingPath };
}

// --- the runs ---------------------------------------------------------------------------------------------

/** One whole `fiscal coupons summary` process: wall seconds, CPU seconds, peak RSS, its JSON. */
async function summary(args, threads) {
  const started = performance.now();
  const cli = spawn('/usr/bin/time', ['-f', '%M %U %S', process.execPath, join(root, 'bin/fiscal.js'), 'coupons', 'summary', ...args,
    '--json', '--by', 'day,equipment,cst,cfop,rate', '--key-memory', keyMemory, '--threads', String(threads), '--no-progress'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  cli.stdout.on('data', (c) => (out += c));
  cli.stderr.on('data', (c) => (err += c));
  const code = await new Promise((resolve) => cli.on('close', resolve));
  const seconds = (performance.now() - started) / 1000;
  const [rssKiB, user, sys] = err.trim().split('\n').pop().split(' ').map(Number);
  if (code !== 0 || !out) throw new Error(`coupons summary exited ${code}: ${err.slice(-2000)}`);
  return { seconds, cpu: user + sys, rssMiB: rssKiB / 1024, json: out, totals: JSON.parse(out).totals };
}

const dir = join(tmpdir(), 'fiscal-bench-coupons');
mkdirSync(dir, { recursive: true });
console.log(`coupons summary, profile ${profile}; key memory ${keyMemory} MiB; threads ${threadCounts.join(' and ')}`);
for (const n of sizes) {
  const files = await generate(n, dir);
  for (const format of formats) {
    const args = format === 'xml' ? [files.xmlPath] : [files.csvPath, '--mapping', files.mappingPath];
    const runs = [];
    for (const threads of threadCounts) {
      const r = await summary(args, threads);
      runs.push({ threads, ...r });
      const perSecond = Math.round(n / r.seconds);
      const target = n === 1_000_000 && threads === 2 ? `; target 60 s: ${r.seconds < 60 ? 'met' : 'missed'}` : '';
      console.log(`${n} coupons, ${format}, ${threads} thread(s): ${r.seconds.toFixed(1)} s wall, ${r.cpu.toFixed(1)} s CPU, ${perSecond} coupons/s, peak RSS ${r.rssMiB.toFixed(0)} MiB; ` +
        `counted ${r.totals.coupons}, cancelled ${r.totals.cancelled}, duplicates ${r.totals.duplicates}${target}`);
    }
    if (runs.length > 1) {
      const same = runs.every((r) => r.json === runs[0].json);
      console.log(`  ${format}: ${runs.map((r) => `${r.threads} thread(s) ${r.seconds.toFixed(1)} s`).join(', ')}; speed-up ${(runs[0].seconds / runs[runs.length - 1].seconds).toFixed(2)}×; same JSON: ${same ? 'yes' : 'NO'}`);
      if (!same) process.exitCode = 1;
    }
  }
}
