/**
 * XMLDSig vocabulary shared by signing and verification: algorithm URIs, and the "signed units" of fiscal
 * documents — the elements that carry an Id and must be covered by a sibling Signature.
 */
import { START, attr, childByLocal, localName, textOf, type StartToken, type TokenDoc, type XmlToken } from './xml-tokens.js';

export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const ALG_ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
export const ALG_SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
export const ALG_SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
export const ALG_RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
export const ALG_RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

/** Digest algorithm URI → Node hash name. */
export const DIGESTS: Readonly<Record<string, 'sha1' | 'sha256'>> = { [ALG_SHA1]: 'sha1', [ALG_SHA256]: 'sha256' };
/** Signature algorithm URI → Node hash name (RSA PKCS#1 v1.5). */
export const SIGNATURES: Readonly<Record<string, 'sha1' | 'sha256'>> = { [ALG_RSA_SHA1]: 'sha1', [ALG_RSA_SHA256]: 'sha256' };

/** Element local name → required parent local names. */
const UNIT_PARENTS: Readonly<Record<string, readonly string[]>> = {
  infNFe: ['NFe'],
  infEvento: ['evento'],
  infInut: ['inutNFe'],
  infCFe: ['CFe', 'CFeCanc'],
};

export interface SignedUnit {
  /** Start-token index of the unit (infNFe, infEvento, …). */
  readonly idx: number;
  /** Start-token index of its parent (NFe, evento, …): the Signature goes in there. */
  readonly parent: number;
  readonly element: string;
  readonly id: string | undefined;
}

/** The elements of a document that a fiscal signature must cover, in document order. */
export function signedUnits(doc: TokenDoc): SignedUnit[] {
  const out: SignedUnit[] = [];
  const toks = doc.tokens;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as XmlToken;
    if (t.kind !== START) continue;
    const local = localName(t.name);
    const parents = UNIT_PARENTS[local];
    if (!parents || t.parent === -1) continue;
    if (!parents.includes(localName((toks[t.parent] as StartToken).name))) continue;
    out.push({ idx: i, parent: t.parent, element: local, id: attr(t, 'Id') });
  }
  return out;
}

/** Text of the first descendant of `idx` whose local-name path matches (e.g. ['ide','dhEmi']), or undefined. */
export function pathText(doc: TokenDoc, idx: number, path: readonly string[]): string | undefined {
  let cur = idx;
  for (const step of path) {
    cur = childByLocal(doc, cur, step);
    if (cur === -1) return undefined;
  }
  return textOf(doc, cur).trim();
}

/** The document date a unit's signature is judged at, and the text it came from. */
export function unitDate(doc: TokenDoc, unit: SignedUnit): { text: string; date: Date } | null {
  let text: string | undefined;
  switch (unit.element) {
    case 'infNFe':
      text = pathText(doc, unit.idx, ['ide', 'dhEmi']) ?? pathText(doc, unit.idx, ['ide', 'dEmi']);
      break;
    case 'infEvento':
      text = pathText(doc, unit.idx, ['dhEvento']);
      break;
    case 'infInut': {
      // the request has no date: in a procInutNFe, when SEFAZ received it (retInutNFe/infInut/dhRecbto)
      const proc = (doc.tokens[unit.parent] as StartToken).parent;
      text = proc === -1 ? undefined : pathText(doc, proc, ['retInutNFe', 'infInut', 'dhRecbto']);
      break;
    }
    case 'infCFe': {
      const d = pathText(doc, unit.idx, ['ide', 'dEmi']);
      const h = pathText(doc, unit.idx, ['ide', 'hEmi']) ?? '000000';
      if (d && /^\d{8}$/.test(d) && /^\d{6}$/.test(h)) {
        text = `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}-03:00`;
      }
      break;
    }
  }
  if (!text) return null;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T12:00:00-03:00` : text;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : { text, date };
}

/** The emitter (or event author) of a unit: CNPJ or CPF as written. */
export function unitEmitter(doc: TokenDoc, unit: SignedUnit): { CNPJ?: string; CPF?: string } {
  const base = unit.element === 'infNFe' ? ['emit'] : unit.element === 'infCFe' ? ['emit'] : [];
  const cnpj = pathText(doc, unit.idx, [...base, 'CNPJ']);
  if (cnpj) return { CNPJ: cnpj };
  const cpf = pathText(doc, unit.idx, [...base, 'CPF']);
  return cpf ? { CPF: cpf } : {};
}

/** Namespace bindings and xml:* attributes in scope at element `idx` (nearest declaration wins). */
export function scopeAt(doc: TokenDoc, idx: number): { namespaces: Map<string, string>; xmlAttrs: Map<string, string> } {
  const namespaces = new Map<string, string>();
  const xmlAttrs = new Map<string, string>();
  for (let p = idx; p !== -1; p = (doc.tokens[p] as StartToken).parent) {
    for (const a of (doc.tokens[p] as StartToken).attrs) {
      if (a.name === 'xmlns') { if (!namespaces.has('')) namespaces.set('', a.value); }
      else if (a.name.startsWith('xmlns:')) { const pf = a.name.slice(6); if (!namespaces.has(pf)) namespaces.set(pf, a.value); }
      else if (a.name.startsWith('xml:') && !xmlAttrs.has(a.name)) xmlAttrs.set(a.name, a.value);
    }
  }
  return { namespaces, xmlAttrs };
}
