/**
 * The keys of a reference target (the COD_ITEM of every 0200, the UNID of every 0190, …), kept and looked up on
 * their bytes: an open-addressing hash table over one byte arena, no string per value and no Set of strings. A
 * lookup costs one hash and one compare of the value's bytes, whatever the number of distinct codes (the table
 * doubles when half full); memory is the distinct codes' bytes plus a few integers each.
 *
 * Keys compare as the text the string path would decode (`decodeBytes` with the file's encoding), held in one
 * canonical form: its UTF-8 bytes. An ASCII value is its own canonical form, so the byte path hashes the line's
 * bytes in place; a value with bytes beyond ASCII (Latin-1 accents) is decoded and encoded once, so a Windows-1252
 * file and a UTF-8 file give the same keys, and the byte path and the string path agree.
 *
 * `ignoreCase` (a reference rule's `match: "ignore-case"`): letters compare without case — ASCII a-z and the
 * Latin-1 letters à-þ (not ÷) fold to their capitals, nothing else (no locale, no ß → SS).
 */
import { decodeBytes, type SpedEncoding } from './scanner.js';

const EMPTY = 0;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const LOWER_LATIN1 = /[a-z\u00e0-\u00f6\u00f8-\u00fe]/g;

/** The canonical text of a value under `ignoreCase`: a-z and à-þ (not ÷) as capitals. */
export function foldCase(text: string): string {
  LOWER_LATIN1.lastIndex = 0;
  return LOWER_LATIN1.test(text) ? text.replace(LOWER_LATIN1, (c) => String.fromCharCode(c.charCodeAt(0) - 32)) : text;
}

/**
 * The hash of canonical bytes `buf[s..e)` (ASCII a-z folded when `ignoreCase`): FNV-1a and a final mix. Exported
 * for the tests, which look for values that share it.
 */
export function codeHash(buf: Uint8Array, s: number, e: number, ignoreCase: boolean): number {
  let h = FNV_OFFSET;
  for (let p = s; p < e; p++) {
    let c = buf[p]!;
    if (ignoreCase && c >= 97 && c <= 122) c -= 32;
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return mix(h);
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h;
}

/** A CodeSet as plain data, for another thread (`CodeSet.export` / `CodeSet.restore`). */
export interface CodeSetData {
  ignoreCase: boolean;
  size: number;
  used: number;
  table: Int32Array;
  hashes: Int32Array;
  starts: Int32Array;
  lengths: Int32Array;
  arena: Uint8Array;
}

export class CodeSet {
  /** Slot → entry index + 1 (0: empty); its length a power of two, at most half full. */
  private table = new Int32Array(64);
  /** Per entry: its hash, and its canonical bytes as arena[start .. start + length). */
  private hashes: Int32Array<ArrayBuffer> = new Int32Array(32);
  private starts: Int32Array<ArrayBuffer> = new Int32Array(32);
  private lengths: Int32Array<ArrayBuffer> = new Int32Array(32);
  private arena = new Uint8Array(4096);
  private used = 0;
  private scratch = Buffer.alloc(64);
  /** The entry `hasBytes` found last (-1: none yet). */
  private last = -1;
  /** Distinct keys held. */
  size = 0;

  constructor(readonly ignoreCase = false) {}

  /** True when the value `buf[s..e)`, in the file's encoding, is a key. */
  hasBytes(buf: Uint8Array, s: number, e: number, encoding: SpedEncoding): boolean {
    // the key found last, first: consecutive records often name the same unit, participant or item
    const last = this.last;
    if (last >= 0 && this.lengths[last] === e - s && this.sameAt(last, buf, s, e)) return true;
    // hash and ASCII test in one loop: an ASCII value is its own canonical form
    const fold = this.ignoreCase;
    let h = FNV_OFFSET;
    let high = 0;
    for (let p = s; p < e; p++) {
      let c = buf[p]!;
      high |= c;
      if (fold && c >= 97 && c <= 122) c -= 32;
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    if (high >= 0x80) return this.hasText(decodeBytes(buf as Buffer, s, e, encoding));
    const entry = this.find(buf, s, e, mix(h));
    if (entry < 0) return false;
    this.last = entry;
    return true;
  }

  /** True when the text (as the string path decodes it) is a key. */
  hasText(text: string): boolean {
    const n = this.canonical(text);
    return this.find(this.scratch, 0, n, codeHash(this.scratch, 0, n, this.ignoreCase)) >= 0;
  }

  /** Adds the value `buf[s..e)`, in the file's encoding. */
  addBytes(buf: Uint8Array, s: number, e: number, encoding: SpedEncoding): void {
    for (let p = s; p < e; p++) {
      if (buf[p]! >= 0x80) {
        this.addText(decodeBytes(buf as Buffer, s, e, encoding));
        return;
      }
    }
    this.insert(buf, s, e);
  }

  /** Adds the text (as the string path decodes it). */
  addText(text: string): void {
    const n = this.canonical(text);
    this.insert(this.scratch, 0, n);
  }

  /** The set as plain data (typed arrays, structured-cloneable): `CodeSet.restore` makes an equal set from it. */
  export(): CodeSetData {
    return {
      ignoreCase: this.ignoreCase, size: this.size, used: this.used, table: this.table.slice(),
      hashes: this.hashes.slice(0, this.size), starts: this.starts.slice(0, this.size), lengths: this.lengths.slice(0, this.size),
      arena: this.arena.slice(0, this.used),
    };
  }

  static restore(data: CodeSetData): CodeSet {
    const set = new CodeSet(data.ignoreCase);
    set.table = data.table.slice();
    set.hashes = resized(data.hashes, Math.max(32, data.size * 2));
    set.starts = resized(data.starts, Math.max(32, data.size * 2));
    set.lengths = resized(data.lengths, Math.max(32, data.size * 2));
    set.arena = new Uint8Array(Math.max(4096, data.used * 2));
    set.arena.set(data.arena);
    set.used = data.used;
    set.size = data.size;
    return set;
  }

  /** The canonical bytes of the keys added after the first `from` (keys are kept in the order added). */
  keysSince(from: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let entry = from; entry < this.size; entry++) out.push(this.arena.slice(this.starts[entry]!, this.starts[entry]! + this.lengths[entry]!));
    return out;
  }

  /** Adds a key given as canonical bytes (from `keysSince` of a set with the same `ignoreCase`). */
  addCanonical(bytes: Uint8Array): void {
    this.insert(bytes, 0, bytes.length);
  }

  /** The canonical bytes of a text into `scratch` (folded when `ignoreCase`); their count. */
  private canonical(text: string): number {
    const t = this.ignoreCase ? foldCase(text) : text;
    if (this.scratch.length < t.length * 3) this.scratch = Buffer.alloc(t.length * 3);
    return this.scratch.write(t, 0, 'utf8');
  }

  /** The entry holding canonical bytes `buf[s..e)` with hash `h`, or -1. */
  private find(buf: Uint8Array, s: number, e: number, h: number): number {
    const table = this.table;
    const mask = table.length - 1;
    const len = e - s;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const idx = table[slot]!;
      if (idx === EMPTY) return -1;
      const entry = idx - 1;
      if (this.hashes[entry] === h && this.lengths[entry] === len && this.sameAt(entry, buf, s, e)) return entry;
    }
  }

  /** True when entry's bytes are `buf[s..e)` (folded when `ignoreCase`), the lengths being equal. */
  private sameAt(entry: number, buf: Uint8Array, s: number, e: number): boolean {
    const arena = this.arena;
    const fold = this.ignoreCase;
    for (let p = s, a = this.starts[entry]!; p < e; p++, a++) {
      let c = buf[p]!;
      if (fold && c >= 97 && c <= 122) c -= 32;
      if (arena[a] !== c) return false;
    }
    return true;
  }

  /** Adds canonical bytes `buf[s..e)` unless present (stored folded when `ignoreCase`). */
  private insert(buf: Uint8Array, s: number, e: number): void {
    const h = codeHash(buf, s, e, this.ignoreCase);
    if (this.find(buf, s, e, h) >= 0) return;
    const len = e - s;
    if ((this.size + 1) * 2 > this.table.length) this.grow();
    if (this.size === this.hashes.length) {
      this.hashes = resized(this.hashes, this.size * 2);
      this.starts = resized(this.starts, this.size * 2);
      this.lengths = resized(this.lengths, this.size * 2);
    }
    if (this.used + len > this.arena.length) {
      const arena = new Uint8Array(Math.max(this.arena.length * 2, this.used + len));
      arena.set(this.arena.subarray(0, this.used));
      this.arena = arena;
    }
    const start = this.used;
    for (let p = s, a = start; p < e; p++, a++) {
      const c = buf[p]!;
      this.arena[a] = this.ignoreCase && c >= 97 && c <= 122 ? c - 32 : c;
    }
    this.used += len;
    const entry = this.size++;
    this.hashes[entry] = h;
    this.starts[entry] = start;
    this.lengths[entry] = len;
    this.place(entry);
  }

  private place(entry: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let slot = this.hashes[entry]! & mask;
    while (table[slot] !== EMPTY) slot = (slot + 1) & mask;
    table[slot] = entry + 1;
  }

  private grow(): void {
    this.table = new Int32Array(this.table.length * 2);
    for (let entry = 0; entry < this.size; entry++) this.place(entry);
  }
}

function resized(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
