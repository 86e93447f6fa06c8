/**
 * The building blocks of the synthetic SPED generators (synthetic.ts, synthetic-realistic.ts): a record factory
 * that fills a register's fields with valid defaults from the registry, and valid identifiers (CNPJ, CPF, access
 * keys) made from small numbers.
 */
import { accessKeyCheckDigit, cnpjCheckDigits, cpfCheckDigits } from '../common/check-digits.js';
import { Decimal } from '../common/decimal.js';
import type { FieldDef, Layout } from './layout.js';
import { formatSpedDate } from './record.js';

/** A valid CNPJ (head office, branch 0001) made from a number. */
export function cnpj(n: number): string {
  const base = String(10000000 + n).padStart(8, '0') + '0001';
  return base + cnpjCheckDigits(base);
}

/** A valid CPF made from a number (never one of the repeated-digit CPFs). */
export function cpf(n: number): string {
  const base = String(100000000 + (n % 800000000)).padStart(9, '0');
  return base + cpfCheckDigits(base);
}

/** A valid 44-digit access key (NF-e 55, NFC-e 65, CT-e 57, …) of document `nNF` of series `serie`. */
export function accessKey(cUF: string, yymm: string, emitter: string, nNF: number, model = '55', serie = 1): string {
  const body = `${cUF}${yymm}${emitter}${model}${String(serie).padStart(3, '0')}${String(nNF).padStart(9, '0')}1${String(nNF * 7919 % 1e8).padStart(8, '0')}`;
  return body + accessKeyCheckDigit(body);
}

/** The last day (ISO) of the month of an ISO date. */
export function lastDay(iso: string): string {
  const [y, m] = iso.split('-').map(Number) as [number, number];
  const d = new Date(Date.UTC(y, m, 0));
  return d.toISOString().slice(0, 10);
}

/** Cents as a SPED amount (`1234` → `12,34`). */
export const money = (cents: bigint): string => new Decimal(cents, 2).format(',');

/** Fills a register's fields with valid defaults, then applies the given values by name. */
export class RecordFactory {
  private readonly cache = new Map<string, { defs: readonly FieldDef[]; base: string[]; index: Map<string, number> }>();
  constructor(private readonly layout: Layout, private readonly version: string, private readonly period: { start: string; end: string }) {}

  make(code: string, values: Readonly<Record<string, string>> = {}, direction: 'in' | 'out' | null = null): string[] {
    const key = `${code}:${direction}`;
    let entry = this.cache.get(key);
    if (!entry) {
      const defs = this.layout.fieldsFor(code, this.version);
      if (!defs) throw new Error(`no register ${code} in ${this.layout.id}`);
      const base = defs.map((f, i) => (i === 0 ? code : this.defaultValue(f, direction)));
      entry = { defs, base, index: new Map(defs.map((f, i) => [f.name, i] as const).reverse()) };
      this.cache.set(key, entry);
    }
    const out = entry.base.slice();
    for (const name in values) {
      const i = entry.index.get(name);
      if (i === undefined) throw new Error(`no field ${code}.${name}`);
      out[i] = values[name]!;
    }
    return out;
  }

  /**
   * A maker of `code` records from values given in the order of `names` (the other fields keep `constants` or
   * their defaults):
   * the hot registers' way, with no object and no name lookup per record.
   */
  positional(
    code: string, names: readonly string[], direction: 'in' | 'out' | null = null, constants: Readonly<Record<string, string>> = {},
  ): (values: readonly string[]) => string[] {
    const base = this.make(code, constants, direction);
    const index = this.fieldNames(code);
    const at = names.map((n) => {
      const i = index.indexOf(n);
      if (i < 1) throw new Error(`no field ${code}.${n}`);
      return i;
    });
    return (values) => {
      const out = base.slice();
      for (let k = 0; k < at.length; k++) out[at[k]!] = values[k]!;
      return out;
    };
  }

  /** The register's field names (in order, REG first) at the generated version. */
  fieldNames(code: string): string[] {
    return (this.layout.fieldsFor(code, this.version) ?? []).map((f) => f.name);
  }

  private defaultValue(f: FieldDef, direction: 'in' | 'out' | null): string {
    const req = direction === 'in' ? (f.requiredIn ?? f.required) : direction === 'out' ? (f.requiredOut ?? f.required) : f.required;
    if (req !== 'O') return '';
    if (f.values) return f.values[0]!;
    switch (f.format) {
      case 'date': return formatSpedDate(this.period.start);
      case 'period': return formatSpedDate(this.period.start).slice(2);
      case 'cnpj': case 'cnpj-cpf': return cnpj(1);
      case 'cpf': return '52998224725';
      case 'cnpj-root': return cnpj(1).slice(0, 8);
      case 'access-key': return accessKey('35', '2601', cnpj(1), 1);
    }
    if (f.type === 'N') {
      if (f.decimals !== undefined) return f.decimals > 0 ? `0,${'0'.repeat(f.decimals)}` : '0';
      return f.size && f.exact ? '1'.padStart(f.size, '0') : '1';
    }
    return f.size && f.exact ? 'A'.repeat(f.size) : 'X';
  }
}
