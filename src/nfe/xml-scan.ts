/**
 * A one-pass well-formedness and safety check run on every document BEFORE fast-xml-parser sees it.
 * fast-xml-parser is lenient (it accepts `<a><b></a>`, unclosed tags at the end, unquoted attributes), so this
 * scanner is what turns broken XML into NFE_XML_MALFORMED with a line and column, and it is where the defences
 * live: any DOCTYPE or ENTITY declaration is refused (no XXE, no entity expansion), references other than the
 * five predefined entities and character references are refused, and nesting is capped.
 * It jumps between markup characters with indexOf, so it costs a fraction of the parse.
 */

export interface ScanOk {
  readonly ok: true;
  /** Qualified name of the root element, as written (prefix included). */
  readonly root: string;
  /** Number of elements. */
  readonly elements: number;
}

export interface ScanError {
  readonly ok: false;
  readonly code: 'NFE_XML_MALFORMED' | 'NFE_DOCTYPE_REFUSED' | 'NFE_XML_TOO_DEEP';
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

export type ScanResult = ScanOk | ScanError;

export const DEFAULT_MAX_DEPTH = 64;

const PREDEFINED = new Set(['amp', 'lt', 'gt', 'apos', 'quot']);

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

class Fail {
  constructor(readonly code: ScanError['code'], readonly message: string, readonly offset: number) {}
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || c >= 0xc0;
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 0xb7;
}
function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** Checks the references (`&…;`) in text[from, to). */
function checkRefs(text: string, from: number, to: number): void {
  for (let i = text.indexOf('&', from); i !== -1 && i < to; i = text.indexOf('&', i + 1)) {
    const semi = text.indexOf(';', i);
    if (semi === -1 || semi > to || semi - i > 12) throw new Fail('NFE_XML_MALFORMED', 'unescaped `&` (not a reference)', i);
    const name = text.slice(i + 1, semi);
    if (name.charCodeAt(0) === 35) {
      const ok = /^#(?:[0-9]{1,7}|x[0-9A-Fa-f]{1,6})$/.test(name);
      if (!ok) throw new Fail('NFE_XML_MALFORMED', `bad character reference &${name};`, i);
      const cp = name.charCodeAt(1) === 120 ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      if (!(cp === 9 || cp === 10 || cp === 13 || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff))) {
        throw new Fail('NFE_XML_MALFORMED', `character reference &${name}; is not an XML character`, i);
      }
    } else if (!PREDEFINED.has(name)) {
      throw new Fail('NFE_XML_MALFORMED', `undefined entity &${name}; (only the five predefined entities are allowed)`, i);
    }
  }
}

/** Scans a whole document (a string without BOM). */
export function scanXml(text: string, maxDepth: number = DEFAULT_MAX_DEPTH): ScanResult {
  try {
    return scan(text, maxDepth);
  } catch (e) {
    if (e instanceof Fail) {
      const { line, column } = lineColumn(text, e.offset);
      return { ok: false, code: e.code, message: e.message, line, column };
    }
    throw e;
  }
}

function scan(text: string, maxDepth: number): ScanOk {
  const n = text.length;
  const stack: string[] = [];
  let root = '';
  let elements = 0;
  let rootClosed = false;
  let pos = 0;
  // next `&` and `]]>` at or after a position, cached: a plain indexOf per text run would rescan to the end
  let nextAmp = text.indexOf('&');
  let nextCdEnd = text.indexOf(']]>');
  const ampFrom = (p: number): number => {
    if (nextAmp !== -1 && nextAmp < p) nextAmp = text.indexOf('&', p);
    return nextAmp;
  };
  const cdEndFrom = (p: number): number => {
    if (nextCdEnd !== -1 && nextCdEnd < p) nextCdEnd = text.indexOf(']]>', p);
    return nextCdEnd;
  };
  // prolog: an optional XML declaration must come first
  if (text.startsWith('<?xml') && isSpace(text.charCodeAt(5))) {
    const end = text.indexOf('?>', 5);
    if (end === -1) throw new Fail('NFE_XML_MALFORMED', 'XML declaration is not closed', 0);
    pos = end + 2;
  }
  while (pos < n) {
    const lt = text.indexOf('<', pos);
    const textEnd = lt === -1 ? n : lt;
    if (textEnd > pos) {
      if (stack.length === 0) {
        for (let i = pos; i < textEnd; i++) {
          if (!isSpace(text.charCodeAt(i))) {
            throw new Fail('NFE_XML_MALFORMED', rootClosed ? 'content after the root element' : 'text before the root element', i);
          }
        }
      } else {
        const amp = ampFrom(pos);
        if (amp !== -1 && amp < textEnd) checkRefs(text, amp, textEnd);
        const gt = cdEndFrom(pos);
        if (gt !== -1 && gt < textEnd) throw new Fail('NFE_XML_MALFORMED', '`]]>` in text', gt);
      }
    }
    if (lt === -1) break;
    const c = text.charCodeAt(lt + 1);
    if (c === 47) {
      // end tag
      const gt = text.indexOf('>', lt);
      if (gt === -1) throw new Fail('NFE_XML_MALFORMED', 'end tag is not closed', lt);
      let nameEnd = gt;
      while (nameEnd > lt + 2 && isSpace(text.charCodeAt(nameEnd - 1))) nameEnd--;
      const name = text.slice(lt + 2, nameEnd);
      const open = stack.pop();
      if (open === undefined) throw new Fail('NFE_XML_MALFORMED', `end tag </${name}> without a start tag`, lt);
      if (open !== name) throw new Fail('NFE_XML_MALFORMED', `end tag </${name}> does not match <${open}>`, lt);
      if (stack.length === 0) rootClosed = true;
      pos = gt + 1;
    } else if (c === 33) {
      if (text.startsWith('<!--', lt)) {
        const end = text.indexOf('-->', lt + 4);
        if (end === -1) throw new Fail('NFE_XML_MALFORMED', 'comment is not closed', lt);
        pos = end + 3;
      } else if (text.startsWith('<![CDATA[', lt)) {
        if (stack.length === 0) throw new Fail('NFE_XML_MALFORMED', 'CDATA outside the root element', lt);
        const end = text.indexOf(']]>', lt + 9);
        if (end === -1) throw new Fail('NFE_XML_MALFORMED', 'CDATA section is not closed', lt);
        pos = end + 3;
      } else if (text.startsWith('<!DOCTYPE', lt) || text.startsWith('<!ENTITY', lt)) {
        throw new Fail('NFE_DOCTYPE_REFUSED', 'DOCTYPE and ENTITY declarations are refused (no DTDs, no entity expansion)', lt);
      } else {
        throw new Fail('NFE_XML_MALFORMED', 'unknown markup declaration', lt);
      }
    } else if (c === 63) {
      const end = text.indexOf('?>', lt + 2);
      if (end === -1) throw new Fail('NFE_XML_MALFORMED', 'processing instruction is not closed', lt);
      if (/^<\?xml[\s?]/i.test(text.slice(lt, lt + 6))) throw new Fail('NFE_XML_MALFORMED', 'XML declaration not at the start of the document', lt);
      pos = end + 2;
    } else {
      // start tag
      if (!isNameStart(c)) throw new Fail('NFE_XML_MALFORMED', 'bad character after `<`', lt);
      let i = lt + 2;
      while (i < n && isNameChar(text.charCodeAt(i))) i++;
      const name = text.slice(lt + 1, i);
      if (stack.length === 0) {
        if (rootClosed) throw new Fail('NFE_XML_MALFORMED', 'a second root element', lt);
        root = name;
      }
      elements++;
      // attributes
      let selfClosing = false;
      let attrs: string[] | null = null;
      for (;;) {
        const sp = i;
        while (i < n && isSpace(text.charCodeAt(i))) i++;
        if (i >= n) throw new Fail('NFE_XML_MALFORMED', `start tag <${name}> is not closed`, lt);
        const ch = text.charCodeAt(i);
        if (ch === 62) {
          i++;
          break;
        }
        if (ch === 47) {
          if (text.charCodeAt(i + 1) !== 62) throw new Fail('NFE_XML_MALFORMED', 'expected `/>`', i);
          selfClosing = true;
          i += 2;
          break;
        }
        if (sp === i || !isNameStart(ch)) throw new Fail('NFE_XML_MALFORMED', `bad attribute in <${name}>`, i);
        const an = i;
        while (i < n && isNameChar(text.charCodeAt(i))) i++;
        const attr = text.slice(an, i);
        while (i < n && isSpace(text.charCodeAt(i))) i++;
        if (text.charCodeAt(i) !== 61) throw new Fail('NFE_XML_MALFORMED', `attribute ${attr} has no value`, i);
        i++;
        while (i < n && isSpace(text.charCodeAt(i))) i++;
        const q = text.charCodeAt(i);
        if (q !== 34 && q !== 39) throw new Fail('NFE_XML_MALFORMED', `attribute ${attr} value is not quoted`, i);
        const close = text.indexOf(q === 34 ? '"' : "'", i + 1);
        if (close === -1) throw new Fail('NFE_XML_MALFORMED', `attribute ${attr} value is not closed`, i);
        const lt2 = text.indexOf('<', i + 1);
        if (lt2 !== -1 && lt2 < close) throw new Fail('NFE_XML_MALFORMED', '`<` in an attribute value', lt2);
        const amp = ampFrom(i + 1);
        if (amp !== -1 && amp < close) checkRefs(text, amp, close);
        if (attrs === null) attrs = [attr];
        else if (attrs.includes(attr)) throw new Fail('NFE_XML_MALFORMED', `duplicate attribute ${attr}`, an);
        else attrs.push(attr);
        i = close + 1;
      }
      if (!selfClosing) {
        stack.push(name);
        if (stack.length > maxDepth) throw new Fail('NFE_XML_TOO_DEEP', `elements nested deeper than ${maxDepth} levels`, lt);
      } else if (stack.length === 0) rootClosed = true;
      pos = i;
    }
  }
  if (stack.length > 0) throw new Fail('NFE_XML_MALFORMED', `document ends inside <${stack[stack.length - 1]}>`, n);
  if (!root) throw new Fail('NFE_XML_MALFORMED', 'no root element', 0);
  return { ok: true, root, elements };
}
