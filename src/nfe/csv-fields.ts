/**
 * Cells that NF-e and CF-e SAT items fill from fields of the same name (groups prod, PIS, COFINS), for the
 * item rows of src/nfe/csv.ts and src/coupons/cfe/csv.ts; and the small readers of parsed trees they share.
 */
import { variantOf } from './totals.js';

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** An object, or an empty one. */
export const o = (v: unknown): Obj => (isObj(v) ? v : {});
/** A leaf's text (also the `#text` of an element with attributes), or ''. */
export const s = (v: unknown): string => (typeof v === 'string' ? v : isObj(v) && typeof v['#text'] === 'string' ? (v['#text'] as string) : '');
/** A repeating element as a list (one element, an array, or none). */
export const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : isObj(v) ? [v] : []);

/** `item` … `v_desc`: the item number and its product (prod). */
export function productCells(det: Obj): Record<'item' | 'product_code' | 'gtin' | 'description' | 'ncm' | 'cest' | 'cfop' | 'unit' | 'quantity' | 'unit_price' | 'v_prod' | 'v_desc', string> {
  const prod = o(det.prod);
  return {
    item: s(det['@nItem']),
    product_code: s(prod.cProd),
    gtin: s(prod.cEAN),
    description: s(prod.xProd),
    ncm: s(prod.NCM),
    cest: s(prod.CEST),
    cfop: s(prod.CFOP),
    unit: s(prod.uCom),
    quantity: s(prod.qCom),
    unit_price: s(prod.vUnCom),
    v_prod: s(prod.vProd),
    v_desc: s(prod.vDesc),
  };
}

/** `pis_cst` … `cofins_value`: the item's PIS and COFINS group, whichever variant it holds. */
export function pisCofinsCells(imposto: Obj): Record<'pis_cst' | 'pis_bc' | 'pis_rate' | 'pis_value' | 'cofins_cst' | 'cofins_bc' | 'cofins_rate' | 'cofins_value', string> {
  const pis = variantOf(imposto.PIS)?.[1] ?? {};
  const cofins = variantOf(imposto.COFINS)?.[1] ?? {};
  return {
    pis_cst: s(pis.CST),
    pis_bc: s(pis.vBC),
    pis_rate: s(pis.pPIS),
    pis_value: s(pis.vPIS),
    cofins_cst: s(cofins.CST),
    cofins_bc: s(cofins.vBC),
    cofins_rate: s(cofins.pCOFINS),
    cofins_value: s(cofins.vCOFINS),
  };
}
