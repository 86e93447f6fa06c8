/**
 * Typed model → compact XML: UTF-8, no BOM, no whitespace between tags, children in schema order
 * (formats/nfe/schema.json), absent groups write nothing, text escaped the way C14N writes it. Elements the
 * schema does not know are written after the known ones, in the order the model holds them, so nothing is lost.
 *
 * For a note: a missing `cNF` is derived from a hash of the document (deterministic, never random), a missing
 * `cDV` and `Id` are computed from the key parts; with `computeTotals` ICMSTot (and IBSCBSTot) are recomputed
 * exactly from the items. Given values are never overwritten (a rebuilt real document keeps its Id, so its
 * signature still holds); a given Id that disagrees with the key parts is reported.
 */
import { createHash } from 'node:crypto';
import { finding, type NfeFinding } from './findings.js';
import { AccessKeyError, buildAccessKey } from './key.js';
import { ATTRIBUTE_PREFIX, TEXT_PROPERTY } from './parse.js';
import { childrenByName, nfeSchema } from './schema.js';
import { computeTotals } from './totals.js';
import { ROOT_ELEMENTS, type NfeDocument, type NfeKind } from './types.js';

export const NFE_NAMESPACE = 'http://www.portalfiscal.inf.br/nfe';
export const DSIG_NAMESPACE = 'http://www.w3.org/2000/09/xmldsig#';

export interface BuildOptions {
  /** Recompute ICMSTot (and IBSCBSTot) from the items. */
  readonly computeTotals?: boolean;
  /** Write `<?xml version="1.0" encoding="UTF-8"?>` first (default true). */
  readonly declaration?: boolean;
}

export interface BuildResult {
  readonly xml: string;
  /** Key of the (first) note, or of the event's note. */
  readonly key: string | null;
  readonly findings: NfeFinding[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// --- escaping (as inclusive C14N writes text and attribute values) ----------------------------------------

const TEXT_ESC = /[&<>\r]/g;
const ATTR_ESC = /[&<"\t\n\r]/g;
const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#x9;', '\n': '&#xA;', '\r': '&#xD;' };

export function escapeText(s: string): string {
  return TEXT_ESC.test(s) ? s.replace(TEXT_ESC, (c) => ESC[c]!) : s;
}
export function escapeAttribute(s: string): string {
  return ATTR_ESC.test(s) ? s.replace(ATTR_ESC, (c) => ESC[c]!) : s;
}

// --- serializer ---------------------------------------------------------------------------------------------

const DEFAULT_NS: Record<string, string> = { Signature: DSIG_NAMESPACE };

function writeValue(out: string[], name: string, value: unknown, type: string | null, nsDefault: string | null): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const v of value) writeValue(out, name, v, type, nsDefault);
    return;
  }
  if (!isObj(value)) {
    out.push(`<${name}`);
    if (nsDefault) out.push(` xmlns="${nsDefault}"`);
    out.push(`>${escapeText(String(value))}</${name}>`);
    return;
  }
  out.push(`<${name}`);
  const nsKey = `${ATTRIBUTE_PREFIX}xmlns`;
  if (nsDefault && value[nsKey] === undefined) out.push(` xmlns="${nsDefault}"`);
  const children: string[] = [];
  for (const k of Object.keys(value)) {
    if (k.startsWith(ATTRIBUTE_PREFIX)) {
      const v = value[k];
      if (v !== undefined && v !== null) out.push(` ${k.slice(ATTRIBUTE_PREFIX.length)}="${escapeAttribute(String(v))}"`);
    } else if (k !== TEXT_PROPERTY) children.push(k);
  }
  out.push('>');
  const t = value[TEXT_PROPERTY];
  if (t !== undefined && t !== null) out.push(escapeText(String(t)));
  const known = type ? childrenByName(type) : null;
  if (known && !inSchemaOrder(children, type!)) {
    // schema order first, then whatever the schema does not name
    for (const [childName, , childType] of nfeSchema.types[type!]!) {
      if (childName in value) writeValue(out, childName, value[childName], childType, DEFAULT_NS[childName] ?? null);
    }
    for (const c of children) if (!known.has(c)) writeValue(out, c, value[c], null, DEFAULT_NS[c] ?? null);
  } else {
    // the model's order; schema types still guide the children of known elements
    for (const c of children) writeValue(out, c, value[c], known?.get(c)?.[2] ?? null, DEFAULT_NS[c] ?? null);
  }
  out.push(`</${name}>`);
}

/** True when the known children already come in schema order (then the model's order is kept as is). */
function inSchemaOrder(children: readonly string[], type: string): boolean {
  const order = schemaIndex(type);
  let last = -1;
  for (const c of children) {
    const i = order.get(c);
    if (i === undefined) continue;
    if (i < last) return false;
    last = i;
  }
  return true;
}

const indexCache = new Map<string, Map<string, number>>();
function schemaIndex(type: string): Map<string, number> {
  let m = indexCache.get(type);
  if (!m) {
    m = new Map((nfeSchema.types[type] ?? []).map((c, i) => [c[0], i] as const));
    indexCache.set(type, m);
  }
  return m;
}

/** Serializes one element (name, model value) in schema order when `type` is a schema type id. */
export function serializeElement(name: string, value: unknown, type: string | null = nfeSchema.roots[name] ?? null, namespace: string | null = NFE_NAMESPACE): string {
  const out: string[] = [];
  writeValue(out, name, value, type, namespace);
  return out.join('');
}

// --- key parts ----------------------------------------------------------------------------------------------

/** The access key (cDV computed) that ide and emit give, via buildAccessKey; null when a part is missing or malformed. */
export function keyFromNote(infNFe: Obj, cNF: string): string | null {
  const ide = isObj(infNFe.ide) ? infNFe.ide : {};
  const emit = isObj(infNFe.emit) ? infNFe.emit : {};
  const dh = (typeof ide.dhEmi === 'string' ? ide.dhEmi : typeof ide.dEmi === 'string' ? ide.dEmi : '') as string;
  const m = /^\d{2}(\d{2})-(\d{2})/.exec(dh);
  const doc = typeof emit.CNPJ === 'string' ? emit.CNPJ : typeof emit.CPF === 'string' ? `000${emit.CPF}` : null;
  const parts = [ide.cUF, ide.mod, ide.serie, ide.nNF, ide.tpEmis];
  if (!m || !doc || parts.some((p) => typeof p !== 'string' || p === '')) return null;
  const [cUF = '', mod = '', serie = '', nNF = '', tpEmis = ''] = parts as string[];
  try {
    return buildAccessKey({ cUF, aamm: `${m[1]}${m[2]}`, cnpj: doc, mod, serie, nNF, tpEmis, cNF });
  } catch (e) {
    if (e instanceof AccessKeyError) return null;
    throw e;
  }
}

/** A deterministic cNF (8 digits) from the note's content: same document, same cNF; never equal to nNF. */
export function deterministicCnf(infNFe: Obj): string {
  const { ['@Id']: _id, ...rest } = infNFe;
  const ide = isObj(rest.ide) ? { ...rest.ide, cNF: undefined, cDV: undefined } : rest.ide;
  const h = createHash('sha256').update(JSON.stringify({ ...rest, ide })).digest();
  let n = h.readUInt32BE(0) % 100000000;
  const nNF = isObj(infNFe.ide) && typeof infNFe.ide.nNF === 'string' ? Number(infNFe.ide.nNF) : -1;
  if (n === nNF) n = (n + 1) % 100000000;
  return String(n).padStart(8, '0');
}

/**
 * Completes a note in place: cNF, cDV, Id when absent, totals when asked. Returns findings about given values
 * that disagree with the computed ones (they are kept).
 */
export function completeNote(nfe: Obj, source: string, options: BuildOptions, path: string): NfeFinding[] {
  const findings: NfeFinding[] = [];
  const inf = nfe.infNFe;
  if (!isObj(inf)) {
    findings.push(finding('NFE_BUILD', source, 'note without infNFe', { path }));
    return findings;
  }
  const ide = isObj(inf.ide) ? inf.ide : null;
  if (!ide) {
    findings.push(finding('NFE_BUILD', source, 'infNFe without ide', { path: `${path}/infNFe` }));
    return findings;
  }
  if (typeof ide.cNF !== 'string' || ide.cNF === '') ide.cNF = deterministicCnf(inf);
  const key = keyFromNote(inf, ide.cNF as string);
  if (key) {
    const body = key.slice(0, 43);
    const dv = key.slice(43);
    if (typeof ide.cDV !== 'string' || ide.cDV === '') ide.cDV = dv;
    else if (ide.cDV !== dv) findings.push(finding('NFE_KEY_CHECK_DIGIT', source, `cDV ${ide.cDV} kept, the key parts give ${dv}`, { path: `${path}/infNFe/ide/cDV`, severity: 'warning' }));
    const id = `NFe${body}${ide.cDV as string}`;
    const idKey = `${ATTRIBUTE_PREFIX}Id`;
    if (typeof inf[idKey] !== 'string' || inf[idKey] === '') {
      // Id comes before versao, as SEFAZ and most emitters write it
      const { [idKey]: _drop, ...others } = inf;
      for (const k of Object.keys(inf)) delete inf[k];
      Object.assign(inf, { [idKey]: id }, others);
      if (inf[`${ATTRIBUTE_PREFIX}versao`] === undefined) inf[`${ATTRIBUTE_PREFIX}versao`] = '4.00';
    } else if (inf[idKey] !== id) {
      findings.push(finding('NFE_KEY_MISMATCH', source, `Id ${String(inf[idKey])} kept, the key parts give ${id}`, { path: `${path}/infNFe/@Id`, severity: 'warning' }));
    }
  } else if (typeof inf[`${ATTRIBUTE_PREFIX}Id`] !== 'string') {
    findings.push(finding('NFE_BUILD', source, 'cannot compute the key: ide (cUF, dhEmi, mod, serie, nNF, tpEmis) or emit CNPJ/CPF missing', { path: `${path}/infNFe/ide` }));
  }
  if (options.computeTotals) {
    try {
      const t = computeTotals(inf);
      const total = isObj(inf.total) ? inf.total : (inf.total = {});
      total.ICMSTot = t.ICMSTot;
      if (t.IBSCBSTot) total.IBSCBSTot = t.IBSCBSTot;
    } catch (e) {
      findings.push(finding('NFE_BUILD', source, `cannot compute totals: ${(e as Error).message}`, { path: `${path}/infNFe/total` }));
    }
  }
  return findings;
}

/**
 * Builds the XML of a document (`{ nfeProc: … }`, `{ NFe: … }`, …). The model is copied first: the caller's
 * object is not changed.
 */
export function buildNfe(doc: NfeDocument | Record<string, unknown>, options: BuildOptions = {}, source = '-'): BuildResult {
  const copy = structuredClone(doc) as Obj;
  const rootName = Object.keys(copy).find((k) => !k.startsWith('?'));
  if (!rootName || !isObj(copy[rootName])) {
    return { xml: '', key: null, findings: [finding('NFE_BUILD', source, 'the document must be an object with one root property (e.g. {"NFe": {…}})')] };
  }
  const root = copy[rootName] as Obj;
  const findings: NfeFinding[] = [];
  const notes: [Obj, string][] =
    rootName === 'NFe' ? [[root, '/NFe']]
    : rootName === 'nfeProc' && isObj(root.NFe) ? [[root.NFe, '/nfeProc/NFe']]
    : rootName === 'enviNFe' ? (Array.isArray(root.NFe) ? root.NFe : isObj(root.NFe) ? [root.NFe] : []).filter(isObj).map((n, i) => [n, `/enviNFe/NFe[${i + 1}]`] as [Obj, string])
    : [];
  let key: string | null = null;
  for (const [n, path] of notes) {
    findings.push(...completeNote(n, source, options, path));
    const inf = n.infNFe;
    const id = isObj(inf) ? inf[`${ATTRIBUTE_PREFIX}Id`] : undefined;
    if (key === null && typeof id === 'string') key = id.replace(/^NFe/, '');
    // a note inside a wrapper carries its own namespace declaration, as SEFAZ writes it
    if (rootName !== 'NFe' && n[`${ATTRIBUTE_PREFIX}xmlns`] === undefined) {
      const { ...rest } = n;
      for (const k of Object.keys(n)) delete n[k];
      Object.assign(n, { [`${ATTRIBUTE_PREFIX}xmlns`]: NFE_NAMESPACE }, rest);
    }
  }
  if (key === null) {
    const ev = rootName === 'procEventoNFe' ? root.evento : rootName === 'envEvento' && Array.isArray(root.evento) ? root.evento[0] : rootName === 'evento' || rootName === 'retEvento' ? root : undefined;
    const inf = isObj(ev) ? ev.infEvento : undefined;
    if (isObj(inf) && typeof inf.chNFe === 'string') key = inf.chNFe;
    else if (rootName === 'resNFe' && typeof root.chNFe === 'string') key = root.chNFe;
  }
  const decl = options.declaration === false ? '' : '<?xml version="1.0" encoding="UTF-8"?>';
  // a kind whose schema element is spelled otherwise (procInutNFe → ProcInutNFe) is written as the schema says
  const element = ROOT_ELEMENTS[rootName as NfeKind] ?? rootName;
  return { xml: decl + serializeElement(element, root), key, findings };
}
