/**
 * The analytic groups of a document or of a day of coupons (C190, C850, C890): sums per CST_ICMS, CFOP and
 * rate, exact (Decimal), listed in a stable order (by the group key) so that the output never depends on the
 * order of the items.
 */
import { Decimal } from '../common/decimal.js';
import { FROM_DOCS_RULES } from './from-docs-rules.js';

/** The fields of C190 after the key (C850/C890 use the first three). */
export interface AnalyticSums {
  opr: Decimal;
  bc: Decimal;
  icms: Decimal;
  bcSt: Decimal;
  icmsSt: Decimal;
  redBc: Decimal;
  ipi: Decimal;
}

export interface AnalyticGroup extends AnalyticSums {
  /** CST_ICMS (origin + Tabela B), 3 digits. */
  cst: string;
  cfop: string;
  /** ALIQ_ICMS as the SPED writes it ('18,00'). */
  rate: string;
}

const SUM_FIELDS = ['opr', 'bc', 'icms', 'bcSt', 'icmsSt', 'redBc', 'ipi'] as const;

/** A decimal of the XML ('.' separator); '' or an invalid text is zero. */
export function dec(text: string): Decimal {
  return (text && Decimal.parse(text, '.')) || Decimal.ZERO;
}

/** A SPED amount with 2 decimals. */
export const money = (d: Decimal): string => d.format(',', 2);

/** Texts that are already an amount with 2 decimals (or a whole number) as Decimal would write them: no leading zeros, no sign. */
const CENTS = /^(?:0|[1-9]\d*)\.\d\d$/;
const WHOLE = /^(?:0|[1-9]\d*)$/;

/** money(dec(text)) — a decimal text of the XML or of the store as a SPED amount — without the Decimal for the texts that need no rounding. */
export function moneyOf(text: string): string {
  if (CENTS.test(text)) return text.replace('.', ',');
  if (WHOLE.test(text)) return `${text},00`;
  return money(dec(text));
}

/** A rate of the XML ('18.0000') as ALIQ_ICMS ('18,00'); '' is '0,00'. */
export const rateOf = (text: string): string => moneyOf(text);

/** CST_ICMS of an item: origin + CST, or origin + the Tabela B code the rules give a CSOSN. */
export function cstIcms(orig: string, cst: string, csosn: string): string {
  const tail = cst !== '' ? cst.padStart(2, '0').slice(-2) : csosn !== '' ? FROM_DOCS_RULES.csosnToCst.default : '90';
  return `${orig || '0'}${tail}`;
}

/** Whether a CST_ICMS has a base reduction (VL_RED_BC). */
export const reducesBase = (cst: string): boolean => FROM_DOCS_RULES.reducedBaseCst.cst.includes(cst.slice(1));

export class AnalyticGroups {
  private readonly groups = new Map<string, AnalyticGroup>();

  add(cst: string, cfop: string, rate: string, values: Partial<AnalyticSums>): void {
    const key = `${cst}|${cfop}|${rate}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { cst, cfop, rate, opr: Decimal.ZERO, bc: Decimal.ZERO, icms: Decimal.ZERO, bcSt: Decimal.ZERO, icmsSt: Decimal.ZERO, redBc: Decimal.ZERO, ipi: Decimal.ZERO };
      this.groups.set(key, g);
    }
    for (const f of SUM_FIELDS) {
      const v = values[f];
      if (v) g[f] = g[f].add(v);
    }
  }

  /** Adds every group of a list (a document's, to a day's). */
  addAll(groups: readonly AnalyticGroup[]): void {
    for (const g of groups) this.add(g.cst, g.cfop, g.rate, g);
  }

  /** The groups by key (CST, CFOP, rate). */
  list(): AnalyticGroup[] {
    return [...this.groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
  }

  get size(): number {
    return this.groups.size;
  }

  /** The sum of one field over the groups. */
  total(field: (typeof SUM_FIELDS)[number]): Decimal {
    let t = Decimal.ZERO;
    for (const g of this.groups.values()) t = t.add(g[field]);
    return t;
  }
}

/** A group as JSON-safe strings (the store keeps documents as JSON), and back. */
export type StoredGroup = [cst: string, cfop: string, rate: string, opr: string, bc: string, icms: string, bcSt: string, icmsSt: string, redBc: string, ipi: string];

export function storeGroup(g: AnalyticGroup): StoredGroup {
  return [g.cst, g.cfop, g.rate, g.opr.toString(), g.bc.toString(), g.icms.toString(), g.bcSt.toString(), g.icmsSt.toString(), g.redBc.toString(), g.ipi.toString()];
}

export function loadGroup(s: StoredGroup): AnalyticGroup {
  return { cst: s[0], cfop: s[1], rate: s[2], opr: dec(s[3]), bc: dec(s[4]), icms: dec(s[5]), bcSt: dec(s[6]), icmsSt: dec(s[7]), redBc: dec(s[8]), ipi: dec(s[9]) };
}
