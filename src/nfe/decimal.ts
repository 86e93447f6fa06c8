/**
 * Exact decimal helpers for NF-e values (decimal strings in, decimal strings out), as thin functions over the
 * project's one exact-decimal type, `Decimal` of src/common/decimal.ts (scaled BigInt). No binary floats
 * anywhere: `0.1 + 0.2` is `0.30`, and a sum of ten thousand items is exact to the cent. NF-e writes decimals
 * with a dot only.
 */
import { Decimal } from '../common/decimal.js';

const DECIMAL_RE = /^-?[0-9]+(?:\.[0-9]+)?$/;

/** True when `value` is a plain decimal string (`123`, `-4.50`; no exponent, no thousands separators). */
export function isDecimal(value: string): boolean {
  return DECIMAL_RE.test(value);
}

/** The value as a Decimal, or a RangeError naming it (surrounding spaces are ignored). */
function decimal(value: string): Decimal {
  return Decimal.from(value.trim(), '.');
}

/** Number of fraction digits as written (`"1.50"` → 2). Null when not a decimal. */
export function decimalScale(value: string): number | null {
  return isDecimal(value) ? Decimal.from(value).scale : null;
}

/**
 * The value scaled by 10^scale as a BigInt (`toScaled("12.5", 2)` → 1250n). Throws a RangeError when the value
 * is not a decimal or has more fraction digits than `scale` that are not zeros (no silent rounding).
 */
export function toScaled(value: string, scale: number): bigint {
  const d = decimal(value);
  if (d.scale > scale && !d.round(scale).equals(d)) throw new RangeError(`${value} has more than ${scale} decimal places`);
  return d.round(scale).units;
}

/** A scaled BigInt back to a decimal string with exactly `scale` fraction digits (`1250n, 2` → `"12.50"`). */
export function fromScaled(value: bigint, scale: number): string {
  return new Decimal(value, scale).format('.');
}

/** Exact sum of decimal strings at `scale` fraction digits; absent values (undefined, '') count as zero. */
export function sumDecimals(values: Iterable<string | undefined | null>, scale = 2): string {
  let total = 0n;
  for (const v of values) if (v !== undefined && v !== null && v !== '') total += toScaled(v, scale);
  return fromScaled(total, scale);
}

/** Compares two decimal strings exactly: -1, 0 or 1 (`"1.0"` equals `"1.00"`). */
export function compareDecimals(a: string, b: string): -1 | 0 | 1 {
  const c = decimal(a).compare(decimal(b));
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

/**
 * `value × rate%` rounded half-up (away from zero) to `scale` places, exactly:
 * `percentOf("100.00", "18.0000")` → `"18.00"`.
 */
export function percentOf(value: string, rate: string, scale = 2): string {
  const product = decimal(value).mul(decimal(rate));
  return new Decimal(product.units, product.scale + 2).format('.', scale);
}

/** `a × b` rounded half-up (away from zero) to `scale` places (quantity × unit price). */
export function multiplyDecimals(a: string, b: string, scale = 2): string {
  return decimal(a).mul(decimal(b)).format('.', scale);
}
