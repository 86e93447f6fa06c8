/**
 * Exact decimal arithmetic for NF-e values: decimal strings ↔ scaled BigInt. No binary floats anywhere:
 * `0.1 + 0.2` is `0.30`, and a sum of ten thousand items is exact to the cent.
 */

const DECIMAL_RE = /^(-?)([0-9]+)(?:\.([0-9]+))?$/;

/** True when `value` is a plain decimal string (`123`, `-4.50`; no exponent, no thousands separators). */
export function isDecimal(value: string): boolean {
  return DECIMAL_RE.test(value);
}

/** Number of fraction digits as written (`"1.50"` → 2). Null when not a decimal. */
export function decimalScale(value: string): number | null {
  const m = DECIMAL_RE.exec(value);
  return m ? (m[3]?.length ?? 0) : null;
}

/**
 * The value scaled by 10^scale as a BigInt (`toScaled("12.5", 2)` → 1250n). Throws a RangeError when the value
 * is not a decimal or has more fraction digits than `scale` that are not zeros (no silent rounding).
 */
export function toScaled(value: string, scale: number): bigint {
  const m = DECIMAL_RE.exec(value.trim());
  if (!m) throw new RangeError(`not a decimal: ${JSON.stringify(value)}`);
  const [, sign, int, frac = ''] = m;
  let f = frac;
  if (f.length > scale) {
    if (!/^0*$/.test(f.slice(scale))) throw new RangeError(`${value} has more than ${scale} decimal places`);
    f = f.slice(0, scale);
  }
  const n = BigInt(int! + f.padEnd(scale, '0'));
  return sign === '-' ? -n : n;
}

/** A scaled BigInt back to a decimal string with exactly `scale` fraction digits (`1250n, 2` → `"12.50"`). */
export function fromScaled(value: bigint, scale: number): string {
  const neg = value < 0n;
  const digits = (neg ? -value : value).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  return `${neg ? '-' : ''}${int}${scale > 0 ? `.${frac}` : ''}`;
}

/** Exact sum of decimal strings at `scale` fraction digits; absent values (undefined, '') count as zero. */
export function sumDecimals(values: Iterable<string | undefined | null>, scale = 2): string {
  let total = 0n;
  for (const v of values) if (v !== undefined && v !== null && v !== '') total += toScaled(v, scale);
  return fromScaled(total, scale);
}

/** Compares two decimal strings exactly: -1, 0 or 1 (`"1.0"` equals `"1.00"`). */
export function compareDecimals(a: string, b: string): -1 | 0 | 1 {
  const scale = Math.max(decimalScale(a) ?? 0, decimalScale(b) ?? 0);
  const x = toScaled(a, scale);
  const y = toScaled(b, scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * `value × rate%` rounded half-up to `scale` places, exactly: `percentOf("100.00", "18.0000")` → `"18.00"`.
 */
export function percentOf(value: string, rate: string, scale = 2): string {
  const vs = decimalScale(value) ?? 0;
  const rs = decimalScale(rate) ?? 0;
  const product = toScaled(value, vs) * toScaled(rate, rs); // scale vs + rs, times 100
  const shift = vs + rs + 2 - scale;
  return fromScaled(roundHalfUp(product, shift), scale);
}

/** `a × b` rounded half-up to `scale` places (quantity × unit price). */
export function multiplyDecimals(a: string, b: string, scale = 2): string {
  const as = decimalScale(a) ?? 0;
  const bs = decimalScale(b) ?? 0;
  const product = toScaled(a, as) * toScaled(b, bs);
  const shift = as + bs - scale;
  return fromScaled(shift >= 0 ? roundHalfUp(product, shift) : product * 10n ** BigInt(-shift), scale);
}

function roundHalfUp(n: bigint, digits: number): bigint {
  if (digits <= 0) return n * 10n ** BigInt(-digits);
  const d = 10n ** BigInt(digits);
  const neg = n < 0n;
  const abs = neg ? -n : n;
  const q = (abs + d / 2n) / d;
  return neg ? -q : q;
}
