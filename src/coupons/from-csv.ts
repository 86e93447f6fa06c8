/**
 * Coupons out of a POS CSV export, read as its mapping file says (csv-mapping.ts, docs/coupons.md): decoded from
 * its encoding, split by csv-parse, one coupon per row (`rows: "coupon"`) or per run of consecutive rows with the
 * same key (`rows: "item"`). A row that cannot be read (no key, a date or a value that is not one) is a
 * COUPON_CSV_ROW finding and keeps its coupon out of the sums; the reading goes on with the next row. A key with a
 * wrong check digit (NFE_KEY_CHECK_DIGIT) and a total that disagrees with the rows (NFE_TOTALS_MISMATCH) are
 * reported like an XML coupon's. A row csv-parse cannot split (a stray quote) is skipped with a finding; a quote
 * left open swallows the rest of the file into one field: a finding for it, the rows before it counted.
 */
import { CsvError, parse } from 'csv-parse';
import iconv from 'iconv-lite';
import type { Readable } from 'node:stream';
import { Decimal } from '../common/decimal.js';
import { UsageError } from '../errors.js';
import type { CsvMapping, ColumnRef, MappedField } from './csv-mapping.js';
import { checkKey, mk, normalizeEquipment } from './from-xml.js';
import { formatCents, normalizeRate, quickCents } from './money.js';
import type { CouponEvent, CouponFinding, CouponItem, CouponModel } from './types.js';

export interface CsvCoupon {
  readonly events: CouponEvent[];
  readonly findings: CouponFinding[];
}

interface Row {
  readonly line: number;
  readonly cells: readonly string[];
}

class RowError extends Error {}

/** Column indexes (0-based) of the mapped fields. */
type Index = Partial<Record<MappedField, number>>;

function indexOf(mapping: CsvMapping, header: readonly string[] | null, name: string): Index {
  const out: Index = {};
  for (const [field, ref] of Object.entries(mapping.columns) as [MappedField, ColumnRef][]) {
    if (typeof ref === 'number') out[field] = ref - 1;
    else {
      const i = header!.findIndex((h) => h.trim() === ref);
      if (i === -1) throw new UsageError(`${name}: the mapping's column ${JSON.stringify(ref)} (${field}) is not in the header`, 'COUPON_MAPPING');
      out[field] = i;
    }
  }
  return out;
}

const DATE_RE = { 'YYYY-MM-DD': /^(\d{4})-(\d{2})-(\d{2})/, 'DD/MM/YYYY': /^(\d{2})\/(\d{2})\/(\d{4})/, YYYYMMDD: /^(\d{4})(\d{2})(\d{2})/ } as const;

/** The emission day as YYYY-MM-DD, or RowError. */
export function parseCsvDate(value: string, format: CsvMapping['dateFormat']): string {
  const m = DATE_RE[format].exec(value.trim());
  if (!m) throw new RowError(`date ${JSON.stringify(value)} is not ${format}`);
  const [y, mo, d] = format === 'DD/MM/YYYY' ? [m[3]!, m[2]!, m[1]!] : [m[1]!, m[2]!, m[3]!];
  const day = `${y}-${mo}-${d}`;
  const dt = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(dt.getTime()) || dt.toISOString().slice(0, 10) !== day) throw new RowError(`date ${JSON.stringify(value)} is not a day of the calendar`);
  return day;
}

/** A CSV amount in cents (decimal comma or point as mapped; at most 2 places), or RowError. Empty is zero. */
export function parseCsvAmount(value: string, decimalComma: boolean, field: string): bigint {
  const quick = quickCents(value, decimalComma ? 44 : 46);
  if (quick !== undefined) return quick;
  const v = value.trim();
  if (v === '') return 0n;
  const d = Decimal.parse(v, decimalComma ? ',' : '.');
  if (!d) throw new RowError(`${field} ${JSON.stringify(value)} is not a decimal${decimalComma ? ' with a comma' : ''}`);
  const r = d.round(2);
  if (!r.equals(d)) throw new RowError(`${field} ${JSON.stringify(value)} has more than 2 decimal places`);
  return r.units;
}

function cell(row: Row, index: Index, field: MappedField): string {
  const i = index[field];
  return i === undefined ? '' : (row.cells[i] ?? '');
}

/** Turns the rows of one coupon into its events; RowError when a row cannot be read. */
function couponOf(rows: readonly Row[], index: Index, mapping: CsvMapping, name: string, findings: CouponFinding[]): CouponEvent[] {
  const first = rows[0]!;
  const source = `${name}:${first.line}`;
  const key = cell(first, index, 'key').trim().replace(/^(CFe|NFe)/, '');
  const bad = checkKey(key, source, 'access key');
  if (bad) findings.push(bad);
  const model = (cell(first, index, 'model').trim() || key.slice(20, 22)) as CouponModel;
  if (model !== '59' && model !== '65') throw new RowError(`model ${JSON.stringify(model)} is not 59 (CF-e SAT) or 65 (NFC-e)`);
  const day = parseCsvDate(cell(first, index, 'date'), mapping.dateFormat);
  const equipment = normalizeEquipment(model, cell(first, index, 'equipment') || (model === '59' ? key.slice(22, 31) : key.slice(22, 25)));
  const emitter = cell(first, index, 'emitter').trim() || key.slice(6, 20);
  const dc = mapping.decimalComma;
  let cancelled = false;
  const items: CouponItem[] = rows.map((r) => {
    const amount = (f: MappedField): bigint => parseCsvAmount(cell(r, index, f), dc, f);
    const rateText = cell(r, index, 'rate').trim();
    let rate: string;
    try {
      rate = normalizeRate(dc ? rateText.replace(',', '.') : rateText);
    } catch {
      throw new RowError(`rate ${JSON.stringify(rateText)} is not a decimal`);
    }
    if (mapping.cancelledValues.includes(cell(r, index, 'cancelled').trim().toUpperCase())) cancelled = true;
    return {
      cst: cell(r, index, 'cst').trim(), cfop: cell(r, index, 'cfop').trim(), rate,
      gross: amount('gross'), discount: amount('discount'), icmsBase: amount('icmsBase'), icmsValue: amount('icmsValue'), pis: amount('pis'), cofins: amount('cofins'),
    };
  });
  if (index.total !== undefined) {
    const total = parseCsvAmount(cell(first, index, 'total'), dc, 'total');
    const net = items.reduce((a, it) => a + it.gross - it.discount, 0n);
    if (total !== net) findings.push(mk('NFE_TOTALS_MISMATCH', source, `total is ${formatCents(total)} but the ${mapping.rows === 'item' ? 'items give' : 'gross less discount is'} ${formatCents(net)}`, key));
  }
  const sale: CouponEvent = { kind: 'sale', key, source, model, day, equipment, emitter, items, ...(cancelled ? { cancelledInDocument: true } : {}) };
  return [sale];
}

/** csv-parse's options for an export (the same for a whole stream and for a chunk of it). */
export function csvParseOptions(mapping: CsvMapping, bom = true): import('csv-parse').Options {
  return { delimiter: mapping.delimiter, bom, relax_column_count: true, skip_empty_lines: true, skip_records_with_error: true, info: true };
}

/** The access key of a row (a `CFe`/`NFe` prefix dropped); '' when the row has none. */
export function rowKey(row: Row, index: Index): string {
  return cell(row, index, 'key').trim().replace(/^(CFe|NFe)/, '');
}

export type { Index as CsvIndex, Row as CsvRow };

/**
 * Rows into coupons, as they come: one per row (`rows: "coupon"`), or one per run of consecutive rows with the
 * same key (`rows: "item"`); a row without a key ends the run and is a finding of its own.
 */
export class CouponRows {
  #pending: Row[] = [];
  #key = '';
  constructor(
    private readonly index: Index,
    private readonly mapping: CsvMapping,
    private readonly name: string,
  ) {}

  /** Whether `row` ends the run in progress (there is one, and the row is not part of it). */
  ends(row: Row): boolean {
    if (this.#pending.length === 0) return false;
    const key = rowKey(row, this.index);
    return key === '' || this.mapping.rows === 'coupon' || key !== this.#key;
  }

  /** One row: what it completes goes to `out`, in order. */
  push(row: Row, out: CsvCoupon[]): void {
    const key = rowKey(row, this.index);
    if (key === '') {
      this.flush(out);
      out.push({ events: [], findings: [mk('COUPON_CSV_ROW', `${this.name}:${row.line}`, 'row without an access key: not counted')] });
      return;
    }
    if (this.mapping.rows === 'coupon' || key !== this.#key) this.flush(out);
    this.#key = key;
    this.#pending.push(row);
  }

  /** The run in progress as a coupon (into `out`), if there is one. */
  flush(out: CsvCoupon[]): void {
    if (this.#pending.length === 0) return;
    out.push(csvCoupon(this.#pending, this.index, this.mapping, this.name, this.#key));
    this.#pending = [];
  }

  /** Takes the run in progress out as it is (a chunk's first or last run, which a neighbour may continue). */
  take(): { readonly key: string; readonly rows: Row[] } | null {
    if (this.#pending.length === 0) return null;
    const run = { key: this.#key, rows: this.#pending };
    this.#pending = [];
    return run;
  }

  /** Continues with a run taken from elsewhere (its rows before any row pushed here). */
  resume(run: { readonly key: string; readonly rows: readonly Row[] }): void {
    this.#key = run.key;
    this.#pending = [...run.rows];
  }
}

/** The coupon of one run of rows (a row that cannot be read keeps it out: a finding). */
export function csvCoupon(rows: readonly Row[], index: Index, mapping: CsvMapping, name: string, key: string): CsvCoupon {
  const findings: CouponFinding[] = [];
  try {
    return { events: couponOf(rows, index, mapping, name, findings), findings };
  } catch (e) {
    if (!(e instanceof RowError)) throw e;
    findings.push(mk('COUPON_CSV_ROW', `${name}:${rows[0]!.line}`, `${e.message}: not counted`, key || undefined));
    return { events: [], findings };
  }
}

/** The column indexes of the mapped fields, from the header (or the mapping's numbers). */
export function csvIndex(mapping: CsvMapping, header: readonly string[] | null, name: string): Index {
  return indexOf(mapping, header, name);
}

/** The finding for a record csv-parse cannot split. */
export function unsplittable(name: string, line: number | undefined, message: string): CouponFinding {
  return mk('COUPON_CSV_ROW', `${name}:${line ?? '?'}`, `the row cannot be split: ${message}: not counted`);
}

/** The finding that ends a CSV that cannot be read on (a quote left open). */
export function unreadable(name: string, message: string): CouponFinding {
  return mk('COUPON_CSV_ROW', name, `the CSV cannot be read past this point: ${message}; the rest of the file is not counted`);
}

/** The coupons of one CSV stream, in order. UsageError (COUPON_MAPPING) when the header lacks a mapped column. */
export async function* readCsvCoupons(stream: Readable, name: string, mapping: CsvMapping): AsyncGenerator<CsvCoupon> {
  const parser = parse(csvParseOptions(mapping));
  // a record csv-parse cannot split (a stray quote) is skipped with a finding, and the reading goes on
  const skipped: CouponFinding[] = [];
  parser.on('skip', (err: CsvError & { lines?: number }) => skipped.push(unsplittable(name, err.lines, err.message)));
  const decoded = stream.pipe(iconv.decodeStream(mapping.encoding));
  decoded.on('error', (err) => parser.destroy(err));
  stream.on('error', (err) => parser.destroy(err));
  decoded.pipe(parser);
  let grouper: CouponRows | null = mapping.header ? null : new CouponRows(indexOf(mapping, null, name), mapping, name);
  const out: CsvCoupon[] = [];
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (skipped.length > 0) yield { events: [], findings: skipped.splice(0) };
      const row: Row = { line: rec.info.lines, cells: rec.record };
      if (grouper === null) {
        grouper = new CouponRows(indexOf(mapping, row.cells, name), mapping, name);
        continue;
      }
      grouper.push(row, out);
      yield* out.splice(0);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (!(err instanceof CsvError)) throw err;
    grouper?.flush(out);
    yield* out.splice(0);
    if (skipped.length > 0) yield { events: [], findings: skipped.splice(0) };
    yield { events: [], findings: [unreadable(name, (err as Error).message)] };
    return;
  }
  grouper?.flush(out);
  yield* out.splice(0);
  if (skipped.length > 0) yield { events: [], findings: skipped.splice(0) };
}
