/**
 * The state of the validator's document consistency rules (C100 ↔ C190, C170 ↔ C190 by CST/CFOP/rate), built
 * for reuse: one `DocumentSums` per document register, reset when the next document opens, its exact sums and
 * groups kept from one document to the next (no allocation per document once the largest document was seen).
 *
 * Group keys: each part of a key (CST, CFOP, rate) is compared as one number (`groupKey`) instead of a string.
 * The rules themselves (what is added, what is compared, the messages) stay in the validator.
 */
import { Decimal } from '../common/decimal.js';
import { ExactSum } from './exact-sum.js';

/**
 * The key number of a group-key part as the validator normalizes it (`Decimal.parse(v, ',').format(',', 2)` when
 * the value has a comma or the field has decimals, else the text as it is), read on its bytes:
 *   ''                                    → 0
 *   digits only, field without decimals   → Number('1' + digits)    (≥ 1; leading zeros kept: '0102' ≠ '102')
 *   plain non-negative decimal with at most 2 decimals (or digits in a field with decimals)
 *                                         → -1 - (value × 100)      (≤ -1; '18' = '18,0' = '018,00' → '18,00')
 *   anything else                         → NaN: the caller compares the normalized texts instead.
 * Injective on the normalized texts and exact (every number stays below 2^53), so equal numbers mean equal
 * texts, and a text with a number never equals one without (see `keyText` for the way back).
 */
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14];

export function groupKey(buf: Uint8Array, s: number, e: number, decimals: boolean): number {
  if (s >= e) return 0;
  let v = 0;
  let p = s;
  for (; p < e; p++) {
    const c = buf[p]!;
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  const intDigits = p - s;
  if (p === e) {
    if (decimals) return intDigits <= 13 ? -1 - v * 100 : NaN;
    return intDigits <= 14 ? POW10[intDigits]! + v : NaN;
  }
  const frac = e - p - 1;
  if (intDigits === 0 || intDigits > 13 || buf[p] !== 44 || frac < 1 || frac > 2) return NaN;
  const d1 = buf[p + 1]! - 48;
  const d2 = frac === 2 ? buf[p + 2]! - 48 : 0;
  if (d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return NaN;
  return -1 - (v * 100 + d1 * 10 + d2);
}

const scratch = Buffer.alloc(32);

/** `groupKey` of a (normalized) text: NaN beyond ASCII or 32 characters. */
export function groupKeyOfText(text: string, decimals: boolean): number {
  const n = text.length;
  if (n > scratch.length) return NaN;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return NaN;
    scratch[i] = c;
  }
  return groupKey(scratch, 0, n, decimals);
}

/** The normalized text of a key number (the inverse of `groupKey`), for messages. */
export function keyText(key: number): string {
  if (key === 0) return '';
  if (key > 0) return String(key).slice(1);
  return new Decimal(BigInt(-1 - key), 2).format(',', 2);
}

/** Sums of one group of items or analytic records (one CST/CFOP/rate) within a document. */
export class SumGroup {
  /** The key's parts as numbers (`groupKey`), NaN where only the text can say. */
  readonly keys: Float64Array;
  /** The normalized text of the parts whose number is NaN (null elsewhere). */
  readonly texts: (string | null)[];
  /** Sums by analytic field slot (`SpedValidator.slotOf`); a missing sum is zero. */
  readonly sums: ExactSum[] = [];

  constructor(parts: number) {
    this.keys = new Float64Array(parts);
    this.texts = new Array<string | null>(parts).fill(null);
  }

  /** The sum of a slot, created at first use. */
  sum(slot: number): ExactSum {
    return this.sums[slot] ?? (this.sums[slot] = new ExactSum());
  }

  /** True when the group has the key `keys`/`texts`. */
  matches(keys: Float64Array, texts: readonly (string | null)[]): boolean {
    for (let k = 0; k < keys.length; k++) {
      const a = this.keys[k]!;
      const b = keys[k]!;
      // NaN !== NaN: two parts without numbers compare by their texts
      if (a !== b && !(a !== a && b !== b && this.texts[k] === texts[k])) return false;
    }
    return true;
  }

  /** The key's parts as text, joined by `|` (messages). */
  label(): string {
    let out = '';
    for (let k = 0; k < this.keys.length; k++) {
      const key = this.keys[k]!;
      out += (k > 0 ? '|' : '') + (key !== key ? this.texts[k]! : keyText(key));
    }
    return out;
  }
}

/** The groups of one side (items or analytic records) of a document, reused: `groups[0..count)` are live. */
export class GroupList {
  private readonly groups: SumGroup[] = [];
  count = 0;

  at(i: number): SumGroup {
    return this.groups[i]!;
  }

  find(keys: Float64Array, texts: readonly (string | null)[]): SumGroup | undefined {
    for (let i = 0; i < this.count; i++) {
      const g = this.groups[i]!;
      if (g.matches(keys, texts)) return g;
    }
    return undefined;
  }

  /** A new live group with the key `keys`/`texts` and zero sums (a reused object when there is one). */
  add(keys: Float64Array, texts: readonly (string | null)[]): SumGroup {
    let g = this.groups[this.count];
    if (g === undefined || g.keys.length !== keys.length) this.groups[this.count] = g = new SumGroup(keys.length);
    else {
      const sums = g.sums;
      for (let i = 0; i < sums.length; i++) sums[i]?.reset();
    }
    // a loop, not TypedArray.set: the key has 3 parts, the builtin's call costs more than the copy
    for (let k = 0; k < keys.length; k++) {
      g.keys[k] = keys[k]!;
      g.texts[k] = texts[k]!;
    }
    this.count++;
    return g;
  }
}

/** One open document's consistency state (reset, not reallocated, per document). */
export class DocumentSums {
  level = 0;
  line = 0;
  /** The value of each totals rule's `when` field, by rule. */
  readonly when: (string | undefined)[] = [];
  /** The document's declared totals, by (totals rule, pair) in plan order, read as exact sums. */
  readonly declared: ExactSum[] = [];
  /** Sums of the analytic children, by the slot of the field they are checked against. */
  readonly analytic = new SumGroup(0);
  analyticCount = 0;
  readonly itemGroups = new GroupList();
  readonly analyticGroups = new GroupList();
  itemCount = 0;

  /** Opens the next document: every count and sum back to zero. */
  reset(level: number, line: number): void {
    this.level = level;
    this.line = line;
    const sums = this.analytic.sums;
    for (let i = 0; i < sums.length; i++) sums[i]?.reset();
    this.analyticCount = 0;
    this.itemCount = 0;
    this.itemGroups.count = 0;
    this.analyticGroups.count = 0;
  }

  /** The declared total number `i` (created at first use), reset. */
  declaredAt(i: number): ExactSum {
    const s = this.declared[i] ?? (this.declared[i] = new ExactSum());
    s.reset();
    return s;
  }
}
