/**
 * Windows-1252 output for SPED files: exact encoding (no silent `?`), field checks (`|`, line breaks) and an
 * optional replacement policy. ASCII text takes a fast path (no per-character work beyond a scan).
 */
import { decodeBytes } from './scanner.js';

/** Code point → byte for the 27 characters Windows-1252 places in 0x80–0x9F (€, curly quotes, …). */
const C1_TO_BYTE: ReadonlyMap<number, number> = (() => {
  const bytes = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) bytes[i] = 0x80 + i;
  const text = decodeBytes(bytes, 0, 32, 'windows-1252');
  const map = new Map<number, number>();
  for (let i = 0; i < 32; i++) {
    const cp = text.charCodeAt(i);
    // bytes the code page leaves undefined decode to themselves (U+0081 …): they round-trip as themselves
    map.set(cp, 0x80 + i);
  }
  return map;
})();

/** The Windows-1252 byte of a UTF-16 code unit, or -1 when the character has none. */
export function cp1252Byte(code: number): number {
  if (code < 0x80 || (code >= 0xa0 && code <= 0xff)) return code;
  return C1_TO_BYTE.get(code) ?? -1;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** True when every character of the text has a Windows-1252 byte. */
export function isCp1252(text: string): boolean {
  return firstUnencodable(text) === -1;
}

/** Index of the first character without a Windows-1252 byte, or -1. */
export function firstUnencodable(text: string): number {
  if (!NON_ASCII.test(text)) return -1;
  for (let i = 0; i < text.length; i++) if (cp1252Byte(text.charCodeAt(i)) === -1) return i;
  return -1;
}

/**
 * Encodes text as Windows-1252. The caller has checked it (`firstUnencodable`); a character without a byte
 * throws a RangeError rather than being replaced silently.
 */
export function encodeCp1252(text: string): Buffer {
  if (!NON_ASCII.test(text)) return Buffer.from(text, 'latin1');
  const out = Buffer.allocUnsafe(text.length);
  for (let i = 0; i < text.length; i++) {
    const b = cp1252Byte(text.charCodeAt(i));
    if (b === -1) throw new RangeError(`character U+${text.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')} has no Windows-1252 byte`);
    out[i] = b;
  }
  return out;
}

/** Why a field value cannot be written as it is. */
export type FieldProblem = 'pipe' | 'line-break' | 'unencodable';

export interface FieldCheck {
  readonly problem: FieldProblem;
  /** Index of the offending character in the value. */
  readonly index: number;
  /** The offending character, for messages (`U+0151 'ő'`). */
  readonly char: string;
}

/** Checks a field value: no `|`, no CR/LF, every character encodable (after NFC). Null when fine. */
export function checkField(value: string): FieldCheck | null {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 124) return { problem: 'pipe', index: i, char: '|' };
    if (c === 10 || c === 13) return { problem: 'line-break', index: i, char: c === 10 ? '\\n' : '\\r' };
  }
  const bad = firstUnencodable(value);
  if (bad === -1) return null;
  const cp = value.codePointAt(bad)!;
  return { problem: 'unencodable', index: bad, char: `U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${String.fromCodePoint(cp)}'` };
}

const COMBINING = /\p{M}+/gu;

/**
 * The replacement policy (`--replace`): NFC first (decomposed accents become the precomposed letters
 * Windows-1252 has); a character still without a byte becomes its base letter when that has one (`ő` → `o`),
 * else `?`; CR, LF and CRLF become one space; `|` becomes `/`.
 */
export function replaceField(value: string): string {
  let v = value.replace(/\r\n|[\r\n]/g, ' ').replace(/\|/g, '/');
  if (firstUnencodable(v) === -1) return v;
  v = v.normalize('NFC');
  if (firstUnencodable(v) === -1) return v;
  let out = '';
  for (const ch of v) {
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && cp1252Byte(code) !== -1) {
      out += ch;
      continue;
    }
    const base = ch.normalize('NFD').replace(COMBINING, '');
    out += base.length > 0 && firstUnencodable(base) === -1 ? base : '?';
  }
  return out;
}

/** NFC when that makes the value encodable (decomposed accents from macOS, copy-paste), else the value. */
export function normalizeForCp1252(value: string): string {
  if (firstUnencodable(value) === -1) return value;
  const nfc = value.normalize('NFC');
  return firstUnencodable(nfc) === -1 ? nfc : value;
}
