/**
 * `spedToCsv`: one CSV per register (`C170.csv`) with the layout's field names as header (REG left out; a
 * repeated name is `NAME#POS`, a field beyond the layout `#POS`), after leading columns that join a row to its
 * parent: `LINE` (the record's line), and for a register whose parent is a record (not X001 or 0000)
 * `PARENT_LINE` and the parent's key fields as `PARENT_FIELD` (`C100_NUM_DOC`; formats/sped/csv-keys.json). Decimal fields use `.` unless `decimalComma`;
 * date fields (ddmmaaaa) become ISO yyyy-mm-dd (a value that is not a valid date is kept as written). UTF-8,
 * optional BOM. Everything is written into a temporary folder inside `outDir` and moved into place only when
 * the whole file was converted, so a failed run leaves no partial output.
 */
import { createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import { basename, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { stringify, type Stringifier } from 'csv-stringify';
import { makeDir } from '../common/make-dir.js';
import { ioError, UsageError } from '../errors.js';
import { Checkpoints, type ResumableOptions } from './checkpoint.js';
import { forEachRecord, waitDrain, type ConvertOptions } from './drain.js';
import { badRegisterFinding, csvTempDir, cutBackCsvFiles, flushToDisk, moveIntoPlace, syncDir, REGISTER, RowMaker, tableShape, tooManyRegisters, type OpenRecord, type TableShape } from './csv-rows.js';
export { parentKeys } from './csv-rows.js';
import { loadLayout, type Layout } from './layout.js';
import { csvInRanges } from './csv-ranges.js';
import { rangedSize, type RangePlan } from './line-ranges.js';
import { withPool, type FiscalPool } from '../pool/pool.js';
import type { ParserState, SpedParser, SpedReadInfo, SpedSource } from './reader.js';
import type { SpedRecord } from './record.js';

export interface SpedToCsvOptions extends ConvertOptions, ResumableOptions {
  /** Field delimiter, one character (default `,`). */
  delimiter?: string;
  /** Keep decimals with a comma as in the SPED file (default: `.`). */
  decimalComma?: boolean;
  /** Start each file with a UTF-8 BOM (Excel). */
  bom?: boolean;
  /** Most distinct registers (files) accepted (default 1000). */
  maxRegisters?: number;
  /**
   * More than 1 (or a pool of more) converts a file path of 8 MiB or more in byte ranges on worker threads: the same
   * files byte for byte (csv-ranges.ts), checkpoints between ranges. Default 1.
   */
  threads?: number;
  pool?: FiscalPool;
  /** @internal Bytes per range (default: the file over 8 × threads, 1 to 4 MiB); given, any size goes to ranges (tests). */
  rangeBytes?: number;
  /** @internal Told how the file was split (not called when it was converted on one thread). */
  onPlan?: (plan: RangePlan) => void;
}

export interface SpedCsvFile {
  register: string;
  path: string;
  rows: number;
}

export interface SpedToCsvResult {
  info: SpedReadInfo;
  files: SpedCsvFile[];
  findingCount: number;
}

interface Table {
  register: string;
  file: string;
  csv: Stringifier;
  out: WriteStream;
  done: Promise<void>;
  rows: number;
  /** The file's length when this run opened it (a resumed run appends). */
  base: number;
  shape: TableShape;
}

/** What a resumed to-csv needs besides the offsets (checkpoint.ts): the temporary folder and each file's length. */
export type CsvState = {
  parser: ParserState;
  /** The temporary folder inside `outDir` (its name). */
  dir: string;
  files: { register: string; version: string | null; rows: number; bytes: number }[];
  opened: (OpenRecord | null)[];
  findingCount: number;
  extraFindings: number;
};

/**
 * Converts a SPED file into one CSV per register inside `outDir` (created when missing). Resumable for a path input
 * (`onCheckpoint`, `resumeFrom`: checkpoint.ts, docs/sped.md): at a checkpoint every CSV written so far is on disk
 * (fsync) in the temporary folder, which a failed run that made a checkpoint leaves in place for the resumed run;
 * that run cuts each file back to its checkpointed length and appends.
 */
export async function spedToCsv(source: SpedSource, outDir: string, options: SpedToCsvOptions = {}): Promise<SpedToCsvResult> {
  const delimiter = options.delimiter ?? ',';
  if ([...delimiter].length !== 1 || /["\r\n]/.test(delimiter)) {
    throw new UsageError(`--delimiter must be one character other than a quote or a line break (got '${delimiter}')`, 'CSV_DELIMITER');
  }
  const maxRegisters = options.maxRegisters ?? 1000;
  const plan = await Checkpoints.open('sped.to-csv', source, options, {
    layout: options.layout ?? null,
    encoding: options.encoding ?? null,
    maxLineBytes: options.maxLineBytes ?? null,
    delimiter,
    decimalComma: options.decimalComma ?? false,
    bom: options.bom ?? false,
  });
  const threads = options.pool?.threads ?? options.threads ?? 1;
  if (typeof source === 'string' && threads > 1 && options.start === undefined && options.end === undefined) {
    const size = await rangedSize(source, options.rangeBytes);
    if (size !== null) {
      const ranged = await withPool(options, (pool) => csvInRanges(source, size, outDir, { ...options, delimiter }, pool, plan));
      if (ranged !== null) return ranged;
    }
  }
  const resumed = plan?.state<CsvState>() ?? null;
  await makeDir(outDir);
  let tmp: string;
  if (resumed) {
    tmp = join(outDir, resumed.dir);
  } else {
    tmp = await csvTempDir(outDir);
  }
  const tables = new Map<string, Table>();
  let extraFindings = resumed?.extraFindings ?? 0;
  /** True once this run made or resumed from a checkpoint: a failure then keeps the temporary folder. */
  let keep = resumed !== null;

  let layout: Layout | null = resumed?.parser.layout ? loadLayout(resumed.parser.layout) : null;
  const rows = new RowMaker(options.decimalComma ?? false, resumed?.opened ?? []);

  /** A table's stream into `file`: a new file with its header, or (resumed) the file cut back to `base` bytes. */
  const table = (register: string, defs: SpedRecord['defs'], version: string | null, fieldCount: number, resume: { rows: number; base: number } | null): Table => {
    const shape = tableShape(layout, register, defs, version, fieldCount);
    const file = join(tmp, `${register}.csv`);
    const out = resume ? createWriteStream(file, { flags: 'r+', start: resume.base }) : createWriteStream(file, { flags: 'wx' });
    // a resumed file has its BOM and header already
    const csv = stringify({ delimiter, bom: resume ? false : (options.bom ?? false) });
    csv.pipe(out);
    const t: Table = { register, file, csv, out, done: finished(out), rows: resume?.rows ?? 0, base: resume?.base ?? 0, shape };
    t.done.catch(() => {}); // observed in finishAll; avoid an unhandled rejection meanwhile
    if (!resume) csv.write(shape.header);
    tables.set(register, t);
    return t;
  };

  const open = (record: SpedRecord, info: SpedReadInfo): Table => table(record.register, record.defs, info.version, record.fields.length, null);

  /** A resumed run: the files of the checkpoint cut back to their lengths, any file made after it removed. */
  const reopen = async (state: CsvState): Promise<void> => {
    await cutBackCsvFiles(tmp, outDir, state.dir, state.files);
    for (const f of state.files) table(f.register, layout?.fieldsFor(f.register, f.version), f.version, 0, { rows: f.rows, base: f.bytes });
  };

  /** Every table's bytes written and on disk (fsync), its length known: what a checkpoint records. */
  const settle = async (): Promise<CsvState['files']> => {
    const files: CsvState['files'] = [];
    for (const t of tables.values()) {
      while (t.csv.writableLength > 0 || t.csv.readableLength > 0) {
        if (t.out.writableNeedDrain) await waitDrain(t.out);
        else await new Promise((resolve) => setImmediate(resolve));
      }
      await flushToDisk(t.out);
      files.push({ register: t.register, version: t.shape.version, rows: t.rows, bytes: t.base + t.out.bytesWritten });
    }
    await syncDir(tmp);
    return files;
  };

  const findingsBefore = resumed?.findingCount ?? 0;
  let findingsNow = 0;
  const between = async (parser: SpedParser): Promise<void> => {
    const state = plan?.dueState(parser) ?? null;
    if (plan === null || state === null) return;
    let files: CsvState['files'];
    try {
      files = await settle();
    } catch (err) {
      throw ioError(err, outDir, 'write');
    }
    keep = true;
    await plan.take(state.scanner.offset, state.scanner.lines + 1, 0, {
      parser: state,
      dir: basename(tmp),
      files,
      opened: rows.opened.map((o) => o ?? null),
      findingCount: findingsBefore + findingsNow,
      extraFindings,
    } satisfies CsvState);
  };

  const each = (record: SpedRecord, info: SpedReadInfo): Promise<void> | void => {
    const register = record.register;
    if (layout === null && info.layout !== null) layout = loadLayout(info.layout);
    let table = tables.get(register);
    if (!table) {
      if (!REGISTER.test(register)) {
        extraFindings++;
        options.onFinding?.(badRegisterFinding(register, record.line));
        return;
      }
      if (tables.size >= maxRegisters) {
        throw tooManyRegisters(maxRegisters, record.line);
      }
      table = open(record, info);
    }
    const row = rows.row(record, table.shape, layout);
    table.rows++;
    if (!table.csv.write(row)) return waitDrain(table.csv);
  };

  const closeAll = async (): Promise<void> => {
    for (const t of tables.values()) t.csv.end();
    await Promise.all([...tables.values()].map((t) => t.done));
  };

  let ok = false;
  try {
    if (resumed) await reopen(resumed);
    const counted: SpedToCsvOptions = {
      ...options,
      onFinding(f) {
        findingsNow++;
        options.onFinding?.(f);
      },
    };
    const { info, findingCount } = await forEachRecord(source, counted, each, { from: resumed?.parser ?? null, between, signal: options.signal });
    try {
      await closeAll();
    } catch (err) {
      throw ioError(err, outDir, 'write');
    }
    const files: SpedCsvFile[] = await moveIntoPlace(outDir, tables.values());
    ok = true;
    return { info, files, findingCount: findingsBefore + findingCount + extraFindings };
  } finally {
    for (const t of tables.values()) {
      t.csv.destroy();
      t.out.destroy();
    }
    if (ok || !keep) await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}
