/** Exact money for the coupon summary: decimal strings ↔ cents (BigInt), and ICMS rates as grouping keys. */
import { Decimal } from '../common/decimal.js';
import { ownCopy } from '../common/own-copy.js';
import { fromScaled, toScaled } from '../nfe/decimal.js';

/**
 * The usual shape of an amount, read without the general parser (it runs for every amount of every item): an
 * optional `-`, 1 to 13 digits, and optionally the separator (code 46 `.` or 44 `,`) with 1 or 2 digits. Cents
 * as a BigInt, or undefined for anything else (the caller's general parser then decides).
 */
export function quickCents(v: string, separator: 44 | 46): bigint | undefined {
  const n = v.length;
  let i = v.charCodeAt(0) === 45 ? 1 : 0;
  const negative = i === 1;
  let whole = 0;
  const start = i;
  for (; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) break;
    whole = whole * 10 + (c - 48);
  }
  const digits = i - start;
  if (digits === 0 || digits > 13) return undefined; // cents stay below 2^53
  let frac = 0;
  if (i < n) {
    if (v.charCodeAt(i) !== separator || n - i - 1 < 1 || n - i - 1 > 2) return undefined;
    for (let j = i + 1; j < n; j++) {
      const c = v.charCodeAt(j);
      if (c < 48 || c > 57) return undefined;
      frac = frac * 10 + (c - 48);
    }
    if (n - i - 1 === 1) frac *= 10;
  }
  const total = whole * 100 + frac;
  return BigInt(negative ? -total : total);
}

/** A decimal string (`.` separator) in cents; '' is zero. RangeError when not a decimal or finer than a cent. */
export function cents(value: string): bigint {
  const quick = quickCents(value, 46);
  if (quick !== undefined) return quick;
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
  const known = RATES.get(value);
  if (known !== undefined) return known;
  const v = value.trim();
  if (v === '') return '';
  let d = Decimal.from(v);
  while (d.scale > 2 && d.units % 10n === 0n) d = new Decimal(d.units / 10n, d.scale - 1);
  const rate = d.round(Math.max(2, d.scale)).format('.');
  // a store uses a handful of rates: remembered (bounded; own copies, not slices of a document's text)
  if (RATES.size < 1000) RATES.set(ownCopy(value), rate);
  return rate;
}

const RATES = new Map<string, string>();
