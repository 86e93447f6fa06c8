/**
 * Coupon fixtures for test/coupons/: generated CF-e SAT and NFC-e documents, an NFC-e cancellation event, and an
 * oracle that reads the expected sums out of the XML text with regular expressions (not the engine's parser),
 * in cents, so that the summary is checked against sums computed another way.
 */
import { generateCfe, generateCfeCancellation } from '../../src/coupons/cfe/generate.js';
import { generateNfeXml } from '../../src/nfe/generate.js';

export const cfe = (seed: number): { key: string; xml: string } => generateCfe(seed, { dEmi: '20260105' });
export const cfeCancel = (seed: number): { key: string; xml: string } => generateCfeCancellation(seed, { dEmi: '20260105' });

export function nfce(seed: number): { key: string; xml: string } {
  const xml = generateNfeXml(seed, { model: '65', dhEmi: '2026-01-06T10:00:00-03:00' });
  return { key: /Id="NFe(\d{44})"/.exec(xml)![1]!, xml };
}

/** A SEFAZ-answered NFC-e event (110111 cancellation, or 110112 substitution) for `key`. */
export function nfceCancelEvent(key: string, tp: '110111' | '110112' = '110111'): string {
  return `<?xml version="1.0" encoding="UTF-8"?><procEventoNFe versao="1.00"><evento versao="1.00"><infEvento Id="ID${tp}${key}01">` +
    `<cOrgao>35</cOrgao><tpAmb>2</tpAmb><CNPJ>${key.slice(6, 20)}</CNPJ><chNFe>${key}</chNFe><dhEvento>2026-01-06T11:00:00-03:00</dhEvento>` +
    `<tpEvento>${tp}</tpEvento><nSeqEvento>1</nSeqEvento><verEvento>1.00</verEvento><detEvento versao="1.00"><descEvento>Cancelamento</descEvento>` +
    `<nProt>135260000000001</nProt><xJust>Erro na digitacao do cupom</xJust></detEvento></infEvento></evento>` +
    `<retEvento versao="1.00"><infEvento><tpAmb>2</tpAmb><cOrgao>35</cOrgao><cStat>135</cStat><xMotivo>Evento registrado</xMotivo>` +
    `<chNFe>${key}</chNFe><tpEvento>${tp}</tpEvento><nSeqEvento>1</nSeqEvento><nProt>135260000000002</nProt></infEvento></retEvento></procEventoNFe>`;
}

const cents = (v: string): bigint => {
  const [i, f = ''] = v.split('.');
  return BigInt(i!) * 100n + BigInt((f + '00').slice(0, 2));
};

export interface OracleItem {
  key: string;
  cfop: string;
  cst: string;
  rate: string;
  gross: bigint;
  discount: bigint;
  icmsValue: bigint;
  pis: bigint;
  cofins: bigint;
}

/** The items of a generated document, read with regular expressions. */
export function oracleItems(xml: string): OracleItem[] {
  const key = /Id="(?:CFe|NFe)(\d{44})"/.exec(xml)![1]!;
  const out: OracleItem[] = [];
  for (const m of xml.matchAll(/<det nItem="\d+">(.*?)<\/det>/g)) {
    const d = m[1]!;
    const g = (re: RegExp): string => re.exec(d)?.[1] ?? '0';
    out.push({
      key, cfop: g(/<CFOP>(\d+)<\/CFOP>/), cst: g(/<ICMS>.*?<(?:CST|CSOSN)>(\d+)</), rate: g(/<pICMS>([\d.]+)</),
      gross: cents(g(/<vProd>([\d.]+)</)), discount: cents(g(/<prod>.*?<vDesc>([\d.]+)<.*<\/prod>/)), icmsValue: cents(g(/<vICMS>([\d.]+)</)),
      pis: cents(g(/<vPIS>([\d.]+)</)), cofins: cents(g(/<vCOFINS>([\d.]+)</)),
    });
  }
  return out;
}

/** `12345n` → `123.45`. */
export const money = (c: bigint): string => `${c < 0n ? '-' : ''}${(c < 0n ? -c : c) / 100n}.${String((c < 0n ? -c : c) % 100n).padStart(2, '0')}`;

/** Sums of items in cents, as decimal strings. */
export function oracleSums(items: readonly OracleItem[]): { gross: string; discount: string; icms_value: string; pis: string; cofins: string; items: number } {
  const sum = (f: 'gross' | 'discount' | 'icmsValue' | 'pis' | 'cofins'): string => money(items.reduce((a, i) => a + i[f], 0n));
  return { gross: sum('gross'), discount: sum('discount'), icms_value: sum('icmsValue'), pis: sum('pis'), cofins: sum('cofins'), items: items.length };
}
