/**
 * The fast lane for the usual CF-e: one pass over the bytes that checks what the general reader checks (the
 * tokenizer's well-formedness rules, the tree's refused names, the depth limit) and keeps only the paths its reader
 * reads (CfeLaneSpecs: the coupon summary's, SUMMARY_SPECS — the key, ide/dEmi and nserieSAT, emit/CNPJ, each
 * det's amounts, CFOP and tax groups, the totals, a cancellation's chCanc; from-docs has its own) — a pruned tree
 * with exactly the values the general tree has at those paths (an array where the schemas say an element repeats,
 * '' for an element without children or attributes). No string per element, no token list, no tree of the rest of
 * the document (the signature, the addresses, the payments).
 *
 * It is a lane, not a second reader: for anything it does not take as it is — another encoding, bytes that are not
 * UTF-8, an entity or character reference, a comment, CDATA or processing instruction, a prefixed element name, a
 * kept element repeated, with attributes or odd text, a tax group with more than one variant, a malformed
 * document — it answers null and the general reader (src/nfe/parse.ts) reads the document, with its findings.
 * So the result is the same either way; test/coupons/cfe/fast-read.ts and test/sped/from-docs-cfe-lane.ts hold the
 * two side by side on generated, mutated and hand-made documents.
 */
import { isUtf8 } from 'node:buffer';
import type { ParsedNfe } from '../../nfe/parse.js';
import type { XmlSourceItem } from '../../nfe/source.js';
import { DEFAULT_MAX_DEPTH } from '../../nfe/xml-tokens.js';
import { indexOfNear } from '../../common/byte-search.js';
import { describeCfe } from './model.js';
import type { CfeKind } from './types.js';

type Obj = Record<string, unknown>;

const LEAF = 0;
/** An element whose children are looked up by name. */
const CONTAINER = 1;
/** A tax group (ICMS, PIS, COFINS): exactly one child element, its variant (ICMS00, PISAliq…), a container. */
const GROUP = 2;

export interface Spec {
  readonly name: string;
  readonly bytes: Buffer;
  readonly kind: typeof LEAF | typeof CONTAINER | typeof GROUP;
  /** Appears as an array in the general tree (the schema says it repeats): only `det`. */
  readonly repeats: boolean;
  /** CONTAINER: the children kept; GROUP: the variant's. */
  readonly children: readonly Spec[];
}

export const leaf = (name: string): Spec => ({ name, bytes: Buffer.from(name, 'latin1'), kind: LEAF, repeats: false, children: [] });
export const leaves = (...names: string[]): Spec[] => names.map(leaf);
export const container = (name: string, children: Spec[], repeats = false): Spec => ({ name, bytes: Buffer.from(name, 'latin1'), kind: CONTAINER, repeats, children });
export const group = (name: string, variantLeaves: Spec[]): Spec => ({ name, bytes: Buffer.from(name, 'latin1'), kind: GROUP, repeats: false, children: variantLeaves });

/** What from-xml.ts reads of a CF-e, as paths of the general tree (`det` repeats; test/coupons/cfe/fast-read.ts checks the schema agrees). */
export const CFE_SPEC: Spec = container('CFe', [
  container('infCFe', [
    container('ide', leaves('dEmi', 'nserieSAT')),
    container('emit', leaves('CNPJ')),
    container('det', [
      container('prod', leaves('vProd', 'vDesc', 'vOutro', 'vItem', 'vRatDesc', 'CFOP')),
      container('imposto', [group('ICMS', leaves('CST', 'CSOSN', 'pICMS', 'vICMS')), group('PIS', leaves('vPIS')), group('COFINS', leaves('vCOFINS'))]),
    ], true),
    container('total', [
      container('ICMSTot', leaves('vProd', 'vDesc', 'vOutro', 'vICMS', 'vPIS', 'vCOFINS')),
      leaf('vCFe'),
      container('DescAcrEntr', leaves('vDescSubtot', 'vAcresSubtot')),
    ]),
  ]),
]);
export const CFE_CANC_SPEC: Spec = container('CFeCanc', [container('infCFe', [])]);

/** What a reader of CF-e keeps: the paths of a sale (CFe) and of a cancellation (CFeCanc). */
export interface CfeLaneSpecs {
  readonly CFe: Spec;
  readonly CFeCanc: Spec;
}

/** The coupon summary's (from-xml.ts). */
export const SUMMARY_SPECS: CfeLaneSpecs = { CFe: CFE_SPEC, CFeCanc: CFE_CANC_SPEC };

/** The variant inside a GROUP: a container of the group's leaves, under whatever name it has. */
const variantSpecs = new Map<Spec, Spec>();
function variantSpecOf(g: Spec): Spec {
  let v = variantSpecs.get(g);
  if (!v) variantSpecs.set(g, (v = { name: '', bytes: Buffer.alloc(0), kind: CONTAINER, repeats: false, children: g.children }));
  return v;
}

/** Element names the general tree refuses or renames (tree.ts): such a document goes the general way. */
const SPECIAL_NAMES = new Set(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);
const SPECIAL_BY_LENGTH: Buffer[][] = [];
for (const name of SPECIAL_NAMES) (SPECIAL_BY_LENGTH[name.length] ??= []).push(Buffer.from(name, 'latin1'));

function isSpecialName(b: Buffer, from: number, to: number): boolean {
  const candidates = SPECIAL_BY_LENGTH[to - from];
  if (candidates === undefined) return false;
  for (const c of candidates) if (sameBytes(b, from, to, c)) return true;
  return false;
}

const AMP = 0x26;
const CDATA_END = Buffer.from(']]>');

// byte classes: ASCII name bytes (a non-ASCII name goes the general way), whitespace, `:` (refused in element names)
const NAME_START = 1;
const NAME = 2;
const WS = 4;
const COLON = 8;
const CLASS = new Uint8Array(256);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_:]/.test(ch)) CLASS[c]! |= NAME_START | NAME;
  if (/[0-9.-]/.test(ch)) CLASS[c]! |= NAME;
}
CLASS[0x3a]! |= COLON;
for (const c of [32, 10, 9, 13]) CLASS[c]! |= WS;

/** Buffer's own latin1 slice, without toString's encoding dispatch (a value is read per kept leaf). */
const latin1 = (b: Buffer, from: number, to: number): string => (b as Buffer & { latin1Slice(from: number, to: number): string }).latin1Slice(from, to);

/**
 * Names of kept attributes and tax-group variants as strings, made once per distinct name (a store's coupons use
 * a handful) instead of once per element; bounded, so odd documents cannot grow it.
 */
const NAMES = new Map<number, string[]>();
let namesKept = 0;
function nameOf(b: Buffer, from: number, to: number): string {
  const h = ((to - from) << 16) | (b[from]! << 8) | b[to - 1]!;
  const list = NAMES.get(h);
  if (list !== undefined) {
    for (const name of list) {
      if (name.length !== to - from) continue;
      let k = 0;
      while (k < name.length && name.charCodeAt(k) === b[from + k]) k++;
      if (k === name.length) return name;
    }
  }
  const name = latin1(b, from, to);
  if (namesKept < 1000) {
    namesKept++;
    if (list !== undefined) list.push(name);
    else NAMES.set(h, [name]);
  }
  return name;
}

const isWs = (c: number): boolean => (CLASS[c]! & WS) !== 0;

function sameBytes(b: Buffer, from: number, to: number, name: Buffer): boolean {
  if (to - from !== name.length) return false;
  for (let k = 0; k < name.length; k++) if (b[from + k] !== name[k]) return false;
  return true;
}

function sameRange(b: Buffer, from: number, to: number, otherFrom: number, otherTo: number): boolean {
  if (to - from !== otherTo - otherFrom) return false;
  for (let k = 0; k < to - from; k++) if (b[from + k] !== b[otherFrom + k]) return false;
  return true;
}

/**
 * A kept value: ASCII, no control character inside (JavaScript's trim on the general tree's text removes the
 * same whitespace at the ends). Null for anything else (the general reader decides).
 */
function plainValue(b: Buffer, from: number, to: number): string | null {
  let f = from;
  let t = to;
  while (f < t && (b[f] === 32 || (b[f]! >= 9 && b[f]! <= 13))) f++;
  while (t > f && (b[t - 1] === 32 || (b[t - 1]! >= 9 && b[t - 1]! <= 13))) t--;
  for (let k = f; k < t; k++) {
    const c = b[k]!;
    if (c < 32 || c > 126) return null;
  }
  return latin1(b, f, t);
}

// the open elements (reused from one document to the next: a worker reads one at a time)
const MAX_FAST_DEPTH = 256;
const nameFrom = new Int32Array(MAX_FAST_DEPTH + 1);
const nameTo = new Int32Array(MAX_FAST_DEPTH + 1);
const kids = new Int32Array(MAX_FAST_DEPTH + 1);
const attrCounts = new Int32Array(MAX_FAST_DEPTH + 1);
const seen = new Int32Array(MAX_FAST_DEPTH + 1);
const textFrom = new Int32Array(MAX_FAST_DEPTH + 1);
const specs: (Spec | null)[] = new Array<Spec | null>(MAX_FAST_DEPTH + 1).fill(null);
const objs: (Obj | null)[] = new Array<Obj | null>(MAX_FAST_DEPTH + 1).fill(null);
// where a kept element's object hangs in its parent's: the object (or array) and the key (or index)
const hungOn: (Obj | Obj[] | null)[] = new Array<Obj | Obj[] | null>(MAX_FAST_DEPTH + 1).fill(null);
const hungAt: (string | number)[] = new Array<string | number>(MAX_FAST_DEPTH + 1).fill('');
// the attributes of the start tag being read
const MAX_FAST_ATTRS = 64;
const attrFrom = new Int32Array(MAX_FAST_ATTRS);
const attrTo = new Int32Array(MAX_FAST_ATTRS);
const valueFrom = new Int32Array(MAX_FAST_ATTRS);
const valueTo = new Int32Array(MAX_FAST_ATTRS);

/** The end of open element `d` (its text ends at `to`): a kept value read, a kept element checked. */
function closeKept(b: Buffer, d: number, to: number): boolean {
  const spec = specs[d]!;
  if (spec === null) return true;
  if (spec.kind === LEAF) {
    const v = plainValue(b, textFrom[d]!, to);
    if (v === null) return false;
    objs[d - 1]![spec.name] = v;
    return true;
  }
  if (kids[d] === 0 && attrCounts[d] === 0) {
    // an element without children or attributes is text in the general tree ('' here: its text was whitespace)
    if (d === 0) return false;
    (hungOn[d] as Record<string | number, unknown>)[hungAt[d]!] = '';
  }
  return true;
}

/**
 * The pruned tree of a CF-e (`{ CFe: … }` or `{ CFeCanc: … }`) as ParsedNfe, or null when the document must go
 * the general way. `bytes` is the document as read (UTF-8 or undeclared encoding only; the caller checks).
 */
export function readCfeFast(source: string, bytes: Buffer, maxDepth: number, lane: CfeLaneSpecs = SUMMARY_SPECS): ParsedNfe | null {
  const b = bytes;
  const n = b.length;
  const depthLimit = Math.min(maxDepth, MAX_FAST_DEPTH);
  let p = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  // the XML declaration, first thing in the document
  if (b[p] === 0x3c && b[p + 1] === 0x3f) {
    if (b[p + 2] !== 0x78 || b[p + 3] !== 0x6d || b[p + 4] !== 0x6c || !isWs(b[p + 5] ?? 0)) return null;
    const end = b.indexOf('?>', p + 5, 'latin1');
    if (end === -1) return null;
    p = end + 2;
  }
  let depth = 0;
  let rootName: CfeKind | null = null;
  let root: Obj | null = null;

  for (;;) {
    const lt = indexOfNear(b, 0x3c, p);
    const textEnd = lt === -1 ? n : lt;
    if (textEnd > p) {
      // text: outside the root and in kept containers only whitespace; a leaf's is read at its end tag
      const spec = depth === 0 ? null : specs[depth - 1]!;
      if (depth === 0 || (spec !== null && spec.kind !== LEAF)) for (let k = p; k < textEnd; k++) if ((CLASS[b[k]!]! & WS) === 0) return null;
    }
    if (lt === -1) break;
    const c = b[lt + 1];
    if (c === 0x2f) {
      // an end tag: the open element's name, then only whitespace up to its `>` (the first `>` after `</`, as the
      // tokenizer finds it: a name has none)
      if (depth === 0) return null;
      const d = depth - 1;
      const from = nameFrom[d]!;
      const len = nameTo[d]! - from;
      let k = lt + 2;
      if (k + len >= n) return null;
      for (let j = 0; j < len; j++, k++) if (b[k] !== b[from + j]) return null;
      while (k < n && (CLASS[b[k]!]! & WS) !== 0) k++;
      if (b[k] !== 0x3e) return null;
      if (!closeKept(b, d, lt)) return null;
      depth = d;
      p = k + 1;
      continue;
    }
    if (c === 0x3f || c === 0x21) return null; // a processing instruction, comment, CDATA or declaration
    // a start tag: its name (ASCII, unprefixed, not one the tree refuses)
    const nf = lt + 1;
    if ((CLASS[b[nf] ?? 0]! & NAME_START) === 0) return null;
    let q = nf + 1;
    let classes = CLASS[b[nf]!]!;
    for (; q < n; q++) {
      const k = CLASS[b[q]!]!;
      if ((k & NAME) === 0) break;
      classes |= k;
    }
    const nt = q;
    if ((classes & COLON) !== 0 || isSpecialName(b, nf, nt)) return null;
    // its attributes, checked as the tokenizer checks them
    let selfClosing = false;
    let attrs = 0;
    for (;;) {
      let r = q;
      while (r < n && (CLASS[b[r]!]! & WS) !== 0) r++;
      const hadWs = r > q;
      q = r;
      const ch = b[q];
      if (ch === 0x3e) {
        q++;
        break;
      }
      if (ch === 0x2f && b[q + 1] === 0x3e) {
        selfClosing = true;
        q += 2;
        break;
      }
      if (q >= n || !hadWs || (CLASS[ch!]! & NAME_START) === 0 || attrs === MAX_FAST_ATTRS) return null;
      const an = q;
      for (q++; q < n && (CLASS[b[q]!]! & NAME) !== 0; q++);
      const ae = q;
      while (q < n && (CLASS[b[q]!]! & WS) !== 0) q++;
      if (b[q] !== 0x3d) return null;
      for (q++; q < n && (CLASS[b[q]!]! & WS) !== 0; q++);
      const quote = b[q];
      if (quote !== 0x22 && quote !== 0x27) return null;
      const qe = b.indexOf(quote, q + 1);
      if (qe === -1) return null;
      for (let k = q + 1; k < qe; k++) if (b[k] === 0x3c) return null;
      for (let a = 0; a < attrs; a++) if (sameRange(b, an, ae, attrFrom[a]!, attrTo[a]!)) return null; // a duplicate
      attrFrom[attrs] = an;
      attrTo[attrs] = ae;
      valueFrom[attrs] = q + 1;
      valueTo[attrs] = qe;
      attrs++;
      q = qe + 1;
    }
    // what the element is in the pruned tree
    let spec: Spec | null = null;
    let obj: Obj | null = null;
    if (depth === 0) {
      if (rootName !== null) return null; // a second root
      if (sameBytes(b, nf, nt, lane.CFe.bytes)) spec = lane.CFe;
      else if (sameBytes(b, nf, nt, lane.CFeCanc.bytes)) spec = lane.CFeCanc;
      else return null; // not a CF-e: the general reader says what it is
      rootName = spec.name as CfeKind;
      root = obj = {};
    } else {
      const d = depth - 1;
      const parent = specs[d]!;
      kids[d]!++;
      if (parent !== null) {
        if (parent.kind === LEAF) return null; // an element inside a kept value
        if (parent.kind === GROUP) {
          if (kids[d]! > 1) return null; // a second variant
          spec = variantSpecOf(parent);
          obj = {};
          const key = nameOf(b, nf, nt);
          objs[d]![key] = obj;
          hungOn[depth] = objs[d]!;
          hungAt[depth] = key;
        } else {
          const list = parent.children;
          for (let k = 0; k < list.length; k++) {
            if (!sameBytes(b, nf, nt, list[k]!.bytes)) continue;
            spec = list[k]!;
            const bit = 1 << k;
            if (seen[d]! & bit && !spec.repeats) return null; // repeated: an array in the general tree
            seen[d]! |= bit;
            break;
          }
          if (spec !== null && spec.kind !== LEAF) {
            obj = {};
            const into = objs[d]!;
            if (spec.repeats) {
              const list = (into[spec.name] ??= []) as Obj[];
              hungOn[depth] = list;
              hungAt[depth] = list.push(obj) - 1;
            } else {
              into[spec.name] = obj;
              hungOn[depth] = into;
              hungAt[depth] = spec.name;
            }
          }
        }
      }
    }
    if (spec !== null && attrs > 0) {
      if (spec.kind !== CONTAINER) return null; // attributes on a kept value or a tax group
      for (let a = 0; a < attrs; a++) {
        const v = plainValue(b, valueFrom[a]!, valueTo[a]!);
        if (v === null) return null;
        obj![`@${nameOf(b, attrFrom[a]!, attrTo[a]!)}`] = v;
      }
    }
    nameFrom[depth] = nf;
    nameTo[depth] = nt;
    specs[depth] = spec;
    objs[depth] = obj;
    kids[depth] = 0;
    attrCounts[depth] = attrs;
    seen[depth] = 0;
    textFrom[depth] = q;
    if (selfClosing) {
      if (!closeKept(b, depth, q)) return null;
    } else if (++depth > depthLimit) return null;
    p = q;
  }
  if (depth !== 0 || rootName === null || root === null) return null;
  // checked last, so that a document of another kind (an NF-e) is turned away at its root, before them
  if (b.indexOf(AMP) !== -1 || b.indexOf(CDATA_END) !== -1 || !isUtf8(b)) return null;
  const facts = describeCfe(rootName, root);
  return { source, kind: rootName, key: facts.key, keys: facts.key ? [facts.key] : [], version: facts.version, wrappers: [], doc: { [rootName]: root } as ParsedNfe['doc'], findings: [] };
}

/**
 * The lane for a source item: its pruned tree, or null when the general reader must read it (a failed read, a
 * document in another encoding than UTF-8, or one the lane does not take as it is).
 */
export function readCfeItem(item: XmlSourceItem, maxDepth: number = DEFAULT_MAX_DEPTH, lane: CfeLaneSpecs = SUMMARY_SPECS): ParsedNfe | null {
  return item.ok && item.encoding === 'utf-8' ? readCfeFast(item.source, item.bytes, maxDepth, lane) : null;
}
