/**
 * The document model from the tokens the safety gate already made (xml-tokens.ts): one tokenizer pass instead
 * of a tokenizer pass and a second, full parse by fast-xml-parser. The model is, key for key and in the same
 * key order, what fast-xml-parser 5 gives with the options the typed parse used before (test/helpers/fxp-oracle.ts; the
 * tests hold the two side by side on every fixture, sample and generated document):
 *  - an element without attributes and children is its text ('' when empty); otherwise an object with its
 *    children by local name (in the order they first appear), then `#text` (when there is text), then its
 *    attributes as `@name` (qualified names as written, `@xmlns:ds` included);
 *  - text: each run of character data between markup is trimmed, then entities are decoded; comments do not
 *    break a run, processing instructions and CDATA sections do; CDATA is kept as written; the runs of an
 *    element are joined;
 *  - attribute values: as written, trimmed, entities decoded (no attribute-value normalisation);
 *  - a child is an array when the NF-e or CF-e schema says it repeats (isRepeatingPath on the path of local names), or
 *    when it occurs more than once;
 *  - element names `__proto__`, `constructor`, `prototype` are refused (TreeError); `toString`, `valueOf`,
 *    `hasOwnProperty` and the other Object.prototype method names get a `__` prefix.
 */
import { ownCopy } from '../common/own-copy.js';
import { isRepeatingPath } from './schema.js';
import { cfeSchema } from '../coupons/cfe/model.js';
import { COMMENT, END, PI, START, TEXT, type StartToken, type TokenDoc, type XmlToken } from './xml-tokens.js';

export type Tree = Record<string, unknown>;

/** An element name that could pollute prototypes: the document is refused. */
export class TreeError extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
    this.name = 'TreeError';
  }
}

// --- entity decoding: the five predefined entities and character references, nothing else -------------------

const REF_RE = /&(?:(amp|lt|gt|apos|quot)|#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6}));/g;
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', apos: "'", quot: '"' };

/** Replaces `&amp;`, `&lt;`, `&gt;`, `&apos;`, `&quot;` and `&#…;`/`&#x…;`; anything else stays as written. */
export function decodeXmlText(value: string): string {
  if (value.indexOf('&') === -1) return value;
  return value.replace(REF_RE, (_m, name: string | undefined, dec: string | undefined, hex: string | undefined) =>
    name ? PREDEFINED[name]! : String.fromCodePoint(dec ? parseInt(dec, 10) : parseInt(hex!, 16)),
  );
}

const CRITICAL = new Set(['__proto__', 'constructor', 'prototype']);
const RENAMED = new Set(['hasOwnProperty', 'toString', 'valueOf', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);

/** Paths already judged (repeating or not), as a trie of local names; bounded so odd documents cannot grow it. */
interface PathNode {
  readonly parts: readonly string[];
  readonly kids: Map<string, PathNode>;
  repeats: boolean | undefined;
}
const ROOT: PathNode = { parts: [], kids: new Map(), repeats: false };
let pathNodes = 0;
const MAX_PATH_NODES = 20000;


function childPath(parent: PathNode, name: string): PathNode {
  let node = parent.kids.get(name);
  if (node === undefined) {
    const own = ownCopy(name);
    node = { parts: [...parent.parts, own], kids: new Map(), repeats: undefined };
    if (pathNodes < MAX_PATH_NODES) {
      parent.kids.set(own, node);
      pathNodes++;
    }
  }
  return node;
}

function repeats(node: PathNode): boolean {
  node.repeats ??= isRepeatingPath(node.parts) || cfeSchema.isRepeatingPath(node.parts);
  return node.repeats;
}

function localName(qname: string): string {
  const c = qname.indexOf(':');
  return c === -1 ? qname : qname.slice(c + 1);
}

/** Qualified names already turned into property names (bounded like the paths: odd documents cannot grow it). */
const PROPERTY_NAMES = new Map<string, string>();

function propertyName(t: StartToken): string {
  const known = PROPERTY_NAMES.get(t.name);
  if (known !== undefined) return known;
  const name = localName(t.name);
  if (CRITICAL.has(name)) throw new TreeError(t.from, `element name <${name}> is refused (it could pollute prototypes)`);
  const property = RENAMED.has(name) ? `__${name}` : name;
  if (PROPERTY_NAMES.size < MAX_PATH_NODES) PROPERTY_NAMES.set(ownCopy(t.name), ownCopy(property));
  return property;
}

/** The model of a tokenised document: `{ [root local name]: value }`. */
export function buildTree(doc: TokenDoc): Tree {
  const root = doc.tokens[doc.root] as StartToken;
  const name = propertyName(root);
  const value = element(doc, doc.root, childPath(ROOT, name));
  return { [name]: repeats(childPath(ROOT, name)) ? [value] : value };
}

/** `joined` with one more run of character data: trimmed, skipped when blank, entities decoded. */
function appendRun(joined: string | undefined, run: string): string | undefined {
  const trimmed = run.trim();
  if (trimmed.length === 0) return joined;
  const piece = decodeXmlText(trimmed);
  return joined === undefined ? piece : joined + piece;
}

function element(doc: TokenDoc, idx: number, path: PathNode): unknown {
  const toks = doc.tokens;
  const text = doc.text;
  const t = toks[idx] as StartToken;
  let obj: Tree | null = null;
  let joined: string | undefined;
  let run: string | null = null; // character data since the last markup that breaks a run
  for (let i = idx + 1; i < t.close; i++) {
    const c = toks[i] as XmlToken;
    switch (c.kind) {
      case TEXT: {
        if (text.charCodeAt(c.from) === 60 /* < : a CDATA section */) {
          if (run !== null) joined = appendRun(joined, run);
          run = null;
          joined = joined === undefined ? c.value : joined + c.value;
        } else {
          // the value is decoded; decoding always shortens, so an unchanged length means the text as written
          const raw = c.value.length === c.to - c.from ? c.value : text.slice(c.from, c.to);
          run = run === null ? raw : run + raw;
        }
        break;
      }
      case START: {
        if (run !== null) joined = appendRun(joined, run);
        run = null;
        const name = propertyName(c);
        const childNode = childPath(path, name);
        const value = element(doc, i, childNode);
        obj ??= {};
        const prev = obj[name];
        if (prev === undefined) obj[name] = repeats(childNode) ? [value] : value;
        else if (Array.isArray(prev)) prev.push(value);
        else obj[name] = [prev, value];
        i = c.close;
        break;
      }
      case PI:
        if (run !== null) joined = appendRun(joined, run);
        run = null;
        break;
      case COMMENT:
      case END:
        break;
    }
  }
  if (run !== null) joined = appendRun(joined, run);
  const attrs = t.attrs;
  if (obj === null && attrs.length === 0) return joined ?? '';
  obj ??= {};
  if (joined !== undefined && joined.length > 0) obj['#text'] = joined;
  for (const a of attrs) obj[`@${a.name}`] = a.raw === undefined ? a.value.trim() : decodeXmlText(a.raw.trim());
  return obj;
}
