/**
 * `summarizeCoupons`: coupon streams in, one summary out. Sources mixed freely — XML files, directory trees,
 * zips and concatenated documents on stdin (CF-e SAT and NFC-e with their cancellations; src/nfe/source.ts reads
 * them with its per-document cap) and POS CSV exports (`.csv` paths, or stdin with `asCsv`; read with the
 * mapping). Each coupon counts once by its access key: a second delivery is a COUPON_DUPLICATE warning; a
 * cancelled coupon counts as cancelled whichever of the sale and its cancellation comes first (the key store
 * keeps what a counted sale added, and takes it back out when its cancellation comes later). Findings come
 * through `onFinding` as they are found; the run always goes to the end of its sources.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { ioError, UsageError } from '../errors.js';
import { parseItem } from '../nfe/parse.js';
import { DEFAULT_MAX_DOCUMENT_BYTES, readConcatenated, readXmlDocuments, type XmlSourceItem } from '../nfe/source.js';
import { verifyXml } from '../nfe/verify.js';
import { Aggregator, DEFAULT_DIMENSIONS, sumRows, type Dimension, type GroupRow, type GroupSums } from './aggregate.js';
import type { CsvMapping } from './csv-mapping.js';
import { readCsvCoupons } from './from-csv.js';
import { couponsOfDocument, mk } from './from-xml.js';
import { KeyStore } from './key-store.js';
import type { CouponEvent, CouponFinding } from './types.js';

export interface SummarizeCouponsOptions {
  /** Grouping dimensions, in order (default day, model, equipment, cst, cfop, rate). */
  readonly by?: readonly Dimension[];
  /** How to read CSV sources; a CSV source without it is a usage error. */
  readonly mapping?: CsvMapping;
  /** Read every source (stdin included) as a CSV export, whatever its name (else only `.csv` paths are). */
  readonly asCsv?: boolean;
  /** Check each XML document's signature (verifyXml on its original bytes); failures are findings. */
  readonly verify?: boolean;
  /** Memory budget of the duplicate detector before it spills to disk (bytes; default 64 MiB). */
  readonly keyMemoryBytes?: number;
  /** Where the detector spills (default the OS temporary folder). */
  readonly tmpDir?: string;
  readonly maxBytes?: number;
  readonly maxDepth?: number;
  readonly stdin?: Readable;
  readonly signal?: AbortSignal;
  readonly onFinding?: (f: CouponFinding) => void;
  /** Documents and CSV coupons read so far. */
  readonly onProgress?: (read: number) => void;
}

export interface CouponTotals extends GroupSums {
  /** Distinct coupons counted (not cancelled). */
  coupons: number;
  /** Distinct coupons counted as cancelled (a cancellation without its sale is in `orphanCancellations`). */
  cancelled: number;
  /** Second (and later) deliveries of a sale, not counted. */
  duplicates: number;
  /** Cancellations of a coupon already cancelled. */
  duplicateCancellations: number;
  /** Cancellations whose sale never came. */
  orphanCancellations: number;
  /** XML documents and CSV coupons read. */
  read: number;
  /** Documents or CSV coupons left out of the sums by an error (unreadable, a value that is not a decimal). */
  notCounted: number;
}

export interface CouponSummary {
  readonly by: readonly Dimension[];
  readonly rows: readonly GroupRow[];
  readonly totals: CouponTotals;
  readonly findings: { readonly errors: number; readonly warnings: number };
  /** Keys the duplicate detector wrote to disk (0 when everything fitted its memory budget). */
  readonly spilledKeys: number;
}

const isCsvPath = (p: string): boolean => /\.csv$/i.test(p);

/** Reads every source and returns the summary. Throws only for what stops a run (an unopenable source: exit 2). */
export async function summarizeCoupons(sources: string | readonly string[], options: SummarizeCouponsOptions = {}): Promise<CouponSummary> {
  const list = typeof sources === 'string' ? [sources] : [...sources];
  const by = options.by ?? DEFAULT_DIMENSIONS;
  const agg = new Aggregator(by);
  const store = new KeyStore({ ...(options.keyMemoryBytes !== undefined ? { memoryBytes: options.keyMemoryBytes } : {}), ...(options.tmpDir ? { tmpDir: options.tmpDir } : {}) });
  const totals: CouponTotals = { ...sumRows([]), coupons: 0, cancelled: 0, duplicates: 0, duplicateCancellations: 0, orphanCancellations: 0, read: 0, notCounted: 0 };
  const counts = { errors: 0, warnings: 0 };
  const report = (f: CouponFinding): void => {
    if (f.severity === 'error') counts.errors++;
    else counts.warnings++;
    options.onFinding?.(f);
  };

  const cancel = (key: string, source: string, quietIfDone: boolean): void => {
    const e = store.get(key);
    if (e === undefined) store.set(key, { state: 'pending', data: '' });
    else if (e.state === 'sale') {
      agg.cancelContribution(e.data);
      totals.coupons--;
      totals.cancelled++;
      store.set(key, { state: 'cancelled', data: '' });
    } else {
      if (!quietIfDone) report(mk('COUPON_CANCEL_DUPLICATE', source, 'the coupon is already cancelled: this cancellation is not counted again', key, 'warning'));
      if (!quietIfDone) totals.duplicateCancellations++;
    }
  };
  const apply = (ev: CouponEvent): void => {
    if (ev.kind === 'cancellation') return cancel(ev.key, ev.source, false);
    const e = store.get(ev.key);
    if (e === undefined || e.state === 'pending') {
      if (e?.state === 'pending' || ev.cancelledInDocument) {
        agg.addCancelledSale(ev);
        totals.cancelled++;
        store.set(ev.key, { state: 'cancelled', data: '' });
      } else {
        store.set(ev.key, { state: 'sale', data: agg.addSale(ev) });
        totals.coupons++;
      }
      return;
    }
    // the key was counted already: a repeated delivery (a document saying the sale is cancelled still cancels it)
    if (ev.cancelledInDocument && e.state === 'sale') return cancel(ev.key, ev.source, true);
    totals.duplicates++;
    report(mk('COUPON_DUPLICATE', ev.source, 'the coupon was already counted: this delivery is not counted again', ev.key, 'warning'));
  };
  const take = (events: readonly CouponEvent[], findings: readonly CouponFinding[]): void => {
    totals.read++;
    for (const f of findings) report(f);
    if (events.length === 0 && findings.some((f) => f.severity === 'error')) totals.notCounted++;
    for (const ev of events) apply(ev);
    options.onProgress?.(totals.read);
  };

  try {
    for (const src of list) {
      if (options.signal?.aborted) break;
      const csv = options.asCsv === true || (src !== '-' && isCsvPath(src));
      if (csv) {
        if (!options.mapping) throw new UsageError(`${src}: a CSV source needs --mapping FILE (docs/coupons.md)`, 'COUPON_MAPPING');
        const stream = src === '-' ? (options.stdin ?? process.stdin) : await openStream(src);
        try {
          for await (const c of readCsvCoupons(stream, src, options.mapping)) {
            take(c.events, c.findings);
            if (options.signal?.aborted) break;
          }
        } finally {
          if (src !== '-') stream.destroy();
        }
        continue;
      }
      const docs = (await isPlainFile(src))
        ? fileDocuments(src, options.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES, options.signal)
        : readXmlDocuments(src, {
        ...(options.maxBytes ? { maxDocumentBytes: options.maxBytes } : {}),
        ...(options.stdin ? { stdin: options.stdin } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      for await (const item of docs) {
        const parsed = parseItem(item, options.maxDepth ? { maxDepth: options.maxDepth } : {});
        const { events, findings } = couponsOfDocument(parsed);
        if (options.verify && item.ok && events.length > 0) {
          const r = verifyXml(item.bytes, options.maxDepth ? { maxDepth: options.maxDepth } : {});
          for (const f of r.findings) findings.push(mk(f.code, item.source, `signature: ${f.where ? `${f.where}: ` : ''}${f.message}`, parsed.key));
        }
        take(events, findings);
      }
    }
    for (const [key] of store.entries('pending')) {
      totals.orphanCancellations++;
      report(mk('COUPON_CANCEL_ORPHAN', 'summary', 'a cancellation whose sale is not in the sources: nothing to take out of the sums', key, 'warning'));
    }
    const rows = agg.rows();
    const sums = sumRows(rows);
    return { by, rows, totals: { ...totals, ...sums, coupons: totals.coupons, cancelled: totals.cancelled }, findings: counts, spilledKeys: store.spilledKeys };
  } finally {
    store.close();
  }
}

/** A regular file that is not a zip: read as a stream of concatenated documents (one or many). */
async function isPlainFile(path: string): Promise<boolean> {
  if (path === '-' || /\.zip$/i.test(path)) return false;
  try {
    return (await fsp.stat(path)).isFile();
  } catch {
    return false; // readXmlDocuments reports it (exit 2)
  }
}

/**
 * The documents of one file, split where one document ends and the next begins (a day's coupons appended to one
 * file): `FILE#1`, `FILE#2`… when there are several, `FILE` when it holds one.
 */
async function* fileDocuments(path: string, cap: number, signal: AbortSignal | undefined): AsyncGenerator<XmlSourceItem> {
  const stream = await openStream(path);
  let first: XmlSourceItem | null = null;
  let n = 0;
  try {
    for await (const item of readConcatenated(stream, path, cap, signal)) {
      n++;
      if (n === 1) {
        first = item;
        continue;
      }
      if (n === 2) yield first!;
      yield item;
    }
  } finally {
    stream.destroy();
  }
  if (n === 1 && first) yield first.ok ? { ...first, source: path } : { ...first, source: path, finding: { ...first.finding, source: path } };
}

async function openStream(path: string): Promise<Readable> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) => reject(ioError(err, path, 'open')));
  });
  return stream;
}
