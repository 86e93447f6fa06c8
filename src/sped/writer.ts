/**
 * The SPED writer: records in, a complete file out. It opens and closes every block (X001 with IND_MOV from the
 * content, X990 with the block's line count), adds the empty blocks the layout requires for the version, and
 * ends with block 9 (9001, the 9900 list, 9990, 9999): callers never count lines. Incoming X001/X990/9xxx
 * records are regenerated: an incoming X001 keeps its block in the file (an optional block present but empty
 * stays), and incoming 9900 lines give the order of the regenerated 9900 list (a PVA file lists them sorted by
 * register code; without them the list is in order of first appearance). Output is Windows-1252 (or UTF-8) with
 * CRLF (or LF), written in 64 KiB chunks with backpressure; memory holds only a count per register.
 *
 *   const w = new SpedWriter(out, { layout: 'efd-icms-ipi' });
 *   await w.write('0000', { COD_VER: 20, DT_INI: '2026-01-01', … });
 *   await w.write('C100', [...]);
 *   const summary = await w.finish(); // does not end `out`
 */
import type { Writable } from 'node:stream';
import { Decimal } from '../common/decimal.js';
import { InvalidInputError, UsageError } from '../errors.js';
import { checkField, encodeCp1252, normalizeForCp1252, replaceField } from './encode.js';
import { detectLayout, isLayoutId, LAYOUT_IDS, loadLayout, type FieldDef, type Layout, type LayoutId } from './layout.js';
import { formatSpedDate, type SpedRecord } from './record.js';
import { waitDrain } from './drain.js';

/** A value for a field: raw strings pass through; the others are formatted from the layout's field definition. */
export type SpedValue = string | number | bigint | Decimal | Date | null | undefined;

/** Fields after REG, by position (index 0 = position 2) or by name (`NAME`, `NAME#POS`, `#POS`). */
export type SpedValues = readonly SpedValue[] | Readonly<Record<string, SpedValue>>;

export interface SpedWriterOptions {
  /** Layout; detected from the 0000 record when absent. */
  layout?: LayoutId;
  /** Layout version (COD_VER, or ECD's I010 version); taken from the records when absent. */
  version?: string;
  /** Replace what cannot be written instead of failing (see `replaceField`). Default false. */
  replace?: boolean;
  /** Output chunk size in characters (default 64 KiB). */
  chunkSize?: number;
  /** Output encoding (default 'windows-1252', the standard; 'utf-8' to give a UTF-8 file back as it was). */
  encoding?: SpedOutputEncoding;
  /** Line end (default 'crlf', the standard; 'lf' to give an LF file back as it was). */
  lineEnd?: SpedLineEnd;
}

export type SpedOutputEncoding = 'windows-1252' | 'utf-8';
export type SpedLineEnd = 'crlf' | 'lf';
export const SPED_OUTPUT_ENCODINGS: readonly SpedOutputEncoding[] = ['windows-1252', 'utf-8'];
export const SPED_LINE_ENDS: readonly SpedLineEnd[] = ['crlf', 'lf'];

export interface SpedWriteOptions {
  /** Line of the input the record came from, for error messages. */
  line?: number;
  /** Object form only: pad the record to the layout's field count for the version. Default true. */
  pad?: boolean;
}

export interface SpedWriteSummary {
  layout: LayoutId;
  version: string | null;
  /** Lines written (the 9999 count). */
  lines: number;
  bytes: number;
  /** Lines per register, in order of first appearance (the 9900 list). */
  registers: Map<string, number>;
  /** Values changed by the `replace` policy. */
  replaced: number;
  /** Incoming records dropped because the writer regenerates them (X001, X990, block 9). */
  regenerated: number;
}

/** A writer's state between two records (plain JSON): see `SpedWriter.snapshot`. */
export type SpedWriterState = {
  layout: LayoutId | null;
  version: string | null;
  utf8: boolean;
  listed: string[];
  cur: number;
  curLines: number;
  openerPending: boolean;
  bytes: number;
  lines: number;
  counts: [string, number][];
  replaced: number;
  regenerated: number;
  records: number;
};

/** A field that needs a closer look: a separator, a line break or a character outside ASCII. */
const SUSPECT = /[|\r\n\u0080-\uffff]/;
const NON_ASCII = /[^\x00-\x7f]/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const REGISTER = /^[0-9A-Z]{4}$/;

/** Writes a SPED file from records; see the module comment. */
export class SpedWriter {
  private readonly out: Writable;
  private readonly replace: boolean;
  private readonly chunkSize: number;
  private utf8: boolean;
  private readonly eol: string;
  /** Registers in the order of the incoming 9900 lines (REG_BLC), which the regenerated list follows. */
  private readonly listed = new Set<string>();
  private layoutObj: Layout | null = null;
  private version: string | null;
  private readonly fixedVersion: boolean;
  private blockOrder: readonly string[] = [];
  private blockIdx = new Map<string, number>();
  private versionPos = 0;
  private versionPad = 0;

  private pending = '';
  private pendingAscii = true;
  private bytes = 0;
  private lines = 0;
  private readonly counts = new Map<string, number>();
  private replaced = 0;
  private regenerated = 0;
  private records = 0;

  /** Index of the open block (-1 before 0000). */
  private cur = -1;
  private curLines = 0;
  /** Block 0's 0001 waits for the record after 0000 (it tells whether the block has data). */
  private openerPending = false;
  private finished = false;
  private failure: Error | null = null;

  constructor(output: Writable, options: SpedWriterOptions = {}) {
    if (options.layout !== undefined && !isLayoutId(options.layout)) {
      throw new UsageError(`unknown layout '${options.layout}' (expected one of ${LAYOUT_IDS.join(', ')})`, 'SPED_LAYOUT_UNKNOWN');
    }
    if (options.chunkSize !== undefined && !(Number.isInteger(options.chunkSize) && options.chunkSize > 0)) {
      throw new UsageError(`chunkSize must be a positive integer (got ${options.chunkSize})`, 'SPED_WRITER_OPTION');
    }
    this.out = output;
    this.replace = options.replace ?? false;
    this.chunkSize = options.chunkSize ?? 1 << 16;
    if (options.encoding !== undefined && !SPED_OUTPUT_ENCODINGS.includes(options.encoding)) {
      throw new UsageError(`encoding must be one of ${SPED_OUTPUT_ENCODINGS.join(', ')} (got '${options.encoding}')`, 'SPED_WRITER_OPTION');
    }
    if (options.lineEnd !== undefined && !SPED_LINE_ENDS.includes(options.lineEnd)) {
      throw new UsageError(`lineEnd must be one of ${SPED_LINE_ENDS.join(', ')} (got '${options.lineEnd}')`, 'SPED_WRITER_OPTION');
    }
    this.utf8 = options.encoding === 'utf-8';
    this.eol = options.lineEnd === 'lf' ? '\n' : '\r\n';
    this.version = options.version ?? null;
    this.fixedVersion = options.version !== undefined;
    if (options.layout) this.useLayout(loadLayout(options.layout));
    output.on('error', (err) => {
      this.failure ??= err;
    });
  }

  get layout(): Layout | null {
    return this.layoutObj;
  }

  /** The output encoding. */
  get encoding(): SpedOutputEncoding {
    return this.utf8 ? 'utf-8' : 'windows-1252';
  }

  /**
   * Changes the output encoding of what is not written yet: for a copy that keeps its input's encoding, which the
   * reader decides at the first non-ASCII line (every line before it is ASCII, the same in both encodings).
   */
  set encoding(value: SpedOutputEncoding) {
    if (!SPED_OUTPUT_ENCODINGS.includes(value)) throw new UsageError(`encoding must be one of ${SPED_OUTPUT_ENCODINGS.join(', ')} (got '${value}')`, 'SPED_WRITER_OPTION');
    this.utf8 = value === 'utf-8';
  }

  /** Lines written so far (including regenerated ones). */
  get lineCount(): number {
    return this.lines;
  }

  private useLayout(layout: Layout): void {
    this.layoutObj = layout;
    this.blockOrder = layout.data.blocks.map((b) => b.block);
    this.blockIdx = new Map(this.blockOrder.map((b, i) => [b, i]));
    const rule = layout.data.version;
    this.versionPos = layout.register(rule.register)?.fields.find((f) => f.name === rule.field)?.pos ?? 0;
    this.versionPad = rule.pad ?? 0;
  }

  /**
   * Writes one record: REG and its fields (after REG) by position or by name. Returns a promise when the
   * output asks to wait (backpressure); `await w.write(…)` is always correct.
   */
  write(register: string, values: SpedValues, options: SpedWriteOptions = {}): Promise<void> | void {
    this.ensureOpen();
    this.records++;
    if (!REGISTER.test(register)) {
      throw this.error('SPED_WRITE_REGISTER', options.line, `'${register}' is not a register code (4 characters 0-9/A-Z)`);
    }
    if (!this.layoutObj) this.detect(register, values, options.line);
    const fields = this.fieldsOf(register, values, options);
    return this.put(fields, options.line);
  }

  /** Writes a record given as raw strings with REG first (`SpedRecord.fields`). */
  writeFields(fields: readonly string[], line?: number): Promise<void> | void {
    this.ensureOpen();
    this.records++;
    const register = fields[0] ?? '';
    if (!REGISTER.test(register)) {
      throw this.error('SPED_WRITE_REGISTER', line, `'${register}' is not a register code (4 characters 0-9/A-Z)`);
    }
    if (!this.layoutObj) this.detect(register, fields.slice(1), line);
    return this.put(fields.slice(), line);
  }

  /** Writes a record read by the reader, keeping its raw strings. */
  writeRecord(record: SpedRecord): Promise<void> | void {
    return this.writeFields(record.fields, record.line);
  }

  /** Bytes handed to the output so far. */
  get bytesWritten(): number {
    return this.bytes;
  }

  /** Hands what is pending to the output (and waits for its drain when it asks to): then `bytesWritten` is all of it. */
  async flushPending(): Promise<void> {
    this.ensureOpen();
    await this.flush();
  }

  /**
   * The writer's state for a resumable run (checkpoint.ts), after `flushPending()`: a writer restored from it
   * writes what this one would have written from here on.
   */
  snapshot(): SpedWriterState {
    if (this.pending.length > 0) throw new UsageError('snapshot() needs the pending output flushed first (flushPending())', 'SPED_WRITER_STATE');
    return {
      layout: this.layoutObj?.id ?? null,
      version: this.version,
      utf8: this.utf8,
      listed: [...this.listed],
      cur: this.cur,
      curLines: this.curLines,
      openerPending: this.openerPending,
      bytes: this.bytes,
      lines: this.lines,
      counts: [...this.counts],
      replaced: this.replaced,
      regenerated: this.regenerated,
      records: this.records,
    };
  }

  /** Continues from a snapshot (a new writer, made with the same options, on an output that holds its bytes). */
  restore(state: SpedWriterState): void {
    if (this.records > 0 || this.lines > 0) throw new UsageError('restore() needs a new writer', 'SPED_WRITER_STATE');
    if (state.layout !== null && this.layoutObj?.id !== state.layout) this.useLayout(loadLayout(state.layout));
    this.version = state.version;
    this.utf8 = state.utf8;
    for (const reg of state.listed) this.listed.add(reg);
    this.cur = state.cur;
    this.curLines = state.curLines;
    this.openerPending = state.openerPending;
    this.bytes = state.bytes;
    this.lines = state.lines;
    for (const [reg, n] of state.counts) this.counts.set(reg, n);
    this.replaced = state.replaced;
    this.regenerated = state.regenerated;
    this.records = state.records;
  }

  /**
   * Closes the last block, adds the required empty blocks after it and block 9, and flushes. Does not end the
   * output stream (the caller owns it).
   */
  async finish(): Promise<SpedWriteSummary> {
    this.ensureOpen();
    if (!this.layoutObj || this.cur < 0) {
      throw new InvalidInputError('SPED_WRITE_EMPTY', 'nothing to write: no 0000 record was given', null);
    }
    this.finished = true;
    const last = this.blockOrder.length - 1; // block 9
    this.moveTo(last, false);
    const layout = this.layoutObj;
    // every register so far, plus 9900, 9990 and 9999
    const entries = new Map([...this.counts].map(([reg, n]) => [reg, String(n)]));
    entries.set('9900', String(this.counts.size + 3));
    entries.set('9990', '1');
    entries.set('9999', '1');
    for (const reg of this.listOrder(entries)) {
      this.emit(['9900', reg, entries.get(reg)!]);
      if (this.pending.length >= this.chunkSize) await this.flush();
    }
    this.emit(['9990', String(this.curLines + 2)]);
    this.emit(['9999', String(this.lines + 1)]);
    await this.flush();
    return {
      layout: layout.id,
      version: this.version,
      lines: this.lines,
      bytes: this.bytes,
      registers: new Map(this.counts),
      replaced: this.replaced,
      regenerated: this.regenerated,
    };
  }

  /**
   * The order of the 9900 list: the incoming 9900 lines' order for the registers the file has, then the others in
   * order of first appearance (9900, 9990 and 9999 last).
   */
  private listOrder(entries: ReadonlyMap<string, string>): string[] {
    const order = [...this.listed].filter((reg) => entries.has(reg));
    const taken = new Set(order);
    for (const reg of entries.keys()) if (!taken.has(reg)) order.push(reg);
    return order;
  }

  private ensureOpen(): void {
    if (this.failure) throw this.failure;
    if (this.finished) throw new UsageError('the writer is finished; no more records can be written', 'SPED_WRITER_CLOSED');
  }

  private error(code: string, line: number | undefined, message: string): InvalidInputError {
    const where = line !== undefined ? `line ${line}` : `record ${this.records}`;
    return new InvalidInputError(code, `${where}: ${message}`, line ?? null);
  }

  /** Picks the layout from the first record (which must be 0000). */
  private detect(register: string, values: SpedValues, line: number | undefined): void {
    if (register !== '0000') {
      throw this.error('SPED_WRITE_FIRST', line, `the first record must be 0000 (got ${register})`);
    }
    for (const id of LAYOUT_IDS) {
      const layout = loadLayout(id);
      let raw: string[];
      try {
        raw = ['0000', ...this.format(layout, '0000', values, { line, pad: false })];
      } catch {
        continue; // names of another layout
      }
      if (detectLayout(raw) === id) {
        this.useLayout(layout);
        return;
      }
    }
    throw this.error('SPED_WRITE_LAYOUT', line, 'cannot tell the layout from this 0000 record (pass the layout explicitly)');
  }

  private fieldsOf(register: string, values: SpedValues, options: SpedWriteOptions): string[] {
    return [register, ...this.format(this.layoutObj!, register, values, options)];
  }

  /** Raw strings for the fields after REG. */
  private format(layout: Layout, register: string, values: SpedValues, options: SpedWriteOptions): string[] {
    const defs = layout.fieldsFor(register, this.version);
    const out: string[] = [];
    if (isArray(values)) {
      for (let i = 0; i < values.length; i++) out.push(this.formatValue(values[i], defs?.[i + 1], register, i + 2, options.line));
      return out;
    }
    for (const [key, value] of Object.entries(values)) {
      const pos = positionOf(key, defs);
      if (pos === undefined || pos < 2) {
        throw this.error('SPED_WRITE_FIELD', options.line, `${register}: unknown field '${key}' for layout ${layout.id}${this.version ? ` ${this.version}` : ''}`);
      }
      while (out.length < pos - 1) out.push('');
      out[pos - 2] = this.formatValue(value, defs?.[pos - 1], register, pos, options.line);
    }
    if ((options.pad ?? true) && defs) while (out.length < defs.length - 1) out.push('');
    return out;
  }

  private formatValue(value: SpedValue, def: FieldDef | undefined, register: string, pos: number, line: number | undefined): string {
    if (value === null || value === undefined) return '';
    if (typeof value === 'string') {
      if (def?.format === 'date' && ISO_DATE.test(value)) return formatSpedDate(value);
      return value;
    }
    if (value instanceof Decimal) return value.format(',', def?.decimals ?? value.scale);
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) throw this.error('SPED_WRITE_VALUE', line, `${register} ${fieldName(def, pos)}: invalid Date`);
      const dd = formatSpedDate(value);
      return def?.format === 'period' ? dd.slice(2) : dd;
    }
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) {
        throw this.error('SPED_WRITE_VALUE', line, `${register} ${fieldName(def, pos)}: ${value} is not a safe integer (pass decimals as Decimal or string; never binary floats)`);
      }
      return String(value);
    }
    throw this.error('SPED_WRITE_VALUE', line, `${register} ${fieldName(def, pos)}: unsupported value type ${typeof value}`);
  }

  /** Routes a record: regenerated ones are dropped, block changes emit closers, openers and empty blocks. */
  private put(fields: string[], line: number | undefined): Promise<void> | void {
    const layout = this.layoutObj!;
    const register = fields[0]!;
    const block = layout.register(register)?.block ?? register[0]!;
    const target = this.blockIdx.get(block);
    if (target === undefined) {
      throw this.error('SPED_WRITE_REGISTER', line, `${register}: block '${block}' does not exist in layout ${layout.id}`);
    }
    if (this.cur < 0) {
      if (register !== '0000') throw this.error('SPED_WRITE_FIRST', line, `the first record must be 0000 (got ${register})`);
    } else if (register === '0000') {
      throw this.error('SPED_WRITE_ORDER', line, '0000 appears twice (it must be the first record and only once)');
    }
    if (target === this.blockOrder.length - 1 || isBlockControl(register, block)) {
      this.regenerated++;
      if (register === '9900' && fields[1]) this.listed.add(fields[1]);
      // an X001 keeps its block, even an optional one left empty: opened now, its IND_MOV told by what follows
      else if (this.cur >= 0 && target > this.cur && target < this.blockOrder.length - 1 && register === `${block}001`) this.moveTo(target, false, true);
      return;
    }
    if (target < this.cur) {
      throw this.error('SPED_WRITE_ORDER', line, `${register} (block ${block}) comes after block ${this.blockOrder[this.cur]}: records must arrive in block order`);
    }
    this.check(fields, line);
    if (register === layout.data.version.register && this.versionPos > 0) this.takeVersion(fields);
    if (this.cur < 0) {
      this.cur = 0;
      this.curLines = 0;
      this.emit(fields);
      this.openerPending = true;
    } else {
      this.moveTo(target, true);
      this.emit(fields);
    }
    if (this.pending.length >= this.chunkSize) return this.flush();
  }

  /** Checks (or, with `replace`, repairs) each field: no `|`, no line break, Windows-1252 only. */
  private check(fields: string[], line: number | undefined): void {
    for (let i = 1; i < fields.length; i++) {
      const v = fields[i]!;
      if (!SUSPECT.test(v)) continue;
      const normalized = this.utf8 ? v : normalizeForCp1252(v);
      const problem = checkField(normalized);
      if (!problem || (this.utf8 && problem.problem === 'unencodable')) {
        fields[i] = normalized;
        continue;
      }
      if (this.replace) {
        fields[i] = this.utf8 ? v.replace(/\r\n|[\r\n]/g, ' ').replace(/\|/g, '/') : replaceField(v);
        this.replaced++;
        continue;
      }
      const register = fields[0]!;
      const def = this.layoutObj!.fieldsFor(register, this.version)?.[i];
      const what =
        problem.problem === 'pipe' ? "contains '|' (the field separator)"
        : problem.problem === 'line-break' ? `contains a line break (${problem.char})`
        : `has ${problem.char}, which Windows-1252 cannot encode`;
      throw this.error('SPED_WRITE_VALUE', line, `${register} ${fieldName(def, i + 1)}: value ${what} at character ${problem.index + 1} (use --replace / replace: true to substitute)`);
    }
  }

  private takeVersion(fields: string[]): void {
    const i = this.versionPos - 1;
    const raw = fields[i];
    if (raw === undefined) return;
    if (this.versionPad > 0 && /^\d+$/.test(raw) && raw.length < this.versionPad) fields[i] = raw.padStart(this.versionPad, '0');
    if (!this.fixedVersion && this.version === null && fields[i]) this.version = fields[i]!;
  }

  /**
   * Closes the open block, writes the required empty blocks in between and opens `target` (`pending`: its X001
   * waits for the next record, which tells whether the block has data).
   */
  private moveTo(target: number, withData: boolean, pending = false): void {
    if (target === this.cur) {
      if (this.openerPending) this.openBlock(this.cur, withData);
      return;
    }
    if (this.openerPending) this.openBlock(this.cur, false);
    this.closeBlock();
    const required = new Set(this.layoutObj!.blocksFor(this.version).filter((b) => !b.optional).map((b) => b.block));
    for (let b = this.cur + 1; b < target; b++) {
      if (!required.has(this.blockOrder[b]!)) continue;
      this.cur = b;
      this.curLines = 0;
      this.openBlock(b, false);
      this.closeBlock();
    }
    this.cur = target;
    this.curLines = 0;
    if (pending) this.openerPending = true;
    else this.openBlock(target, withData || target === this.blockOrder.length - 1);
  }

  private openBlock(index: number, withData: boolean): void {
    this.openerPending = false;
    this.emit([`${this.blockOrder[index]}001`, withData ? '0' : '1']);
  }

  private closeBlock(): void {
    this.emit([`${this.blockOrder[this.cur]}990`, String(this.curLines + 1)]);
  }

  /** Appends a checked line to the pending chunk and counts it. */
  private emit(fields: readonly string[]): void {
    const text = `|${fields.join('|')}|${this.eol}`;
    if (this.pendingAscii && NON_ASCII.test(text)) this.pendingAscii = false;
    this.pending += text;
    this.lines++;
    this.curLines++;
    const reg = fields[0]!;
    this.counts.set(reg, (this.counts.get(reg) ?? 0) + 1);
  }

  private flush(): Promise<void> | void {
    if (this.pending.length === 0) return;
    const buf = this.pendingAscii ? Buffer.from(this.pending, 'latin1') : this.utf8 ? Buffer.from(this.pending, 'utf8') : encodeCp1252(this.pending);
    this.pending = '';
    this.pendingAscii = true;
    this.bytes += buf.length;
    if (this.failure) throw this.failure;
    if (!this.out.write(buf)) return waitDrain(this.out);
  }
}

/** Creates a writer (same as `new SpedWriter(output, options)`). */
export function createSpedWriter(output: Writable, options: SpedWriterOptions = {}): SpedWriter {
  return new SpedWriter(output, options);
}

/** True for X001 and X990 of a block (regenerated by the writer). */
export function isBlockControl(register: string, block: string): boolean {
  return register[0] === block && (register.endsWith('001') || register.endsWith('990'));
}

/** Resolves `NAME`, `NAME#POS` or `#POS` to a 1-based position. */
function positionOf(key: string, defs: readonly FieldDef[] | undefined): number | undefined {
  const hash = key.lastIndexOf('#');
  if (hash !== -1) {
    const pos = Number(key.slice(hash + 1));
    return Number.isInteger(pos) && pos > 0 ? pos : undefined;
  }
  return defs?.find((f) => f.name === key)?.pos;
}

function fieldName(def: FieldDef | undefined, pos: number): string {
  return `${def?.name ?? ''}#${pos}`;
}

function isArray(values: SpedValues): values is readonly SpedValue[] {
  return Array.isArray(values);
}
