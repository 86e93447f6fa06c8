/**
 * Compiled field checks for the validator's hot path: one closure per field definition, built once, that answers
 * "this value certainly has no finding" with a character loop (no regex, no allocation). A false answer is not a
 * finding: the validator then runs its full check, which produces the exact findings and messages.
 */
import type { FieldDef } from './layout.js';

export type FastCheck = (value: string) => boolean;

const never: FastCheck = () => false;

/** `-?\d+(,\d+)?` with at most `decimals` decimals and at most `size` digits in all (when given). */
function decimalCheck(decimals: number, size: number | undefined): FastCheck {
  const maxDigits = size ?? Infinity;
  return (v) => {
    const n = v.length;
    let i = v.charCodeAt(0) === 45 ? 1 : 0;
    const intStart = i;
    while (i < n && isDigit(v.charCodeAt(i))) i++;
    const intDigits = i - intStart;
    if (intDigits === 0) return false;
    let frac = 0;
    if (i < n) {
      if (v.charCodeAt(i) !== 44) return false;
      const fracStart = ++i;
      while (i < n && isDigit(v.charCodeAt(i))) i++;
      frac = i - fracStart;
      if (frac === 0 || i !== n) return false;
    }
    return frac <= decimals && intDigits + frac <= maxDigits;
  };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function allDigits(v: string): boolean {
  for (let i = 0; i < v.length; i++) if (!isDigit(v.charCodeAt(i))) return false;
  return v.length > 0;
}

/** The fast check of one field (see the module comment); dates and identifiers always take the full check. */
export function fastCheck(f: FieldDef): FastCheck {
  const fmt = f.format;
  if (fmt !== undefined) return never; // dates, periods, CNPJ/CPF/keys: check digits and calendars, full check
  if (f.type === 'N' && f.decimals !== undefined) return decimalCheck(f.decimals, f.size);
  const size = f.size;
  const exact = f.exact === true;
  const values = f.values ? new Set(f.values) : null;
  const numeric = f.type === 'N';
  return (v) => {
    if (numeric && !allDigits(v)) return false;
    if (size !== undefined && (exact ? v.length !== size : v.length > size)) return false;
    return values === null || values.has(v);
  };
}
