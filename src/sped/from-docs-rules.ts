/**
 * The rule tables of `fiscal sped from-docs`, each rule with its Guia section: formats/sped/from-docs/rules.json
 * (EFD ICMS/IPI) and formats/sped/from-docs/contribuicoes.json (EFD-Contribuições).
 */
import { readFileSync } from 'node:fs';

export interface FromDocsRules {
  guide: string;
  protocolStatus: { authorized: string[]; cancelled: string[]; denied: string[]; source: string };
  deniedUntil: { lastDay: string; source: string };
  unusedNumbers: { homologated: string; c100: Record<string, string>; maxNumbers: number; source: string };
  itemsRequired: { ownIssue: boolean; thirdParty: boolean; source: string };
  entryCfop: { firstDigit: Record<string, string>; source: string };
  csosnToCst: { default: string; source: string };
  reducedBaseCst: { cst: string[]; source: string };
  coupons: { cancelledFields: string[]; source: string };
  apuration: { obligationCode: string; source: string };
}

export type ContribRegime = 'non-cumulative' | 'cumulative';

export interface ContribRules {
  guide: string;
  records: { '55': string[]; '65': string[]; '59': string[]; establishmentBookkeeping: string; source: string };
  cancelled: { c100Fields: string[]; source: string };
  unusedNumbers: { booked: boolean; source: string };
  cfeRatesAreFractions: { value: boolean; source: string };
  cst: { taxed: string[]; credit: string[]; untaxed: string[]; source: string };
  entryCst: Record<ContribRegime, Record<string, string>> & { otherwise: string; source: string };
  creditNature: { byItemType: Record<string, string>; source: string };
  creditRates: { pis: string; cofins: string; creditCode: string; source: string };
  contributionCode: Record<ContribRegime, { basic: string; other: string; basicRates: { pis: string; cofins: string } }> & { source: string };
  revenueCodes: Record<ContribRegime, { field: string; pis: string; cofins: string }> & { source: string };
  regimeCodes: Record<ContribRegime, string> & { detailedCumulative: string; source: string };
}

function readRules<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../formats/sped/from-docs/${name}`, import.meta.url), 'utf8')) as T;
}

export const FROM_DOCS_RULES: FromDocsRules = readRules<FromDocsRules>('rules.json');
export const CONTRIB_RULES: ContribRules = readRules<ContribRules>('contribuicoes.json');

/** The recipient's CFOP of an entry: the issuer's first digit 5/6/7 becomes 1/2/3. */
export function entryCfop(cfop: string): string {
  const d = FROM_DOCS_RULES.entryCfop.firstDigit[cfop[0] ?? ''];
  return d ? d + cfop.slice(1) : cfop;
}
