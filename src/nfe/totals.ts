/**
 * Totals of a note computed exactly from its items: ICMSTot (and IBSCBSTot for PL_010 documents). Used by
 * `build --compute-totals` and by the validator's totals-vs-items rule.
 */
import { fromScaled, toScaled } from './decimal.js';
import type { Group } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The single variant group inside a choice (ICMS → ICMS00 …, PIS → PISAliq …). */
export function variantOf(group: unknown): [string, Obj] | null {
  if (!isObj(group)) return null;
  // own keys in Object.entries' order, without its array of pairs (this runs for every tax group of every item)
  for (const k in group) {
    if (!Object.hasOwn(group, k) || k.charCodeAt(0) === 64 /* @ */) continue;
    const v = group[k];
    if (isObj(v)) return [k, v];
  }
  return null;
}

class Acc {
  readonly sums = new Map<string, bigint>();
  add(name: string, value: unknown, scale = 2, sign = 1n): void {
    const v = text(value);
    const prev = this.sums.get(name) ?? 0n;
    if (v === undefined) {
      this.sums.set(name, prev);
      return;
    }
    this.sums.set(name, prev + sign * toScaled(v, scale));
  }
  get(name: string): bigint {
    return this.sums.get(name) ?? 0n;
  }
  str(name: string, scale = 2): string {
    return fromScaled(this.get(name), scale);
  }
}

export interface ComputedTotals {
  ICMSTot: Record<string, string>;
  IBSCBSTot: Group | null;
}

/** ICMSTot field order (schema order). */
const ICMSTOT_FIELDS = [
  'vBC', 'vICMS', 'vICMSDeson', 'vFCPUFDest', 'vICMSUFDest', 'vICMSUFRemet', 'vFCP', 'vBCST', 'vST', 'vFCPST', 'vFCPSTRet',
  'qBCMono', 'vICMSMono', 'qBCMonoReten', 'vICMSMonoReten', 'qBCMonoRet', 'vICMSMonoRet', 'vProd', 'vFrete', 'vSeg',
  'vDesc', 'vII', 'vIPI', 'vIPIDevol', 'vPIS', 'vCOFINS', 'vOutro', 'vNF', 'vTotTrib',
] as const;
const OPTIONAL_ICMSTOT = new Set(['vFCPUFDest', 'vICMSUFDest', 'vICMSUFRemet', 'qBCMono', 'vICMSMono', 'qBCMonoReten', 'vICMSMonoReten', 'qBCMonoRet', 'vICMSMonoRet', 'vTotTrib']);

/**
 * Computes the totals of an infNFe from its det items. Optional ICMSTot fields are present only when some
 * item carries the matching value (or the existing total has the field). Throws RangeError on a value that is
 * not a decimal.
 */
export function computeTotals(infNFe: Obj): ComputedTotals {
  const a = new Acc();
  const seen = new Set<string>();
  const dets = Array.isArray(infNFe.det) ? infNFe.det : isObj(infNFe.det) ? [infNFe.det] : [];
  const ibs = new Acc();
  let hasIbs = false;
  for (const d of dets) {
    const det = obj(d);
    const prod = obj(det.prod);
    const imp = obj(det.imposto);
    if (text(prod.indTot) !== '0') a.add('vProd', prod.vProd);
    for (const f of ['vFrete', 'vSeg', 'vDesc', 'vOutro'] as const) a.add(f, prod[f]);
    const icms = variantOf(imp.ICMS)?.[1] ?? {};
    a.add('vBC', icms.vBC);
    a.add('vICMS', icms.vICMS);
    a.add('vICMSDeson', icms.vICMSDeson);
    if (text(icms.indDeduzDeson) === '1') a.add('deduzDeson', icms.vICMSDeson);
    a.add('vFCP', icms.vFCP);
    a.add('vBCST', icms.vBCST);
    a.add('vST', icms.vICMSST);
    a.add('vFCPST', icms.vFCPST);
    a.add('vFCPSTRet', icms.vFCPSTRet);
    for (const [f, src] of [['qBCMono', 'qBCMono'], ['vICMSMono', 'vICMSMono'], ['qBCMonoReten', 'qBCMonoReten'], ['vICMSMonoReten', 'vICMSMonoReten'], ['qBCMonoRet', 'qBCMonoRet'], ['vICMSMonoRet', 'vICMSMonoRet']] as const) {
      if (text(icms[src]) !== undefined) {
        seen.add(f);
        a.add(f, icms[src]);
      }
    }
    const uf = obj(imp.ICMSUFDest);
    for (const f of ['vFCPUFDest', 'vICMSUFDest', 'vICMSUFRemet'] as const) {
      if (text(uf[f]) !== undefined) {
        seen.add(f);
        a.add(f, uf[f]);
      }
    }
    a.add('vII', obj(imp.II).vII);
    a.add('vIPI', obj(obj(imp.IPI).IPITrib).vIPI);
    a.add('vIPIDevol', obj(obj(obj(det.impostoDevol).IPI)).vIPIDevol);
    a.add('vPIS', variantOf(imp.PIS)?.[1].vPIS);
    a.add('vCOFINS', variantOf(imp.COFINS)?.[1].vCOFINS);
    if (text(imp.vTotTrib) !== undefined) {
      seen.add('vTotTrib');
      a.add('vTotTrib', imp.vTotTrib);
    }
    a.add('vServ', obj(imp.ISSQN).vBC);
    const ibscbs = obj(imp.IBSCBS);
    const g = obj(ibscbs.gIBSCBS);
    if (isObj(imp.IBSCBS)) hasIbs = true;
    ibs.add('vBC', g.vBC);
    const guf = obj(g.gIBSUF);
    const gmun = obj(g.gIBSMun);
    const gcbs = obj(g.gCBS);
    ibs.add('vIBSUF', guf.vIBSUF);
    ibs.add('ufDif', obj(guf.gDif).vDif);
    ibs.add('ufDev', obj(guf.gDevTrib).vDevTrib);
    ibs.add('vIBSMun', gmun.vIBSMun);
    ibs.add('munDif', obj(gmun.gDif).vDif);
    ibs.add('munDev', obj(gmun.gDevTrib).vDevTrib);
    ibs.add('vCBS', gcbs.vCBS);
    ibs.add('cbsDif', obj(gcbs.gDif).vDif);
    ibs.add('cbsDev', obj(gcbs.gDevTrib).vDevTrib);
  }
  const existing = obj(obj(infNFe.total).ICMSTot);
  const vNF =
    a.get('vProd') - a.get('vDesc') - a.get('deduzDeson') + a.get('vST') + a.get('vFCPST') + a.get('vFrete') + a.get('vSeg') +
    a.get('vOutro') + a.get('vII') + a.get('vIPI') + a.get('vIPIDevol');
  const tot: Record<string, string> = {};
  for (const f of ICMSTOT_FIELDS) {
    if (OPTIONAL_ICMSTOT.has(f) && !seen.has(f) && existing[f] === undefined) continue;
    const scale = f.startsWith('q') ? 4 : 2;
    tot[f] = f === 'vNF' ? fromScaled(vNF, 2) : a.str(f, scale);
  }
  let IBSCBSTot: Group | null = null;
  if (hasIbs) {
    const vIBS = ibs.get('vIBSUF') + ibs.get('vIBSMun');
    IBSCBSTot = {
      vBCIBSCBS: ibs.str('vBC'),
      gIBS: {
        gIBSUF: { vDif: ibs.str('ufDif'), vDevTrib: ibs.str('ufDev'), vIBSUF: ibs.str('vIBSUF') },
        gIBSMun: { vDif: ibs.str('munDif'), vDevTrib: ibs.str('munDev'), vIBSMun: ibs.str('vIBSMun') },
        vIBS: fromScaled(vIBS, 2),
        vCredPres: '0.00',
        vCredPresCondSus: '0.00',
      },
      gCBS: { vDif: ibs.str('cbsDif'), vDevTrib: ibs.str('cbsDev'), vCBS: ibs.str('vCBS'), vCredPres: '0.00', vCredPresCondSus: '0.00' },
    };
  }
  return { ICMSTot: tot, IBSCBSTot };
}
