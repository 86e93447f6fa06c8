/**
 * The summary's sums: one row per distinct combination of the grouping dimensions (`--by`), in memory (bounded by
 * the number of distinct combinations, never by the number of coupons). A sale adds its items to the rows its
 * items fall in; what it added (its contribution) can be serialized, kept in the key store, and taken back out
 * when a cancellation arrives after it. Exact: cents as BigInts.
 */
import type { Presum } from './presum.js';
import type { CouponCancellation, CouponEvent, CouponItem, CouponSale } from './types.js';

/** Grouping dimensions: per coupon (day, model, equipment, emitter) or per item (cst, cfop, rate). */
export const DIMENSIONS = ['day', 'model', 'equipment', 'emitter', 'cst', 'cfop', 'rate'] as const;
export type Dimension = (typeof DIMENSIONS)[number];
/** The default grouping: per day, per SAT equipment / NFC-e series (within a model), per CST/CSOSN, CFOP and rate. */
export const DEFAULT_DIMENSIONS: readonly Dimension[] = ['day', 'model', 'equipment', 'cst', 'cfop', 'rate'];

export function isDimension(v: string): v is Dimension {
  return (DIMENSIONS as readonly string[]).includes(v);
}

/** Amount fields of a row, in output order. */
export const AMOUNTS = ['gross', 'discount', 'icmsBase', 'icmsValue', 'pis', 'cofins'] as const;
export type Amount = (typeof AMOUNTS)[number];

export interface GroupSums {
  /** Coupons counted (not cancelled) with at least one item in the row. */
  coupons: number;
  items: number;
  gross: bigint;
  discount: bigint;
  icmsBase: bigint;
  icmsValue: bigint;
  pis: bigint;
  cofins: bigint;
  /** Cancelled coupons with at least one item in the row, and their items' gross value. */
  cancelled: number;
  cancelledGross: bigint;
}

export interface GroupRow extends GroupSums {
  /** The row's value of each dimension of `by`, in its order. */
  readonly values: readonly string[];
}

const SEP = '\x1f';
/** A dimension value as part of a row key and of a serialized contribution: no separators inside. */
function clean(v: string): string {
  // nearly always nothing to replace: looked at before a regular expression is run
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x1e || c === 0x1f || c === 9 || c === 10 || c === 13) return v.replace(/[\x1e\x1f\t\n\r]/g, ' ');
  }
  return v;
}

/** Every field of a row's sums, in a fixed order (snapshots). */
const SUM_FIELDS = ['coupons', 'items', ...AMOUNTS, 'cancelled', 'cancelledGross'] as const satisfies readonly (keyof GroupSums)[];

function emptySums(): GroupSums {
  return { coupons: 0, items: 0, gross: 0n, discount: 0n, icmsBase: 0n, icmsValue: 0n, pis: 0n, cofins: 0n, cancelled: 0, cancelledGross: 0n };
}

/** What one sale adds to one row. */
export interface Part extends Pick<GroupSums, 'items' | Amount> {
  readonly group: string;
}

/**
 * What one sale adds to the sums: its parts, one per row its items fall in, and the same serialized (`data`, what
 * the key store keeps so that a cancellation arriving later can take it back out). Computed where the sale is
 * read — a pool worker for XML — so that the main thread only adds parts up.
 */
export interface Contribution {
  readonly parts: readonly Part[];
  readonly data: string;
}

function groupOf(by: readonly Dimension[], sale: CouponSale, item: CouponItem): string {
  let g = '';
  for (let i = 0; i < by.length; i++) {
    const d = by[i]!;
    const v = d === 'cst' || d === 'cfop' || d === 'rate' ? item[d] : sale[d];
    g += (i === 0 ? '' : SEP) + clean(v);
  }
  return g;
}

const NO_ITEM: CouponItem = { cst: '', cfop: '', rate: '', gross: 0n, discount: 0n, icmsBase: 0n, icmsValue: 0n, pis: 0n, cofins: 0n };

/** The sale's contribution under the grouping `by` (a sale without items still counts in its coupon-level row). */
export function contributionOf(sale: CouponSale, by: readonly Dimension[]): Contribution {
  const parts = new Map<string, Part>();
  const items: readonly CouponItem[] = sale.items.length > 0 ? sale.items : [NO_ITEM];
  for (const it of items) {
    const group = groupOf(by, sale, it);
    let p = parts.get(group);
    if (!p) parts.set(group, (p = { group, items: 0, gross: 0n, discount: 0n, icmsBase: 0n, icmsValue: 0n, pis: 0n, cofins: 0n }));
    if (sale.items.length > 0) p.items++;
    for (const a of AMOUNTS) p[a] += it[a];
  }
  const list = [...parts.values()];
  return { parts: list, data: list.map((p) => [p.group, p.items, ...AMOUNTS.map((a) => p[a])].join('\t')).join('\n') };
}

/** A sale as the summary counts it: its key, where it came from, and its contribution. */
export interface CountedSale {
  readonly kind: 'sale';
  readonly key: string;
  readonly source: string;
  readonly cancelledInDocument?: boolean;
  readonly contribution: Contribution;
  /** Its parts are already in its chunk's sums (presum.ts): the contribution holds its `data` only. */
  readonly presummed?: boolean;
}

export type CountedEvent = CountedSale | CouponCancellation;

/** A coupon event with its sale's contribution under `by` (a cancellation as it is). */
export function countedEvent(ev: CouponEvent, by: readonly Dimension[]): CountedEvent {
  if (ev.kind === 'cancellation') return ev;
  const counted: CountedSale = { kind: 'sale', key: ev.key, source: ev.source, contribution: contributionOf(ev, by) };
  return ev.cancelledInDocument ? { ...counted, cancelledInDocument: true } : counted;
}

export class Aggregator {
  readonly by: readonly Dimension[];
  readonly #rows = new Map<string, GroupSums>();

  constructor(by: readonly Dimension[] = DEFAULT_DIMENSIONS) {
    this.by = by;
  }

  #row(group: string): GroupSums {
    let r = this.#rows.get(group);
    if (!r) this.#rows.set(group, (r = emptySums()));
    return r;
  }

  /** Counts a sale, by its contribution (contributionOf with this aggregator's `by`). */
  addSale(c: Contribution): void {
    for (const p of c.parts) this.#apply(p, 1);
  }

  /** Counts a sale as cancelled: its coupon and gross value in the cancelled columns. */
  addCancelledSale(c: Contribution): void {
    for (const p of c.parts) this.#cancel(p);
  }

  /** Moves a counted sale (its serialized contribution) to the cancelled columns. */
  cancelContribution(data: string): void {
    for (const p of partsOf(data)) {
      this.#apply(p, -1);
      this.#cancel(p);
    }
  }

  /** Adds a chunk's presummed sales (presum.ts). */
  addPresum(s: Presum): void {
    for (let i = 0; i < s.groups.length; i++) {
      const r = this.#row(s.groups[i]!);
      r.coupons += s.coupons[i]!;
      r.items += s.items[i]!;
      for (let a = 0; a < AMOUNTS.length; a++) r[AMOUNTS[a]!] += s.amounts[i * AMOUNTS.length + a]!;
    }
  }

  /** Takes a presummed sale (its serialized contribution) back out: it was not counted after all. */
  revertSale(data: string): void {
    for (const p of partsOf(data)) this.#apply(p, -1);
  }

  #apply(p: Part, sign: 1 | -1): void {
    const r = this.#row(p.group);
    r.coupons += sign;
    r.items += sign * p.items;
    if (sign === 1) for (const a of AMOUNTS) r[a] += p[a];
    else for (const a of AMOUNTS) r[a] -= p[a];
  }

  #cancel(p: Part): void {
    const r = this.#row(p.group);
    r.cancelled++;
    r.cancelledGross += p.gross;
  }

  /** The rows that count something (not a group only presummed sales taken back out touched). */
  #counted(): [string, GroupSums][] {
    return [...this.#rows].filter(([, r]) => r.coupons !== 0 || r.cancelled !== 0);
  }

  /** The rows, sorted by their values (deterministic whatever the input order). */
  rows(): GroupRow[] {
    return this.#counted()
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, s]) => ({ values: this.by.length === 0 ? [] : k.split(SEP), ...s }));
  }

  /** The rows as plain strings (a checkpoint's part): group, then every sum in SUM_FIELDS order. */
  snapshot(): string[][] {
    return this.#counted().map(([group, r]) => [group, ...SUM_FIELDS.map((f) => String(r[f]))]);
  }

  /** Takes back the rows of a snapshot (a resumed run, before anything else is added). */
  restore(rows: readonly (readonly string[])[]): void {
    for (const [group, ...sums] of rows) {
      const r = this.#row(group!);
      SUM_FIELDS.forEach((f, i) => {
        const v = sums[i]!;
        if (f === 'coupons' || f === 'items' || f === 'cancelled') r[f] = Number(v);
        else r[f] = BigInt(v);
      });
    }
  }

  /** Number of distinct rows so far. */
  get size(): number {
    return this.#rows.size;
  }
}

/** The parts of a serialized contribution (Contribution.data). */
function partsOf(data: string): Part[] {
  return data.split('\n').map((line) => {
    const f = line.split('\t');
    return {
      group: f[0]!, items: Number(f[1]), gross: BigInt(f[2]!), discount: BigInt(f[3]!), icmsBase: BigInt(f[4]!),
      icmsValue: BigInt(f[5]!), pis: BigInt(f[6]!), cofins: BigInt(f[7]!),
    };
  });
}

/** The sum of every row (the coupons column counts coupon-row pairs: see `CouponSummary.totals` for coupons). */
export function sumRows(rows: readonly GroupRow[]): GroupSums {
  const t = emptySums();
  for (const r of rows) {
    t.items += r.items;
    for (const a of AMOUNTS) t[a] += r[a];
    t.cancelledGross += r.cancelledGross;
  }
  return t;
}
