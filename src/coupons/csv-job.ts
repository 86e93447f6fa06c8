/**
 * The pool job of a CSV export read on worker threads (`coupons.csv-chunk`): a chunk of whole records (the main
 * thread cuts the export at line ends outside quotes, csv-chunks.ts), decoded and split by csv-parse as a whole
 * stream would be, its rows grouped into coupons and each coupon turned into its counted events here. What a
 * neighbouring chunk may continue comes back raw: the first run of rows (the previous chunk's last coupon may go
 * on in it) and the last one; the main thread joins them. The findings of records csv-parse cannot split come
 * back where the reading of the whole stream would report them.
 */
import { CsvError, parse } from 'csv-parse';
import { asBuffer } from '../nfe/wire-document.js';
import { countedEvent, type CountedEvent, type Dimension } from './aggregate.js';
import type { CsvMapping } from './csv-mapping.js';
import { decodeCsv } from './csv-decode.js';
import { plainRecords } from './csv-plain.js';
import { CouponRows, csvParseOptions, rowKey, unreadable, unsplittable, type CsvCoupon, type CsvIndex, type CsvRow } from './from-csv.js';
import { PresumBuilder, type Presum } from './presum.js';
import type { CouponFinding } from './types.js';

export interface CsvChunkPayload {
  readonly bytes: Uint8Array;
  readonly mapping: CsvMapping;
  readonly index: CsvIndex;
  readonly name: string;
  /** Lines before the chunk's first byte. */
  readonly lineOffset: number;
  /** The chunk starts the export: a BOM may open it, and its first record is the header when there is one. */
  readonly first: boolean;
  readonly by: readonly Dimension[];
  /** Sum the chunk's sales here (presum.ts): they come back `presummed`, their sums in `presum`. */
  readonly presum: boolean;
}

/** A run of rows of one key, as read. */
export interface RawRun {
  readonly key: string;
  readonly rows: CsvRow[];
}

export interface CountedCsv {
  readonly events: readonly CountedEvent[];
  readonly findings: readonly CouponFinding[];
}

export interface CsvChunkResult {
  /** Findings of unsplittable records before the chunk's first row. */
  readonly preHead: CouponFinding[];
  /** The chunk's first run of rows (`rows: "item"` only), which may continue the previous chunk's last one. */
  head: RawRun | null;
  /** Findings of unsplittable records while the first run was open. */
  readonly inHead: CouponFinding[];
  /** The chunk ended inside its first run (it is also its last). */
  headIsTail: boolean;
  /** Then, in order: the coupons and findings the chunk's rows give (a number: sale i of `presum`, presummedSale). */
  readonly entries: (CountedCsv | number)[];
  /** The chunk's last run of rows, which the next chunk may continue. */
  tail: RawRun | null;
  /** Findings of unsplittable records after the chunk's last row. */
  trailing: CouponFinding[];
  /** A record that ends the reading (a quote left open): its finding; nothing after it counts. */
  fatal: CouponFinding | null;
  /** With `presum`: the sums of the entries' presummed sales, and those sales. */
  presum: Presum | null;
}

export async function csvChunkJob(p: CsvChunkPayload): Promise<CsvChunkResult> {
  const text = decodeCsv(asBuffer(p.bytes), p.mapping.encoding);
  const skipped: CouponFinding[] = [];
  const result: CsvChunkResult = { preHead: [], head: null, inHead: [], headIsTail: false, entries: [], tail: null, trailing: [], fatal: null, presum: null };
  const grouper = new CouponRows(p.index, p.mapping, p.name);
  const out: CsvCoupon[] = [];
  const presum = p.presum ? new PresumBuilder() : null;
  const counted = (c: CsvCoupon): CountedCsv | number => {
    const events = c.events.map((ev) => countedEvent(ev, p.by));
    return presum?.takeItem(events, c.findings) ?? { events, findings: c.findings };
  };
  // pre: before the first row; head: inside the first run (item rows only); body: after it
  let state = (p.mapping.rows === 'item' ? 'pre' : 'body') as 'pre' | 'head' | 'body';
  let records = 0;
  const record = (cells: string[], lines: number): void => {
    if (records++ === 0 && p.first && p.mapping.header) {
      result.preHead.push(...skipped.splice(0));
      return;
    }
    const row: CsvRow = { line: p.lineOffset + lines, cells };
    if (state === 'pre') {
      result.preHead.push(...skipped.splice(0));
      state = rowKey(row, p.index) === '' ? 'body' : 'head';
    } else if (state === 'head') {
      result.inHead.push(...skipped.splice(0));
      if (grouper.ends(row)) {
        result.head = grouper.take();
        state = 'body';
      }
    } else if (skipped.length > 0) out.push({ events: [], findings: skipped.splice(0) });
    grouper.push(row, out);
    for (const c of out.splice(0)) result.entries.push(counted(c));
  };
  // plain text (no quotes: nearly every export) is split without csv-parse's byte-by-byte machine, to the same records
  const plain = plainRecords(text, p.mapping.delimiter);
  if (plain) for (const r of plain) record(r.cells, r.line);
  else {
    const parser = parse(csvParseOptions(p.mapping, p.first));
    parser.on('skip', (err: CsvError & { lines?: number }) => skipped.push(unsplittable(p.name, err.lines === undefined ? undefined : p.lineOffset + err.lines, err.message)));
    parser.end(text);
    try {
      for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) record(rec.record, rec.info.lines);
    } catch (err) {
      if (!(err instanceof CsvError)) throw err;
      result.fatal = unreadable(p.name, err.message);
    }
  }
  if (state === 'head') {
    result.head = grouper.take();
    result.headIsTail = true;
  } else result.tail = grouper.take();
  result.trailing = skipped;
  result.presum = presum?.result() ?? null;
  return result;
}
