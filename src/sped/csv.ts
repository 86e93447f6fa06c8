/**
 * `spedToCsv`: one CSV per register (`C170.csv`) with the layout's field names as header (REG left out; a
 * repeated name is `NAME#POS`, a field beyond the layout `#POS`), after leading columns that join a row to its
 * parent: `LINE` (the record's line), and for a register whose parent is a record (not X001 or 0000)
 * `PARENT_LINE` and the parent's key fields as `PARENT_FIELD` (`C100_NUM_DOC`; formats/sped/csv-keys.json). Decimal fields use `.` unless `decimalComma`;
 * date fields (ddmmaaaa) become ISO yyyy-mm-dd (a value that is not a valid date is kept as written). UTF-8,
 * optional BOM. Everything is written into a temporary folder inside `outDir` and moved into place only when
 * the whole file was converted, so a failed run leaves no partial output.
 */
import { createWriteStream, fsync, promises as fsp, type WriteStream } from 'node:fs';
import { basename, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { stringify, type Stringifier } from 'csv-stringify';
import { makeDir } from '../common/make-dir.js';
import { InvalidInputError, ioError, UsageError } from '../errors.js';
import { Checkpoints, SpedCheckpointError, type ResumableOptions } from './checkpoint.js';
import { forEachRecord, waitDrain, type ConvertOptions } from './drain.js';
import { finding } from './findings.js';
import { readFileSync } from 'node:fs';
import { loadLayout, type FieldDef, type Layout, type LayoutId } from './layout.js';
import type { ParserState, SpedParser, SpedReadInfo, SpedSource } from './reader.js';
import { parseSpedDate, type SpedRecord } from './record.js';

export interface SpedToCsvOptions extends ConvertOptions, ResumableOptions {
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
  /** The file's length when this run opened it (a resumed run appends). */
  base: number;
  /** The layout version its field definitions were taken at (ECD's arrives with I010, after some records). */
  version: string | null;
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
type OpenRecord = {
  code: string;
  line: number;
  keys: string[] | null;
};

/** What a resumed to-csv needs besides the offsets (checkpoint.ts): the temporary folder and each file's length. */
type CsvState = {
  parser: ParserState;
  /** The temporary folder inside `outDir` (its name). */
  dir: string;
  files: { register: string; version: string | null; rows: number; bytes: number }[];
  opened: ({ code: string; line: number; keys: string[] | null } | null)[];
  findingCount: number;
  extraFindings: number;
};

const EMPTY = Buffer.alloc(0);

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
  const resumed = plan?.state<CsvState>() ?? null;
  await makeDir(outDir);
  let tmp: string;
  if (resumed) {
    tmp = join(outDir, resumed.dir);
  } else {
    try {
      tmp = await fsp.mkdtemp(join(outDir, '.fiscal-csv-'));
    } catch (err) {
      throw ioError(err, outDir, 'write');
    }
  }
  const tables = new Map<string, Table>();
  let extraFindings = resumed?.extraFindings ?? 0;
  /** True once this run made or resumed from a checkpoint: a failure then keeps the temporary folder. */
  let keep = resumed !== null;

  let layout: Layout | null = resumed?.parser.layout ? loadLayout(resumed.parser.layout) : null;
  const opened: (OpenRecord | undefined)[] = resumed ? resumed.opened.map((o) => o ?? undefined) : [];

  /** A table's stream into `file`: a new file with its header, or (resumed) the file cut back to `base` bytes. */
  const table = (register: string, defs: SpedRecord['defs'], version: string | null, fieldCount: number, resume: { rows: number; base: number } | null): Table => {
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
    for (let pos = header.length - lead + 2; pos <= fieldCount; pos++) header.push(`#${pos}`);
    const file = join(tmp, `${register}.csv`);
    const out = resume ? createWriteStream(file, { flags: 'r+', start: resume.base }) : createWriteStream(file, { flags: 'wx' });
    // a resumed file has its BOM and header already
    const csv = stringify({ delimiter, bom: resume ? false : (options.bom ?? false) });
    csv.pipe(out);
    const t: Table = { register, file, csv, out, done: finished(out), rows: resume?.rows ?? 0, base: resume?.base ?? 0, version, kinds, parent };
    t.done.catch(() => {}); // observed in finishAll; avoid an unhandled rejection meanwhile
    if (!resume) csv.write(header);
    tables.set(register, t);
    return t;
  };

  const open = (record: SpedRecord, info: SpedReadInfo): Table => table(record.register, record.defs, info.version, record.fields.length, null);

  /** A resumed run: the files of the checkpoint cut back to their lengths, any file made after it removed. */
  const reopen = async (state: CsvState): Promise<void> => {
    let names: string[];
    try {
      names = await fsp.readdir(tmp);
    } catch {
      throw new SpedCheckpointError(`cannot resume into ${outDir}: the checkpoint's temporary folder ${state.dir} is not there`);
    }
    const known = new Set(state.files.map((f) => `${f.register}.csv`));
    for (const name of names) if (!known.has(name)) await fsp.rm(join(tmp, name), { force: true });
    for (const f of state.files) {
      const file = join(tmp, `${f.register}.csv`);
      const size = await fsp.stat(file).then((st) => st.size, () => -1);
      if (size < f.bytes) throw new SpedCheckpointError(`cannot resume into ${outDir}: ${state.dir}/${f.register}.csv is shorter than the checkpoint's ${f.bytes} bytes (or missing)`);
      try {
        await fsp.truncate(file, f.bytes);
      } catch (err) {
        throw ioError(err, file, 'write');
      }
      table(f.register, layout?.fieldsFor(f.register, f.version), f.version, 0, { rows: f.rows, base: f.bytes });
    }
  };

  /** Every table's bytes written and on disk (fsync), its length known: what a checkpoint records. */
  const settle = async (): Promise<CsvState['files']> => {
    const files: CsvState['files'] = [];
    for (const t of tables.values()) {
      while (t.csv.writableLength > 0 || t.csv.readableLength > 0) {
        if (t.out.writableNeedDrain) await waitDrain(t.out);
        else await new Promise((resolve) => setImmediate(resolve));
      }
      // written in order: the callback of an empty write comes after every byte before it is written
      await new Promise<void>((resolve, reject) => t.out.write(EMPTY, (err) => (err ? reject(err) : resolve())));
      const fd = (t.out as WriteStream & { fd: number }).fd;
      await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
      files.push({ register: t.register, version: t.version, rows: t.rows, bytes: t.base + t.out.bytesWritten });
    }
    const dir = await fsp.open(tmp, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
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
      opened: opened.map((o) => o ?? null),
      findingCount: findingsBefore + findingsNow,
      extraFindings,
    } satisfies CsvState);
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
      table = open(record, info);
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
