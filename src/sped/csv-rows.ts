/**
 * The rows of `spedToCsv`, apart from where they are written: a register's table shape (its header, how each
 * field is presented, the parent whose line and keys lead each row) and the row of a record given the records
 * open above it. Shared by the one-thread conversion (csv.ts) and the range job (csv-range-job.ts), so both make
 * the same cells.
 */
import { fsync, promises as fsp, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { InvalidInputError, ioError } from '../errors.js';
import { SpedCheckpointError } from './checkpoint.js';
import { finding, type SpedFinding } from './findings.js';
import type { FieldDef, Layout, LayoutId } from './layout.js';
import { parseSpedDate, type SpedRecord } from './record.js';

export type Kind = 'decimal' | 'date' | 'raw';

/** A register code that can name a file. */
export const REGISTER = /^[0-9A-Z]{4}$/;

/** The finding for a record whose register code cannot name a file (the record is not written). */
export function badRegisterFinding(register: string, line: number): SpedFinding {
  return finding('SPED_LINE_FORMAT', `'${register.slice(0, 20)}' is not a register code; record not written`, { line });
}

/** The error that stops a run at the first register past `maxRegisters` distinct ones. */
export function tooManyRegisters(maxRegisters: number, line: number): InvalidInputError {
  return new InvalidInputError('CSV_TOO_MANY_REGISTERS', `line ${line}: more than ${maxRegisters} distinct registers; not a SPED file?`, line);
}

/** The temporary folder inside `outDir` the CSV files are written in before they are moved into place. */
export async function csvTempDir(outDir: string): Promise<string> {
  try {
    return await fsp.mkdtemp(join(outDir, '.fiscal-csv-'));
  } catch (err) {
    throw ioError(err, outDir, 'write');
  }
}

/**
 * A resumed run's files, as its checkpoint recorded them: each cut back to its length (a CSV file shorter than that,
 * or a missing one, is a SpedCheckpointError), and any file made after the checkpoint removed.
 */
export async function cutBackCsvFiles(tmp: string, outDir: string, dirName: string, files: readonly { register: string; bytes: number }[]): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(tmp);
  } catch {
    throw new SpedCheckpointError(`cannot resume into ${outDir}: the checkpoint's temporary folder ${dirName} is not there`);
  }
  const known = new Set(files.map((f) => `${f.register}.csv`));
  for (const name of names) if (!known.has(name)) await fsp.rm(join(tmp, name), { force: true });
  for (const f of files) {
    const file = join(tmp, `${f.register}.csv`);
    const size = await fsp.stat(file).then((st) => st.size, () => -1);
    if (size < f.bytes) throw new SpedCheckpointError(`cannot resume into ${outDir}: ${dirName}/${f.register}.csv is shorter than the checkpoint's ${f.bytes} bytes (or missing)`);
    try {
      await fsp.truncate(file, f.bytes);
    } catch (err) {
      throw ioError(err, file, 'write');
    }
  }
}

const EMPTY = Buffer.alloc(0);

/** Resolves once every byte written to `out` so far is written and on disk (fsync). */
export async function flushToDisk(out: WriteStream): Promise<void> {
  // written in order: the callback of an empty write comes after every byte before it is written
  await new Promise<void>((resolve, reject) => out.write(EMPTY, (err) => (err ? reject(err) : resolve())));
  const fd = (out as WriteStream & { fd: number }).fd;
  await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** fsync of a directory: the files created in it are there after a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Moves each finished file into `outDir` as `REG.csv`, in order. */
export async function moveIntoPlace(outDir: string, tables: Iterable<{ register: string; file: string; rows: number }>): Promise<{ register: string; path: string; rows: number }[]> {
  const files: { register: string; path: string; rows: number }[] = [];
  for (const t of tables) {
    const path = join(outDir, `${t.register}.csv`);
    try {
      await fsp.rename(t.file, path);
    } catch (err) {
      throw ioError(err, path, 'write');
    }
    files.push({ register: t.register, path, rows: t.rows });
  }
  return files;
}

/** How a register's rows are made, fixed when its file is created (at its first record). */
export interface TableShape {
  register: string;
  /** The layout version its field definitions were taken at (ECD's arrives with I010, after some records). */
  version: string | null;
  header: string[];
  /** Per position (index = pos - 1): how to present the raw value. */
  kinds: readonly Kind[];
  /** The parent register whose line and keys lead each row (null: LINE only). */
  parent: { code: string; level: number; keys: number } | null;
}

/** The key fields of parent registers by layout (formats/sped/csv-keys.json). */
let csvKeys: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> | null = null;

/** Key field names of a parent register, copied onto its children's rows (none when the table has none). */
export function parentKeys(layout: LayoutId, register: string): readonly string[] {
  csvKeys ??= JSON.parse(readFileSync(new URL('../../formats/sped/csv-keys.json', import.meta.url), 'utf8')) as Record<string, Record<string, string[]>>;
  return csvKeys[layout]?.[register] ?? [];
}

/** The shape of a register's table made at a record with `fieldCount` fields, with the definitions `defs` (of `version`). */
export function tableShape(layout: Layout | null, register: string, defs: SpedRecord['defs'], version: string | null, fieldCount: number): TableShape {
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
  return { register, version, header, kinds, parent };
}

/** The open record at a level (its line and presented key values), for its children's leading columns. */
export type OpenRecord = {
  code: string;
  line: number;
  keys: string[] | null;
};

/** Makes rows, keeping the record open at each level. */
export class RowMaker {
  /** The open record at each level (index = level). */
  opened: (OpenRecord | undefined)[];
  /** Levels from this one up were set by records this maker saw; a row that read a level below read the start state. */
  localFrom = Infinity;
  /** The levels at which a row read a record open before the first record this maker saw (its start state). */
  readsInherited = new Set<number>();

  constructor(
    private readonly decimalComma: boolean,
    opened: readonly (OpenRecord | null | undefined)[] = [],
  ) {
    this.opened = opened.map((o) => o ?? undefined);
  }

  /** The row of `record` in a table of shape `shape`; then notes the record as the open one of its level. */
  row(record: SpedRecord, shape: TableShape, layout: Layout | null): string[] {
    const row: string[] = [String(record.line)];
    const parent = shape.parent;
    if (parent) {
      if (parent.level < this.localFrom) this.readsInherited.add(parent.level);
      const up = this.opened[parent.level];
      const here = up !== undefined && up.code === parent.code ? up : null;
      row.push(here ? String(here.line) : '');
      for (let k = 0; k < parent.keys; k++) row.push(here?.keys?.[k] ?? '');
    }
    for (let i = 1; i < record.fields.length; i++) row.push(present(record.fields[i]!, shape.kinds[i], this.decimalComma));
    this.enter(record, layout);
    return row;
  }

  /** Notes the record as the open one of its level, with its key values when it is a parent with keys. */
  private enter(record: SpedRecord, layout: Layout | null): void {
    const def = layout?.register(record.register);
    if (!def) return;
    const names = parentKeys(layout!.id, def.code);
    const keys = names.length === 0 ? null : names.map((name) => {
      const pos = record.position(name);
      return pos === undefined ? '' : present(record.fields[pos - 1] ?? '', record.defs?.[pos - 1] ? kindOf(record.defs[pos - 1]!) : 'raw', this.decimalComma);
    });
    this.opened.length = def.level;
    this.opened[def.level] = { code: def.code, line: record.line, keys };
    if (def.level < this.localFrom) this.localFrom = def.level;
  }
}

export function kindOf(def: FieldDef): Kind {
  if (def.format === 'date') return 'date';
  if (def.type === 'N' && def.decimals !== undefined && def.decimals > 0) return 'decimal';
  return 'raw';
}

export function present(raw: string, kind: Kind | undefined, decimalComma: boolean): string {
  if (kind === 'decimal') return decimalComma ? raw : raw.replace(',', '.');
  if (kind === 'date') return parseSpedDate(raw) ?? raw;
  return raw;
}
