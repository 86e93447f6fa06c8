/**
 * The 44-character key of a CF-e SAT (modelo 59). Same length, same character rules and same check digit
 * (mod 11, src/nfe/key.ts) as the NF-e key; the middle is laid out differently (ER SAT, chave de acesso):
 *
 *   cUF(2) AAMM(4) CNPJ(14) mod(2)=59 nserieSAT(9) nCFe(6) cNF(6) cDV(1)
 */
import { accessKeyCheckDigit } from '../../common/check-digits.js';
import { parseAccessKey, type KeyProblem } from '../../nfe/key.js';

export interface ParsedCfeKey {
  readonly key: string;
  readonly cUF: string;
  readonly aamm: string;
  /** Emitter CNPJ (14 characters). */
  readonly cnpj: string;
  /** 59 for a CF-e SAT. */
  readonly mod: string;
  /** Serial number of the SAT device. */
  readonly nserieSAT: string;
  readonly nCFe: string;
  readonly cNF: string;
  readonly cDV: string;
  /** The shape and the check digit hold, and mod is 59. */
  readonly valid: boolean;
  readonly expectedCdv: string | null;
  /** The NF-e key's problems, plus `model` when mod is not 59. */
  readonly problems: readonly (KeyProblem | 'model')[];
}

/** Splits a CF-e key (a `CFe` prefix is ignored) into its parts and checks it. Never throws. */
export function parseCfeKey(input: string): ParsedCfeKey {
  const k = parseAccessKey(input);
  const problems: (KeyProblem | 'model')[] = [...k.problems];
  const mod = k.key.slice(20, 22);
  if (k.key.length === 44 && mod !== '59') problems.push('model');
  return {
    key: k.key,
    cUF: k.cUF,
    aamm: k.aamm,
    cnpj: k.cnpj,
    mod,
    nserieSAT: k.key.slice(22, 31),
    nCFe: k.key.slice(31, 37),
    cNF: k.key.slice(37, 43),
    cDV: k.cDV,
    valid: problems.length === 0,
    expectedCdv: k.expectedCdv,
    problems,
  };
}

/** Builds a CF-e key from its parts (numeric, padded with zeros to their widths) and computes cDV. */
export function buildCfeKey(parts: { cUF: string; aamm: string; cnpj: string; nserieSAT: string; nCFe: string; cNF: string }): string {
  const pad = (name: string, v: string, width: number): string => {
    if (!/^[0-9]+$/.test(v) || v.length > width) throw new RangeError(`${name} must be at most ${width} digits (got ${JSON.stringify(v)})`);
    return v.padStart(width, '0');
  };
  const body = pad('cUF', parts.cUF, 2) + pad('AAMM', parts.aamm, 4) + pad('CNPJ', parts.cnpj, 14) + '59' +
    pad('nserieSAT', parts.nserieSAT, 9) + pad('nCFe', parts.nCFe, 6) + pad('cNF', parts.cNF, 6);
  return body + String(accessKeyCheckDigit(body));
}
