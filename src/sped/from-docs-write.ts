/**
 * What the two writers of from-docs (from-docs-icms.ts, from-docs-contrib.ts) share: the block 0 tables the
 * booked documents name (0150, 0190, 0200 and, where the layout has it, 0220), the C100s with their items (a
 * cancelled document cut down to the fields the Guia keeps), and the walk over the coupons by SAT equipment and
 * day.
 */
import type { Layout } from './layout.js';
import type { Company } from './from-docs-company.js';
import type { RecordMaker } from './from-docs-records.js';
import type { FromDocsStore, StoredCoupon, StoredNote } from './from-docs-store.js';

/** Writes one record (raw fields, REG first). */
export type Put = (fields: string[]) => Promise<void>;

/** What a writer needs besides the store and the output. */
export interface WriteContext {
  layout: Layout;
  version: string;
  records: RecordMaker;
  company: Company;
  period: { start: string; end: string };
}

/** 0150 participants, 0190 units and 0200 items (with their 0220 conversions when the layout has 0220), each once, by code. */
export async function putTables(store: FromDocsStore, records: RecordMaker, put: Put): Promise<void> {
  for (const p of store.participants()) await put(p);
  for (const u of store.units()) await put(records.make('0190', { UNID: u, DESCR: u }));
  const conversions = records.layout.fieldsFor('0220', records.version) !== undefined;
  for (const it of store.items()) {
    await put(it.record);
    if (conversions) for (const [unit, factor] of it.conversions) await put(records.make('0220', { UNID_CONV: unit, FAT_CONV: factor }));
  }
}

/** A record with only the named fields of another kept (a cancelled or denied document), the situation set. */
export function keepOnly(records: RecordMaker, code: string, full: readonly string[], keep: readonly string[], situation: string): string[] {
  const out = records.make(code, { COD_SIT: situation });
  for (const name of keep) {
    const i = records.at(code, name);
    out[i] = full[i]!;
  }
  return out;
}

/** One SAT equipment's day: the first and last coupon number (cancelled ones included) and what `add` summed of the others. */
export interface SatDay<G> {
  sat: string;
  /** DDMMAAAA. */
  day: string;
  first: string;
  last: string;
  sums: G;
}

/**
 * The coupons (by SAT, day and number) grouped by SAT and day; `add` sums each coupon not cancelled into the
 * day's `sums`. Counts every coupon and cancelled coupon in `counts`. Memory: one day's sums.
 */
export function* satDays<G>(
  rows: Iterable<{ coupon: StoredCoupon; cancelled: boolean }>,
  make: () => G,
  add: (sums: G, coupon: StoredCoupon) => void,
  counts: { coupons: number; cancelledCoupons: number },
): Generator<SatDay<G>> {
  let open: SatDay<G> | null = null;
  for (const { coupon: c, cancelled } of rows) {
    counts.coupons++;
    if (!open || open.sat !== c.sat || open.day !== c.day) {
      if (open) yield open;
      open = { sat: c.sat, day: c.day, first: c.number, last: c.number, sums: make() };
    }
    open.last = c.number;
    if (cancelled) counts.cancelledCoupons++;
    else add(open.sums, c);
  }
  if (open) yield open;
}

/**
 * The C100s in file order: a cancelled (COD_SIT 02) or denied (04) one cut down to the `kept` fields without
 * children, an unused number (05) as stored; a regular one with its C170 items, then what `children` writes of it (the analytic records).
 */
export async function putNotes(
  store: FromDocsStore,
  records: RecordMaker,
  put: Put,
  kept: readonly string[],
  children: (note: StoredNote) => Promise<void>,
): Promise<{ notes: number; cancelledNotes: number; unusedNumbers: number }> {
  let notes = 0;
  let cancelledNotes = 0;
  let unusedNumbers = 0;
  for (const { note, cancelledByEvent } of store.notes()) {
    notes++;
    if (note.status === 'unused') {
      unusedNumbers++;
      await put(note.c100);
      continue;
    }
    const cancelled = cancelledByEvent || note.status === 'cancelled';
    if (cancelled || note.status === 'denied') {
      if (cancelled) cancelledNotes++;
      await put(keepOnly(records, 'C100', note.c100, kept, cancelled ? '02' : '04'));
      continue;
    }
    await put(note.c100);
    for (const item of note.c170) await put(item);
    await children(note);
  }
  return { notes, cancelledNotes, unusedNumbers };
}
