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
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { stringify, type Stringifier } from 'csv-stringify';
import { makeDir } from '../common/make-dir.js';
import { InvalidInputError, ioError, UsageError } from '../errors.js';
import { forEachRecord, waitDrain, type ConvertOptions } from './drain.js';
import { finding } from './findings.js';
import { readFileSync } from 'node:fs';
import { loadLayout, type FieldDef, type Layout, type LayoutId } from './layout.js';
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
  /** The parent register whose line and keys lead each row (null: LINE only). */
  parent: { code: string; level: number; keys: number } | null;
}

type Kind = 'decimal' | 'date' | 'raw';

/** The key fields of parent registers by layout (formats/sped/csv-keys.json). */
let csvKeys: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> | null = null;

/** Key field names of a parent register, copied onto its children's rows (none when the table has none). */
export function parentKeys(layout: LayoutId, register: string): readonly string[] {
  csvKeys ??= JSON.parse(readFileSync(new URL('../../formats/sped/csv-keys.json', import.meta.url), 'utf8')) as Record<string, Record<string, string[]>>;
  return csvKeys[layout]?.[register] ?? [];
}

/** The open record at each level (its line and presented key values), for the children's leading columns. */
interface OpenRecord {
  code: string;
  line: number;
  keys: string[] | null;
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

  let layout: Layout | null = null;
  const opened: (OpenRecord | undefined)[] = [];

  const open = (record: SpedRecord): Table => {
    const register = record.register;
    const defs = record.defs;
    const def = layout?.register(register);
    const parentDef = def?.parent ? layout!.register(def.parent) : undefined;
    const parent = def && parentDef && parentDef.level >= 2 ? { code: parentDef.code, level: def.level - 1, keys: parentKeys(layout!.id, parentDef.code).length } : null;
    const header: string[] = ['LINE'];
    if (parent) header.push('PARENT_LINE', ...parentKeys(layout!.id, parent.code).map((k) => `${parent.code}_${k}`));
    const lead = header.length;
    const kinds: Kind[] = ['raw'];
    if (defs && defs.length > 1) {
      const seen = new Set<string>();
      for (const f of defs.slice(1)) {
        header.push(seen.has(f.name) ? `${f.name}#${f.pos}` : f.name);
        seen.add(f.name);
        kinds.push(kindOf(f));
      }
    }
    for (let pos = header.length - lead + 2; pos <= record.fields.length; pos++) header.push(`#${pos}`);
    const file = join(tmp, `${register}.csv`);
    const out = createWriteStream(file, { flags: 'wx' });
    const csv = stringify({ delimiter, bom: options.bom ?? false });
    csv.pipe(out);
    const table: Table = { register, file, csv, out, done: finished(out), rows: 0, kinds, parent };
    table.done.catch(() => {}); // observed in finishAll; avoid an unhandled rejection meanwhile
    csv.write(header);
    tables.set(register, table);
    return table;
  };

  /** Notes the record as the open one of its level, with its key values when it is a parent with keys. */
  const enter = (record: SpedRecord): void => {
    const def = layout?.register(record.register);
    if (!def) return;
    const names = parentKeys(layout!.id, def.code);
    const keys = names.length === 0 ? null : names.map((name) => {
      const pos = record.position(name);
      return pos === undefined ? '' : present(record.fields[pos - 1] ?? '', record.defs?.[pos - 1] ? kindOf(record.defs[pos - 1]!) : 'raw', options.decimalComma ?? false);
    });
    opened.length = def.level;
    opened[def.level] = { code: def.code, line: record.line, keys };
  };

  const each = (record: SpedRecord, info: SpedReadInfo): Promise<void> | void => {
    const register = record.register;
    if (layout === null && info.layout !== null) layout = loadLayout(info.layout);
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
    const row: string[] = [String(record.line)];
    const parent = table.parent;
    if (parent) {
      const up = opened[parent.level];
      const here = up !== undefined && up.code === parent.code ? up : null;
      row.push(here ? String(here.line) : '');
      for (let k = 0; k < parent.keys; k++) row.push(here?.keys?.[k] ?? '');
    }
    for (let i = 1; i < record.fields.length; i++) row.push(present(record.fields[i]!, table.kinds[i], options.decimalComma ?? false));
    enter(record);
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

function kindOf(def: FieldDef): Kind {
  if (def.format === 'date') return 'date';
  if (def.type === 'N' && def.decimals !== undefined && def.decimals > 0) return 'decimal';
  return 'raw';
}

function present(raw: string, kind: Kind | undefined, decimalComma: boolean): string {
  if (kind === 'decimal') return decimalComma ? raw : raw.replace(',', '.');
  if (kind === 'date') return parseSpedDate(raw) ?? raw;
  return raw;
}
