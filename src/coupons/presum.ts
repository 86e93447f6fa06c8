/**
 * Sales summed where they are read (a pool worker), so that the main thread adds one row per group of a chunk
 * instead of one part per sale, and only looks each sale's key up. A sum is order-independent; what is not — a
 * second delivery of a key, a sale whose cancellation came first — the main thread decides as before, and takes
 * the sale back out of the sums by its serialized contribution (Aggregator.revertSale, cancelContribution). A
 * group that only such sales touched nets to zero and is dropped (Aggregator.rows: a counted row always has a
 * coupon or a cancelled coupon). A sale marked cancelled in its own document is never presummed.
 */
import { AMOUNTS, type CountedEvent, type CountedSale } from './aggregate.js';

/**
 * The presummed sales of one chunk: per group, its coupons (parts), items and amounts (AMOUNTS order); and the
 * sales themselves in columns (what the main thread still needs of each: its key, source and serialized
 * contribution) — a few strings per sale instead of an object graph to copy between threads.
 */
export interface Presum {
  readonly groups: string[];
  readonly coupons: number[];
  readonly items: number[];
  /** AMOUNTS.length per group, in AMOUNTS order. */
  readonly amounts: bigint[];
  readonly keys: string[];
  readonly sources: string[];
  readonly data: string[];
}

const NO_PARTS: readonly never[] = [];

/** Sale `i` of a chunk's presum, as the main thread counts it (marked `presummed`: its parts are in the sums). */
export function presummedSale(s: Presum, i: number): CountedSale {
  return { kind: 'sale', key: s.keys[i]!, source: s.sources[i]!, contribution: { parts: NO_PARTS, data: s.data[i]! }, presummed: true };
}

export class PresumBuilder {
  readonly #index = new Map<string, number>();
  readonly #sum: Presum = { groups: [], coupons: [], items: [], amounts: [], keys: [], sources: [], data: [] };

  /**
   * What an item (a document, a CSV coupon) is in the sums: the index of its sale when it is one sale without
   * findings and not cancelled in its own document (taken into the sums), else null (it goes to the main thread
   * as it is).
   */
  takeItem(events: readonly CountedEvent[], findings: readonly unknown[]): number | null {
    const sale = events[0];
    if (events.length !== 1 || findings.length !== 0 || sale!.kind !== 'sale' || sale!.cancelledInDocument) return null;
    return this.take(sale!);
  }

  /** Adds a sale (not cancelled in its document) to the sums; its index (presummedSale gives it back). */
  take(sale: CountedSale): number {
    const s = this.#sum;
    for (const p of sale.contribution.parts) {
      let i = this.#index.get(p.group);
      if (i === undefined) {
        i = s.groups.length;
        this.#index.set(p.group, i);
        s.groups.push(p.group);
        s.coupons.push(0);
        s.items.push(0);
        for (let a = 0; a < AMOUNTS.length; a++) s.amounts.push(0n);
      }
      s.coupons[i]!++;
      s.items[i]! += p.items;
      for (let a = 0; a < AMOUNTS.length; a++) s.amounts[i * AMOUNTS.length + a]! += p[AMOUNTS[a]!];
    }
    s.keys.push(sale.key);
    s.sources.push(sale.source);
    s.data.push(sale.contribution.data);
    return s.keys.length - 1;
  }

  /** The sums so far (null when no sale was taken). */
  result(): Presum | null {
    return this.#sum.keys.length === 0 ? null : this.#sum;
  }
}
