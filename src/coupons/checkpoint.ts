/**
 * Checkpoints of a coupon summary (a `coupons.summary` task that a crash, a lost lease or a redelivery interrupts
 * continues where its last checkpoint left it). What a checkpoint is:
 *  - the durable key store (key-store.ts, `path`): every key seen so far with its state and contribution;
 *  - in the same SQLite transaction, the state below: where the reading stopped (the source, the items read in it
 *    and, for a plain file of concatenated documents, the byte offset past the last one), the rows' sums, the
 *    counters and the finding counts.
 * One transaction holds both, so the file is always the state after one item, never a mix. A checkpoint is taken
 * every `every` items and whenever the key store's memory passes its budget (the only way its memory is freed:
 * a durable store never spills by itself). The caller then records it (the task ledger names the file).
 */
import type { GroupSums } from './aggregate.js';

export const COUPON_CHECKPOINT_VERSION = 1;

/** Items (documents, CSV coupons) between two checkpoints unless told otherwise. */
export const DEFAULT_CHECKPOINT_EVERY = 50_000;

/** Where the reading stopped: after `items` items of source number `source` (0-based, in the order given). */
export interface CouponPosition {
  readonly source: number;
  readonly items: number;
  /** A plain file of concatenated documents: the byte offset just past the last document read; else null. */
  readonly offset: number | null;
}

export interface CouponCheckpointOptions {
  /** The durable key store's file: new (a first attempt) or the snapshot of an earlier attempt's (to resume). */
  readonly path: string;
  /** Continue from the file's last checkpoint when it has one (else from the start). */
  readonly resume: boolean;
  /** Items between two checkpoints (default 50,000). */
  readonly every?: number;
  /** Called after each checkpoint is in the file (fsynced): the caller records it. */
  readonly onCheckpoint: (at: CouponPosition & { readonly read: number }) => Promise<void>;
}

/** The counters of a summary that a checkpoint carries (the sums are in `rows`). */
export type CouponCounters = { [K in 'coupons' | 'cancelled' | 'duplicates' | 'duplicateCancellations' | 'read' | 'notCounted']: number };

export interface CouponCheckpointState {
  readonly version: typeof COUPON_CHECKPOINT_VERSION;
  readonly position: CouponPosition;
  readonly counters: CouponCounters;
  readonly findings: { readonly errors: number; readonly warnings: number };
  /** Aggregator.snapshot(). */
  readonly rows: string[][];
}

/** A checkpoint state read back, or null when the text is not one this version wrote (start from zero then). */
export function parseCheckpointState(text: string | null): CouponCheckpointState | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Partial<CouponCheckpointState>;
    if (v.version !== COUPON_CHECKPOINT_VERSION || !v.position || !v.counters || !v.findings || !Array.isArray(v.rows)) return null;
    return v as CouponCheckpointState;
  } catch {
    return null;
  }
}

export function countersOf(t: CouponCounters & Partial<GroupSums>): CouponCounters {
  return { coupons: t.coupons, cancelled: t.cancelled, duplicates: t.duplicates, duplicateCancellations: t.duplicateCancellations, read: t.read, notCounted: t.notCounted };
}
