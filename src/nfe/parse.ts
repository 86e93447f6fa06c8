/**
 * Typed parse of NF-e/NFC-e documents: bytes → text (UTF-8 with or without BOM, ISO-8859-1/Windows-1252 when
 * declared) → safety and well-formedness check (the project's one tokenizer and XML policy, xml-tokens.ts) →
 * the model, built from the same tokens (tree.ts: the shape fast-xml-parser gives) → kind and key.
 * Never throws for a bad document: everything wrong is a finding on the result.
 */
import iconv from 'iconv-lite';
import { finding, type NfeFinding } from './findings.js';
import { detectEncoding, readXmlDocuments, type ReadXmlOptions, type XmlEncoding, type XmlSourceItem } from './source.js';
import { NFE_KINDS, ROOT_ALIASES, type AnyDocument, type DocumentKind, type NfeDocument, type NfeKind } from './types.js';
import { describeCfe, isCfeKind } from '../coupons/cfe/model.js';
import { TreeError, buildTree } from './tree.js';
import { DEFAULT_MAX_DEPTH, XmlSyntaxError, tokenize, type TokenDoc } from './xml-tokens.js';

/** The prefix of attribute properties in the model (`infNFe['@Id']`). */
export const ATTRIBUTE_PREFIX = '@';
/** The property holding the text of an element that also has attributes. */
export const TEXT_PROPERTY = '#text';

export interface ParsedNfe {
  readonly source: string;
  /** Null when the document could not be parsed or its root is not an NF-e or CF-e document. */
  readonly kind: DocumentKind | null;
  /** The access key (44 characters) of the note, of the event's note, or of the CF-e; null when none. */
  readonly key: string | null;
  /** Every note key of the document (several for an enviNFe batch; the CF-e's own key). */
  readonly keys: readonly string[];
  /** `versao` of the note (4.00, 3.10), of the event, or of the CF-e (0.07, 0.08). */
  readonly version: string | null;
  /** Wrapper elements around the document, outermost first (e.g. `['nfeDadosMsg']`), else empty. */
  readonly wrappers: readonly string[];
  readonly doc: AnyDocument | null;
  readonly findings: NfeFinding[];
}

export interface ParseOptions {
  /** Maximum element nesting depth (default 64; NF-e needs about 12). */
  readonly maxDepth?: number;
}

export { decodeXmlText } from './tree.js';


// --- decoding bytes ---------------------------------------------------------------------------------------

/** Bytes → text in the document's encoding (BOM removed), or a finding. */
export function decodeDocument(bytes: Buffer, encoding: XmlEncoding, source: string): { text: string; findings: NfeFinding[] } | NfeFinding {
  if (encoding.startsWith('unsupported:')) {
    return finding('NFE_ENCODING_UNSUPPORTED', source, `encoding ${encoding.slice(12)} is not supported (UTF-8, ISO-8859-1 or Windows-1252)`);
  }
  const findings: NfeFinding[] = [];
  let text: string;
  if (encoding === 'utf-8') {
    const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    text = bytes.toString('utf8', bom);
    if (text.indexOf('\ufffd') !== -1 && !bytes.includes(Buffer.from([0xef, 0xbf, 0xbd]))) {
      findings.push(finding('NFE_ENCODING_UNSUPPORTED', source, 'bytes that are not UTF-8 in a document read as UTF-8 (declare its encoding)', { severity: 'warning' }));
    }
  } else if (encoding === 'iso-8859-1') {
    text = bytes.toString('latin1');
  } else {
    text = iconv.decode(bytes, 'windows-1252');
  }
  return { text, findings };
}

// --- parse ------------------------------------------------------------------------------------------------

const KINDS = new Set<string>(NFE_KINDS);
const WRAPPERS = new Set(['Envelope', 'Body', 'nfeDadosMsg', 'nfeResultMsg', 'nfeRecepcaoEventoResult', 'nfeAutorizacaoLoteResult', 'nfeDistDFeInteresseResponse', 'nfeDistDFeInteresseResult', 'retDistDFeInt']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : isObj(v) && typeof v[TEXT_PROPERTY] === 'string' ? (v[TEXT_PROPERTY] as string) : null);

function failed(source: string, findings: NfeFinding[]): ParsedNfe {
  return { source, kind: null, key: null, keys: [], version: null, wrappers: [], doc: null, findings };
}

/** Parses one document from its bytes. */
export function parseNfe(input: { source: string; bytes: Buffer; encoding?: XmlEncoding }, options: ParseOptions = {}): ParsedNfe {
  const decoded = decodeDocument(input.bytes, input.encoding ?? detectEncoding(input.bytes), input.source);
  if ('code' in decoded) return failed(input.source, [decoded]);
  return parseNfeText(decoded.text, input.source, options, decoded.findings);
}

/** Parses one document from its text (no BOM). */
export function parseNfeText(text: string, source: string, options: ParseOptions = {}, findings: NfeFinding[] = []): ParsedNfe {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  let tokens: TokenDoc;
  try {
    tokens = tokenize(text, { maxDepth });
  } catch (e) {
    if (!(e instanceof XmlSyntaxError)) throw e;
    findings.push(finding(e.code, source, e.reason, { line: e.line, column: e.column }));
    return failed(source, findings);
  }
  let tree: Obj;
  try {
    tree = buildTree(tokens);
  } catch (e) {
    if (!(e instanceof TreeError)) throw e;
    findings.push(finding('NFE_XML_MALFORMED', source, e.message));
    return failed(source, findings);
  }
  // unwrap SOAP envelopes and web-service message elements
  const wrappers: string[] = [];
  let rootName = Object.keys(tree).find((k) => !k.startsWith('?')) ?? '';
  let rootValue: unknown = tree[rootName];
  while (WRAPPERS.has(rootName) && isObj(rootValue)) {
    wrappers.push(rootName);
    const inner = Object.keys(rootValue).find((k) => !k.startsWith(ATTRIBUTE_PREFIX) && k !== TEXT_PROPERTY);
    if (!inner) break;
    rootName = inner;
    rootValue = rootValue[inner];
  }
  if (isCfeKind(rootName) && isObj(rootValue)) {
    const facts = describeCfe(rootName, rootValue);
    const doc = { [rootName]: rootValue } as AnyDocument;
    return { source, kind: rootName, key: facts.key, keys: facts.key ? [facts.key] : [], version: facts.version, wrappers, doc, findings };
  }
  const kindName = ROOT_ALIASES[rootName] ?? rootName;
  if (!KINDS.has(kindName) || !isObj(rootValue)) {
    findings.push(finding('NFE_UNKNOWN_ROOT', source, `root element <${rootName}> is not an NF-e or CF-e document (${[...KINDS, ...Object.keys(ROOT_ALIASES), 'CFe', 'CFeCanc'].join(', ')})`, { path: `/${[...wrappers, rootName].join('/')}` }));
    return failed(source, findings);
  }
  const kind = kindName as NfeKind;
  const doc = { [kind]: rootValue } as NfeDocument;
  const { keys, eventKey, version } = describe(kind, rootValue);
  return { source, kind, key: keys[0] ?? eventKey, keys, version, wrappers, doc, findings };
}

/** The note(s) of a document: the NFe elements it holds. */
export function notesOf(doc: AnyDocument): Obj[] {
  const d = doc as Record<string, unknown>;
  if (isObj(d.NFe)) return [d.NFe];
  if (isObj(d.nfeProc) && isObj(d.nfeProc.NFe)) return [d.nfeProc.NFe];
  if (isObj(d.enviNFe) && Array.isArray(d.enviNFe.NFe)) return d.enviNFe.NFe.filter(isObj);
  return [];
}

/** The key a note carries: its infNFe Id without the `NFe` prefix (or the protocol's chNFe). */
export function noteKey(nfe: Obj, prot?: unknown): string | null {
  const inf = nfe.infNFe;
  if (isObj(inf)) {
    const id = str(inf[`${ATTRIBUTE_PREFIX}Id`]);
    if (id) return id.startsWith('NFe') ? id.slice(3) : id;
  }
  if (isObj(prot) && isObj(prot.infProt)) return str(prot.infProt.chNFe);
  return null;
}

function describe(kind: NfeKind, root: Obj): { keys: string[]; eventKey: string | null; version: string | null } {
  const keys: string[] = [];
  let version = str(root[`${ATTRIBUTE_PREFIX}versao`]);
  let eventKey: string | null = null;
  const notes = notesOf({ [kind]: root } as NfeDocument);
  for (const n of notes) {
    const k = noteKey(n, kind === 'nfeProc' ? root.protNFe : undefined);
    if (k) keys.push(k);
    if (isObj(n.infNFe)) version = str(n.infNFe[`${ATTRIBUTE_PREFIX}versao`]) ?? version;
  }
  if (notes.length === 0) {
    const ev = kind === 'procEventoNFe' ? root.evento : kind === 'envEvento' ? (Array.isArray(root.evento) ? root.evento[0] : undefined) : kind === 'evento' || kind === 'retEvento' ? root : undefined;
    if (isObj(ev) && isObj(ev.infEvento)) eventKey = str(ev.infEvento.chNFe);
    if (kind === 'resNFe') eventKey = str(root.chNFe);
    if (kind === 'retEnvEvento' && Array.isArray(root.retEvento) && isObj(root.retEvento[0]) && isObj(root.retEvento[0].infEvento)) {
      eventKey = str(root.retEvento[0].infEvento.chNFe);
    }
  }
  return { keys, eventKey, version };
}

/** Reads and parses every document of the sources (see readXmlDocuments); source failures become findings. */
export async function* readNfe(sources: string | readonly string[], options: ReadXmlOptions & ParseOptions = {}): AsyncGenerator<ParsedNfe> {
  for await (const item of readXmlDocuments(sources, options)) yield parseItem(item, options);
}

/** Parses a source item; a source failure becomes a result with its finding. */
export function parseItem(item: XmlSourceItem, options: ParseOptions = {}): ParsedNfe {
  return item.ok ? parseNfe(item, options) : failed(item.source, [item.finding]);
}

