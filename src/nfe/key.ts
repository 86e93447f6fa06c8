/**
 * The 44-character access key (chave de acesso) of NF-e/NFC-e: parse, build, and check against the document.
 *
 *   cUF(2) AAMM(4) CNPJ/CPF(14) mod(2) serie(3) nNF(9) tpEmis(1) cNF(8) cDV(1)
 *
 * cDV is mod 11 with weights 2..9 from the right; characters weigh ASCII − 48, so the alphanumeric CNPJ
 * (2026) works the same way as the numeric one. A CPF emitter fills the CNPJ field as `000` + CPF.
 */
import { accessKeyCheckDigit, isValidCnpj, isValidCpf } from '../common/check-digits.js';

export interface AccessKeyParts {
  /** IBGE code of the state, 2 digits. */
  readonly cUF: string;
  /** Year and month of emission, `AAMM`. */
  readonly aamm: string;
  /** Emitter CNPJ (14 characters, may be alphanumeric) or `000` + CPF. */
  readonly cnpj: string;
  /** 55 NF-e, 65 NFC-e (57 CT-e, 58 MDF-e share the layout). */
  readonly mod: string;
  readonly serie: string;
  readonly nNF: string;
  readonly tpEmis: string;
  readonly cNF: string;
  readonly cDV: string;
}

export type KeyProblem = 'length' | 'format' | 'check-digit';

export interface ParsedAccessKey extends AccessKeyParts {
  readonly key: string;
  /** True when the 44 characters have the right shape and the check digit holds. */
  readonly valid: boolean;
  /** The check digit the first 43 characters call for (null when the shape is wrong). */
  readonly expectedCdv: string | null;
  readonly problems: readonly KeyProblem[];
  /** `cnpj` or `cpf` (the field starts with 000 and the rest is a valid CPF while it is not a valid CNPJ). */
  readonly emitterKind: 'cnpj' | 'cpf';
}

const SHAPE = /^[0-9]{6}[0-9A-Z]{12}[0-9]{26}$/;

/** Splits a key into its parts and checks it. Never throws: problems are listed in `problems`. */
export function parseAccessKey(input: string): ParsedAccessKey {
  const key = input.trim().replace(/^(NFe|CFe|ID)/, '');
  const problems: KeyProblem[] = [];
  if (key.length !== 44) problems.push('length');
  else if (!SHAPE.test(key)) problems.push('format');
  const expected = key.length === 44 && problems.length === 0 ? String(accessKeyCheckDigit(key.slice(0, 43))) : null;
  if (expected !== null && expected !== key[43]) problems.push('check-digit');
  const cnpj = key.slice(6, 20);
  const emitterKind = cnpj.startsWith('000') && isValidCpf(cnpj.slice(3)) && !isValidCnpj(cnpj) ? 'cpf' : 'cnpj';
  return {
    key,
    cUF: key.slice(0, 2),
    aamm: key.slice(2, 6),
    cnpj,
    mod: key.slice(20, 22),
    serie: key.slice(22, 25),
    nNF: key.slice(25, 34),
    tpEmis: key.slice(34, 35),
    cNF: key.slice(35, 43),
    cDV: key.slice(43, 44),
    valid: problems.length === 0,
    expectedCdv: expected,
    problems,
    emitterKind,
  };
}

export class AccessKeyError extends Error {
  readonly code = 'NFE_KEY_PARTS';
  constructor(message: string) {
    super(message);
    this.name = 'AccessKeyError';
  }
}

function pad(name: string, value: string, width: number, re: RegExp): string {
  const v = value.length < width && /^[0-9]+$/.test(value) ? value.padStart(width, '0') : value;
  if (v.length !== width || !re.test(v)) throw new AccessKeyError(`${name} must be ${width} characters (got ${JSON.stringify(value)})`);
  return v;
}

/**
 * Builds the key from its parts and computes cDV. Numeric parts shorter than their width are padded with
 * zeros (serie 1 → 001); a CPF (11 digits) in `cnpj` becomes `000` + CPF. Throws AccessKeyError on bad parts.
 */
export function buildAccessKey(parts: Omit<AccessKeyParts, 'cDV'> & { cDV?: string }): string {
  const digits = /^[0-9]+$/;
  const cnpj = parts.cnpj.length === 11 && digits.test(parts.cnpj) ? `000${parts.cnpj}` : parts.cnpj;
  const body =
    pad('cUF', parts.cUF, 2, digits) +
    pad('AAMM', parts.aamm, 4, digits) +
    pad('CNPJ', cnpj, 14, /^[0-9A-Z]{12}[0-9]{2}$/) +
    pad('mod', parts.mod, 2, digits) +
    pad('serie', parts.serie, 3, digits) +
    pad('nNF', parts.nNF, 9, digits) +
    pad('tpEmis', parts.tpEmis, 1, digits) +
    pad('cNF', parts.cNF, 8, digits);
  return body + String(accessKeyCheckDigit(body));
}

/** The document fields a key must agree with (strings as written in the XML). */
export interface KeyDocumentFields {
  readonly cUF?: string;
  /** dhEmi (4.00) or dEmi (3.10 and older): `AAAA-MM-DD…`. */
  readonly dhEmi?: string;
  readonly CNPJ?: string;
  readonly CPF?: string;
  readonly mod?: string;
  readonly serie?: string;
  readonly nNF?: string;
  readonly tpEmis?: string;
  readonly cNF?: string;
  readonly cDV?: string;
  /** The infNFe Id attribute (`NFe` + key), when known. */
  readonly Id?: string;
}

export interface KeyFinding {
  readonly code: 'NFE_KEY_CHECK_DIGIT' | 'NFE_KEY_MISMATCH';
  readonly message: string;
  /** The ide/emit field concerned, e.g. `ide/nNF`, `emit/CNPJ`, `@Id`; absent for the key itself. */
  readonly field?: string;
}

const FIELD_PATH: Record<string, string> = {
  cUF: 'ide/cUF', dhEmi: 'ide/dhEmi', CNPJ: 'emit/CNPJ', CPF: 'emit/CPF', mod: 'ide/mod', serie: 'ide/serie',
  nNF: 'ide/nNF', tpEmis: 'ide/tpEmis', cNF: 'ide/cNF', cDV: 'ide/cDV', Id: '@Id',
};

/**
 * Compares a key with the fields of its document (ide, emit, the Id). Returns NFE_KEY_CHECK_DIGIT when the
 * key's own digit fails, and one NFE_KEY_MISMATCH per field that disagrees. Absent fields are not compared.
 */
export function checkKeyAgainstDocument(key: string, doc: KeyDocumentFields): KeyFinding[] {
  const out: KeyFinding[] = [];
  const k = parseAccessKey(key);
  if (!k.valid) {
    const why = k.problems.includes('check-digit')
      ? `check digit is ${k.cDV}, expected ${k.expectedCdv}`
      : k.problems.includes('length') ? `has ${k.key.length} characters, not 44` : 'has characters out of place';
    out.push({ code: 'NFE_KEY_CHECK_DIGIT', message: `access key ${k.key} ${why}` });
    if (k.problems.includes('length')) return out;
  }
  const mismatch = (field: string, inKey: string, inDoc: string): void => {
    out.push({ code: 'NFE_KEY_MISMATCH', field: FIELD_PATH[field] ?? field, message: `${FIELD_PATH[field] ?? field} is ${inDoc} but the access key says ${inKey}` });
  };
  const cmp = (field: keyof KeyDocumentFields, inKey: string, width: number): void => {
    const v = doc[field];
    if (v === undefined) return;
    const norm = /^[0-9]+$/.test(v) && v.length < width ? v.padStart(width, '0') : v;
    if (norm !== inKey) mismatch(field, inKey, v);
  };
  cmp('cUF', k.cUF, 2);
  if (doc.dhEmi !== undefined) {
    const m = /^(\d{2})(\d{2})-(\d{2})/.exec(doc.dhEmi);
    const aamm = m ? `${m[2]}${m[3]}` : '';
    if (aamm !== k.aamm) mismatch('dhEmi', `AAMM ${k.aamm}`, doc.dhEmi);
  }
  if (doc.CNPJ !== undefined) cmp('CNPJ', k.cnpj, 14);
  else if (doc.CPF !== undefined) {
    if (`000${doc.CPF}` !== k.cnpj) mismatch('CPF', k.cnpj, doc.CPF);
  }
  cmp('mod', k.mod, 2);
  cmp('serie', k.serie, 3);
  cmp('nNF', k.nNF, 9);
  cmp('tpEmis', k.tpEmis, 1);
  cmp('cNF', k.cNF, 8);
  cmp('cDV', k.cDV, 1);
  if (doc.Id !== undefined && doc.Id !== `NFe${k.key}`) mismatch('Id', `NFe${k.key}`, doc.Id);
  return out;
}
