/**
 * A CSV export read on the pool's workers: the main thread cuts the byte stream into chunks of whole records (at
 * the last line end outside quotes of every megabyte or so: `"` and the line feed are the same byte in UTF-8,
 * Windows-1252 and ISO-8859-1, so no decoding is needed for it), counts their lines, and sends them to the job
 * `coupons.csv-chunk` (csv-job.ts) in order; it then joins what neighbouring chunks share — a coupon whose rows run
 * across the cut — and hands every coupon to `take` in the order of the export. The coupons, their findings and
 * the summary are those of the one-thread reading for an export csv-parse reads without skipping records; around a
 * record it cannot split (a stray quote) the cut may fall elsewhere than the one-thread parser resynchronises, so
 * there the findings can differ.
 */
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { mapInOrder, type FiscalPool } from '../pool/pool.js';
import { countedEvent, type Dimension } from './aggregate.js';
import type { CsvMapping } from './csv-mapping.js';
import type { CountedCsv, CsvChunkPayload, CsvChunkResult, RawRun } from './csv-job.js';
import { csvCoupon, csvIndex, csvParseOptions, type CsvIndex } from './from-csv.js';
import { presummedSale, type Presum } from './presum.js';
import type { CouponFinding } from './types.js';

const NO_FINDINGS: readonly CouponFinding[] = [];

/** Bytes per chunk (cut at the last record end before it). */
export const CSV_CHUNK_BYTES = 1 << 20;
/** A chunk without a record end outside quotes goes as it is past this (a quote left open: the job reports it). */
const MAX_CARRY = 64 << 20;

/** The offset just past the last line feed outside quotes in `buf` (0 when there is none); `buf` starts a record. */
export function lastRecordEnd(buf: Buffer): number {
  let inQuote = false;
  let last = -1;
  let i = 0;
  for (;;) {
    const q = buf.indexOf(0x22, i);
    if (!inQuote) {
      const end = q === -1 ? buf.length : q;
      if (end > i) {
        const nl = buf.lastIndexOf(0x0a, end - 1);
        if (nl >= i) last = nl;
      }
      if (q === -1) break;
      inQuote = true;
    } else if (q === -1) break;
    else inQuote = false;
    i = q + 1;
  }
  return last + 1;
}

const countLines = (buf: Buffer): number => {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
};

/** The chunks of a stream, each of whole records, with the lines before it. */
async function* chunksOf(stream: Readable, chunkBytes: number): AsyncGenerator<{ bytes: Buffer; lineOffset: number; first: boolean }> {
  let carry: Buffer[] = [];
  let carried = 0;
  let lines = 0;
  let first = true;
  const emit = (bytes: Buffer): { bytes: Buffer; lineOffset: number; first: boolean } => {
    const c = { bytes, lineOffset: lines, first };
    lines += countLines(bytes);
    first = false;
    return c;
  };
  for await (const part of stream) {
    const b = typeof part === 'string' ? Buffer.from(part) : (part as Buffer);
    carry.push(b);
    carried += b.length;
    if (carried < chunkBytes) continue;
    const all = carry.length === 1 ? carry[0]! : Buffer.concat(carry, carried);
    let pos = 0;
    // chunks of about chunkBytes, each cut at its last record end (a record longer than that: a wider window)
    while (all.length - pos >= chunkBytes) {
      let end = 0;
      for (let window = chunkBytes; end === 0 && pos + window <= all.length; window *= 2) end = lastRecordEnd(all.subarray(pos, pos + window));
      if (end === 0) break; // no record end yet: more bytes first
      yield emit(all.subarray(pos, pos + end));
      pos += end;
    }
    carry = pos < all.length ? [all.subarray(pos)] : [];
    carried = all.length - pos;
    if (carried > Math.max(MAX_CARRY, chunkBytes)) {
      yield emit(Buffer.concat(carry, carried)); // a quote left open: the job reports it
      carry = [];
      carried = 0;
    }
  }
  if (carried > 0) yield emit(Buffer.concat(carry, carried));
}

/** The header's column indexes, from the export's first record (csv-parse on the first chunk). */
function headerIndex(first: Buffer, mapping: CsvMapping, name: string): CsvIndex {
  if (!mapping.header) return csvIndex(mapping, null, name);
  const records = parse(iconv.decode(first, mapping.encoding), { ...csvParseOptions(mapping), info: false, to: 1 }) as string[][];
  return csvIndex(mapping, records[0] ?? [], name);
}

export interface PooledCsvRun {
  readonly pool: FiscalPool;
  readonly stream: Readable;
  readonly name: string;
  readonly mapping: CsvMapping;
  readonly by: readonly Dimension[];
  readonly signal?: AbortSignal;
  /** Bytes per chunk (default CSV_CHUNK_BYTES; tests make it small to cut coupons often). */
  readonly chunkBytes?: number;
  /** Each coupon (or finding-only entry) of the export, in order. */
  readonly take: (c: CountedCsv) => Promise<void>;
  /**
   * With it, the workers presum each chunk's sales (presum.ts): a chunk's sums come here before its coupons go
   * to `take`, and those coupons are `presummed`. Without it every sale comes with its parts.
   */
  readonly addPresum?: (s: Presum) => void;
}

/** Reads an export on the pool; resolves once every coupon went to `take`. */
export async function readCsvPooled(run: PooledCsvRun): Promise<void> {
  const { mapping, name } = run;
  let index: CsvIndex | null = null;
  let pending: RawRun | null = null;
  let trailing: CouponFinding[] = [];
  let stopped = false;
  const findings = async (list: readonly CouponFinding[]): Promise<void> => {
    if (list.length > 0) await run.take({ events: [], findings: list });
  };
  const flush = async (): Promise<void> => {
    if (!pending) return;
    const c = csvCoupon(pending.rows, index!, mapping, name, pending.key);
    pending = null;
    await run.take({ events: c.events.map((ev) => countedEvent(ev, run.by)), findings: c.findings });
  };
  const join = async (r: CsvChunkResult): Promise<void> => {
    if (stopped) return; // past a record that ended the reading
    if (r.presum) run.addPresum!(r.presum);
    await findings(trailing);
    await findings(r.preHead);
    if (r.head) {
      if (pending && pending.key === r.head.key) pending = { key: pending.key, rows: [...pending.rows, ...r.head.rows] };
      else {
        await flush();
        pending = r.head;
      }
      await findings(r.inHead);
      if (!r.headIsTail) await flush();
    } else if (r.entries.length > 0 || r.tail || r.fatal) await flush();
    for (const e of r.entries) {
      run.signal?.throwIfAborted();
      await run.take(typeof e === 'number' ? { events: [presummedSale(r.presum!, e)], findings: NO_FINDINGS } : e);
    }
    if (r.tail) pending = r.tail;
    trailing = r.trailing;
    if (r.fatal) {
      await flush();
      await findings(trailing);
      trailing = [];
      await findings([r.fatal]);
      stopped = true;
    }
  };
  const chunks = chunksOf(run.stream, run.chunkBytes ?? CSV_CHUNK_BYTES);
  try {
    await mapInOrder(
      (async function* () {
        for await (const c of chunks) {
          if (stopped || run.signal?.aborted) return;
          index ??= headerIndex(c.bytes, mapping, name);
          yield c;
        }
      })(),
      (c) => {
        const owned = new Uint8Array(c.bytes); // its own ArrayBuffer, moved to the worker
        const payload: CsvChunkPayload = { bytes: owned, mapping, index: index!, name, lineOffset: c.lineOffset, first: c.first, by: run.by, presum: run.addPresum !== undefined };
        return run.pool.run<CsvChunkResult>('coupons.csv-chunk', payload, { transfer: [owned.buffer as ArrayBuffer] });
      },
      join,
      run.pool.threads * 2,
    );
  } finally {
    await chunks.return(undefined);
  }
  run.signal?.throwIfAborted();
  if (!stopped) {
    await flush();
    await findings(trailing);
  }
}
