/** The rule tables of `fiscal sped from-docs` (formats/sped/from-docs/rules.json, each with its Guia section). */
import { readFileSync } from 'node:fs';

export interface FromDocsRules {
  guide: string;
  protocolStatus: { authorized: string[]; cancelled: string[]; denied: string[]; source: string };
  deniedUntil: { lastDay: string; source: string };
  itemsRequired: { ownIssue: boolean; thirdParty: boolean; source: string };
  entryCfop: { firstDigit: Record<string, string>; source: string };
  csosnToCst: { default: string; source: string };
  reducedBaseCst: { cst: string[]; source: string };
  coupons: { cancelledFields: string[]; source: string };
  apuration: { obligationCode: string; source: string };
}

export const FROM_DOCS_RULES: FromDocsRules = JSON.parse(
  readFileSync(new URL('../../formats/sped/from-docs/rules.json', import.meta.url), 'utf8'),
) as FromDocsRules;

/** The recipient's CFOP of an entry: the issuer's first digit 5/6/7 becomes 1/2/3. */
export function entryCfop(cfop: string): string {
  const d = FROM_DOCS_RULES.entryCfop.firstDigit[cfop[0] ?? ''];
  return d ? d + cfop.slice(1) : cfop;
}
