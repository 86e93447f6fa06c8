/**
 * SPED → JSON Lines on bytes. Each line is written straight from the input bytes into an output buffer:
 * `{"line":N,"register":"C170","fields":{"NUM_ITEM":"1",…}}` with the keys of the register (cached per register
 * and version), JSON escapes, and Windows-1252 bytes transcoded to UTF-8 — no string per field, no object per
 * record. The output is byte for byte what `JSON.stringify({line, register, fields: record.toObject()})` gives
 * (tested against it). Lines it cannot take on bytes (0000, the version register, non-ASCII text in a UTF-8 file,
 * malformed lines) go through the parser's string path and the same key tables.
 */
import { decodeBytes, type SpedEncoding } from './scanner.js';
import { SpedRecord } from './record.js';
import type { SpedParser } from './reader.js';

const PIPE = 124;
const QUOTE = 34;
const BACKSLASH = 92;

/** UTF-8 bytes of each Windows-1252 byte 0x80–0xFF (as `decodeBytes` decodes them). */
const CP1252_UTF8: Buffer[] = [];
for (let b = 0x80; b <= 0xff; b++) {
  CP1252_UTF8[b] = Buffer.from(decodeBytes(Buffer.from([b]), 0, 1, 'windows-1252'), 'utf8');
}

/** JSON.stringify's escape for a control character. */
const CONTROL_ESCAPES: Buffer[] = [];
for (let b = 0; b < 0x20; b++) CONTROL_ESCAPES[b] = Buffer.from(JSON.stringify(String.fromCharCode(b)).slice(1, -1), 'latin1');

const NEEDS_ESCAPE = /["\\\x00-\x1f]/;

/** The keys of a register's fields (`,"NAME":` by position; the first without the comma), built lazily. */
class KeyTable {
  private readonly keys: Buffer[] = [];
  /** `,"register":"C170","fields":{` — what follows the line number. */
  readonly head: Buffer;

  constructor(register: string, private readonly defs: SpedRecord['defs']) {
    this.head = Buffer.from(`,"register":${NEEDS_ESCAPE.test(register) ? JSON.stringify(register) : `"${register}"`},"fields":{`, 'utf8');
  }

  /** Key of the field at 1-based position `pos` (pos ≥ 2), named as SpedRecord.toObject names it. */
  at(pos: number): Buffer {
    let k = this.keys[pos];
    if (k === undefined) {
      const names = Object.keys(new SpedRecord(0, 0, new Array<string>(pos).fill(''), this.defs).toObject());
      for (let p = 2; p <= pos; p++) {
        this.keys[p] ??= Buffer.from(`${p === 2 ? '' : ','}${JSON.stringify(names[p - 2])}:`, 'utf8');
      }
      k = this.keys[pos]!;
    }
    return k;
  }
}

const LINE_OPEN = Buffer.from('{"line":', 'latin1');

/** Writes JSON lines into a reused buffer; `take()` hands a copy of the bytes written so far to the caller. */
export class JsonlBytes {
  private out: Buffer;
  private pos = 0;
  /** Key tables by register: as text for the string path, as the integer of its 4 bytes for the byte path. */
  private readonly byName = new Map<string, KeyTable>();
  private readonly byCode = new Map<number, KeyTable>();
  private version: string | null = null;

  /** `initialBytes`: the working buffer's first size (default 1 MiB; a byte range sizes it for its whole output). */
  constructor(private readonly parser: SpedParser, initialBytes = 1 << 20) {
    this.out = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.pos;
  }

  /** A copy of the bytes written since the last call; the working buffer is reused. */
  take(): Buffer {
    const done = Buffer.from(this.out.subarray(0, this.pos));
    this.pos = 0;
    return done;
  }

  /** The bytes written since the last call, without a copy: the working buffer goes with them (a new one is made). */
  detach(): Buffer {
    const done = this.out.subarray(0, this.pos);
    this.out = Buffer.allocUnsafe(0);
    this.pos = 0;
    return done;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.pos + extra, 1 << 16));
    this.out.copy(bigger, 0, 0, this.pos);
    this.out = bigger;
  }

  /** Key tables are per version (ECD's version arrives with I010, after some records). */
  private syncVersion(): void {
    if (this.parser.info.version === this.version) return;
    this.version = this.parser.info.version;
    this.byName.clear();
    this.byCode.clear();
  }

  private tableOf(register: string): KeyTable {
    this.syncVersion();
    let t = this.byName.get(register);
    if (!t) {
      t = new KeyTable(register, this.parser.defsFor(register));
      this.byName.set(register, t);
    }
    return t;
  }

  /** The table of the register whose 4 bytes at `src[at..at+4)` make `code`. */
  private tableOfCode(code: number, src: Buffer, at: number): KeyTable {
    this.syncVersion();
    let t = this.byCode.get(code);
    if (!t) {
      const register = src.toString('latin1', at, at + 4);
      t = new KeyTable(register, this.parser.defsFor(register));
      this.byCode.set(code, t);
    }
    return t;
  }

  private head(table: KeyTable, line: number): void {
    this.ensure(LINE_OPEN.length + 16 + table.head.length);
    this.pos += LINE_OPEN.copy(this.out, this.pos);
    this.pos += this.out.write(String(line), this.pos, 'latin1');
    this.pos += table.head.copy(this.out, this.pos);
  }

  /**
   * Writes a line from its bytes; false (nothing written) when the string path must take it: the parser still
   * detects layout and version from 0000 / the version register, and reports malformed lines.
   */
  line(src: Buffer, start: number, end: number, line: number): boolean {
    const layout = this.parser.layout;
    const encoding: SpedEncoding = this.parser.scanner.encoding;
    if (layout === null || end - start < 7 || src[start] !== PIPE || src[end - 1] !== PIPE || src[start + 5] !== PIPE) return false;
    let code = 0;
    for (let i = start + 1; i < start + 5; i++) {
      const b = src[i]!;
      if (!((b >= 48 && b <= 57) || (b >= 65 && b <= 90))) return false;
      code = code * 256 + b;
    }
    if (code === 0x30303030 /* 0000 */) return false;
    const versionRegister = layout.data.version.register;
    if (this.parser.info.version === null && code === registerCode(versionRegister)) return false;
    const mark = this.pos;
    const keys = this.tableOfCode(code, src, start + 1);
    this.head(keys, line);
    let pos = 2;
    let i = start + 6;
    while (i < end) {
      const key = keys.at(pos++);
      // the line ends with a pipe, so one is always found before `end`
      const fieldEnd = src.indexOf(PIPE, i);
      // worst case: every byte becomes a 6-byte escape
      this.ensure(key.length + (fieldEnd - i) * 6 + 8);
      const out = this.out;
      let o = this.pos;
      o += key.copy(out, o);
      out[o++] = QUOTE;
      for (; i < fieldEnd; i++) {
        const b = src[i]!;
        if (b >= 0x20 && b < 0x80) {
          if (b === QUOTE || b === BACKSLASH) out[o++] = BACKSLASH;
          out[o++] = b;
        } else if (b < 0x20) {
          o += CONTROL_ESCAPES[b]!.copy(out, o);
        } else if (encoding === 'utf-8') {
          this.pos = mark; // non-ASCII text in a UTF-8 file: let the decoder judge it
          return false;
        } else {
          o += CP1252_UTF8[b]!.copy(out, o);
        }
      }
      out[o++] = QUOTE;
      this.pos = o;
      i = fieldEnd + 1;
    }
    this.close();
    return true;
  }

  /** Writes a record that came through the string path. */
  record(fields: readonly string[], line: number): void {
    const keys = this.tableOf(fields[0]!);
    this.head(keys, line);
    for (let p = 2; p <= fields.length; p++) {
      const key = keys.at(p);
      const v = fields[p - 1]!;
      this.ensure(key.length + v.length * 6 + 2);
      this.pos += key.copy(this.out, this.pos);
      this.pos += this.out.write(NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`, this.pos, 'utf8');
    }
    this.close();
  }

  private close(): void {
    this.ensure(3);
    this.out[this.pos++] = 125; // }
    this.out[this.pos++] = 125;
    this.out[this.pos++] = 10;
  }
}

/** The 4 bytes of a register code as one integer. */
function registerCode(register: string): number {
  let code = 0;
  for (let i = 0; i < 4; i++) code = code * 256 + register.charCodeAt(i);
  return code;
}
