/**
 * PIS/COFINS of a document's items for the EFD-Contribuições (formats/sped/from-docs/contribuicoes.json): the
 * CST, base, rate and value of each tax as the file books them (a received note's CST turned into the
 * recipient's entry CST, its credit at the basic rates), and their sums per CFOP, credit nature, CSTs and rates
 * (C175 of an NFC-e, C870 of a SAT-day, and what the M block adds up). Exact (Decimal); groups listed by key.
 */
import { Decimal } from '../common/decimal.js';
import { o, s, type Obj } from '../nfe/csv-fields.js';
import { variantOf } from '../nfe/totals.js';
import { dec } from './from-docs-analytic.js';
import { CONTRIB_RULES, type ContribRegime } from './from-docs-rules.js';

/** One tax (PIS or COFINS) of an item as booked. */
export interface TaxPart {
  cst: string;
  bc: Decimal;
  /** Percent, 4 decimals. */
  rate: Decimal;
  value: Decimal;
  /** Per-unit taxation (CST 03): the quantity base and the rate per unit; null otherwise. */
  quantity: { base: Decimal; rate: Decimal } | null;
}

export interface ItemTaxes {
  pis: TaxPart;
  cofins: TaxPart;
}

const HUNDRED = Decimal.from('100');

/** `base × rate %`, rounded to cents. */
export const percent = (base: Decimal, rate: Decimal): Decimal => {
  const p = base.mul(rate);
  return new Decimal(p.units, p.scale + 2).round(2);
};

function part(group: unknown, rateName: string, valueName: string, fractions: boolean): TaxPart {
  const [, g] = variantOf(group) ?? ['', {} as Obj];
  const rate = dec(s(g[rateName]));
  const qBase = s(g.qBCProd);
  return {
    cst: s(g.CST).padStart(2, '0'),
    bc: dec(s(g.vBC)),
    rate: (fractions ? rate.mul(HUNDRED) : rate).round(4),
    value: dec(s(g[valueName])),
    quantity: qBase ? { base: dec(qBase).round(3), rate: dec(s(g.vAliqProd)).round(4) } : null,
  };
}

/** The item's PIS and COFINS as its document gives them (`fractions`: the CF-e's rates, 0.0165 for 1.65 %). */
export function itemTaxes(imposto: Obj, fractions = false): ItemTaxes {
  return { pis: part(o(imposto).PIS, 'pPIS', 'vPIS', fractions), cofins: part(o(imposto).COFINS, 'pCOFINS', 'vCOFINS', fractions) };
}

/** The credit nature (NAT_BC_CRED) of an acquisition of an item of this type; null: no credit. */
export const creditNature = (itemType: string): string | null => CONTRIB_RULES.creditNature.byItemType[itemType] ?? null;

/**
 * A received item's taxes as the recipient books them: the entry CST of the regime and, when it gives a credit,
 * the issuer's base at the basic credit rate; without credit no base, rate or value.
 */
export function entryTaxes(issuer: ItemTaxes, regime: ContribRegime, itemType: string): { taxes: ItemTaxes; nature: string } {
  const nature = creditNature(itemType);
  const book = (p: TaxPart, rate: string): TaxPart => {
    let cst = CONTRIB_RULES.entryCst[regime][p.cst] ?? CONTRIB_RULES.entryCst.otherwise;
    if (CONTRIB_RULES.cst.credit.includes(cst) && !nature) cst = '70';
    if (!CONTRIB_RULES.cst.credit.includes(cst)) return { cst, bc: Decimal.ZERO, rate: Decimal.ZERO, value: Decimal.ZERO, quantity: null };
    const r = Decimal.from(rate).round(4);
    return { cst, bc: p.bc, rate: r, value: percent(p.bc, r), quantity: null };
  };
  const taxes = { pis: book(issuer.pis, CONTRIB_RULES.creditRates.pis), cofins: book(issuer.cofins, CONTRIB_RULES.creditRates.cofins) };
  return { taxes, nature: CONTRIB_RULES.cst.credit.includes(taxes.pis.cst) || CONTRIB_RULES.cst.credit.includes(taxes.cofins.cst) ? nature ?? '' : '' };
}

/** The item fields of C170 for PIS and COFINS. */
export function c170Taxes(t: ItemTaxes): Record<string, string> {
  const fields = (p: TaxPart, tax: 'PIS' | 'COFINS'): Record<string, string> => ({
    [`CST_${tax}`]: p.cst,
    [`VL_BC_${tax}`]: p.quantity ? '' : p.bc.format(',', 2),
    [`ALIQ_${tax}`]: p.quantity ? '' : p.rate.format(',', 4),
    [`QUANT_BC_${tax}`]: p.quantity ? p.quantity.base.format(',', 3) : '',
    [`ALIQ_${tax}_QUANT`]: p.quantity ? p.quantity.rate.format(',', 4) : '',
    [`VL_${tax}`]: p.value.format(',', 2),
  });
  return { ...fields(t.pis, 'PIS'), ...fields(t.cofins, 'COFINS') };
}

/** The sums of a PIS/COFINS group. */
export interface PisCofinsSums {
  /** Σ item values (vProd) and discounts. */
  item: Decimal;
  desc: Decimal;
  bcPis: Decimal;
  pis: Decimal;
  bcCofins: Decimal;
  cofins: Decimal;
}

export interface PisCofinsGroup extends PisCofinsSums {
  cfop: string;
  /** NAT_BC_CRED of an entry with credit, else ''. */
  nature: string;
  cstPis: string;
  ratePis: Decimal;
  cstCofins: string;
  rateCofins: Decimal;
}

const SUMS = ['item', 'desc', 'bcPis', 'pis', 'bcCofins', 'cofins'] as const;

export class PisCofinsGroups {
  private readonly groups = new Map<string, PisCofinsGroup>();

  add(g: Omit<PisCofinsGroup, keyof PisCofinsSums> & Partial<PisCofinsSums>): void {
    const key = [g.cfop, g.nature, g.cstPis, g.ratePis.format('.', 4), g.cstCofins, g.rateCofins.format('.', 4)].join('|');
    let cur = this.groups.get(key);
    if (!cur) {
      cur = { cfop: g.cfop, nature: g.nature, cstPis: g.cstPis, ratePis: g.ratePis, cstCofins: g.cstCofins, rateCofins: g.rateCofins, item: Decimal.ZERO, desc: Decimal.ZERO, bcPis: Decimal.ZERO, pis: Decimal.ZERO, bcCofins: Decimal.ZERO, cofins: Decimal.ZERO };
      this.groups.set(key, cur);
    }
    for (const f of SUMS) {
      const v = g[f];
      if (v) cur[f] = cur[f].add(v);
    }
  }

  /** One item: its CFOP, credit nature, value, discount and taxes. */
  addItem(cfop: string, nature: string, item: Decimal, desc: Decimal, t: ItemTaxes): void {
    this.add({ cfop, nature, cstPis: t.pis.cst, ratePis: t.pis.rate, cstCofins: t.cofins.cst, rateCofins: t.cofins.rate, item, desc, bcPis: t.pis.bc, pis: t.pis.value, bcCofins: t.cofins.bc, cofins: t.cofins.value });
  }

  addAll(groups: readonly PisCofinsGroup[]): void {
    for (const g of groups) this.add(g);
  }

  /** The groups by key. */
  list(): PisCofinsGroup[] {
    return [...this.groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
  }

  total(field: (typeof SUMS)[number]): Decimal {
    let t = Decimal.ZERO;
    for (const g of this.groups.values()) t = t.add(g[field]);
    return t;
  }
}

/** A group as JSON-safe strings (the store keeps documents as JSON), and back. */
export type StoredPisCofins = [cfop: string, nature: string, cstPis: string, ratePis: string, cstCofins: string, rateCofins: string, item: string, desc: string, bcPis: string, pis: string, bcCofins: string, cofins: string];

export function storePisCofins(g: PisCofinsGroup): StoredPisCofins {
  return [g.cfop, g.nature, g.cstPis, g.ratePis.toString(), g.cstCofins, g.rateCofins.toString(), ...SUMS.map((f) => g[f].toString())] as StoredPisCofins;
}

export function loadPisCofins(x: StoredPisCofins): PisCofinsGroup {
  return {
    cfop: x[0], nature: x[1], cstPis: x[2], ratePis: dec(x[3]), cstCofins: x[4], rateCofins: dec(x[5]),
    item: dec(x[6]), desc: dec(x[7]), bcPis: dec(x[8]), pis: dec(x[9]), bcCofins: dec(x[10]), cofins: dec(x[11]),
  };
}
