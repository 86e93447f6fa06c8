/**
 * The project's one XML tokenizer and its one safety policy, used by every path that reads XML: the typed parse
 * (as the well-formedness and safety gate before fast-xml-parser, which is lenient), signing, verification and
 * the QR code. One pass over the document's original text, producing a flat token list with offsets (so a
 * signature can be inserted into, and a subtree canonicalised from, the very text that was signed). It keeps what
 * C14N needs — element names, attributes in document order with their normalised values, text with entities
 * decoded, comments, processing instructions — and refuses, with one set of codes:
 *  - NFE_DOCTYPE_REFUSED: any `<!DOCTYPE` or `<!ENTITY` (no DTDs, no entity declarations: no XXE, no expansion);
 *  - NFE_XML_TOO_DEEP: elements nested deeper than `maxDepth` (DEFAULT_MAX_DEPTH = 64; an NF-e needs about 12);
 *  - NFE_XML_MALFORMED: everything not well-formed — unbalanced or mismatched tags, bad names, unquoted or
 *    duplicate attributes, `<` in an attribute value, references other than the five predefined entities and
 *    legal character references, `]]>` in text, text outside the root, two roots, a misplaced XML declaration.
 *
 * Line ends are normalised (CRLF and lone CR → LF) before tokenising, as an XML parser must; offsets refer to
 * the normalised text (`TokenDoc.text`).
 */

export type XmlTokenError = 'NFE_XML_MALFORMED' | 'NFE_DOCTYPE_REFUSED' | 'NFE_XML_TOO_DEEP';

/** The nesting limit every XML path uses unless told otherwise. */
export const DEFAULT_MAX_DEPTH = 64;

/** Line and column (1-based) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

export class XmlSyntaxError extends Error {
  readonly code: XmlTokenError;
  /** What is wrong, without the position (the message adds `at line L, column C`). */
  readonly reason: string;
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  constructor(code: XmlTokenError, reason: string, text: string, offset: number) {
    const { line, column } = lineColumn(text, Math.min(offset, text.length));
    super(`${reason} at line ${line}, column ${column}`);
    this.name = 'XmlSyntaxError';
    this.code = code;
    this.reason = reason;
    this.offset = offset;
    this.line = line;
    this.column = column;
  }
}

export interface XmlAttr {
  /** Qualified name as written (`Id`, `xmlns`, `xmlns:ds`, `xml:lang`). */
  readonly name: string;
  /** Value after attribute-value normalisation and entity decoding. */
  readonly value: string;
  /** The value as written between the quotes, only when it differs from `value` (entities, tabs, line ends). */
  readonly raw?: string;
}

export const START = 0;
export const END = 1;
export const TEXT = 2;
export const COMMENT = 3;
export const PI = 4;

export interface StartToken {
  readonly kind: typeof START;
  readonly name: string;
  readonly attrs: readonly XmlAttr[];
  /** Index of the parent element's start token, -1 for the root. */
  readonly parent: number;
  /** Index of the matching end token (the token itself for `<a/>`). */
  close: number;
  readonly selfClosing: boolean;
  /** Offsets of the tag in `text`: `<` … `>` inclusive-exclusive. */
  readonly from: number;
  readonly to: number;
}
export interface EndToken { readonly kind: typeof END; readonly name: string; readonly open: number; readonly from: number; readonly to: number }
export interface TextToken { readonly kind: typeof TEXT; readonly value: string; readonly from: number; readonly to: number }
export interface CommentToken { readonly kind: typeof COMMENT; readonly value: string; readonly from: number; readonly to: number }
export interface PiToken { readonly kind: typeof PI; readonly target: string; readonly data: string; readonly from: number; readonly to: number }
export type XmlToken = StartToken | EndToken | TextToken | CommentToken | PiToken;

export interface TokenDoc {
  /** The text the offsets refer to (line ends normalised). */
  readonly text: string;
  readonly tokens: readonly XmlToken[];
  /** Index of the root element's start token. */
  readonly root: number;
  /** `encoding` of the XML declaration, lower case, when present. */
  readonly declaredEncoding: string | null;
  /** End offset of the XML declaration (0 when there is none). */
  readonly declEnd: number;
}

export interface TokenizeOptions {
  /** Maximum element depth (default DEFAULT_MAX_DEPTH, 64). */
  readonly maxDepth?: number;
}

const ENTITY_RE = /&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos|[^;&<\s]*);?/g;

function decodeEntities(raw: string, text: string, offset: number): string {
  return raw.replace(ENTITY_RE, (m: string, body: string) => {
    if (!m.endsWith(';')) throw new XmlSyntaxError('NFE_XML_MALFORMED', `bare '&' (not an entity reference)`, text, offset);
    switch (body) {
      case 'amp': return '&';
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return "'";
    }
    if (body.charCodeAt(0) === 35 /* # */) {
      const cp = body.charCodeAt(1) === 120 /* x */ ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      const legal = cp === 9 || cp === 10 || cp === 13 || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
      if (!legal) throw new XmlSyntaxError('NFE_XML_MALFORMED', `character reference &${body}; is not a legal XML character`, text, offset);
      return String.fromCodePoint(cp);
    }
    throw new XmlSyntaxError('NFE_XML_MALFORMED', `undeclared entity &${body};`, text, offset);
  });
}

// XML names, as the scanner before it accepted them: a letter, `_`, `:` or a non-ASCII character from U+00C0
// first; then also digits, `.`, `-` and U+00B7. Scanned by character code (a regular expression per tag and
// attribute was a fifth of the tokenizer's time).
const isNameStart = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || c >= 0xc0;
const isNameChar = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 58 || c === 46 || c === 45 || c === 0xb7 || c >= 0xc0;

/** The end of the XML name starting at `at` (`at` itself when there is none). */
function nameEnd(s: string, at: number): number {
  if (at >= s.length || !isNameStart(s.charCodeAt(at))) return at;
  let p = at + 1;
  while (p < s.length && isNameChar(s.charCodeAt(p))) p++;
  return p;
}

/** The first offset from `at` that is not a space, tab or line feed (line ends are normalised before). */
function skipWs(s: string, at: number): number {
  let p = at;
  for (let c = s.charCodeAt(p); c === 32 || c === 9 || c === 10; c = s.charCodeAt(++p));
  return p;
}

const ATTR_WS = /[\t\n]/g;
const NO_ATTRS: readonly XmlAttr[] = Object.freeze([]);

function isWhitespace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** Tokenises a whole XML document. Throws XmlSyntaxError on malformed input, DOCTYPE, or excessive depth. */
export function tokenize(input: string, options: TokenizeOptions = {}): TokenDoc {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  let s = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  if (s.indexOf('\r') !== -1) s = s.replace(/\r\n?/g, '\n');
  const n = s.length;
  const tokens: XmlToken[] = [];
  const stack: number[] = [];
  let root = -1;
  let declaredEncoding: string | null = null;
  let declEnd = 0;
  let i = 0;
  const fail = (msg: string, at: number, code: XmlTokenError = 'NFE_XML_MALFORMED'): never => {
    throw new XmlSyntaxError(code, msg, s, at);
  };

  while (i < n) {
    const lt = s.indexOf('<', i);
    const textEnd = lt === -1 ? n : lt;
    if (textEnd > i) {
      const raw = s.slice(i, textEnd);
      if (stack.length === 0) {
        if (!isWhitespace(raw)) fail('text outside the root element', i);
      } else {
        if (raw.indexOf(']]>') !== -1) fail("']]>' in text", i);
        tokens.push({ kind: TEXT, value: raw.indexOf('&') === -1 ? raw : decodeEntities(raw, s, i), from: i, to: textEnd });
      }
    }
    if (lt === -1) break;
    const c = s.charCodeAt(lt + 1);
    if (c === 47 /* / */) {
      const gt = s.indexOf('>', lt);
      if (gt === -1) fail('unterminated end tag', lt);
      const open = stack.pop();
      const st = open === undefined ? undefined : (tokens[open] as StartToken);
      // the usual case, `</name>` right after the name of the open element, needs no new string
      const sameName = st !== undefined && s.startsWith(st.name, lt + 2) && skipWs(s, lt + 2 + st.name.length) === gt;
      if (!sameName) {
        const name = s.slice(lt + 2, gt).trimEnd();
        if (st === undefined) fail(`end tag </${name}> without a start tag`, lt);
        if ((st as StartToken).name !== name) fail(`end tag </${name}> does not match <${(st as StartToken).name}>`, lt);
      }
      st!.close = tokens.length;
      tokens.push({ kind: END, name: st!.name, open: open!, from: lt, to: gt + 1 });
      i = gt + 1;
    } else if (c === 63 /* ? */) {
      const end = s.indexOf('?>', lt + 2);
      if (end === -1) fail('unterminated processing instruction', lt);
      const body = s.slice(lt + 2, end);
      const m = /^([^\s?]+)\s*([\s\S]*)$/.exec(body);
      if (!m) fail('processing instruction without a target', lt);
      const target = (m as RegExpExecArray)[1] as string;
      if (target.toLowerCase() === 'xml') {
        if (lt !== 0 || tokens.length > 0) fail('XML declaration not at the start of the document', lt);
        const enc = /encoding\s*=\s*["']([^"']+)["']/.exec(body);
        declaredEncoding = enc ? (enc[1] as string).toLowerCase() : null;
        declEnd = end + 2;
      } else {
        tokens.push({ kind: PI, target, data: (m as RegExpExecArray)[2] as string, from: lt, to: end + 2 });
      }
      i = end + 2;
    } else if (c === 33 /* ! */) {
      if (s.startsWith('<!--', lt)) {
        const end = s.indexOf('-->', lt + 4);
        if (end === -1) fail('unterminated comment', lt);
        tokens.push({ kind: COMMENT, value: s.slice(lt + 4, end), from: lt, to: end + 3 });
        i = end + 3;
      } else if (s.startsWith('<![CDATA[', lt)) {
        if (stack.length === 0) fail('CDATA outside the root element', lt);
        const end = s.indexOf(']]>', lt + 9);
        if (end === -1) fail('unterminated CDATA section', lt);
        tokens.push({ kind: TEXT, value: s.slice(lt + 9, end), from: lt, to: end + 3 });
        i = end + 3;
      } else if (s.startsWith('<!DOCTYPE', lt) || s.startsWith('<!ENTITY', lt)) {
        fail('DOCTYPE and ENTITY declarations are refused (no DTDs, no entity expansion)', lt, 'NFE_DOCTYPE_REFUSED');
      } else {
        fail('unexpected markup declaration', lt);
      }
    } else {
      // start tag
      const nameTo = nameEnd(s, lt + 1);
      if (nameTo === lt + 1) fail('malformed start tag', lt);
      const name = s.slice(lt + 1, nameTo);
      let p = nameTo;
      let attrs: XmlAttr[] | null = null;
      let selfClosing = false;
      for (;;) {
        const afterWs = skipWs(s, p);
        const hadWs = afterWs > p;
        p = afterWs;
        const ch = s.charCodeAt(p);
        if (ch === 62 /* > */) { p++; break; }
        if (ch === 47 /* / */ && s.charCodeAt(p + 1) === 62) { selfClosing = true; p += 2; break; }
        if (p >= n) fail(`unterminated start tag <${name}`, lt);
        if (!hadWs) fail(`missing whitespace before an attribute in <${name}>`, p);
        const anTo = nameEnd(s, p);
        if (anTo === p) fail(`malformed attribute in <${name}>`, p);
        const aname = s.slice(p, anTo);
        p = skipWs(s, anTo);
        if (s.charCodeAt(p) !== 61 /* = */) fail(`attribute ${aname} without a value in <${name}>`, p);
        p = skipWs(s, p + 1);
        const q = s.charCodeAt(p);
        if (q !== 34 && q !== 39) fail(`attribute ${aname} value not quoted in <${name}>`, p);
        const qe = s.indexOf(q === 34 ? '"' : "'", p + 1);
        if (qe === -1) fail(`unterminated attribute value in <${name}>`, p);
        const written = s.slice(p + 1, qe);
        if (written.indexOf('<') !== -1) fail(`'<' in the value of attribute ${aname}`, p);
        const raw = written.indexOf('\n') !== -1 || written.indexOf('\t') !== -1 ? written.replace(ATTR_WS, ' ') : written;
        const value = raw.indexOf('&') === -1 ? raw : decodeEntities(raw, s, p);
        attrs ??= [];
        for (const a of attrs) if (a.name === aname) fail(`duplicate attribute ${aname} in <${name}>`, p);
        attrs.push(value === written ? { name: aname, value } : { name: aname, value, raw: written });
        p = qe + 1;
      }
      const parent = stack.length ? (stack[stack.length - 1] as number) : -1;
      if (parent === -1) {
        if (root !== -1) fail('more than one root element', lt);
        root = tokens.length;
      }
      const idx = tokens.length;
      tokens.push({ kind: START, name, attrs: attrs ?? NO_ATTRS, parent, close: idx, selfClosing, from: lt, to: p });
      if (!selfClosing) {
        stack.push(idx);
        if (stack.length > maxDepth) fail(`elements nested deeper than ${maxDepth}`, lt, 'NFE_XML_TOO_DEEP');
      }
      i = p;
    }
  }
  if (stack.length) fail(`element <${(tokens[stack[stack.length - 1] as number] as StartToken).name}> is not closed`, n);
  if (root === -1) fail('no root element', 0);
  return { text: s, tokens, root, declaredEncoding, declEnd };
}

/** Local part of a qualified name. */
export function localName(qname: string): string {
  const c = qname.indexOf(':');
  return c === -1 ? qname : qname.slice(c + 1);
}

/** Value of an attribute by qualified name, or undefined. */
export function attr(t: StartToken, name: string): string | undefined {
  for (const a of t.attrs) if (a.name === name) return a.value;
  return undefined;
}

/** Resolves a prefix ('' for the default namespace) in scope at element `idx`; '' when unbound. */
export function namespaceOf(doc: TokenDoc, idx: number, prefix: string): string {
  if (prefix === 'xml') return 'http://www.w3.org/XML/1998/namespace';
  const decl = prefix === '' ? 'xmlns' : `xmlns:${prefix}`;
  for (let i = idx; i !== -1; i = (doc.tokens[i] as StartToken).parent) {
    const v = attr(doc.tokens[i] as StartToken, decl);
    if (v !== undefined) return v;
  }
  return '';
}

/** Namespace URI of the element at `idx`. */
export function elementNamespace(doc: TokenDoc, idx: number): string {
  const name = (doc.tokens[idx] as StartToken).name;
  const c = name.indexOf(':');
  return namespaceOf(doc, idx, c === -1 ? '' : name.slice(0, c));
}

/** Child element start-token indices of element `idx`. */
export function children(doc: TokenDoc, idx: number): number[] {
  const t = doc.tokens[idx] as StartToken;
  const out: number[] = [];
  for (let i = idx + 1; i < t.close; i++) {
    const c = doc.tokens[i] as XmlToken;
    if (c.kind === START) {
      out.push(i);
      i = c.close;
    }
  }
  return out;
}

/** First child element with the given local name, or -1. */
export function childByLocal(doc: TokenDoc, idx: number, local: string): number {
  for (const c of children(doc, idx)) if (localName((doc.tokens[c] as StartToken).name) === local) return c;
  return -1;
}

/** First descendant element (depth-first) with the given local name, or -1. */
export function descendantByLocal(doc: TokenDoc, idx: number, local: string): number {
  const t = doc.tokens[idx] as StartToken;
  for (let i = idx + 1; i < t.close; i++) {
    const c = doc.tokens[i] as XmlToken;
    if (c.kind === START && localName(c.name) === local) return i;
  }
  return -1;
}

/** Concatenated text content of element `idx` (descendant text included). */
export function textOf(doc: TokenDoc, idx: number): string {
  const t = doc.tokens[idx] as StartToken;
  let out = '';
  for (let i = idx + 1; i < t.close; i++) {
    const c = doc.tokens[i] as XmlToken;
    if (c.kind === TEXT) out += c.value;
  }
  return out;
}

/**
 * Bytes of an XML document → text: drops a UTF-8 BOM, honours an ISO-8859-1 / Windows-1252 / US-ASCII
 * encoding declaration, reads everything else as UTF-8.
 */
export function decodeXmlBytes(bytes: Uint8Array): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start = 0;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
  if (buf[start] === 0x3c && buf[start + 1] === 0x3f) {
    const head = buf.toString('latin1', start, Math.min(buf.length, start + 200));
    const m = /^<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/.exec(head);
    const enc = m ? (m[1] as string).toLowerCase() : 'utf-8';
    if (enc === 'iso-8859-1' || enc === 'latin1' || enc === 'iso8859-1' || enc === 'us-ascii') return buf.toString('latin1', start);
    if (enc === 'windows-1252' || enc === 'cp1252') return new TextDecoder('windows-1252').decode(buf.subarray(start));
  }
  return buf.toString('utf8', start);
}
