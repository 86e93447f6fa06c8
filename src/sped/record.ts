/** A SPED record: its line, offset, register and raw field strings, with typed access by name or position. */
import { Decimal } from '../common/decimal.js';
import type { FieldDef } from './layout.js';

/** Splits a decoded line `|A|B|C|` into fields ['A','B','C']; null when it is not pipe-delimited. */
export function splitLine(text: string): string[] | null {
  if (text.length < 2 || text.charCodeAt(0) !== 124 || text.charCodeAt(text.length - 1) !== 124) return null;
  return text.slice(1, -1).split('|');
}

/** Parses ddmmaaaa into ISO yyyy-mm-dd; null when the date does not exist. */
export function parseSpedDate(text: string): string | null {
  if (!/^\d{8}$/.test(text)) return null;
  const d = Number(text.slice(0, 2));
  const m = Number(text.slice(2, 4));
  const y = Number(text.slice(4, 8));
  if (m < 1 || m > 12 || d < 1 || y < 1900) return null;
  const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
  if (d > days) return null;
  return `${text.slice(4, 8)}-${text.slice(2, 4)}-${text.slice(0, 2)}`;
}

/** Formats an ISO date (yyyy-mm-dd) or a Date (UTC) as ddmmaaaa. */
export function formatSpedDate(value: string | Date): string {
  const iso = value instanceof Date ? value.toISOString().slice(0, 10) : value;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new RangeError(`not an ISO date: '${iso}'`);
  return `${m[3]}${m[2]}${m[1]}`;
}

export class SpedRecord {
  readonly line: number;
  readonly offset: number;
  /** Raw field strings; fields[0] is the register code (REG). */
  readonly fields: readonly string[];
  /** The layout's field definitions for this register and version, when known. */
  readonly defs: readonly FieldDef[] | undefined;

  constructor(line: number, offset: number, fields: readonly string[], defs?: readonly FieldDef[]) {
    this.line = line;
    this.offset = offset;
    this.fields = fields;
    this.defs = defs;
  }

  get register(): string {
    return this.fields[0] ?? '';
  }

  /** 1-based position of a field name (first occurrence; `NAME#POS` selects a later one). */
  position(name: string): number | undefined {
    const hash = name.lastIndexOf('#');
    if (hash > 0) return Number(name.slice(hash + 1));
    return this.defs?.find((f) => f.name === name)?.pos;
  }

  /** Raw string by name or 1-based position; undefined when absent. */
  get(field: string | number): string | undefined {
    const pos = typeof field === 'number' ? field : this.position(field);
    return pos === undefined ? undefined : this.fields[pos - 1];
  }

  /** Exact decimal (comma separator) or null when empty; throws RangeError when not a decimal. */
  decimal(field: string | number): Decimal | null {
    const raw = this.get(field);
    if (raw === undefined || raw === '') return null;
    return Decimal.from(raw, ',');
  }

  /** ISO date (yyyy-mm-dd) or null when empty; throws RangeError for an invalid date. */
  date(field: string | number): string | null {
    const raw = this.get(field);
    if (raw === undefined || raw === '') return null;
    const iso = parseSpedDate(raw);
    if (iso === null) throw new RangeError(`not a date (ddmmaaaa): '${raw}'`);
    return iso;
  }

  /** Integer or null when empty; throws RangeError when not an integer or not safe. */
  int(field: string | number): number | null {
    const raw = this.get(field);
    if (raw === undefined || raw === '') return null;
    if (!/^-?\d+$/.test(raw)) throw new RangeError(`not an integer: '${raw}'`);
    const n = Number(raw);
    if (!Number.isSafeInteger(n)) throw new RangeError(`integer out of range: '${raw}'`);
    return n;
  }

  /**
   * Raw strings keyed by layout name, REG left out; a repeated name is keyed `NAME#POS` for every occurrence
   * after the first, fields beyond the layout `#POS`.
   */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    const seen = new Set<string>();
    for (let i = 1; i < this.fields.length; i++) {
      const def = this.defs?.[i];
      let key: string;
      if (!def) key = `#${i + 1}`;
      else if (seen.has(def.name)) key = `${def.name}#${i + 1}`;
      else {
        key = def.name;
        seen.add(def.name);
      }
      out[key] = this.fields[i]!;
    }
    return out;
  }
}
