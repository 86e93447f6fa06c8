/**
 * One CF-e SAT sale → its C800 and the C850 groups (or, per equipment and day, what C860/C890 add up); for the
 * EFD-Contribuições its PIS/COFINS groups (what C870 adds up per equipment and day): see from-docs-extract.ts.
 */
import type { ParsedNfe } from '../nfe/parse.js';
import { list, o, s, type Obj } from '../nfe/csv-fields.js';
import { variantOf } from '../nfe/totals.js';
import { Decimal } from '../common/decimal.js';
import { AnalyticGroups, cstIcms, dec, money, moneyOf, rateOf, storeGroup } from './from-docs-analytic.js';
import { inPeriod, warn, type ExtractContext, type Extracted } from './from-docs-entries.js';
import { itemTaxes, PisCofinsGroups, storePisCofins } from './from-docs-pis-cofins.js';
import { CONTRIB_RULES } from './from-docs-rules.js';
import { spedDate } from './from-docs-records.js';
import { container, group, leaf, leaves, type CfeLaneSpecs } from '../coupons/cfe/fast-read.js';

/**
 * What from-docs reads of a CF-e (extractCoupon below, and a cancellation's emitter and chCanc in
 * from-docs-extract.ts): the paths the CF-e fast lane keeps for it (src/coupons/cfe/fast-read.ts).
 */
export const FROM_DOCS_CFE_LANE: CfeLaneSpecs = {
  CFe: container('CFe', [
    container('infCFe', [
      container('ide', leaves('dEmi', 'nserieSAT', 'nCFe')),
      container('emit', leaves('CNPJ')),
      container('dest', leaves('CNPJ', 'CPF')),
      container('det', [
        container('prod', leaves('vDesc', 'vRatDesc', 'CFOP', 'vProd', 'vItem')),
        container('imposto', [
          group('ICMS', leaves('Orig', 'CST', 'CSOSN', 'pICMS', 'vICMS')),
          group('PIS', leaves('CST', 'vBC', 'pPIS', 'vPIS', 'qBCProd', 'vAliqProd')),
          group('COFINS', leaves('CST', 'vBC', 'pCOFINS', 'vCOFINS', 'qBCProd', 'vAliqProd')),
        ]),
      ], true),
      container('total', [
        container('ICMSTot', leaves('vDesc', 'vOutro', 'vPIS', 'vCOFINS', 'vProd', 'vICMS', 'vPISST', 'vCOFINSST')),
        leaf('vCFe'),
        container('DescAcrEntr', leaves('vDescSubtot', 'vAcresSubtot')),
      ]),
    ]),
  ]),
  CFeCanc: container('CFeCanc', [container('infCFe', [container('emit', leaves('CNPJ'))])]),
};

/** The entries of one CF-e SAT sale of the company: its C800 and C850 groups. */
export function extractCoupon(parsed: ParsedNfe, ctx: ExtractContext, out: Extracted): void {
  const inf = o(o((parsed.doc as Obj).CFe).infCFe);
  const ide = o(inf.ide);
  const emit = o(inf.emit);
  const key = parsed.key ?? '';
  if (s(emit.CNPJ) !== ctx.company.cnpj) {
    out.findings.push(warn('FROMDOCS_OTHER_COMPANY', parsed.source, `CF-e ${key} is not issued by company ${ctx.company.cnpj}: not counted`));
    return;
  }
  const d = s(ide.dEmi);
  const iso = /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : '';
  if (!iso || !inPeriod(ctx, iso)) {
    out.findings.push(warn('FROMDOCS_OUT_OF_PERIOD', parsed.source, `CF-e ${key} of ${iso || d} is outside the period ${ctx.period.start} to ${ctx.period.end}: not counted`));
    return;
  }
  const day = spedDate(iso);
  const base = { key, source: parsed.source, sat: s(ide.nserieSAT), day, isoDay: iso, number: s(ide.nCFe) };
  if (ctx.layout === 'efd-contribuicoes') {
    const pc = new PisCofinsGroups();
    for (const det of list(inf.det)) {
      const prod = o(det.prod);
      const desc = dec(s(prod.vDesc)).add(dec(s(prod.vRatDesc)));
      pc.addItem(s(prod.CFOP), '', dec(s(prod.vProd)), desc, itemTaxes(o(det.imposto), CONTRIB_RULES.cfeRatesAreFractions.value));
    }
    out.coupons.push({ ...base, c800: [], groups: [], pisCofins: pc.list().map(storePisCofins) });
    return;
  }
  const groups = new AnalyticGroups();
  for (const det of list(inf.det)) {
    const prod = o(det.prod);
    const [, icms] = variantOf(o(det.imposto).ICMS) ?? ['', {} as Obj];
    const vItem = dec(s(prod.vItem) || s(prod.vProd));
    const vIcms = dec(s(icms.vICMS));
    const taxed = !vIcms.isZero() || !dec(s(icms.pICMS)).isZero();
    groups.add(cstIcms(s(icms.Orig), s(icms.CST), s(icms.CSOSN)), s(prod.CFOP), rateOf(s(icms.pICMS)), { opr: vItem, bc: taxed ? vItem : Decimal.ZERO, icms: vIcms });
  }
  const tot = o(o(inf.total).ICMSTot);
  const destObj = o(inf.dest);
  const buyer = s(destObj.CNPJ) || s(destObj.CPF);
  const vDesc = dec(s(tot.vDesc)).add(dec(s(o(o(inf.total).DescAcrEntr).vDescSubtot)));
  const vOut = dec(s(tot.vOutro)).add(dec(s(o(o(inf.total).DescAcrEntr).vAcresSubtot)));
  out.coupons.push({
    ...base,
    groups: groups.list().map(storeGroup),
    c800: ctx.records.make('C800', {
      COD_MOD: '59', COD_SIT: '00', NUM_CFE: s(ide.nCFe), DT_DOC: day, VL_CFE: moneyOf(s(o(inf.total).vCFe)), VL_PIS: moneyOf(s(tot.vPIS)),
      VL_COFINS: moneyOf(s(tot.vCOFINS)), CNPJ_CPF: buyer, NR_SAT: s(ide.nserieSAT), CHV_CFE: key, VL_DESC: money(vDesc), VL_MERC: moneyOf(s(tot.vProd)),
      VL_OUT_DA: money(vOut), VL_ICMS: moneyOf(s(tot.vICMS)), VL_PIS_ST: moneyOf(s(tot.vPISST)), VL_COFINS_ST: moneyOf(s(tot.vCOFINSST)),
    }),
  });
}
