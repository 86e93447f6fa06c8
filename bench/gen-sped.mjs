#!/usr/bin/env node
/**
 * Writes a large VALID synthetic SPED file, streaming, in constant memory, deterministic by seed:
 * syntheticRecords (content generated from the layout registry) → SpedWriter (X001/X990/block 9) → file.
 *
 *   node bench/gen-sped.mjs --layout efd-icms-ipi --size 500MB --out bench/out/efd-500MB.txt [--seed 1] [--items N]
 *     [--profile realistic|retailer|simple] [--products N] [--participants N] [--accounts N]
 *
 * Profiles (src/sped/synthetic.ts): `realistic` (the default) is a retailer's shape: 30,000 products (0200) and
 * 6,000 participants (0150) used with a Zipf-like skew, accented texts, NF-e issued and received, C500, D100,
 * E110, the inventory of every product (H010) and K200; ECD a chart of 3,000 accounts. `retailer` is that shape
 * with 70% of the EFD ICMS/IPI documents NFC-e (COD_MOD 65) of three checkouts. `simple` is the shape of
 * the first benchmarks: 50 products, 20 participants, 3 items in every document. --items is the mean number of
 * items per document (default 6 realistic, 3 simple); --products/--participants/--accounts set the catalog
 * (realistic only).
 *
 * Sizes: a number of bytes with an optional unit, KB/MB/GB (10^3, 10^6, 10^9) or KiB/MiB/GiB. The number of
 * documents is estimated from two small runs; the file comes out within a few percent of the size asked (numbers
 * grow longer as documents are numbered: ECD lands ~5% over at 100 MB). Imports the BUILT library (../dist): run `npm run build`
 * first. Also exported as `generateSpedFile()` for bench/sped.mjs and the tests.
 */
import { createWriteStream, promises as fsp } from 'node:fs';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SpedWriter } from '../dist/sped/writer.js';
import { SYNTHETIC_PROFILES, syntheticRecords } from '../dist/sped/synthetic.js';
import { LAYOUT_IDS } from '../dist/sped/layout.js';

const UNITS = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, k: 1e3, m: 1e6, g: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** Parses `500MB`, `2GB`, `1.5GiB`, `123456` into bytes. */
export function parseSize(text) {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(String(text).trim());
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`--size: expected e.g. 500MB, 2GB, 1GiB or a byte count (got '${text}')`);
  return Math.round(Number(m[1]) * unit);
}

/** Streams the records of a synthetic file into `out` through SpedWriter; resolves with the writer's summary. */
async function writeSynthetic(out, options) {
  const w = new SpedWriter(out, { layout: options.layout });
  for (const rec of syntheticRecords(options)) {
    const p = w.write(rec[0], rec.slice(1));
    if (p) await p;
  }
  return w.finish();
}

/** Bytes of a file with `documents` documents (written to a counting sink, nothing kept). */
async function sizeFor(options, documents) {
  let bytes = 0;
  const sink = new Writable({ write(chunk, _enc, cb) { bytes += chunk.length; cb(); } });
  await writeSynthetic(sink, { ...options, documents });
  return bytes;
}

/** Documents needed for about `size` bytes: per-document bytes measured on two small runs (the rest is fixed). */
export async function documentsFor(options, size) {
  const a = await sizeFor(options, 1000);
  const b = await sizeFor(options, 3000);
  const perDoc = (b - a) / 2000;
  const fixed = a - 1000 * perDoc;
  if (size < fixed + 100 * perDoc) {
    throw new Error(
      `--size ${size} bytes is too small for the ${options.profile ?? 'realistic'} profile: its catalog alone (0150, 0200, H010, …) takes ` +
        `${(fixed / 1e6).toFixed(1)} MB; ask a larger size, fewer --products/--participants/--accounts, or --profile simple`,
    );
  }
  const estimate = Math.max(1, Math.round((size - fixed) / perDoc));
  // a small file's documents are too few for their mean size to be the probes' (skewed item counts): one more probe
  if (estimate >= 3000) return estimate;
  return Math.max(1, Math.round(estimate + (size - (await sizeFor(options, estimate))) / perDoc));
}

/**
 * Generates a valid synthetic file of about `size` bytes at `out` (written to `out.tmp`, then renamed).
 * @param {{layout: string, size: number, out: string, seed?: number, itemsPerDocument?: number, profile?: 'realistic' | 'retailer' | 'simple',
 *   products?: number, participants?: number, accounts?: number, onProgress?: (bytes: number) => void}} options
 * @returns {Promise<{path: string, layout: string, profile: string, bytes: number, lines: number, documents: number, seconds: number}>}
 */
export async function generateSpedFile(options) {
  const { layout, size, out } = options;
  if (!LAYOUT_IDS.includes(layout)) throw new Error(`--layout must be one of ${LAYOUT_IDS.join(', ')} (got '${layout}')`);
  if (!(size > 0)) throw new Error('--size must be positive');
  const profile = options.profile ?? 'realistic';
  if (!SYNTHETIC_PROFILES.includes(profile)) throw new Error(`--profile must be one of ${SYNTHETIC_PROFILES.join(', ')} (got '${profile}')`);
  const base = {
    layout, profile, seed: options.seed ?? 1, itemsPerDocument: options.itemsPerDocument ?? (profile === 'simple' ? 3 : undefined),
    products: options.products, participants: options.participants, accounts: options.accounts,
  };
  const documents = await documentsFor(base, size);
  const t0 = process.hrtime.bigint();
  const tmp = `${out}.${process.pid}.tmp`;
  const stream = createWriteStream(tmp, { highWaterMark: 1 << 20 });
  let progressed = 0;
  if (options.onProgress) {
    const write = stream.write.bind(stream);
    stream.write = (chunk, ...rest) => {
      progressed += chunk.length;
      if (progressed % (64 << 20) < chunk.length) options.onProgress(progressed);
      return write(chunk, ...rest);
    };
  }
  try {
    const summary = await writeSynthetic(stream, { ...base, documents });
    stream.end();
    await once(stream, 'close');
    await fsp.rename(tmp, out);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { path: out, layout, profile, bytes: summary.bytes, lines: summary.lines, documents, seconds };
  } catch (err) {
    stream.destroy();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

function usage() {
  return 'usage: node bench/gen-sped.mjs --layout efd-icms-ipi|efd-contribuicoes|ecd --size 500MB --out FILE [--seed N] [--items N]\n' +
    '         [--profile realistic|retailer|simple] [--products N] [--participants N] [--accounts N]';
}

async function cli(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${usage()}`);
      return v;
    };
    if (a === '--layout') opts.layout = value();
    else if (a === '--size') opts.size = parseSize(value());
    else if (a === '--out') opts.out = value();
    else if (a === '--seed') opts.seed = Number(value());
    else if (a === '--items') opts.itemsPerDocument = Number(value());
    else if (a === '--profile') opts.profile = value();
    else if (a === '--products') opts.products = Number(value());
    else if (a === '--participants') opts.participants = Number(value());
    else if (a === '--accounts') opts.accounts = Number(value());
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`${usage()}\n`);
      return 0;
    } else throw new Error(`unknown option '${a}'\n${usage()}`);
  }
  if (!opts.layout || !opts.size || !opts.out) throw new Error(usage());
  if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new Error('--seed must be an integer');
  for (const [flag, key] of [['--items', 'itemsPerDocument'], ['--products', 'products'], ['--participants', 'participants'], ['--accounts', 'accounts']]) {
    if (opts[key] !== undefined && !(Number.isInteger(opts[key]) && opts[key] > 0)) throw new Error(`${flag} must be a positive integer`);
  }
  const tty = process.stderr.isTTY === true;
  const r = await generateSpedFile({
    ...opts,
    onProgress: tty ? (b) => process.stderr.write(`\r${(b / 1e6).toFixed(0)} MB`) : undefined,
  });
  if (tty) process.stderr.write('\r');
  const rss = process.resourceUsage().maxRSS / 1024;
  process.stderr.write(
    `${r.path}: ${r.layout} (${r.profile}), ${(r.bytes / 1e6).toFixed(1)} MB, ${r.lines} lines, ${r.documents} documents in ${r.seconds.toFixed(1)} s ` +
      `(${(r.bytes / 1e6 / r.seconds).toFixed(1)} MB/s), peak RSS ${rss.toFixed(0)} MiB\n`,
  );
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === (await fsp.realpath(process.argv[1]).catch(() => process.argv[1]))) {
  cli(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err) => {
      process.stderr.write(`gen-sped: ${err.message}\n`);
      process.exitCode = 2;
    },
  );
}
