/**
 * Check digits of Brazilian identifiers: CNPJ (numeric and the alphanumeric form issued from July 2026),
 * CPF, and the 44-character access key of NF-e/NFC-e/CT-e and friends (mod 11, weights 2..9 from the right).
 * Character value is the ASCII code minus 48, so digits keep their value and 'A' is 17.
 */

const CNPJ_RE = /^[0-9A-Z]{12}[0-9]{2}$/;
const CPF_RE = /^[0-9]{11}$/;
const KEY_RE = /^[0-9]{6}[0-9A-Z]{12}[0-9]{26}$/;

function charValue(code: number): number {
  return code - 48;
}

function mod11Cnpj(body: string): number {
  // weights 2..9 cycling, applied from the right
  let sum = 0;
  let weight = 2;
  for (let i = body.length - 1; i >= 0; i--) {
    sum += charValue(body.charCodeAt(i)) * weight;
    weight = weight === 9 ? 2 : weight + 1;
  }
  const rest = sum % 11;
  return rest < 2 ? 0 : 11 - rest;
}

/** True when `value` is a CNPJ (14 characters, numeric or alphanumeric) whose two check digits hold. */
export function isValidCnpj(value: string): boolean {
  if (!CNPJ_RE.test(value)) return false;
  if (/^0+$/.test(value)) return false;
  const d1 = mod11Cnpj(value.slice(0, 12));
  const d2 = mod11Cnpj(value.slice(0, 12) + String(d1));
  return value.charCodeAt(12) - 48 === d1 && value.charCodeAt(13) - 48 === d2;
}

/** The two check digits for a 12-character CNPJ base (numeric or alphanumeric). */
export function cnpjCheckDigits(base12: string): string {
  const d1 = mod11Cnpj(base12);
  return `${d1}${mod11Cnpj(base12 + String(d1))}`;
}

/** True when `value` is an 11-digit CPF whose check digits hold (repeated-digit CPFs are refused). */
export function isValidCpf(value: string): boolean {
  if (!CPF_RE.test(value) || /^(\d)\1{10}$/.test(value)) return false;
  for (const len of [9, 10]) {
    let sum = 0;
    for (let i = 0; i < len; i++) sum += (value.charCodeAt(i) - 48) * (len + 1 - i);
    const dv = (sum * 10) % 11 % 10;
    if (dv !== value.charCodeAt(len) - 48) return false;
  }
  return true;
}

/** The two check digits for a 9-digit CPF base. */
export function cpfCheckDigits(base9: string): string {
  let digits = base9;
  for (const len of [9, 10]) {
    let sum = 0;
    for (let i = 0; i < len; i++) sum += (digits.charCodeAt(i) - 48) * (len + 1 - i);
    digits += String((sum * 10) % 11 % 10);
  }
  return digits.slice(9);
}

/** Check digit (0..9) of the first 43 characters of an access key. */
export function accessKeyCheckDigit(first43: string): number {
  let sum = 0;
  let weight = 2;
  for (let i = first43.length - 1; i >= 0; i--) {
    sum += charValue(first43.charCodeAt(i)) * weight;
    weight = weight === 9 ? 2 : weight + 1;
  }
  const rest = sum % 11;
  return rest < 2 ? 0 : 11 - rest;
}

/** True when `value` has the shape of an access key (CNPJ part may be alphanumeric) and its check digit holds. */
export function isValidAccessKey(value: string): boolean {
  if (value.length !== 44 || !KEY_RE.test(value)) return false;
  return accessKeyCheckDigit(value.slice(0, 43)) === value.charCodeAt(43) - 48;
}
