/**
 * COMPANY.json of `fiscal sped from-docs`: the taxpayer's 0000/0005/0100 data and the filing's choices, checked
 * against formats/sped/from-docs/company.schema.json (docs/from-docs.md shows an example).
 */
import { readFileSync } from 'node:fs';
import { readJsonFile } from '../common/read-json-file.js';
import { UsageError } from '../errors.js';
import { checkSchema, type JsonSchema } from '../tasks/json-schema.js';
import type { JsonValue } from '../tasks/ledger.js';

export const COMPANY_SCHEMA: JsonSchema = JSON.parse(
  readFileSync(new URL('../../formats/sped/from-docs/company.schema.json', import.meta.url), 'utf8'),
) as JsonSchema;

export type CouponMode = 'per-coupon' | 'per-equipment-day';

export interface CompanyAddress {
  fantasia: string;
  cep: string;
  end: string;
  num?: string;
  compl?: string;
  bairro: string;
  fone?: string;
  email?: string;
}

export interface Accountant {
  name: string;
  cpf: string;
  crc: string;
  cnpj?: string;
  cep?: string;
  end?: string;
  num?: string;
  compl?: string;
  bairro?: string;
  fone?: string;
  email: string;
  codMun: string;
}

/** What only the EFD-Contribuições needs (`contribuicoes` of COMPANY.json), defaults filled in. */
export interface ContribuicoesData {
  regime: 'non-cumulative' | 'cumulative';
  /** 0000 IND_NAT_PJ. */
  natureza: string;
  /** 0000 IND_ATIV (the EFD-Contribuições' table: 0 industrial, 1 services, 2 commerce, …). */
  activity: string;
  /** 0000 IND_SIT_ESP. */
  specialSituation?: string;
  /** 0000 NUM_REC_ANTERIOR. */
  previousReceipt?: string;
  /** 0110 IND_APRO_CRED. */
  creditAppropriation: string;
  /** 0110 COD_TIPO_CONT. */
  contributionType: string;
  /** 0140 COD_EST. */
  establishment?: string;
}

/** The company file, defaults filled in. */
export interface Company {
  name: string;
  cnpj: string;
  uf: string;
  ie: string;
  codMun: string;
  im?: string;
  suframa?: string;
  profile: 'A' | 'B' | 'C';
  activity: '0' | '1';
  purpose: '0' | '1';
  address: CompanyAddress;
  accountant: Accountant;
  coupons: CouponMode;
  itemType: string;
  /** E110 VL_SLD_CREDOR_ANT, a decimal with '.' (e.g. "1520.35"). */
  previousCreditBalance: string;
  icmsDue?: { day: number; revenueCode: string };
  contribuicoes: ContribuicoesData;
}

/** Checks a parsed company value; a problem is a UsageError (exit 2) naming its JSON path. */
export function parseCompany(value: unknown, where = 'company'): Company {
  const problems = checkSchema(value as JsonValue, COMPANY_SCHEMA);
  if (problems.length > 0) {
    const p = problems[0]!;
    throw new UsageError(`${where}: ${p.path}: ${p.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, 'FROMDOCS_COMPANY');
  }
  const c = value as Partial<Omit<Company, 'contribuicoes'>> & Omit<Company, 'purpose' | 'coupons' | 'itemType' | 'previousCreditBalance' | 'contribuicoes'> & { contribuicoes?: Partial<ContribuicoesData> };
  if (c.icmsDue && c.icmsDue.day > 28) throw new UsageError(`${where}: $.icmsDue.day: expected 1 to 28, got ${c.icmsDue.day}`, 'FROMDOCS_COMPANY');
  const purpose = c.purpose ?? '0';
  const x = c.contribuicoes ?? {};
  const contribuicoes: ContribuicoesData = {
    ...x,
    regime: x.regime ?? 'non-cumulative',
    natureza: x.natureza ?? '00',
    activity: x.activity ?? (c.activity === '0' ? '0' : '2'),
    creditAppropriation: x.creditAppropriation ?? '1',
    contributionType: x.contributionType ?? '1',
  };
  return { ...c, purpose, coupons: c.coupons ?? 'per-coupon', itemType: c.itemType ?? '00', previousCreditBalance: c.previousCreditBalance ?? '0', contribuicoes };
}

/** Reads and checks COMPANY.json. */
export function loadCompany(path: string): Company {
  return parseCompany(readJsonFile(path, 'FROMDOCS_COMPANY'), path);
}

/** `YYYY-MM` → the first and last day (ISO). */
export function periodDays(period: string): { start: string; end: string } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  if (!m) throw new UsageError(`--period must be YYYY-MM (got '${period}')`, 'FROMDOCS_PERIOD');
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const last = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return { start: `${period}-01`, end: `${period}-${String(last).padStart(2, '0')}` };
}
