/**
 * An exact running sum of SPED decimals (`-?\d+(,\d+)?`) for the validator's consistency checks. It adds scaled
 * integers as doubles while they stay safe integers (the usual money of a document) and moves to Decimal (BigInt)
 * for good when a value or the sum would not: exact either way, never a rounded binary float.
 */
import { Decimal } from '../common/decimal.js';

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

export class ExactSum {
  private units = 0;
  private scale = 0;
  private big: Decimal | null = null;

  /**
   * Adds a value as `Decimal.parse(text, ',')` reads it; empty, missing or not a decimal adds nothing (the
   * validator's "zero when absent or invalid").
   */
  addText(text: string | undefined): void {
    if (!text) return;
    const n = text.length;
    const negative = text.charCodeAt(0) === 45;
    let i = negative ? 1 : 0;
    let units = 0;
    let digits = 0;
    let frac = 0;
    let comma = false;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        units = units * 10 + (c - 48);
        digits++;
        if (comma) frac++;
      } else if (c === 44 && !comma && digits > 0) comma = true;
      else return; // not a decimal (Decimal.parse gives null): adds nothing
    }
    if (digits === 0 || (comma && frac === 0)) return;
    if (this.big !== null || digits > 15 || !this.addUnits(negative ? -units : units, frac)) this.addBig(text);
  }

  /** `addText` of the latin1 text `buf[start..end)`, read on the bytes (no string unless BigInt is needed). */
  addBytes(buf: Uint8Array, start: number, end: number): void {
    if (start >= end) return;
    const negative = buf[start] === 45;
    let i = negative ? start + 1 : start;
    let units = 0;
    let digits = 0;
    let frac = 0;
    let comma = false;
    for (; i < end; i++) {
      const c = buf[i]!;
      if (c >= 48 && c <= 57) {
        units = units * 10 + (c - 48);
        digits++;
        if (comma) frac++;
      } else if (c === 44 && !comma && digits > 0) comma = true;
      else return;
    }
    if (digits === 0 || (comma && frac === 0)) return;
    if (this.big !== null || digits > 15 || !this.addUnits(negative ? -units : units, frac)) {
      this.addBig(Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1'));
    }
  }

  /** Adds units × 10^-frac (units a safe integer) while the sum stays in doubles; false, nothing added, otherwise. */
  addScaled(units: number, frac: number): boolean {
    return this.big === null && this.addUnits(units, frac);
  }

  /** Adds units × 10^-frac while everything stays a safe integer; false (nothing added) otherwise. */
  private addUnits(units: number, frac: number): boolean {
    if (frac === this.scale) {
      // the usual case (every value of a field has its 2 decimals): no rescaling; units (≤ 15 digits) is safe
      const sum = this.units + units;
      if (sum > Number.MAX_SAFE_INTEGER || sum < -Number.MAX_SAFE_INTEGER) return false;
      this.units = sum;
      return true;
    }
    let a = this.units;
    let scale = this.scale;
    if (frac > scale) {
      a *= POW10[frac - scale]!;
      scale = frac;
    } else if (frac < scale) units *= POW10[scale - frac]!;
    const sum = a + units;
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(units) || !Number.isSafeInteger(sum)) return false;
    this.units = sum;
    this.scale = scale;
    return true;
  }

  private addBig(text: string): void {
    const d = Decimal.parse(text, ',');
    if (d) this.big = this.toDecimal().add(d);
  }

  /** Exact equality with another sum (doubles when both are small, else Decimal). */
  equals(other: ExactSum): boolean {
    if (this.big === null && other.big === null) {
      if (this.scale === other.scale) return this.units === other.units;
      const scale = Math.max(this.scale, other.scale);
      const a = this.units * POW10[scale - this.scale]!;
      const b = other.units * POW10[scale - other.scale]!;
      if (Number.isSafeInteger(a) && Number.isSafeInteger(b)) return a === b;
    }
    return this.toDecimal().equals(other.toDecimal());
  }

  /** Back to zero, for reuse (a document's sums are reset, not reallocated, when the next document opens). */
  reset(): void {
    this.units = 0;
    this.scale = 0;
    this.big = null;
  }

  toDecimal(): Decimal {
    return this.big ?? new Decimal(BigInt(this.units), this.scale);
  }
}
