/**
 * Exact decimals as scaled BigInts: money and quantities are never binary floats.
 * `Decimal.parse('1.234,56', ',')` is refused (no thousands separators); `Decimal.parse('1234,56', ',')` is 1234.56.
 */

const PLAIN = /^-?\d+(?:[.,]\d+)?$/;

export class Decimal {
  /** The value times 10^scale. */
  readonly units: bigint;
  readonly scale: number;

  constructor(units: bigint, scale: number) {
    this.units = units;
    this.scale = scale;
  }

  static readonly ZERO = new Decimal(0n, 0);

  /**
   * Parses a decimal string with the given separator ('.' or ','). Returns null when the text is not a plain
   * decimal (signs other than a leading '-', thousands separators, exponents, spaces).
   */
  static parse(text: string, separator: '.' | ',' = '.'): Decimal | null {
    if (!PLAIN.test(text)) return null;
    const sep = text.indexOf(separator === '.' ? '.' : ',');
    const other = text.indexOf(separator === '.' ? ',' : '.');
    if (other !== -1) return null;
    if (sep === -1) return new Decimal(BigInt(text), 0);
    const intPart = text.slice(0, sep);
    const frac = text.slice(sep + 1);
    const negative = intPart.startsWith('-');
    const digits = BigInt((negative ? intPart.slice(1) : intPart) + frac);
    return new Decimal(negative ? -digits : digits, frac.length);
  }

  /** Parses or throws a RangeError naming the text. */
  static from(text: string, separator: '.' | ',' = '.'): Decimal {
    const d = Decimal.parse(text, separator);
    if (!d) throw new RangeError(`not a decimal: '${text}'`);
    return d;
  }

  private rescale(scale: number): bigint {
    return scale === this.scale ? this.units : this.units * 10n ** BigInt(scale - this.scale);
  }

  add(other: Decimal): Decimal {
    const scale = Math.max(this.scale, other.scale);
    return new Decimal(this.rescale(scale) + other.rescale(scale), scale);
  }

  sub(other: Decimal): Decimal {
    const scale = Math.max(this.scale, other.scale);
    return new Decimal(this.rescale(scale) - other.rescale(scale), scale);
  }

  /** Exact product. */
  mul(other: Decimal): Decimal {
    return new Decimal(this.units * other.units, this.scale + other.scale);
  }

  compare(other: Decimal): number {
    const scale = Math.max(this.scale, other.scale);
    const a = this.rescale(scale);
    const b = other.rescale(scale);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  equals(other: Decimal): boolean {
    return this.compare(other) === 0;
  }

  isZero(): boolean {
    return this.units === 0n;
  }

  /** Rounds half away from zero to `scale` decimals (what fiscal documents do). */
  round(scale: number): Decimal {
    if (scale >= this.scale) return new Decimal(this.rescale(scale), scale);
    const factor = 10n ** BigInt(this.scale - scale);
    const negative = this.units < 0n;
    const abs = negative ? -this.units : this.units;
    let q = abs / factor;
    if ((abs % factor) * 2n >= factor) q += 1n;
    return new Decimal(negative ? -q : q, scale);
  }

  /** Text with the given separator and exactly `scale` decimals when given (rounded), else the stored scale. */
  format(separator: '.' | ',' = '.', scale?: number): string {
    const d = scale === undefined ? this : this.round(scale);
    const negative = d.units < 0n;
    let digits = (negative ? -d.units : d.units).toString();
    if (d.scale === 0) return (negative ? '-' : '') + digits;
    digits = digits.padStart(d.scale + 1, '0');
    return `${negative ? '-' : ''}${digits.slice(0, -d.scale)}${separator}${digits.slice(-d.scale)}`;
  }

  toString(): string {
    return this.format('.');
  }

  toJSON(): string {
    return this.toString();
  }
}
