/**
 * The column-mapping file of a POS CSV export (formats/coupons/csv-mapping.v1.schema.json, docs/coupons.md):
 * loaded, checked against the schema (COUPON_MAPPING with the JSON path of the first problem, exit 2) and
 * completed with its defaults.
 */
import { readFileSync } from 'node:fs';
import { readJsonFile } from '../common/read-json-file.js';
import { UsageError } from '../errors.js';
import { checkSchema, type JsonSchema } from '../tasks/json-schema.js';
import type { JsonValue } from '../tasks/ledger.js';

// src/coupons/csv-mapping.ts and dist/coupons/csv-mapping.js are both two levels below the package root
export const CSV_MAPPING_SCHEMA: JsonSchema = JSON.parse(readFileSync(new URL('../../formats/coupons/csv-mapping.v1.schema.json', import.meta.url), 'utf8')) as JsonSchema;

/** A column: its header name, or its 1-based number. */
export type ColumnRef = string | number;

export const MAPPED_FIELDS = [
  'key', 'date', 'gross', 'discount', 'icmsBase', 'icmsValue', 'pis', 'cofins', 'cst', 'cfop', 'rate', 'total', 'equipment', 'emitter', 'model', 'cancelled',
] as const;
export type MappedField = (typeof MAPPED_FIELDS)[number];

export interface CsvMapping {
  readonly rows: 'item' | 'coupon';
  readonly delimiter: string;
  readonly decimalComma: boolean;
  readonly encoding: 'utf-8' | 'windows-1252' | 'iso-8859-1';
  readonly header: boolean;
  readonly dateFormat: 'YYYY-MM-DD' | 'DD/MM/YYYY' | 'YYYYMMDD';
  /** Upper-cased. */
  readonly cancelledValues: readonly string[];
  readonly columns: { readonly key: ColumnRef; readonly date: ColumnRef; readonly gross: ColumnRef } & Partial<Record<MappedField, ColumnRef>>;
}

export const DEFAULT_CANCELLED_VALUES = ['1', 'S', 'SIM', 'Y', 'YES', 'TRUE', 'X', 'C', 'CANCELADO', 'CANCELLED'];

/** Checks a mapping value (parsed JSON) and fills in its defaults; UsageError COUPON_MAPPING naming the problem. */
export function parseCsvMapping(value: unknown, name = 'mapping'): CsvMapping {
  const problems = checkSchema(value as JsonValue, CSV_MAPPING_SCHEMA);
  if (problems.length > 0) {
    const p = problems[0]!;
    throw new UsageError(`${name}: ${p.path}: ${p.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, 'COUPON_MAPPING');
  }
  const v = value as Partial<CsvMapping> & { columns: CsvMapping['columns'] };
  const header = v.header ?? true;
  for (const [field, ref] of Object.entries(v.columns)) {
    if (header !== (typeof ref === 'string')) {
      throw new UsageError(`${name}: $.columns.${field}: ${header ? 'a header name (header is true)' : 'a column number (header is false)'} is expected`, 'COUPON_MAPPING');
    }
  }
  const delimiter = v.delimiter ?? ',';
  const decimalComma = v.decimalComma ?? false;
  if (decimalComma && delimiter === ',') throw new UsageError(`${name}: decimalComma needs another delimiter (e.g. ";")`, 'COUPON_MAPPING');
  return {
    rows: v.rows ?? 'item',
    delimiter,
    decimalComma,
    encoding: v.encoding ?? 'utf-8',
    header,
    dateFormat: v.dateFormat ?? 'YYYY-MM-DD',
    cancelledValues: (v.cancelledValues ?? DEFAULT_CANCELLED_VALUES).map((x) => x.toUpperCase()),
    columns: v.columns,
  };
}

/** Reads and checks a mapping file: SourceError (exit 2) when unreadable, COUPON_MAPPING when not JSON or wrong. */
export function loadCsvMapping(path: string): CsvMapping {
  return parseCsvMapping(readJsonFile(path, 'COUPON_MAPPING'), path);
}
