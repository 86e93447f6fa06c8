/**
 * A month of documents for the from-docs tests, made by the project's generators (src/nfe/generate.ts,
 * src/coupons/cfe/generate.ts) with the case the EFD must handle: notes issued and received, NFC-e, CF-e with
 * a cancellation, a note cancelled by its protocol and one by a separate event, a denied note, documents out of
 * the period, of another company and duplicated. The expected sums come from the XML text itself (regular
 * expressions over the bytes), never from the generator under test.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildNfe } from '../../src/nfe/build.js';
import { generateNfe, cnpjFromNumber } from '../../src/nfe/generate.js';
import { generateCfe, generateCfeCancellation } from '../../src/coupons/cfe/generate.js';
import { parseCompany, type Company } from '../../src/sped/from-docs-company.js';

export const COMPANY_CNPJ = '11222333000181';
export const PERIOD = '2026-03';

export function company(extra: Record<string, unknown> = {}): Company {
  return parseCompany({
    name: 'EMPRESA DE TESTE COMERCIO LTDA', cnpj: COMPANY_CNPJ, uf: 'SP', ie: '110042490114', codMun: '3550308', profile: 'A', activity: '1',
    address: { fantasia: 'EMPRESA DE TESTE', cep: '01001000', end: 'RUA DAS FLORES', num: '100', bairro: 'CENTRO' },
    accountant: { name: 'MARIA CONTADORA', cpf: '52998224725', crc: 'SP123456O7', email: 'contato@contabil.example', codMun: '3550308' },
    icmsDue: { day: 20, revenueCode: '046-2' },
    ...extra,
  });
}

/** Cents of a decimal with '.' or ',' (exact, BigInt). */
export function cents(text: string): bigint {
  const m = /^(-?)(\d+)(?:[.,](\d+))?$/.exec(text);
  if (!m) throw new Error(`not a decimal: ${text}`);
  const frac = (m[3] ?? '').padEnd(2, '0');
  if (frac.length > 2 && /[1-9]/.test(frac.slice(2))) throw new Error(`more than cents: ${text}`);
  const v = BigInt(m[2]!) * 100n + BigInt(frac.slice(0, 2));
  return m[1] ? -v : v;
}

/** The text of the first `<tag>` inside `<group>…</group>` of an XML text. */
function inGroup(xml: string, group: string, tag: string): string {
  const g = new RegExp(`<${group}>(.*?)</${group}>`, 's').exec(xml)?.[1] ?? '';
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(g)?.[1] ?? '0';
}

const day = (d: number): string => `2026-03-${String(d).padStart(2, '0')}T10:00:00-03:00`;
const body = (xml: string): string => xml.replace(/^<\?xml[^>]*\?>/, '');
const keyOf = (xml: string): string => /Id="NFe(\d{44})"/.exec(xml)![1]!;

function nfeProc(xml: string, cStat: string): string {
  const key = keyOf(xml);
  return `<?xml version="1.0" encoding="UTF-8"?><nfeProc versao="4.00" xmlns="http://www.portalfiscal.inf.br/nfe">${body(xml)}<protNFe versao="4.00"><infProt><tpAmb>2</tpAmb><verAplic>SP_NFE_PL009</verAplic><chNFe>${key}</chNFe><dhRecbto>2026-03-20T10:05:00-03:00</dhRecbto><nProt>135260000012345</nProt><digVal>AAAA</digVal><cStat>${cStat}</cStat><xMotivo>status ${cStat}</xMotivo></infProt></protNFe></nfeProc>`;
}

function cancellationEvent(key: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><procEventoNFe versao="1.00" xmlns="http://www.portalfiscal.inf.br/nfe"><evento versao="1.00"><infEvento Id="ID110111${key}01"><cOrgao>35</cOrgao><tpAmb>2</tpAmb><CNPJ>${COMPANY_CNPJ}</CNPJ><chNFe>${key}</chNFe><dhEvento>2026-03-21T09:00:00-03:00</dhEvento><tpEvento>110111</tpEvento><nSeqEvento>1</nSeqEvento><verEvento>1.00</verEvento><detEvento versao="1.00"><descEvento>Cancelamento</descEvento><nProt>135260000012345</nProt><xJust>Erro na digitacao do pedido</xJust></detEvento></infEvento></evento><retEvento versao="1.00"><infEvento><tpAmb>2</tpAmb><verAplic>SP_EVENTOS</verAplic><cOrgao>35</cOrgao><cStat>135</cStat><xMotivo>Evento registrado e vinculado a NF-e</xMotivo><chNFe>${key}</chNFe><tpEvento>110111</tpEvento><nSeqEvento>1</nSeqEvento><dhRegEvento>2026-03-21T09:00:05-03:00</dhRegEvento><nProt>135260000099999</nProt></infEvento></retEvento></procEventoNFe>`;
}

export interface Expected {
  /** Regular C100s (NF-e issued and received, NFC-e) and cancelled ones. */
  regularNotes: number;
  cancelledNotes: number;
  vlDoc: bigint;
  /** ICMS of the notes issued and of the coupons (debits), of the notes received (credits). */
  debits: bigint;
  credits: bigint;
  coupons: number;
  cancelledCoupons: number;
  vlCfe: bigint;
  /** Received items (C170). */
  receivedItems: number;
  /** Keys of the cancelled notes. */
  cancelledKeys: string[];
  findings: Record<string, number>;
}

export interface Month {
  /** [file name, XML] in the order written. */
  files: [string, string][];
  expected: Expected;
}

/** The month's documents (see the module comment); `scale` multiplies the regular ones. */
export function makeMonth(scale = 1): Month {
  const files: [string, string][] = [];
  const e: Expected = { regularNotes: 0, cancelledNotes: 0, vlDoc: 0n, debits: 0n, credits: 0n, coupons: 0, cancelledCoupons: 0, vlCfe: 0n, receivedItems: 0, cancelledKeys: [], findings: {} };
  const found = (code: string, n = 1): void => void (e.findings[code] = (e.findings[code] ?? 0) + n);
  const countNote = (xml: string, received: boolean): void => {
    e.regularNotes++;
    e.vlDoc += cents(inGroup(xml, 'ICMSTot', 'vNF'));
    const icms = cents(inGroup(xml, 'ICMSTot', 'vICMS'));
    if (received) {
      e.credits += icms;
      e.receivedItems += (xml.match(/<det nItem=/g) ?? []).length;
    } else e.debits += icms;
  };
  for (let i = 1; i <= 6 * scale; i++) {
    const xml = buildNfe(generateNfe(i, { emitterCnpj: COMPANY_CNPJ, dhEmi: day(1 + (i % 28)) })).xml;
    files.push([`issued-${i}.xml`, xml]);
    countNote(xml, false);
  }
  for (let i = 1; i <= 2 * scale; i++) {
    const doc = generateNfe(1000 + i, { dhEmi: day(1 + (i % 27)) });
    doc.NFe.infNFe.dest!.CNPJ = COMPANY_CNPJ;
    if (i === 1) {
      // sold by the box (CX of 12), taxed by the unit: the item needs a 0220 conversion
      const p = doc.NFe.infNFe.det[0]!.prod;
      p.uCom = 'CX';
      p.qTrib = `${Number(p.qCom.split('.')[0]) * 12}.0000`;
    }
    const xml = buildNfe(doc).xml;
    files.push([`received-${i}.xml`, xml]);
    countNote(xml, true);
  }
  for (let i = 1; i <= 3 * scale; i++) {
    const xml = buildNfe(generateNfe(2000 + i, { model: '65', emitterCnpj: COMPANY_CNPJ, dhEmi: day(10 + (i % 18)) })).xml;
    files.push([`nfce-${i}.xml`, xml]);
    countNote(xml, false);
  }
  // cancelled by its protocol (cStat 101), and by a separate event that comes before the note
  const byProt = buildNfe(generateNfe(3001, { emitterCnpj: COMPANY_CNPJ, dhEmi: day(15) })).xml;
  files.push(['cancelled-by-protocol.xml', nfeProc(byProt, '101')]);
  const byEvent = buildNfe(generateNfe(3002, { emitterCnpj: COMPANY_CNPJ, dhEmi: day(16) })).xml;
  files.unshift(['a-cancellation-event.xml', cancellationEvent(keyOf(byEvent))]);
  files.push(['cancelled-by-event.xml', nfeProc(byEvent, '100')]);
  e.cancelledNotes += 2;
  e.cancelledKeys.push(keyOf(byProt), keyOf(byEvent));
  // denied (cStat 302): from 2023 not booked
  files.push(['denied.xml', nfeProc(buildNfe(generateNfe(3003, { emitterCnpj: COMPANY_CNPJ, dhEmi: day(17) })).xml, '302')]);
  found('FROMDOCS_DENIED_NOT_BOOKED');
  // coupons on two days; the first one cancelled, its cancellation read before it
  for (let i = 1; i <= 6 * scale; i++) {
    const dEmi = `202603${i % 2 === 0 ? '05' : '06'}`;
    const { xml } = generateCfe(4000 + i, { emitterCnpj: COMPANY_CNPJ, dEmi });
    files.push([`cfe-${i}.xml`, xml]);
    e.coupons++;
    if (i === 1) {
      files.unshift(['a-cfe-cancellation.xml', generateCfeCancellation(4000 + i, { emitterCnpj: COMPANY_CNPJ, dEmi }).xml]);
      e.cancelledCoupons++;
      continue;
    }
    e.vlCfe += cents(/<vCFe>([^<]+)<\/vCFe>/.exec(xml)![1]!);
    e.debits += cents(inGroup(xml, 'ICMSTot', 'vICMS'));
  }
  // not counted: out of the period, another company, duplicates (the same bytes twice)
  files.push(['april.xml', buildNfe(generateNfe(5001, { emitterCnpj: COMPANY_CNPJ, dhEmi: '2026-04-01T08:00:00-03:00' })).xml]);
  files.push(['february-coupon.xml', generateCfe(5002, { emitterCnpj: COMPANY_CNPJ, dEmi: '20260228' }).xml]);
  found('FROMDOCS_OUT_OF_PERIOD', 2);
  files.push(['other-company.xml', buildNfe(generateNfe(5003, { emitterCnpj: cnpjFromNumber(777), dhEmi: day(3) })).xml]);
  found('FROMDOCS_OTHER_COMPANY');
  files.push(['issued-1-copy.xml', files.find(([n]) => n === 'issued-1.xml')![1]]);
  files.push(['cfe-2-copy.xml', files.find(([n]) => n === 'cfe-2.xml')![1]]);
  found('FROMDOCS_DUPLICATE', 2);
  return { files, expected: e };
}

/** Writes the files into `dir` (in a sub-folder per name prefix when `nested`). */
export function writeMonth(dir: string, files: readonly [string, string][]): string[] {
  const paths: string[] = [];
  for (const [name, xml] of files) {
    const p = join(dir, name);
    writeFileSync(p, xml);
    paths.push(p);
  }
  return paths;
}

/** Lines of a SPED file as field lists (without the leading and trailing empty fields). */
export function spedRecords(text: string): string[][] {
  return text.split(/\r?\n/).filter((l) => l !== '').map((l) => l.slice(1, -1).split('|'));
}
