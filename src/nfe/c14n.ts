/**
 * Canonical XML 1.0 (inclusive, http://www.w3.org/TR/2001/REC-xml-c14n-20010315) of one element subtree of a
 * tokenised document — the document subset a same-document Reference `URI="#id"` selects — without building
 * a DOM. Implements, for that subset:
 *  - namespace nodes: the apex element renders every namespace in scope (from its ancestors too), except an
 *    empty default; a descendant renders a declaration only when it changes the value in scope at its parent
 *    (so superfluous redeclarations vanish and `xmlns=""` appears only to undo a non-empty default);
 *  - xml:* attributes of ancestors outside the subset are inherited by the apex;
 *  - namespace declarations sorted by prefix (default first), attributes by namespace URI then local name;
 *  - empty elements as start and end tag; attribute values in double quotes; C14N escaping of text
 *    (& < > CR) and of attributes (& < " TAB LF CR); CDATA as escaped text; line ends already normalised;
 *  - comments dropped (or kept with the #WithComments variant); processing instructions kept;
 *  - an excluded subtree (the enveloped Signature, transform enveloped-signature) left out.
 */
import {
  COMMENT, END, PI, START, TEXT,
  type StartToken, type TokenDoc, type XmlAttr, type XmlToken,
} from './xml-tokens.js';

export const C14N_10 = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
export const C14N_10_COMMENTS = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** Namespace bindings and xml:* attributes from outside the document (e.g. where a fragment will be inserted). */
export interface C14nContext {
  /** prefix ('' = default) → URI, in scope at the fragment's parent. */
  readonly namespaces?: ReadonlyMap<string, string>;
  /** xml:* attributes in scope at the fragment's parent (name → value). */
  readonly xmlAttrs?: ReadonlyMap<string, string>;
}

export interface C14nOptions {
  /** Start-token index of a subtree to leave out (the enveloped Signature). */
  readonly exclude?: number;
  readonly withComments?: boolean;
  /** Bindings inherited from beyond the document's root (used when canonicalising a fragment). */
  readonly context?: C14nContext;
}

function escText(s: string): string {
  if (!/[&<>\r]/.test(s)) return s;
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}

function escAttr(s: string): string {
  if (!/[&<"\t\n\r]/.test(s)) return s;
  return s
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;');
}

function isNsDecl(name: string): boolean {
  return name === 'xmlns' || name.startsWith('xmlns:');
}

type Scope = Map<string, string>;

interface SortAttr { uri: string; local: string; name: string; value: string }

function byUriLocal(a: SortAttr, b: SortAttr): number {
  if (a.uri !== b.uri) return a.uri < b.uri ? -1 : 1;
  return a.local < b.local ? -1 : a.local > b.local ? 1 : 0;
}

function renderAttrs(out: string[], attrs: readonly XmlAttr[], scope: Scope, inherited: ReadonlyMap<string, string> | null): void {
  const list: SortAttr[] = [];
  for (const a of attrs) {
    if (isNsDecl(a.name)) continue;
    const c = a.name.indexOf(':');
    if (c === -1) list.push({ uri: '', local: a.name, name: a.name, value: a.value });
    else {
      const prefix = a.name.slice(0, c);
      const uri = prefix === 'xml' ? XML_NS : scope.get(prefix) ?? '';
      list.push({ uri, local: a.name.slice(c + 1), name: a.name, value: a.value });
    }
  }
  if (inherited) {
    for (const [name, value] of inherited) {
      if (!list.some((x) => x.name === name)) list.push({ uri: XML_NS, local: name.slice(4), name, value });
    }
  }
  if (list.length > 1) list.sort(byUriLocal);
  for (const a of list) out.push(' ', a.name, '="', escAttr(a.value), '"');
}

/**
 * Canonical form (C14N 1.0) of the element at start-token `idx` and its subtree, as a string (hash its UTF-8
 * bytes). The element must be a START token of `doc`.
 */
export function canonicalize(doc: TokenDoc, idx: number, options: C14nOptions = {}): string {
  const tokens = doc.tokens;
  const apex = tokens[idx] as StartToken;
  if (!apex || apex.kind !== START) throw new Error(`token ${idx} is not an element`);
  const withComments = options.withComments === true;
  const exclude = options.exclude ?? -1;

  // Namespaces and xml:* attributes in scope at the apex's parent (nearest declaration wins).
  const outer: Scope = new Map();
  const xmlAttrs = new Map<string, string>();
  for (let p = apex.parent; p !== -1; p = (tokens[p] as StartToken).parent) {
    for (const a of (tokens[p] as StartToken).attrs) {
      if (a.name === 'xmlns') { if (!outer.has('')) outer.set('', a.value); }
      else if (a.name.startsWith('xmlns:')) { const pf = a.name.slice(6); if (!outer.has(pf)) outer.set(pf, a.value); }
      else if (a.name.startsWith('xml:') && !xmlAttrs.has(a.name)) xmlAttrs.set(a.name, a.value);
    }
  }
  const ctx = options.context;
  if (ctx?.namespaces) for (const [k, v] of ctx.namespaces) if (!outer.has(k)) outer.set(k, v);
  if (ctx?.xmlAttrs) for (const [k, v] of ctx.xmlAttrs) if (!xmlAttrs.has(k)) xmlAttrs.set(k, v);
  for (const a of apex.attrs) if (xmlAttrs.has(a.name)) xmlAttrs.delete(a.name);

  const out: string[] = [];
  const scopes: Scope[] = [];
  let scope: Scope = outer;

  for (let i = idx; i <= apex.close; i++) {
    const t = tokens[i] as XmlToken;
    switch (t.kind) {
      case START: {
        if (i === exclude) { i = t.close; continue; }
        let own: XmlAttr[] | null = null;
        for (const a of t.attrs) if (isNsDecl(a.name)) (own ??= []).push(a);
        const parentScope = scope;
        let next = parentScope;
        if (own) {
          next = new Map(parentScope);
          for (const a of own) next.set(a.name === 'xmlns' ? '' : a.name.slice(6), a.value);
        }
        out.push('<', t.name);
        // namespace nodes to render, sorted by prefix with the default first
        const render: [string, string][] = [];
        if (i === idx) {
          for (const [pf, uri] of next) {
            if (pf === 'xml') continue;
            if (pf === '' && uri === '') continue;
            render.push([pf, uri]);
          }
        } else if (own) {
          for (const a of own) {
            const pf = a.name === 'xmlns' ? '' : a.name.slice(6);
            if ((parentScope.get(pf) ?? '') !== a.value) render.push([pf, a.value]);
          }
        }
        if (render.length > 1) render.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        for (const [pf, uri] of render) out.push(pf === '' ? ' xmlns="' : ` xmlns:${pf}="`, escAttr(uri), '"');
        renderAttrs(out, t.attrs, next, i === idx && xmlAttrs.size ? xmlAttrs : null);
        out.push('>');
        if (t.selfClosing) out.push('</', t.name, '>');
        else { scopes.push(scope); scope = next; }
        break;
      }
      case END:
        out.push('</', t.name, '>');
        scope = scopes.pop() as Scope;
        break;
      case TEXT:
        out.push(escText(t.value));
        break;
      case COMMENT:
        if (withComments) out.push('<!--', t.value, '-->');
        break;
      case PI:
        out.push('<?', t.target, t.data ? ` ${t.data}` : '', '?>');
        break;
    }
  }
  return out.join('');
}
