/**
 * The validator's byte path: prove a line clean on its bytes, without decoding it or splitting it into strings.
 * A register's field list is compiled once into per-field byte checks (kind bits and bounds in typed arrays, one
 * switch-free loop, no closure per field). `true` from `RegisterCheck.check` means the string path's field checks
 * (`FieldChecker.check` / `checkValue`, field-validation.ts) would report nothing for this line; `false` is not a
 * finding, only "not provably clean": the line then goes down the string path, which produces the findings.
 * Anything unusual answers false (wrong field count, a required field empty, a forbidden field filled, non-ASCII
 * bytes in a UTF-8 file, …).
 *
 * `RecordFields` is how the validator's state logic (structure, totals, references, consistency) reads a record:
 * a string array on the string path, byte ranges decoded on demand on the byte path, so both paths share one
 * implementation of those rules.
 */
import { isValidCnpj, isValidCpf } from '../common/check-digits.js';
import type { RegisterExceptions } from './exceptions.js';
import type { FieldDef, RegisterDef } from './layout.js';
import type { CodeSet } from './code-set.js';
import type { ExactSum } from './exact-sum.js';
import { groupKey, groupKeyOfText } from './doc-sums.js';
import { decodeBytes, type SpedEncoding } from './scanner.js';

const PIPE = 124;
/** Fields up to this many bytes are served from the string cache. */
const INTERN_MAX = 24;
const INTERN_SLOTS = 4096;

/** A record's fields, from a string array or from a line's bytes (decoded only where read). */
export class RecordFields {
  private arr: readonly string[] | null = null;
  private buf: Buffer = Buffer.alloc(0);
  /** Field i is the bytes [bounds[i], bounds[i + 1] - 1): bounds[i + 1] - 1 is its closing pipe. */
  bounds = new Int32Array(64);
  /** Byte path: a decimal field's value as units × 10^-scales[i], read by the scan; scales[i] -1 when not read. */
  units = new Float64Array(64);
  scales = new Int8Array(64);
  count = 0;
  private encoding: SpedEncoding = 'ascii';

  /** String path: the record's field strings. */
  setArray(fields: readonly string[]): void {
    this.arr = fields;
    this.count = fields.length;
  }

  /** Byte path: `bounds[0..count]` already filled by `RegisterCheck.check`. */
  setBytes(buf: Buffer, count: number, encoding: SpedEncoding): void {
    this.arr = null;
    this.buf = buf;
    this.count = count;
    this.encoding = encoding;
  }

  /** Makes the per-field arrays hold at least `fields` + 1 entries (a line with more fields than they hold). */
  reserve(fields: number): void {
    if (fields < this.bounds.length) return;
    let n = this.bounds.length * 2;
    while (n <= fields) n *= 2;
    const bounds = new Int32Array(n);
    bounds.set(this.bounds);
    this.bounds = bounds;
    const units = new Float64Array(n);
    units.set(this.units);
    this.units = units;
    const scales = new Int8Array(n);
    scales.set(this.scales);
    this.scales = scales;
  }

  get length(): number {
    return this.count;
  }

  /** Field i (0 = REG) as the string path would have it; undefined past the last field. */
  get(i: number): string | undefined {
    if (this.arr !== null) return this.arr[i];
    if (i >= this.count) return undefined;
    const s = this.bounds[i]!;
    const e = this.bounds[i + 1]! - 1;
    return e - s <= INTERN_MAX ? this.interned(s, e) : decodeBytes(this.buf, s, e, this.encoding);
  }

  /** Adds field i to a sum (`ExactSum.addText` of the field, read on the bytes on the byte path). */
  addTo(sum: ExactSum, i: number): void {
    if (this.arr !== null) sum.addText(this.arr[i]);
    else if (i < this.count) {
      // the value the scan read, unless it did not (not a decimal field, over 15 digits) or the sum is past doubles
      const scale = this.scales[i]!;
      if (scale < 0 || !sum.addScaled(this.units[i]!, scale)) sum.addBytes(this.buf, this.bounds[i]!, this.bounds[i + 1]! - 1);
    }
  }

  /** `groupKey` of field i (a consistency group's key part), read on the bytes on the byte path. */
  groupKey(i: number, decimals: boolean): number {
    if (this.arr !== null) return groupKeyOfText(this.arr[i] ?? '', decimals);
    return i < this.count ? groupKey(this.buf, this.bounds[i]!, this.bounds[i + 1]! - 1, decimals) : 0;
  }

  /** The char code of field i's first character, -1 when it is empty or missing. */
  firstChar(i: number): number {
    if (this.arr !== null) {
      const v = this.arr[i];
      return v ? v.charCodeAt(0) : -1;
    }
    if (i >= this.count) return -1;
    const s = this.bounds[i]!;
    const e = this.bounds[i + 1]! - 1;
    if (s >= e) return -1;
    const c = this.buf[s]!;
    return c < 0x80 ? c : decodeBytes(this.buf, s, e, this.encoding).charCodeAt(0);
  }

  /** True when field i is empty or missing, or its value is in `keys` (a reference's target keys), read on its bytes. */
  isEmptyOrIn(i: number, keys: CodeSet): boolean {
    if (this.arr !== null) {
      const v = this.arr[i];
      return !v || keys.hasText(v);
    }
    if (i >= this.count) return true;
    const s = this.bounds[i]!;
    const e = this.bounds[i + 1]! - 1;
    return s === e || keys.hasBytes(this.buf, s, e, this.encoding);
  }

  /** Adds field i to `keys` (a reference target's key), unless it is empty or missing. */
  addKeyTo(keys: CodeSet, i: number): void {
    if (this.arr !== null) {
      const v = this.arr[i];
      if (v) keys.addText(v);
    } else if (i < this.count) {
      const s = this.bounds[i]!;
      const e = this.bounds[i + 1]! - 1;
      if (s < e) keys.addBytes(this.buf, s, e, this.encoding);
    }
  }

  /**
   * Short fields (codes, CFOPs, rates, units: the values references and groups keep) come from a small
   * direct-mapped cache of strings, so the same few values are not decoded again on every line.
   */
  private interned(s: number, e: number): string {
    const slot = this.internSlot(s, e);
    return slot < 0 ? decodeBytes(this.buf, s, e, this.encoding) : this.cache[slot]!;
  }

  /** The cache slot holding the ASCII text `buf[s..e)` (put there if needed); -1 for bytes beyond ASCII. */
  private internSlot(s: number, e: number): number {
    const buf = this.buf;
    let h = e - s;
    for (let p = s; p < e; p++) {
      const c = buf[p]!;
      if (c >= 0x80) return -1;
      h = Math.imul(h ^ c, 0x01000193);
    }
    const slot = (h ^ (h >>> 15)) & (INTERN_SLOTS - 1);
    const cached = this.cache[slot];
    if (cached !== undefined && cached.length === e - s) {
      let same = true;
      for (let j = 0; j < cached.length && same; j++) same = cached.charCodeAt(j) === buf[s + j];
      if (same) return slot;
    }
    this.cache[slot] = buf.toString('latin1', s, e);
    return slot;
  }

  private readonly cache: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS).fill(undefined);
}

// kind bits of a field check, applied in the order checkValue applies them
const K_IDENT = 1; // cnpj, cpf, cnpj-cpf, cnpj-root, access-key: the identifier check only
const K_DECIMAL = 2; // -?\d+(,\d+)? with at most a decimals, at most b digits
const K_DIGITS = 4; // N without decimals: digits only
const K_SIZE_MAX = 8;
const K_SIZE_EXACT = 16;
const K_DATE = 32;
const K_PERIOD = 64; // mmaaaa
const K_VALUES = 128;
const K_WITHIN = 256; // date inside the file's period
const K_NOT_AFTER = 512; // date not after the end of the file's period

/** The file's period as yyyymmdd numbers (0 when unknown), read by the date checks. */
export interface PeriodWindow {
  start: number;
  end: number;
}

/** The byte checks of one register's field list, compiled once per (register, version). */
export class RegisterCheck {
  readonly def: RegisterDef;
  readonly defs: readonly FieldDef[];
  private readonly n: number;
  private readonly variable: boolean;
  private readonly kind: Uint16Array;
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  private readonly values: (readonly Buffer[] | null)[];
  private readonly formats: (FieldDef['format'] | undefined)[];
  /**
   * Per field, the directions (bit 1: none, 2: entradas, 4: saídas) for which it may not be empty (bits 0-2) and
   * may not be filled (bits 3-5): `scan` ORs in the bits that the line breaks, `clean` tests its direction's bit.
   */
  private readonly reqBits: Uint8Array;
  /** The bits broken by the last scanned line (see `reqBits`). */
  private broken = 0;
  /** The register is not used for entradas / saídas (the string path reports SPED_DIRECTION). */
  private readonly forbiddenIn: boolean;
  private readonly forbiddenOut: boolean;
  /** The Guia's exceptions of the register as bytes (null: none, the common register): see `exceptionBits`. */
  private readonly ex: ByteExceptions | null;
  /** The exceptions the last scanned line matches (bit per rule; 0: none), and its bytes and field bounds to re-check. */
  mask = 0;
  private lastBuf: Buffer = Buffer.alloc(0);
  private lastBounds: Int32Array = new Int32Array(0);

  constructor(def: RegisterDef, defs: readonly FieldDef[], private readonly period: PeriodWindow, exceptions: RegisterExceptions | null = null) {
    this.def = def;
    this.defs = defs;
    const n = defs.length;
    this.n = n;
    this.variable = def.variableFields === true;
    this.kind = new Uint16Array(n);
    this.a = new Int32Array(n);
    this.b = new Int32Array(n);
    this.values = [];
    this.formats = [];
    this.reqBits = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const f = defs[i]!;
      const reqs = [f.required, f.requiredIn ?? f.required, f.requiredOut ?? f.required];
      // field 0 is REG: never judged empty or filled
      for (let d = 0; d < 3 && i > 0; d++) this.reqBits[i]! |= reqs[d] === 'O' ? 1 << d : reqs[d] === 'N' ? 8 << d : 0;
      this.formats.push(f.format);
      this.values.push(f.values ? f.values.map((v) => Buffer.from(v, 'latin1')) : null);
      this.kind[i] = kindOf(f);
      this.a[i] = f.decimals ?? f.size ?? 0;
      this.b[i] = f.decimals !== undefined ? (f.size ?? 0x7fffffff) : 0;
      // a value list with characters beyond ASCII would need the file's decoding to compare: never proved
      if (f.values?.some((v) => /[^\x20-\x7e]/.test(v))) this.kind[i] = 0xffff;
    }
    this.forbiddenIn = defs[0]?.requiredIn === 'N';
    this.forbiddenOut = defs[0]?.requiredOut === 'N';
    this.ex = exceptions === null ? null : new ByteExceptions(exceptions);
  }

  /**
   * One pass over the line `buf[start..end)` (`|REG|…|`, its last byte a pipe): finds the field boundaries into
   * `out.bounds` and checks each non-empty field's content (type, decimals, size, date, values, check digits).
   * Returns the field count, or -1 when a field's content could have a finding or the line has bytes beyond
   * ASCII and `utf8`. Whether a field may be empty or filled depends on the direction: `clean` checks that.
   */
  scan(buf: Buffer, start: number, end: number, utf8: boolean, out: RecordFields): number {
    // a line of L bytes has fewer than L fields: room for all of them up front, no capacity check per field
    out.reserve(end - start);
    const bounds = out.bounds;
    const units = out.units;
    const scales = out.scales;
    const kinds = this.kind;
    const n = this.n;
    const reqBits = this.reqBits;
    let scale = -1;
    let high = 0;
    let broken = 0;
    let count = 0;
    let p = start + 1;
    bounds[0] = p;
    while (p < end) {
      // field `count` starts at p; the pipe at end - 1 stops every loop below
      let q = p;
      let c = buf[q]!;
      if (c === PIPE && count < n) {
        // a run of empty fields (most of a C170's) in one tight loop: only their requirements to check
        do {
          broken |= reqBits[count]! & 7;
          scales[count] = -1;
          bounds[++count] = ++p;
        } while (p < end && count < n && buf[p] === PIPE);
        continue;
      }
      const k = count < n ? kinds[count]! : 0;
      if (k === K_DECIMAL) {
        // -?\d+(,\d+)? with at most a[count] decimals and b[count] digits, read while looking for the pipe
        // and its value as units × 10^-frac, kept for the sums (exact while it has at most 15 digits)
        const negative = c === 45;
        if (negative) c = buf[++q]!;
        const intStart = q;
        let v = 0;
        while (c >= 48 && c <= 57) {
          v = v * 10 + (c - 48);
          c = buf[++q]!;
        }
        const intDigits = q - intStart;
        let frac = 0;
        if (c === 44) {
          const fracStart = ++q;
          c = buf[q]!;
          while (c >= 48 && c <= 57) {
            v = v * 10 + (c - 48);
            c = buf[++q]!;
          }
          frac = q - fracStart;
          if (frac === 0) return -1;
        }
        if (c !== PIPE) return -1;
        if (q > p) {
          if (intDigits === 0 || frac > this.a[count]! || intDigits + frac > this.b[count]!) return -1;
          if (intDigits + frac <= 15) {
            units[count] = negative ? -v : v;
            scale = frac;
          }
        }
      } else {
        while (c !== PIPE) {
          high |= c;
          c = buf[++q]!;
        }
        if (k !== 0 && q > p && !this.field(k, count, buf, p, q)) return -1;
      }
      if (count < n) {
        const bits = reqBits[count]!;
        broken |= q === p ? bits & 7 : bits >> 3;
      }
      scales[count] = scale;
      scale = -1;
      p = q + 1;
      bounds[++count] = p;
    }
    this.broken = broken;
    if (this.ex !== null) {
      // the exceptions the line matches, from the bytes of its COD_SIT, COD_MOD, … (most lines: none)
      this.mask = this.ex.match(buf, bounds, count);
      this.lastBuf = buf;
      this.lastBounds = bounds;
    }
    return high >= 0x80 && utf8 ? -1 : count;
  }

  /**
   * True when the line just scanned (`count` fields) is certainly free of field findings for `direction`: the
   * field count, and each field empty or filled as its requirement allows (the content was checked by `scan`).
   */
  clean(count: number, direction: 'in' | 'out' | null): boolean {
    const n = this.n;
    if (this.variable ? count < n : count !== n) return false;
    if (direction !== null && (direction === 'in' ? this.forbiddenIn : this.forbiddenOut)) return false;
    const bit = direction === 'in' ? 2 : direction === 'out' ? 4 : 1;
    if (this.mask !== 0) return this.ex!.clean(this.mask, this.lastBuf, this.lastBounds, n, bit);
    return (this.broken & bit) === 0;
  }

  /** The field's content (kind `k`, already known non-empty) passes its checks. */
  private field(k: number, i: number, buf: Buffer, s: number, e: number): boolean {
    const len = e - s;
    if (k & K_IDENT) return identifier(this.formats[i], buf, s, e);
    if (k & K_DECIMAL) return decimal(buf, s, e, this.a[i]!, this.b[i]!);
    if (k & K_DIGITS) {
      for (let p = s; p < e; p++) {
        const c = buf[p]!;
        if (c < 48 || c > 57) return false;
      }
    }
    if (k & K_SIZE_MAX) {
      if (len > this.a[i]!) return false;
    } else if (k & K_SIZE_EXACT) {
      if (len !== this.a[i]!) return false;
    }
    if (k & K_DATE) {
      const ymd = dateOf(buf, s, e);
      if (ymd === 0) return false;
      const w = this.period;
      if (w.start !== 0 && w.end !== 0) {
        if (k & K_WITHIN) {
          if (ymd < w.start || ymd > w.end) return false;
        } else if (k & K_NOT_AFTER && ymd > w.end) return false;
      }
    } else if (k & K_PERIOD) {
      if (len < 2) return false;
      const m = digit(buf[s]!) * 10 + digit(buf[s + 1]!);
      if (!(m >= 1 && m <= 12)) return false;
    }
    if (k & K_VALUES) {
      const list = this.values[i]!;
      let found = false;
      for (let j = 0; j < list.length && !found; j++) found = sameBytes(list[j]!, buf, s, e);
      if (!found) return false;
    }
    return true;
  }
}

function kindOf(f: FieldDef): number {
  const fmt = f.format;
  if (fmt === 'cnpj' || fmt === 'cpf' || fmt === 'cnpj-cpf' || fmt === 'access-key' || fmt === 'cnpj-root') return K_IDENT;
  if (f.type === 'N' && f.decimals !== undefined) return K_DECIMAL;
  let k = 0;
  if (f.type === 'N') k |= K_DIGITS;
  if (f.size !== undefined) k |= f.exact ? K_SIZE_EXACT : K_SIZE_MAX;
  if (fmt === 'date') k |= K_DATE | (f.period === 'within' ? K_WITHIN : f.period === 'notAfterEnd' ? K_NOT_AFTER : 0);
  else if (fmt === 'period') k |= K_PERIOD;
  if (f.values) k |= K_VALUES;
  return k;
}

function digit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : NaN;
}

function sameBytes(v: Buffer, buf: Buffer, s: number, e: number): boolean {
  if (v.length !== e - s) return false;
  for (let j = 0; j < v.length; j++) if (v[j] !== buf[s + j]) return false;
  return true;
}

/** `-?\d+(,\d+)?` with at most `decimals` decimals and at most `maxDigits` digits in all. */
function decimal(buf: Buffer, s: number, e: number, decimals: number, maxDigits: number): boolean {
  let p = buf[s] === 45 ? s + 1 : s;
  const intStart = p;
  while (p < e) {
    const c = buf[p]!;
    if (c < 48 || c > 57) break;
    p++;
  }
  const intDigits = p - intStart;
  if (intDigits === 0) return false;
  let frac = 0;
  if (p < e) {
    if (buf[p] !== 44) return false;
    const fracStart = ++p;
    while (p < e) {
      const c = buf[p]!;
      if (c < 48 || c > 57) return false;
      p++;
    }
    frac = p - fracStart;
    if (frac === 0) return false;
  }
  return frac <= decimals && intDigits + frac <= maxDigits;
}

/** ddmmaaaa as yyyymmdd when `parseSpedDate` accepts it, else 0. */
function dateOf(buf: Buffer, s: number, e: number): number {
  if (e - s !== 8) return 0;
  for (let p = s; p < e; p++) {
    const c = buf[p]!;
    if (c < 48 || c > 57) return 0;
  }
  const d = (buf[s]! - 48) * 10 + buf[s + 1]! - 48;
  const m = (buf[s + 2]! - 48) * 10 + buf[s + 3]! - 48;
  const y = (buf[s + 4]! - 48) * 1000 + (buf[s + 5]! - 48) * 100 + (buf[s + 6]! - 48) * 10 + buf[s + 7]! - 48;
  if (m < 1 || m > 12 || d < 1 || y < 1900) return 0;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = m === 2 ? (leap ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
  if (d > days) return 0;
  return y * 10000 + m * 100 + d;
}

/** yyyymmdd of an ISO date (yyyy-mm-dd), 0 for null. */
export function isoToNumber(iso: string | null): number {
  return iso === null ? 0 : Number(iso.slice(0, 4)) * 10000 + Number(iso.slice(5, 7)) * 100 + Number(iso.slice(8, 10));
}

function identifier(fmt: FieldDef['format'], buf: Buffer, s: number, e: number): boolean {
  const len = e - s;
  // an access key's own check takes ASCII digits and letters only
  if (fmt === 'access-key') return len === 44 && accessKey(buf, s);
  for (let p = s; p < e; p++) if (buf[p]! >= 0x80) return false;
  switch (fmt) {
    case 'cnpj':
      return len === 14 && isValidCnpj(buf.toString('latin1', s, e));
    case 'cpf':
      return len === 11 && isValidCpf(buf.toString('latin1', s, e));
    case 'cnpj-cpf':
      return len === 14 ? isValidCnpj(buf.toString('latin1', s, e)) : len === 11 && isValidCpf(buf.toString('latin1', s, e));
    case 'cnpj-root': {
      if (len !== 8) return false;
      for (let p = s; p < e; p++) {
        const c = buf[p]!;
        if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90))) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** Weight of each of an access key's first 43 digits in its check digit: 2..9 from the right, repeating. */
const KEY_WEIGHTS = Uint8Array.from({ length: 43 }, (_, i) => 2 + ((42 - i) % 8));

/** `isValidAccessKey` on 44 bytes: [0-9]{6}[0-9A-Z]{12}[0-9]{26}, mod 11 check digit (weights 2..9 from the right). */
function accessKey(buf: Buffer, s: number): boolean {
  let sum = 0;
  for (let i = 0; i < 43; i++) {
    const c = buf[s + i]!;
    if (!((c >= 48 && c <= 57) || (i >= 6 && i < 18 && c >= 65 && c <= 90))) return false;
    sum += (c - 48) * KEY_WEIGHTS[i]!;
  }
  const last = buf[s + 43]!;
  if (last < 48 || last > 57) return false;
  const rest = sum % 11;
  return (rest < 2 ? 0 : 11 - rest) === last - 48;
}

/** True when the bytes `buf[s..e)` equal one of `values`. */
function bytesIn(buf: Buffer, s: number, e: number, values: readonly Buffer[]): boolean {
  const len = e - s;
  for (let v = 0; v < values.length; v++) {
    const b = values[v]!;
    if (b.length !== len) continue;
    let same = true;
    for (let j = 0; j < len && same; j++) same = buf[s + j] === b[j];
    if (same) return true;
  }
  return false;
}

/**
 * A register's exceptions (exceptions.ts) on the bytes: which rules a line matches, from its `when` fields, and
 * whether its fields are empty or filled as the merged rules of that match require (the same `MergedRules` the
 * string path applies), with the values they allow. Only lines of registers with exceptions pay the match; only
 * lines that match pay the second look at their fields.
 */
class ByteExceptions {
  /** Per rule: its `when` fields (0-based position and allowed values as bytes). */
  private readonly rules: { at: number; values: Buffer[] }[][];
  /** Per match mask: requirement bits as `RegisterCheck.reqBits`, and the allowed values per field (null: any). */
  private readonly merged: ({ bits: Uint8Array; values: (Buffer[] | null)[] } | undefined)[] = [];

  constructor(private readonly ex: RegisterExceptions) {
    this.rules = ex.list.map((c) => c.when.map((w) => ({ at: w.at, values: w.values.map((v) => Buffer.from(v, 'latin1')) })));
  }

  match(buf: Buffer, bounds: Int32Array, count: number): number {
    let mask = 0;
    const rules = this.rules;
    for (let r = 0; r < rules.length; r++) {
      const when = rules[r]!;
      let ok = true;
      for (let k = 0; k < when.length && ok; k++) {
        const w = when[k]!;
        ok = w.at < count && bytesIn(buf, bounds[w.at]!, bounds[w.at + 1]! - 1, w.values);
      }
      if (ok) mask |= 1 << r;
    }
    return mask;
  }

  /** The line (`n` fields, bounds known) is empty or filled as the rules of `mask` require for direction `bit`, with allowed values. */
  clean(mask: number, buf: Buffer, bounds: Int32Array, n: number, bit: number): boolean {
    let m = this.merged[mask];
    if (m === undefined) {
      const rules = this.ex.rules(mask);
      const bits = new Uint8Array(n);
      for (let i = 1; i < n; i++) {
        const reqs = [rules.req[i], rules.reqIn[i], rules.reqOut[i]];
        for (let d = 0; d < 3; d++) bits[i]! |= reqs[d] === 'O' ? 1 << d : reqs[d] === 'N' ? 8 << d : 0;
      }
      m = { bits, values: rules.values.map((v) => (v === null ? null : v.map((x) => Buffer.from(x, 'latin1')))) };
      this.merged[mask] = m;
    }
    const bits = m.bits;
    const values = m.values;
    for (let i = 1; i < n; i++) {
      const s = bounds[i]!;
      const e = bounds[i + 1]! - 1;
      const b = bits[i]!;
      if (s === e ? (b & bit) !== 0 : ((b >> 3) & bit) !== 0) return false;
      const allowed = values[i];
      if (allowed !== null && allowed !== undefined && s !== e && !bytesIn(buf, s, e, allowed)) return false;
    }
    return true;
  }
}
