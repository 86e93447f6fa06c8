/** One NF-e or NFC-e → its C100 with C170 and C190, participant (0150) and items (0200/0220): see from-docs-extract.ts. */
import { createHash } from 'node:crypto';
import { list, o, s, type Obj } from '../nfe/csv-fields.js';
import { variantOf } from '../nfe/totals.js';
import { Decimal } from '../common/decimal.js';
import { AnalyticGroups, cstIcms, dec, money, moneyOf, rateOf, reducesBase, storeGroup } from './from-docs-analytic.js';
import { fail, inPeriod, numberingKey, warn, type ExtractContext, type Extracted, type ItemEntry } from './from-docs-entries.js';
import { c170Taxes, entryTaxes, itemTaxes, PisCofinsGroups, storePisCofins } from './from-docs-pis-cofins.js';
import { CONTRIB_RULES, entryCfop, FROM_DOCS_RULES } from './from-docs-rules.js';
import { spedDate } from './from-docs-records.js';

/** Participant code of a CNPJ, a CPF or a foreign id. */
function partCode(p: Obj): string {
  return s(p.CNPJ) || s(p.CPF) || (s(p.idEstrangeiro) ? `EX${s(p.idEstrangeiro)}` : '');
}

function participant(p: Obj, address: Obj, ctx: ExtractContext): { code: string; record: string[] } | null {
  const code = partCode(p);
  if (!code) return null;
  const cPais = s(address.cPais) || '1058';
  const brazil = cPais === '1058';
  const ie = s(p.IE);
  return {
    code,
    record: ctx.records.make('0150', {
      COD_PART: code, NOME: (s(p.xNome) || code).slice(0, 100), COD_PAIS: cPais.padStart(5, '0'), CNPJ: s(p.CNPJ), CPF: s(p.CPF),
      IE: /^\d+$/.test(ie) ? ie : '', COD_MUN: brazil ? s(address.cMun) : '', SUFRAMA: s(p.ISUF), END: (s(address.xLgr) || '-').slice(0, 60),
      NUM: s(address.nro).slice(0, 10), COMPL: s(address.xCpl).slice(0, 60), BAIRRO: s(address.xBairro).slice(0, 60),
    }),
  };
}

/** The item code of a received note's product: the supplier's code under the supplier's CNPJ (codes of two suppliers never meet). */
function itemCode(supplier: string, cProd: string): string {
  const code = `${supplier}-${cProd}`;
  return code.length <= 60 ? code : `${supplier}-${createHash('sha256').update(cProd).digest('hex').slice(0, 40)}`;
}

/** FAT_CONV: how many inventory units (qTrib's) one unit of the note (qCom's) is, to 6 decimals. */
function factor(qCom: Decimal, qTrib: Decimal): string | null {
  if (qCom.isZero()) return null;
  // qTrib / qCom exactly scaled to 7 decimals, then rounded half up to 6
  const scale = 7;
  const num = qTrib.units * 10n ** BigInt(scale + qCom.scale);
  const den = qCom.units * 10n ** BigInt(qTrib.scale);
  return new Decimal(num / den, scale).format(',', 6);
}

/** The entries of one note (NF-e 55 or NFC-e 65) of own issue or received; findings for those not booked. */
export function extractNote(nfe: Obj, prot: Obj, appended: boolean, source: string, ctx: ExtractContext, out: Extracted): void {
  const inf = o(nfe.infNFe);
  const ide = o(inf.ide);
  const emit = o(inf.emit);
  const dest = o(inf.dest);
  const key = s(inf['@Id']).replace(/^NFe/, '') || s(prot.chNFe);
  const model = s(ide.mod);
  const own = s(emit.CNPJ) === ctx.company.cnpj;
  const received = !own && s(dest.CNPJ) === ctx.company.cnpj;
  if (!own && !received) {
    out.findings.push(warn('FROMDOCS_OTHER_COMPANY', source, `note ${key} is neither issued nor received by company ${ctx.company.cnpj}: not counted`));
    return;
  }
  if (model !== '55' && model !== '65') {
    out.findings.push(warn('FROMDOCS_UNSUPPORTED', source, `note ${key} has model ${model}: only 55 and 65 are booked`));
    return;
  }
  if (model === '65' && !own) {
    out.findings.push(warn('FROMDOCS_UNSUPPORTED', source, `NFC-e ${key} received: an NFC-e is never booked as an entry (Guia, C100 Exceção 9)`));
    return;
  }
  const dhEmi = s(ide.dhEmi) || s(ide.dEmi);
  const dhES = s(ide.dhSaiEnt) || s(ide.dSaiEnt);
  const booked = received ? dhES || dhEmi : dhEmi;
  if (!inPeriod(ctx, booked)) {
    out.findings.push(warn('FROMDOCS_OUT_OF_PERIOD', source, `note ${key} of ${booked.slice(0, 10)} is outside the period ${ctx.period.start} to ${ctx.period.end}: not counted`));
    return;
  }
  const cStat = s(prot.cStat);
  const rules = FROM_DOCS_RULES.protocolStatus;
  const status = appended || rules.cancelled.includes(cStat) ? 'cancelled' : rules.denied.includes(cStat) ? 'denied' : 'regular';
  if (status === 'denied' && ctx.period.start > FROM_DOCS_RULES.deniedUntil.lastDay) {
    out.findings.push(warn('FROMDOCS_DENIED_NOT_BOOKED', source, `note ${key} was denied (cStat ${cStat}); from 2023 a denied note is not booked`));
    return;
  }
  const nfce = model === '65';
  const oper = own ? (s(ide.tpNF) === '0' ? '0' : '1') : '0';
  const indEmit = own ? '0' : '1';
  const serie = s(ide.serie);
  const number = s(ide.nNF);
  const counterpart = own ? dest : emit;
  const part = nfce ? null : participant(counterpart, o(own ? dest.enderDest : emit.enderEmit), ctx);
  if (!nfce && !part) {
    out.findings.push(fail('FROMDOCS_NO_PARTICIPANT', source, `note ${key} does not identify its ${own ? 'recipient' : 'issuer'} (CNPJ, CPF or idEstrangeiro): not counted`));
    return;
  }
  const contrib = ctx.layout === 'efd-contribuicoes';
  const withItems = contrib
    ? CONTRIB_RULES.records[nfce ? '65' : '55'].includes('C170')
    : !nfce && (own ? FROM_DOCS_RULES.itemsRequired.ownIssue : FROM_DOCS_RULES.itemsRequired.thirdParty);
  const tot = o(o(inf.total).ICMSTot);
  const groups = new AnalyticGroups();
  const pisCofins = new PisCofinsGroups();
  let perUnit = '';
  const c170: string[][] = [];
  const items: ItemEntry[] = [];
  const supplier = s(emit.CNPJ) || s(emit.CPF);
  for (const det of list(inf.det)) {
    const prod = o(det.prod);
    const imp = o(det.imposto);
    const [, icms] = variantOf(imp.ICMS) ?? ['', {} as Obj];
    const ipi = o(o(imp.IPI).IPITrib);
    const cst = cstIcms(s(icms.orig), s(icms.CST), s(icms.CSOSN));
    const cfop = received ? entryCfop(s(prod.CFOP)) : s(prod.CFOP);
    const rate = rateOf(s(icms.pICMS));
    const vProd = dec(s(prod.vProd));
    const vDesc = dec(s(prod.vDesc));
    const bc = dec(s(icms.vBC));
    const vIcms = dec(s(icms.vICMS));
    const bcSt = dec(s(icms.vBCST));
    const icmsSt = dec(s(icms.vICMSST));
    const vIpi = dec(s(ipi.vIPI));
    const opr = vProd.add(dec(s(prod.vFrete))).add(dec(s(prod.vSeg))).add(dec(s(prod.vOutro))).sub(vDesc).add(icmsSt).add(dec(s(icms.vFCPST))).add(vIpi);
    const redBc = reducesBase(cst) ? opr.sub(bc) : Decimal.ZERO;
    groups.add(cst, cfop, rate, { opr, bc, icms: vIcms, bcSt, icmsSt, redBc, ipi: vIpi });
    // EFD-Contribuições: the item's PIS/COFINS (a received one as the recipient's entry, with its credit)
    const booked = contrib ? (received ? entryTaxes(itemTaxes(imp), ctx.company.contribuicoes.regime, ctx.company.itemType) : { taxes: itemTaxes(imp), nature: '' }) : null;
    if (booked) pisCofins.addItem(cfop, booked.nature, vProd, vDesc, booked.taxes);
    if (booked && own && !perUnit && (booked.taxes.pis.quantity || booked.taxes.cofins.quantity)) perUnit = s(det['@nItem']) || '?';
    if (!withItems) continue;
    const code = itemCode(supplier, s(prod.cProd));
    const uCom = s(prod.uCom).toUpperCase().slice(0, 6) || 'UN';
    const uTrib = s(prod.uTrib).toUpperCase().slice(0, 6) || uCom;
    const ean = s(prod.cEAN);
    items.push({
      code,
      unit: uCom,
      inventoryUnit: uTrib,
      factor: uCom === uTrib ? null : factor(dec(s(prod.qCom)), dec(s(prod.qTrib))),
      record: ctx.records.make('0200', {
        COD_ITEM: code, DESCR_ITEM: s(prod.xProd), COD_BARRA: /^\d+$/.test(ean) ? ean : '', UNID_INV: uTrib, TIPO_ITEM: ctx.company.itemType,
        COD_NCM: /^\d{8}$/.test(s(prod.NCM)) ? s(prod.NCM) : '', EX_IPI: s(prod.EXTIPI), ...(ctx.records.has('0200', 'CEST') ? { CEST: s(prod.CEST) } : {}),
      }),
    });
    const ipiCst = s(o(imp.IPI).IPITrib ? ipi.CST : o(o(imp.IPI).IPINT).CST);
    c170.push(ctx.records.make('C170', {
      NUM_ITEM: s(det['@nItem']) || String(c170.length + 1), COD_ITEM: code, QTD: dec(s(prod.qCom)).format(',', 5), UNID: uCom, VL_ITEM: money(vProd), VL_DESC: money(vDesc),
      IND_MOV: '0', CST_ICMS: cst, CFOP: cfop, VL_BC_ICMS: money(bc), ALIQ_ICMS: rate, VL_ICMS: money(vIcms), VL_BC_ICMS_ST: money(bcSt),
      ALIQ_ST: moneyOf(s(icms.pICMSST)), VL_ICMS_ST: money(icmsSt),
      ...(ipiCst ? { IND_APUR: '0', CST_IPI: received ? entryIpiCst(ipiCst) : ipiCst, COD_ENQ: s(o(imp.IPI).cEnq), VL_BC_IPI: moneyOf(s(ipi.vBC)), ALIQ_IPI: moneyOf(s(ipi.pIPI)), VL_IPI: money(vIpi) } : {}),
      ...(booked ? c170Taxes(booked.taxes) : {}),
    }));
  }
  if (c170.length > 999) {
    out.findings.push(fail('FROMDOCS_TOO_MANY_ITEMS', source, `note ${key} has ${c170.length} items; C170 NUM_ITEM holds 3 digits`));
    return;
  }
  const ipiTotal = groups.total('ipi');
  const pag = list(o(inf.pag).detPag)[0];
  const indPag = s(pag?.indPag);
  const c100 = ctx.records.make('C100', {
    IND_OPER: oper, IND_EMIT: indEmit, COD_PART: part?.code ?? '', COD_MOD: model, COD_SIT: '00', SER: serie, NUM_DOC: number, CHV_NFE: key,
    DT_DOC: spedDate(dhEmi), DT_E_S: spedDate(dhES || dhEmi), VL_DOC: moneyOf(s(tot.vNF)),
    IND_PGTO: indPag === '0' || indPag === '1' ? indPag : list(o(inf.cobr).dup).length > 0 ? '1' : '0',
    VL_DESC: moneyOf(s(tot.vDesc)), VL_ABAT_NT: '0,00', VL_MERC: moneyOf(s(tot.vProd)), IND_FRT: s(o(inf.transp).modFrete) || '9',
    VL_FRT: moneyOf(s(tot.vFrete)), VL_SEG: moneyOf(s(tot.vSeg)), VL_OUT_DA: moneyOf(s(tot.vOutro)),
    // the ICMS, ST and IPI totals are the C190 sums (the validator's C100 = ΣC190 rule); a note whose own totals disagree is reported
    VL_BC_ICMS: money(groups.total('bc')), VL_ICMS: money(groups.total('icms')),
    ...(nfce
      ? {}
      : {
          VL_BC_ICMS_ST: money(groups.total('bcSt')), VL_ICMS_ST: money(groups.total('icmsSt')), VL_IPI: money(ipiTotal),
          VL_PIS: moneyOf(s(tot.vPIS)), VL_COFINS: moneyOf(s(tot.vCOFINS)), VL_PIS_ST: '0,00', VL_COFINS_ST: '0,00',
        }),
    // EFD-Contribuições: PIS and COFINS are the items' as booked (an entry's: its credit)
    ...(contrib ? { VL_PIS: money(pisCofins.total('pis')), VL_COFINS: money(pisCofins.total('cofins')) } : {}),
  });
  const checked: [string, Decimal][] = [['vBC', groups.total('bc')], ['vICMS', groups.total('icms')], ['vST', groups.total('icmsSt')], ['vIPI', ipiTotal]];
  if (contrib && own) checked.push(['vPIS', pisCofins.total('pis')], ['vCOFINS', pisCofins.total('cofins')]);
  for (const [field, sum] of checked) {
    if (status === 'regular' && !dec(s(tot[field])).equals(sum)) {
      out.findings.push(warn('FROMDOCS_TOTALS_MISMATCH', source, `note ${key}: ICMSTot ${field} ${s(tot[field]) || '0'} differs from its items' ${sum.format('.', 2)}; the items' sums are booked`));
    }
  }
  if (perUnit) out.findings.push(warn('FROMDOCS_UNSUPPORTED', source, `note ${key} item ${perUnit}: PIS/COFINS per unit of product (CST 03) is booked in C170 but not added to M210/M610`));
  const sortNum = number.padStart(9, '0');
  out.notes.push({
    key, source, status, c100, c170, participant: part, items, ...(own ? { number: numberingKey(model, serie, number) } : {}),
    sort: `${oper}|${(dhES || dhEmi).slice(0, 10)}|${model}|${serie.padStart(3, '0')}|${sortNum}|${key}`,
    groups: contrib ? [] : groups.list().map(storeGroup),
    ...(contrib ? { pisCofins: pisCofins.list().map(storePisCofins) } : {}),
  });
}

/** An IPI CST of the issuer's exit (50-99) as the recipient's entry (00-49). */
function entryIpiCst(cst: string): string {
  const n = Number(cst);
  return Number.isInteger(n) && n >= 50 ? String(n - 50).padStart(2, '0') : cst;
}

