/** Exact money for the coupon summary: decimal strings ↔ cents (BigInt), and ICMS rates as grouping keys. */
import { Decimal } from '../common/decimal.js';
import { fromScaled, toScaled } from '../nfe/decimal.js';

/** A decimal string (`.` separator) in cents; '' is zero. RangeError when not a decimal or finer than a cent. */
export function cents(value: string): bigint {
  const v = value.trim();
  return v === '' ? 0n : toScaled(v, 2);
}

/** Cents back to a decimal string with 2 fraction digits (`1250n` → `12.50`). */
export function formatCents(value: bigint): string {
  return fromScaled(value, 2);
}

/**
 * A rate as a grouping key: at least 2 fraction digits, trailing zeros past them dropped (`18`, `18.0000` → `18.00`;
 * `4.6500` → `4.65`; `1.125` stays). '' stays ''. RangeError when not a decimal.
 */
export function normalizeRate(value: string): string {
  const v = value.trim();
  if (v === '') return '';
  let d = Decimal.from(v);
  while (d.scale > 2 && d.units % 10n === 0n) d = new Decimal(d.units / 10n, d.scale - 1);
  return d.round(Math.max(2, d.scale)).format('.');
}
