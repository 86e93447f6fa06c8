/**
 * The pool job `sped.to-csv-range`: the CSV rows of one byte range of a SPED file, per register, from the reader
 * state, the tables and the open records the job is given (csv-ranges.ts explains the merge).
 */
import { once } from 'node:events';
import { stringify, type Stringifier } from 'csv-stringify';
import { ownedBytes, transferring } from '../pool/transfer.js';
import { badRegisterFinding, REGISTER, RowMaker, tableShape, type OpenRecord, type TableShape } from './csv-rows.js';
import { forEachRecord } from './drain.js';
import type { SpedFinding } from './findings.js';
import { loadLayout, type Layout } from './layout.js';
import { rangeOutcome, readerShape, type LineRangeJob, type LineRangeResult } from './line-ranges.js';

export interface CsvRangeJob extends LineRangeJob {
  delimiter: string;
  decimalComma: boolean;
  /** The registers that have a file, with the version their shape was made at (the job's guess, or the real ones). */
  tables: [string, string | null][];
  /** The records open at each level when the range starts (a guess: the last merged range's; the real ones for a range run again). */
  opened: (OpenRecord | null)[];
}

/** One register's rows in a range. */
export interface CsvPart {
  register: string;
  /** The version its cells were presented at: the known table's, or the range's at its first record. */
  version: string | null;
  /** The header its file gets when the range holds its first record in the file. */
  header: string[];
  /** The line of its first record in the range. */
  firstLine: number;
  rows: number;
  /** Its rows as CSV, at `[start, end)` of `bytes`. */
  start: number;
  end: number;
}

export interface CsvRangeResult extends LineRangeResult {
  parts: CsvPart[];
  /** Every part's rows, one after the other. */
  bytes: Uint8Array;
  /** The records open at each level after the range (levels below `localFrom`: those it was given). */
  opened: (OpenRecord | null)[];
  /** Levels from this one up were set by the range's records. */
  localFrom: number;
  /** The levels at which a row read a record open before the range (the merge checks it was given the real ones). */
  readsInherited: number[];
  /** Of the findings, those of records whose register code cannot name a file (the rest are the reader's). */
  extraFindings: number;
}

export async function csvRangeJob(job: CsvRangeJob): Promise<CsvRangeResult> {
  const known = new Map(job.tables);
  const findings: SpedFinding[] = [];
  // each register's rows go through a stringifier as they come (as one thread's do): only their text is kept
  const parts = new Map<string, { shape: TableShape; firstLine: number; rows: number; csv: Stringifier; text: Buffer[] }>();
  const rows = new RowMaker(job.decimalComma, job.opened);
  let extraFindings = 0;
  let layout: Layout | null = null;
  const { parser } = await forEachRecord(
    job.path,
    { ...readerShape(job), onFinding: (f) => findings.push(f) },
    (record, info) => {
      const register = record.register;
      if (layout === null && info.layout !== null) layout = loadLayout(info.layout);
      let part = parts.get(register);
      if (part === undefined) {
        if (!REGISTER.test(register)) {
          findings.push(badRegisterFinding(register, record.line));
          extraFindings++;
          return;
        }
        const had = known.has(register);
        const version = had ? known.get(register)! : info.version;
        const defs = had ? layout?.fieldsFor(register, version) : record.defs;
        const csv = stringify({ delimiter: job.delimiter });
        const text: Buffer[] = [];
        csv.on('data', (chunk: Buffer) => text.push(chunk));
        part = { shape: tableShape(layout, register, defs, version, record.fields.length), firstLine: record.line, rows: 0, csv, text };
        parts.set(register, part);
      }
      part.rows++;
      part.csv.write(rows.row(record, part.shape, layout));
    },
    { from: job.state, until: job.end, readSync: true },
  );
  const texts: Buffer[] = [];
  const out: CsvPart[] = [];
  let at = 0;
  for (const [register, p] of parts) {
    p.csv.end();
    await once(p.csv, 'end');
    const text = Buffer.concat(p.text);
    texts.push(text);
    out.push({ register, version: p.shape.version, header: p.shape.header, firstLine: p.firstLine, rows: p.rows, start: at, end: at + text.length });
    at += text.length;
  }
  const bytes = ownedBytes(Buffer.concat(texts, at));
  return transferring(
    {
      parts: out,
      bytes,
      opened: rows.opened.map((o) => o ?? null),
      localFrom: rows.localFrom,
      readsInherited: [...rows.readsInherited],
      extraFindings,
      ...rangeOutcome(parser, findings),
    },
    [bytes.buffer as ArrayBuffer],
  );
}
