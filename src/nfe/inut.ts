/**
 * The inutilização of NF-e/NFC-e numbers (leiaute 4.00, procInutNFe_v4.00.xsd): what a processed request
 * (`procInutNFe`), a request (`inutNFe`) or SEFAZ's answer (`retInutNFe`) says — the issuer, model, series and
 * range, and whether SEFAZ homologated it (cStat 102) — and what is wrong with it, each problem with the XML path
 * of the element concerned. The validator (validate.ts) reports the problems; from-docs books the range.
 */
import { isValidCnpj } from '../common/check-digits.js';
import { o, s, type Obj } from './csv-fields.js';
import type { NfeFindingCode, Severity } from './findings.js';
import type { InutKind } from './types.js';

/** cStat of a homologated inutilização (Manual de Orientação do Contribuinte, tabela de códigos de status). */
export const INUT_HOMOLOGATED = '102';

export interface InutRange {
  readonly cUF: string;
  /** 2 digits. */
  readonly ano: string;
  readonly cnpj: string;
  readonly mod: string;
  readonly serie: string;
  readonly first: number;
  readonly last: number;
}

export interface InutFacts {
  /** The range (from the request; from the answer when there is no request). Null when it cannot be read. */
  readonly range: InutRange | null;
  /** SEFAZ's answer; null for a request alone. */
  readonly answer: { readonly cStat: string; readonly xMotivo: string; readonly dhRecbto: string; readonly nProt: string } | null;
  readonly problems: readonly InutProblem[];
}

export interface InutProblem {
  readonly code: NfeFindingCode;
  readonly severity: Severity;
  readonly path: string;
  readonly message: string;
}

const DATETIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d([+-]\d{2}:\d{2}|Z)?$/;
const NUMBER = /^[1-9]\d{0,8}$/;
const RANGE_FIELDS = ['cUF', 'ano', 'CNPJ', 'mod', 'serie', 'nNFIni', 'nNFFin'] as const;

/** The request and answer of an inutilização document (`root` is the value of its root element). */
export function readInut(kind: InutKind, root: Obj, base: string): InutFacts {
  const problems: InutProblem[] = [];
  const add = (code: NfeFindingCode, path: string, message: string, severity: Severity = 'error'): void => void problems.push({ code, severity, path, message });
  const need = (g: Obj, name: string, path: string): string => {
    const v = s(g[name]);
    if (v === '') add('NFE_MISSING', `${path}/${name}`, `required element ${name} is missing`);
    return v;
  };
  const format = (g: Obj, name: string, path: string, re: RegExp, what: string, required = true): string => {
    const v = required ? need(g, name, path) : s(g[name]);
    if (v !== '' && !re.test(v)) add('NFE_FORMAT', `${path}/${name}`, `${name} ${JSON.stringify(v)} is not ${what}`);
    return v;
  };
  const present = (name: string): Obj | null => {
    const v = root[name];
    if (v === undefined || v === '') {
      add('NFE_MISSING', `${base}/${name}`, `required element ${name} is missing`);
      return null;
    }
    return o(v);
  };
  const reqRoot = kind === 'procInutNFe' ? present('inutNFe') : kind === 'inutNFe' ? root : null;
  const retRoot = kind === 'procInutNFe' ? present('retInutNFe') : kind === 'retInutNFe' ? root : null;
  const reqBase = kind === 'procInutNFe' ? `${base}/inutNFe` : base;
  const retBase = kind === 'procInutNFe' ? `${base}/retInutNFe` : base;

  let range: InutRange | null = null;
  let reqFields: Obj | null = null;
  if (reqRoot) {
    const version = s(reqRoot['@versao']);
    if (version !== '4.00' && version !== '3.10') add('NFE_FORMAT', `${reqBase}/@versao`, `versao ${JSON.stringify(version)} is not 4.00 or 3.10`);
    const inf = reqRoot.infInut === undefined ? null : o(reqRoot.infInut);
    if (!inf) add('NFE_MISSING', `${reqBase}/infInut`, 'required element infInut is missing');
    else {
      const p = `${reqBase}/infInut`;
      format(inf, 'xServ', p, /^INUTILIZAR$/, 'INUTILIZAR');
      format(inf, 'tpAmb', p, /^[12]$/, '1 or 2');
      format(inf, 'xJust', p, /^\S[\s\S]{13,253}\S$/, 'a justification of 15 to 255 characters');
      range = rangeOf(inf, p, format, add);
      reqFields = inf;
      const id = need(inf, '@Id', p);
      if (id !== '' && range) {
        const expected = `ID${range.cUF}${range.ano}${range.cnpj}${range.mod}${range.serie.padStart(3, '0')}${String(range.first).padStart(9, '0')}${String(range.last).padStart(9, '0')}`;
        if (id !== expected) add('NFE_INUT_MISMATCH', `${p}/@Id`, `Id ${id} does not match the fields, which give ${expected}`);
      }
    }
  }
  let answer: InutFacts['answer'] = null;
  if (retRoot) {
    const inf = retRoot.infInut === undefined ? null : o(retRoot.infInut);
    if (!inf) add('NFE_MISSING', `${retBase}/infInut`, 'required element infInut is missing');
    else {
      const p = `${retBase}/infInut`;
      const cStat = format(inf, 'cStat', p, /^\d{3}$/, 'a 3-digit status');
      const dhRecbto = format(inf, 'dhRecbto', p, DATETIME, 'a date-time (AAAA-MM-DDThh:mm:ss-03:00)');
      const homologated = cStat === INUT_HOMOLOGATED;
      const nProt = format(inf, 'nProt', p, /^\d{15}$/, 'a 15-digit protocol', homologated);
      answer = { cStat, xMotivo: s(inf.xMotivo), dhRecbto, nProt };
      if (cStat !== '' && !homologated) {
        add('NFE_INUT_NOT_HOMOLOGATED', `${p}/cStat`, `cStat ${cStat} ${s(inf.xMotivo)}: the inutilização was not homologated (${INUT_HOMOLOGATED}), the numbers are not void`.replace(' :', ':'), 'warning');
      }
      if (reqFields) {
        // the answer repeats the range it homologated: it must be the request's
        for (const f of RANGE_FIELDS) {
          const mine = s(inf[f]);
          const asked = s(reqFields[f]);
          if (mine !== '' && asked !== '' && mine !== asked) add('NFE_INUT_MISMATCH', `${p}/${f}`, `the answer's ${f} ${mine} is not the request's ${asked}`);
        }
      } else if (homologated) {
        range = rangeOf(inf, p, format, add);
      }
    }
  }
  return { range, answer, problems };
}

type Format = (g: Obj, name: string, path: string, re: RegExp, what: string, required?: boolean) => string;

function rangeOf(inf: Obj, p: string, format: Format, add: (code: NfeFindingCode, path: string, message: string) => void): InutRange | null {
  const cUF = format(inf, 'cUF', p, /^\d{2}$/, 'a 2-digit UF code');
  const ano = format(inf, 'ano', p, /^\d{2}$/, 'a 2-digit year');
  const cnpj = format(inf, 'CNPJ', p, /^[0-9A-Z]{12}\d{2}$/, 'a CNPJ (14 characters)');
  if (/^[0-9A-Z]{12}\d{2}$/.test(cnpj) && !isValidCnpj(cnpj)) add('NFE_FORMAT', `${p}/CNPJ`, `CNPJ ${cnpj} fails its check digits`);
  const mod = format(inf, 'mod', p, /^(55|65)$/, '55 or 65');
  const serie = format(inf, 'serie', p, /^(0|[1-9]\d{0,2})$/, 'a series (0 to 999)');
  const ini = format(inf, 'nNFIni', p, NUMBER, 'a number (1 to 999999999)');
  const fin = format(inf, 'nNFFin', p, NUMBER, 'a number (1 to 999999999)');
  if (!NUMBER.test(ini) || !NUMBER.test(fin)) return null;
  const first = Number(ini);
  const last = Number(fin);
  if (last < first) {
    add('NFE_FORMAT', `${p}/nNFFin`, `nNFFin ${fin} is below nNFIni ${ini}`);
    return null;
  }
  if ([cUF, ano, cnpj, mod, serie].some((v) => v === '')) return null;
  return { cUF, ano, cnpj, mod, serie, first, last };
}
