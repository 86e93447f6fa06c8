/**
 * `spedToCsv`: one CSV per register (`C170.csv`) with the layout's field names as header (REG left out; a
 * repeated name is `NAME#POS`, a field beyond the layout `#POS`). Decimal fields use `.` unless `decimalComma`;
 * date fields (ddmmaaaa) become ISO yyyy-mm-dd (a value that is not a valid date is kept as written). UTF-8,
 * optional BOM. Everything is written into a temporary folder inside `outDir` and moved into place only when
 * the whole file was converted, so a failed run leaves no partial output.
 */
import { createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { stringify, type Stringifier } from 'csv-stringify';
import { makeDir } from '../common/make-dir.js';
import { InvalidInputError, ioError, UsageError } from '../errors.js';
import { forEachRecord, waitDrain, type ConvertOptions } from './drain.js';
import { finding } from './findings.js';
import type { FieldDef } from './layout.js';
import type { SpedReadInfo, SpedSource } from './reader.js';
import { parseSpedDate, type SpedRecord } from './record.js';

export interface SpedToCsvOptions extends ConvertOptions {
  /** Field delimiter, one character (default `,`). */
  delimiter?: string;
  /** Keep decimals with a comma as in the SPED file (default: `.`). */
  decimalComma?: boolean;
  /** Start each file with a UTF-8 BOM (Excel). */
  bom?: boolean;
  /** Most distinct registers (files) accepted (default 1000). */
  maxRegisters?: number;
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

const REGISTER = /^[0-9A-Z]{4}$/;

interface Table {
  register: string;
  file: string;
  csv: Stringifier;
  out: WriteStream;
  done: Promise<void>;
  rows: number;
  /** Per position (index = pos - 1): how to present the raw value. */
  kinds: readonly ('decimal' | 'date' | 'raw')[];
}

/** Converts a SPED file into one CSV per register inside `outDir` (created when missing). */
export async function spedToCsv(source: SpedSource, outDir: string, options: SpedToCsvOptions = {}): Promise<SpedToCsvResult> {
  const delimiter = options.delimiter ?? ',';
  if ([...delimiter].length !== 1 || /["\r\n]/.test(delimiter)) {
    throw new UsageError(`--delimiter must be one character other than a quote or a line break (got '${delimiter}')`, 'CSV_DELIMITER');
  }
  const maxRegisters = options.maxRegisters ?? 1000;
  await makeDir(outDir);
  let tmp: string;
  try {
    tmp = await fsp.mkdtemp(join(outDir, '.fiscal-csv-'));
  } catch (err) {
    throw ioError(err, outDir, 'write');
  }
  const tables = new Map<string, Table>();
  let extraFindings = 0;

  const open = (record: SpedRecord): Table => {
    const register = record.register;
    const defs = record.defs;
    const header: string[] = [];
    const kinds: ('decimal' | 'date' | 'raw')[] = ['raw'];
    if (defs && defs.length > 1) {
      const seen = new Set<string>();
      for (const def of defs.slice(1)) {
        header.push(seen.has(def.name) ? `${def.name}#${def.pos}` : def.name);
        seen.add(def.name);
        kinds.push(kindOf(def));
      }
    }
    for (let pos = header.length + 2; pos <= record.fields.length; pos++) header.push(`#${pos}`);
    const file = join(tmp, `${register}.csv`);
    const out = createWriteStream(file, { flags: 'wx' });
    const csv = stringify({ delimiter, bom: options.bom ?? false });
    csv.pipe(out);
    const table: Table = { register, file, csv, out, done: finished(out), rows: 0, kinds };
    table.done.catch(() => {}); // observed in finishAll; avoid an unhandled rejection meanwhile
    csv.write(header);
    tables.set(register, table);
    return table;
  };

  const each = (record: SpedRecord): Promise<void> | void => {
    const register = record.register;
    let table = tables.get(register);
    if (!table) {
      if (!REGISTER.test(register)) {
        extraFindings++;
        options.onFinding?.(finding('SPED_LINE_FORMAT', `'${register.slice(0, 20)}' is not a register code; record not written`, { line: record.line }));
        return;
      }
      if (tables.size >= maxRegisters) {
        throw new InvalidInputError('CSV_TOO_MANY_REGISTERS', `line ${record.line}: more than ${maxRegisters} distinct registers; not a SPED file?`, record.line);
      }
      table = open(record);
    }
    const row: string[] = new Array(record.fields.length - 1);
    for (let i = 1; i < record.fields.length; i++) row[i - 1] = present(record.fields[i]!, table.kinds[i], options.decimalComma ?? false);
    table.rows++;
    if (!table.csv.write(row)) return waitDrain(table.csv);
  };

  const closeAll = async (): Promise<void> => {
    for (const t of tables.values()) t.csv.end();
    await Promise.all([...tables.values()].map((t) => t.done));
  };

  try {
    const { info, findingCount } = await forEachRecord(source, options, each);
    try {
      await closeAll();
    } catch (err) {
      throw ioError(err, outDir, 'write');
    }
    const files: SpedCsvFile[] = [];
    for (const t of tables.values()) {
      const path = join(outDir, `${t.register}.csv`);
      try {
        await fsp.rename(t.file, path);
      } catch (err) {
        throw ioError(err, path, 'write');
      }
      files.push({ register: t.register, path, rows: t.rows });
    }
    return { info, files, findingCount: findingCount + extraFindings };
  } finally {
    for (const t of tables.values()) {
      t.csv.destroy();
      t.out.destroy();
    }
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}

function kindOf(def: FieldDef): 'decimal' | 'date' | 'raw' {
  if (def.format === 'date') return 'date';
  if (def.type === 'N' && def.decimals !== undefined && def.decimals > 0) return 'decimal';
  return 'raw';
}

function present(raw: string, kind: 'decimal' | 'date' | 'raw' | undefined, decimalComma: boolean): string {
  if (kind === 'decimal') return decimalComma ? raw : raw.replace(',', '.');
  if (kind === 'date') return parseSpedDate(raw) ?? raw;
  return raw;
}
