/**
 * `summarizeCoupons`: coupon streams in, one summary out. Sources mixed freely — XML files, directory trees,
 * zips and concatenated documents on stdin (CF-e SAT and NFC-e with their cancellations; src/nfe/source.ts reads
 * them with its per-document cap) and POS CSV exports (`.csv` paths, or stdin with `asCsv`; read with the
 * mapping). Each coupon counts once by its access key: a second delivery is a COUPON_DUPLICATE warning; a
 * cancelled coupon counts as cancelled whichever of the sale and its cancellation comes first (the key store
 * keeps what a counted sale added, and takes it back out when its cancellation comes later). Findings come
 * through `onFinding` as they are found; the run always goes to the end of its sources.
 */
import type { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { runPooledDocuments, withNfePool } from '../nfe/batch-pool.js';
import { DEFAULT_MAX_DOCUMENT_BYTES } from '../nfe/source.js';
import type { FiscalPool } from '../pool/pool.js';
import { Aggregator, countedEvent, DEFAULT_DIMENSIONS, sumRows, type CountedEvent, type Dimension, type GroupRow, type GroupSums } from './aggregate.js';
import type { CsvMapping } from './csv-mapping.js';
import { COUPON_CHECKPOINT_VERSION, countersOf, DEFAULT_CHECKPOINT_EVERY, parseCheckpointState, type CouponCheckpointOptions, type CouponCheckpointState, type CouponPosition } from './checkpoint.js';
import { readCsvPooled } from './csv-chunks.js';
import { readCsvCoupons } from './from-csv.js';
import { countedDocumentOf, type CountedResult, type CouponReadOptions } from './extract-job.js';
import { mk } from './from-xml.js';
import { KeyStore } from '../common/key-store.js';
import type { Presum } from './presum.js';
import { openStream, SourceCounter, sourceUnits, xmlItems, type SourceUnit } from './sources.js';
import { openZipEntry, type ZipCsvEntry } from './zip-csv.js';
import type { CouponFinding } from './types.js';

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
  /**
   * Worker threads the XML documents are parsed on (default: the cores; 1 runs them in the calling thread). The
   * main thread splits the input and adds the coupons up in input order: the summary is the same for any count.
   */
  readonly threads?: number;
  /** A pool to run on instead (src/pool: createPool); its thread count wins, and it is left open. */
  readonly pool?: FiscalPool;
  /** Cancels the run: it rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  readonly onFinding?: (f: CouponFinding) => void;
  /** Documents and CSV coupons read so far. */
  readonly onProgress?: (read: number) => void;
  /**
   * Checkpoints (checkpoint.ts): the duplicate detector in a durable file, committed with the summary's state
   * every so many items; with `resume`, the run continues from the file's last checkpoint. Findings reported
   * before that checkpoint are not reported again (their counts are kept).
   */
  readonly checkpoints?: CouponCheckpointOptions;
  /** Bytes per chunk of a CSV export read on worker threads (default 1 MiB; for tests and tuning). */
  readonly csvChunkBytes?: number;
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
  /** With `checkpoints.resume`: the items (documents, CSV coupons) the run did not read again; else 0. */
  readonly resumedFromItem: number;
}

/** Reads every source and returns the summary. Throws only for what stops a run (an unopenable source: exit 2). */
export async function summarizeCoupons(sources: string | readonly string[], options: SummarizeCouponsOptions = {}): Promise<CouponSummary> {
  const list = typeof sources === 'string' ? [sources] : [...sources];
  const by = options.by ?? DEFAULT_DIMENSIONS;
  const cps = options.checkpoints;
  const agg = new Aggregator(by);
  const store = new KeyStore({
    ...(options.keyMemoryBytes !== undefined ? { memoryBytes: options.keyMemoryBytes } : {}),
    ...(options.tmpDir ? { tmpDir: options.tmpDir } : {}),
    ...(cps ? { path: cps.path } : {}),
  });
  const totals: CouponTotals = { ...sumRows([]), coupons: 0, cancelled: 0, duplicates: 0, duplicateCancellations: 0, orphanCancellations: 0, read: 0, notCounted: 0 };
  const counts = { errors: 0, warnings: 0 };
  // a resumed run: the sums, counters and finding counts of the last checkpoint, and where to read on
  const from = cps?.resume ? parseCheckpointState(store.checkpoint()) : null;
  if (from) {
    agg.restore(from.rows);
    Object.assign(totals, from.counters);
    Object.assign(counts, from.findings);
  }
  const resumedFromItem = totals.read;
  let position: CouponPosition = from?.position ?? { source: 0, items: 0, offset: null };
  let lastCheckpoint = totals.read;

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
  const apply = (ev: CountedEvent): void => {
    if (ev.kind === 'cancellation') return cancel(ev.key, ev.source, false);
    const e = store.get(ev.key);
    if (e === undefined || e.state === 'pending') {
      if (e?.state === 'pending' || ev.cancelledInDocument) {
        // a presummed sale (never one cancelled in its document) is in the sums already: moved to the cancelled columns
        if (ev.presummed) agg.cancelContribution(ev.contribution.data);
        else agg.addCancelledSale(ev.contribution);
        totals.cancelled++;
        store.set(ev.key, { state: 'cancelled', data: '' });
      } else {
        if (!ev.presummed) agg.addSale(ev.contribution);
        store.set(ev.key, { state: 'sale', data: ev.contribution.data });
        totals.coupons++;
      }
      return;
    }
    // the key was counted already: a repeated delivery (a document saying the sale is cancelled still cancels it)
    if (ev.cancelledInDocument && e.state === 'sale') return cancel(ev.key, ev.source, true);
    if (ev.presummed) agg.revertSale(ev.contribution.data);
    totals.duplicates++;
    report(mk('COUPON_DUPLICATE', ev.source, 'the coupon was already counted: this delivery is not counted again', ev.key, 'warning'));
  };
  /** One item (a document, a CSV coupon) added up; `at` is where the reading stands after it. */
  const take = async (events: readonly CountedEvent[], findings: readonly CouponFinding[], at: CouponPosition): Promise<void> => {
    totals.read++;
    for (const f of findings) report(f);
    if (events.length === 0 && findings.some((f) => f.severity === 'error')) totals.notCounted++;
    for (const ev of events) apply(ev);
    position = at;
    options.onProgress?.(totals.read);
    if (cps && (store.overBudget || totals.read - lastCheckpoint >= (cps.every ?? DEFAULT_CHECKPOINT_EVERY))) {
      const state: CouponCheckpointState = { version: COUPON_CHECKPOINT_VERSION, position, counters: countersOf(totals), findings: { ...counts }, rows: agg.snapshot() };
      store.commit(JSON.stringify(state));
      lastCheckpoint = totals.read;
      await cps.onCheckpoint({ ...position, read: totals.read });
    }
  };

  const readOptions: CouponReadOptions = { ...(options.verify ? { verify: true } : {}), ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}) };
  const counter = new SourceCounter(position);
  // a CSV export: parsed on the pool's workers in chunks when there are workers, else here
  const readCsv = async (pool: FiscalPool, u: Extract<SourceUnit, { kind: 'csv' }>): Promise<void> => {
    const mapping = options.mapping;
    if (!mapping) throw new UsageError(`${u.path}: a CSV source needs --mapping FILE (docs/coupons.md)`, 'COUPON_MAPPING');
    if (u.zip) return readZippedCsv(pool, u, u.zip);
    const stream = u.path === '-' ? (options.stdin ?? process.stdin) : await openStream(u.path);
    await readCsvStream(pool, u, mapping, stream);
  };
  /**
   * A CSV entry of a zip: an entry that cannot be read (encrypted, damaged) is a finding, as it is for XML
   * entries; the coupons read before the damage stay counted, and the run goes on with the next source.
   */
  const readZippedCsv = async (pool: FiscalPool, u: { index: number; path: string }, zip: { archive: string; entry: ZipCsvEntry }): Promise<void> => {
    const unreadable = (why: string): void => report(mk('NFE_ZIP_ERROR', u.path, `zip entry cannot be read: ${why}`));
    if (zip.entry.encrypted) return unreadable('encrypted');
    const stream = await openZipEntry(zip.archive, zip.entry.name);
    let failure: Error | null = null;
    stream.once('error', (err: Error) => (failure = err));
    try {
      await readCsvStream(pool, u, options.mapping!, stream);
    } catch (err) {
      if (failure === null) throw err;
      unreadable((failure as Error).message);
    }
  };
  const readCsvStream = async (pool: FiscalPool, u: { index: number; path: string }, mapping: CsvMapping, stream: Readable): Promise<void> => {
    const coupon = async (events: readonly CountedEvent[], findings: readonly CouponFinding[]): Promise<void> => {
      options.signal?.throwIfAborted();
      const n = counter.next(u.index);
      if (n.skip) return; // read before the checkpoint
      await take(events, findings, { source: u.index, items: n.items, offset: null });
    };
    try {
      if (pool.threads > 1) {
        await readCsvPooled({
          pool, stream, name: u.path, mapping, by, take: (c) => coupon(c.events, c.findings),
          // the workers presum a chunk's sales unless a checkpoint may fall inside a chunk (its sums must be exact there)
          ...(cps ? {} : { addPresum: (s: Presum) => agg.addPresum(s) }),
          ...(options.signal ? { signal: options.signal } : {}), ...(options.csvChunkBytes ? { chunkBytes: options.csvChunkBytes } : {}),
        });
      } else {
        for await (const c of readCsvCoupons(stream, u.path, mapping)) await coupon(c.events.map((ev) => countedEvent(ev, by)), c.findings);
      }
    } finally {
      if (u.path !== '-') stream.destroy();
    }
  };
  // a run of XML units goes through the pool (parsed on its workers, added up here in input order); the
  // position after each item travels beside it, in the same order as the results
  const readXml = (pool: FiscalPool, units: AsyncIterable<SourceUnit>): Promise<void> => {
    const positions: CouponPosition[] = [];
    // on workers, a group's sales are summed there (presum.ts) unless a checkpoint may fall inside a group (its
    // sums must be exact there); the sums come on the group's first result and are added before its events
    const presum = pool.threads > 1 && !cps;
    let sums: Presum | null = null;
    return runPooledDocuments<CountedResult>({
      sources: [],
      read: (readAhead, signal, deferFiles) => xmlItems(units, { maxBytes: options.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES, readAhead, signal, deferFiles, ...(options.stdin ? { stdin: options.stdin } : {}) }, position, counter, positions),
      limits: COUPON_JOB_LIMITS,
      options: { pool, ...(options.signal ? { signal: options.signal } : {}) },
      job: 'coupons.extract',
      payload: { ...readOptions, by, ...(presum ? { presum: true } : {}) },
      counter: { documents: 0, stopped: false },
      emit: async (result) => {
        if (typeof result !== 'number' && result.presum) {
          sums = result.presum;
          agg.addPresum(sums);
        }
        const got = countedDocumentOf(result, sums);
        await take(got.events, got.findings, positions.shift()!);
        return false;
      },
    });
  };

  try {
    await withNfePool(options, async (pool) => {
      const units = sourceUnits(list, { asCsv: options.asCsv === true, from: position, ...(options.signal ? { signal: options.signal } : {}) });
      let u = await units.next();
      while (!u.done) {
        const unit = u.value;
        if (unit.kind === 'csv') {
          await readCsv(pool, unit);
          u = await units.next();
          continue;
        }
        // the XML units up to the next CSV one: one pooled run
        async function* xmlRun(): AsyncGenerator<SourceUnit> {
          while (!u.done && u.value.kind !== 'csv') {
            yield u.value;
            u = await units.next();
          }
        }
        await readXml(pool, xmlRun());
        if (options.signal?.aborted) break;
      }
    });
    options.signal?.throwIfAborted();
    for (const [key] of store.entries('pending')) {
      totals.orphanCancellations++;
      report(mk('COUPON_CANCEL_ORPHAN', 'summary', 'a cancellation whose sale is not in the sources: nothing to take out of the sums', key, 'warning'));
    }
    const rows = agg.rows();
    const sums = sumRows(rows);
    return { by, rows, totals: { ...totals, ...sums, coupons: totals.coupons, cancelled: totals.cancelled }, findings: counts, spilledKeys: store.spilledKeys, resumedFromItem };
  } finally {
    store.close();
  }
}

/**
 * What one coupon job takes at most: a coupon is read in a few tens of microseconds, so a group of many costs one
 * message instead of one each (JOB_LIMITS, made for notes, sends 16). 2 MiB (about 200 store coupons of 10 KB)
 * measured 10% faster than 512 KiB on 100k coupons, 4 MiB no faster; the window of jobs in flight
 * (WINDOW_PER_THREAD) holds 8 of them on 2 threads.
 */
const COUPON_JOB_LIMITS = { documents: 512, bytes: 2 * 1024 * 1024 } as const;

