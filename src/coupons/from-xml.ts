/**
 * Coupons out of parsed XML documents (src/nfe/parse.ts reads them all): a CF-e SAT sale (`CFe`) or
 * cancellation (`CFeCanc`, layouts 0.06–0.08), an NFC-e (model 65: `NFe`, `nfeProc`, `enviNFe`; an nfeProc with
 * its cancellation appended is a cancelled sale) and the NFC-e events that cancel one (110111 cancellation,
 * 110112 cancellation by substitution), once SEFAZ answered them (`procEventoNFe`, cStat 135/136/155).
 *
 * Per document, the checks the summary promises: the key's check digit (NFE_KEY_CHECK_DIGIT) and the totals
 * against the items (NFE_TOTALS_MISMATCH). A value that is not a decimal of at most 2 places (NFE_FORMAT) keeps
 * the sale out of the sums: it cannot be added exactly. NF-e model 55 documents and other events are not
 * coupons: a warning (COUPON_NOT_A_COUPON), nothing counted.
 */
import { parseAccessKey } from '../nfe/key.js';
import { list, o, s, type Obj } from '../nfe/csv-fields.js';
import type { ParsedNfe } from '../nfe/parse.js';
import { notesOf, noteKey } from '../nfe/parse.js';
import { computeTotals, variantOf } from '../nfe/totals.js';
import { eventStatus } from '../nfe/validate.js';
import { cents, formatCents, normalizeRate } from './money.js';
import type { CouponEvent, CouponFinding, CouponItem, CouponSale } from './types.js';

export interface CouponsOfDocument {
  readonly events: CouponEvent[];
  readonly findings: CouponFinding[];
}

/** A finding with the document's source and, when known, the coupon's key. */
export function mk(code: CouponFinding['code'], source: string, message: string, key?: string | null, severity: 'error' | 'warning' = 'error'): CouponFinding {
  return key ? { code, severity, source, key, message } : { code, severity, source, message };
}

/** NFE_KEY_CHECK_DIGIT when the key is not 44 characters of the right shape with the right check digit. */
export function checkKey(key: string, source: string, what: string): CouponFinding | null {
  const k = parseAccessKey(key);
  if (k.problems.length === 0) return null;
  const why = k.problems.includes('length') ? `has ${k.key.length} characters, not 44`
    : k.problems.includes('format') ? 'has characters out of place'
    : `has check digit ${k.cDV}, the first 43 characters give ${k.expectedCdv}`;
  return mk('NFE_KEY_CHECK_DIGIT', source, `${what} ${why}`, key);
}

/** SAT serial (CF-e, 9 digits) or NFC-e series (no leading zeros), the same from a document, a key or a CSV cell. */
export function normalizeEquipment(model: string, value: string): string {
  const v = value.trim();
  if (!/^\d+$/.test(v)) return v;
  return model === '59' ? v.padStart(9, '0') : String(Number(v));
}

/** Thrown inside a document's reading when a value cannot be summed exactly. */
class BadValue extends Error {}

/** The cents of a leaf, or BadValue naming its field. */
function money(v: unknown, field: string): bigint {
  const text = s(v);
  try {
    return cents(text);
  } catch {
    throw new BadValue(`${field} ${JSON.stringify(text)} is not a decimal of at most 2 places`);
  }
}

function rateOf(v: unknown): string {
  try {
    return normalizeRate(s(v));
  } catch {
    throw new BadValue(`ICMS rate ${JSON.stringify(s(v))} is not a decimal`);
  }
}

/** `AAAAMMDD` → `AAAA-MM-DD` (as written when malformed). */
const cfeDay = (d: string): string => (/^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : d);

function mismatch(out: CouponFinding[], source: string, key: string, field: string, given: bigint, computed: bigint): void {
  if (given !== computed) out.push(mk('NFE_TOTALS_MISMATCH', source, `${field} is ${formatCents(given)} but the items give ${formatCents(computed)}`, key));
}

function cfeSale(parsed: ParsedNfe, root: Obj, out: CouponFinding[]): CouponSale | null {
  const inf = o(root.infCFe);
  const key = parsed.key ?? '';
  const source = parsed.source;
  if (!key) {
    out.push(mk('NFE_MISSING', source, 'infCFe has no Id (the key): not counted'));
    return null;
  }
  const bad = checkKey(key, source, 'access key');
  if (bad) out.push(bad);
  const ide = o(inf.ide);
  const items: CouponItem[] = [];
  const sum = { vProd: 0n, vDesc: 0n, vOutro: 0n, vICMS: 0n, vPIS: 0n, vCOFINS: 0n };
  const dets = list(inf.det);
  dets.forEach((d, i) => {
    const at = `det[${i + 1}]`;
    const prod = o(d.prod);
    const imp = o(d.imposto);
    const icms = variantOf(imp.ICMS)?.[1] ?? {};
    const vProd = money(prod.vProd, `${at}/prod/vProd`);
    const vDesc = money(prod.vDesc, `${at}/prod/vDesc`);
    const vOutro = money(prod.vOutro, `${at}/prod/vOutro`);
    const vItem = money(prod.vItem, `${at}/prod/vItem`);
    const vRatDesc = money(prod.vRatDesc, `${at}/prod/vRatDesc`);
    const rate = rateOf(icms.pICMS);
    const icmsValue = money(icms.vICMS, `${at}/imposto/ICMS/vICMS`);
    const pis = money(variantOf(imp.PIS)?.[1].vPIS, `${at}/imposto/PIS/vPIS`);
    const cofins = money(variantOf(imp.COFINS)?.[1].vCOFINS, `${at}/imposto/COFINS/vCOFINS`);
    sum.vProd += vProd;
    sum.vDesc += vDesc;
    sum.vOutro += vOutro;
    sum.vICMS += icmsValue;
    sum.vPIS += pis;
    sum.vCOFINS += cofins;
    // a CF-e's ICMS is computed on the item's net value (vItem) when the item is taxed at a rate
    items.push({ cst: s(icms.CST) || s(icms.CSOSN), cfop: s(prod.CFOP), rate, gross: vProd, discount: vDesc + vRatDesc, icmsBase: rate ? vItem : 0n, icmsValue, pis, cofins });
  });
  const total = o(inf.total);
  const t = total.ICMSTot;
  if (t !== undefined) {
    const tot = o(t);
    const given = {
      vProd: money(tot.vProd, 'total/ICMSTot/vProd'), vDesc: money(tot.vDesc, 'total/ICMSTot/vDesc'), vOutro: money(tot.vOutro, 'total/ICMSTot/vOutro'),
      vICMS: money(tot.vICMS, 'total/ICMSTot/vICMS'), vPIS: money(tot.vPIS, 'total/ICMSTot/vPIS'), vCOFINS: money(tot.vCOFINS, 'total/ICMSTot/vCOFINS'),
    };
    for (const f of ['vProd', 'vDesc', 'vOutro', 'vICMS', 'vPIS', 'vCOFINS'] as const) mismatch(out, source, key, `total/ICMSTot/${f}`, given[f], sum[f]);
    const acr = o(total.DescAcrEntr);
    const vCFe = money(total.vCFe, 'total/vCFe');
    const expected = given.vProd - given.vDesc + given.vOutro - money(acr.vDescSubtot, 'total/DescAcrEntr/vDescSubtot') + money(acr.vAcresSubtot, 'total/DescAcrEntr/vAcresSubtot');
    if (vCFe !== expected) out.push(mk('NFE_TOTALS_MISMATCH', source, `total/vCFe is ${formatCents(vCFe)} but vProd − vDesc + vOutro − vDescSubtot + vAcresSubtot is ${formatCents(expected)}`, key));
  }
  return { kind: 'sale', key, source, model: '59', day: cfeDay(s(ide.dEmi)), equipment: normalizeEquipment('59', s(ide.nserieSAT)), emitter: s(o(inf.emit).CNPJ), items };
}

const NFCE_TOTALS = ['vBC', 'vICMS', 'vProd', 'vDesc', 'vPIS', 'vCOFINS', 'vNF'] as const;

function nfceSale(parsed: ParsedNfe, nfe: Obj, key: string, cancelled: boolean, out: CouponFinding[]): CouponSale | null {
  const source = parsed.source;
  const inf = o(nfe.infNFe);
  const ide = o(inf.ide);
  const bad = checkKey(key, source, 'access key');
  if (bad) out.push(bad);
  const items: CouponItem[] = list(inf.det).map((d, i) => {
    const at = `det[${i + 1}]`;
    const prod = o(d.prod);
    const imp = o(d.imposto);
    const icms = variantOf(imp.ICMS)?.[1] ?? {};
    return {
      cst: s(icms.CST) || s(icms.CSOSN), cfop: s(prod.CFOP), rate: rateOf(icms.pICMS),
      gross: s(prod.indTot) === '0' ? 0n : money(prod.vProd, `${at}/prod/vProd`), discount: money(prod.vDesc, `${at}/prod/vDesc`),
      icmsBase: money(icms.vBC, `${at}/imposto/ICMS/vBC`), icmsValue: money(icms.vICMS, `${at}/imposto/ICMS/vICMS`),
      pis: money(variantOf(imp.PIS)?.[1].vPIS, `${at}/imposto/PIS/vPIS`), cofins: money(variantOf(imp.COFINS)?.[1].vCOFINS, `${at}/imposto/COFINS/vCOFINS`),
    };
  });
  const given = o(o(inf.total).ICMSTot);
  let computed: Record<string, string>;
  try {
    computed = computeTotals(inf).ICMSTot;
  } catch (e) {
    throw new BadValue(`totals cannot be computed: ${(e as Error).message}`);
  }
  for (const f of NFCE_TOTALS) {
    if (given[f] === undefined || computed[f] === undefined) continue;
    mismatch(out, source, key, `total/ICMSTot/${f}`, money(given[f], `total/ICMSTot/${f}`), cents(computed[f]));
  }
  const dh = s(ide.dhEmi) || s(ide.dEmi);
  const sale: CouponSale = { kind: 'sale', key, source, model: '65', day: dh.slice(0, 10), equipment: normalizeEquipment('65', s(ide.serie)), emitter: s(o(inf.emit).CNPJ) || s(o(inf.emit).CPF), items };
  return cancelled ? { ...sale, cancelledInDocument: true } : sale;
}

/** The model of a note: ide/mod, else the key's. */
function modelOf(nfe: Obj, key: string): string {
  return s(o(o(nfe.infNFe).ide).mod) || key.slice(20, 22);
}

/** The coupon events of one parsed document and what is wrong with it. Never throws for a bad document. */
export function couponsOfDocument(parsed: ParsedNfe): CouponsOfDocument {
  const findings: CouponFinding[] = parsed.findings.map((f) => mk(f.code, parsed.source, f.path ? `${f.path}: ${f.message}` : f.message, parsed.key, f.severity));
  const events: CouponEvent[] = [];
  if (!parsed.doc || !parsed.kind) return { events, findings };
  const root = o((parsed.doc as Record<string, unknown>)[parsed.kind]);
  try {
    switch (parsed.kind) {
      case 'CFe': {
        const sale = cfeSale(parsed, root, findings);
        if (sale) events.push(sale);
        break;
      }
      case 'CFeCanc': {
        const cancels = s(o(root.infCFe)['@chCanc']).replace(/^CFe/, '');
        if (!cancels) {
          findings.push(mk('NFE_MISSING', parsed.source, 'CFeCanc without chCanc (the cancelled sale): not counted', parsed.key));
          break;
        }
        const bad = checkKey(cancels, parsed.source, 'chCanc');
        if (bad) findings.push({ ...bad, key: cancels });
        events.push({ kind: 'cancellation', key: cancels, source: parsed.source });
        break;
      }
      case 'NFe':
      case 'nfeProc':
      case 'enviNFe': {
        const cancelled = parsed.kind === 'nfeProc' && eventStatus(root).cancelled;
        for (const nfe of notesOf(parsed.doc)) {
          const key = noteKey(nfe, parsed.kind === 'nfeProc' ? root.protNFe : undefined) ?? '';
          if (modelOf(nfe, key) !== '65') {
            findings.push(mk('COUPON_NOT_A_COUPON', parsed.source, `an NF-e of model ${modelOf(nfe, key) || '?'} is not a coupon (NFC-e 65, CF-e 59): not counted`, key, 'warning'));
            continue;
          }
          if (!key) {
            findings.push(mk('NFE_MISSING', parsed.source, 'NFC-e without a key (infNFe Id): not counted'));
            continue;
          }
          const sale = nfceSale(parsed, nfe, key, cancelled, findings);
          if (sale) events.push(sale);
        }
        break;
      }
      default: {
        // events: a homologated cancellation (110111) or cancellation by substitution (110112) of an NFC-e
        const key = parsed.key ?? '';
        const status = eventStatus(root);
        if (status.cancelled && key.slice(20, 22) === '65') {
          const bad = checkKey(key, parsed.source, 'chNFe');
          if (bad) findings.push(bad);
          events.push({ kind: 'cancellation', key, source: parsed.source });
        } else {
          const what = status.cancelled ? `a cancellation of a model ${key.slice(20, 22) || '?'} note` : `a ${parsed.kind} that cancels no coupon (SEFAZ-answered 110111/110112 only)`;
          findings.push(mk('COUPON_NOT_A_COUPON', parsed.source, `${what} is not a coupon event: not counted`, key, 'warning'));
        }
      }
    }
  } catch (e) {
    if (!(e instanceof BadValue)) throw e;
    findings.push(mk('NFE_FORMAT', parsed.source, `${e.message}: not counted`, parsed.key));
    return { events: [], findings };
  }
  return { events, findings };
}
