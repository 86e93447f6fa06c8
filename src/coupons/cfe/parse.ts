/**
 * CF-e SAT documents as typed values. The reading itself is the NF-e reader's (src/nfe/parse.ts: one
 * tokenizer, one XML safety policy, one parser, arrays where formats/cfe/schema.json says an element
 * repeats); this module narrows its result to CF-e and adds what a coupon has that a note has not.
 */
import { finding, type NfeFinding } from '../../nfe/findings.js';
import { parseNfe, readNfe, type ParsedNfe, type ParseOptions } from '../../nfe/parse.js';
import type { ReadXmlOptions, XmlEncoding } from '../../nfe/source.js';
import { describeCfe, isCfeKind } from './model.js';
import type { CfeDocument, CfeKind } from './types.js';

export interface ParsedCfe {
  readonly source: string;
  /** Null when the bytes are not a readable CF-e (see findings). */
  readonly kind: CfeKind | null;
  /** The CF-e's own key (44 characters). */
  readonly key: string | null;
  /** infCFe `versao`. */
  readonly version: string | null;
  /** For a CFeCanc: the key of the sale it cancels. */
  readonly cancels: string | null;
  readonly doc: CfeDocument | null;
  readonly findings: NfeFinding[];
}

/** A reader result narrowed to CF-e: null for an NF-e document; a failed read stays a result with its findings. */
export function asParsedCfe(p: ParsedNfe): ParsedCfe | null {
  if (p.kind !== null && !isCfeKind(p.kind)) return null;
  if (p.kind === null || !p.doc) return { source: p.source, kind: null, key: null, version: null, cancels: null, doc: null, findings: p.findings };
  const facts = describeCfe(p.kind, (p.doc as Record<string, unknown>)[p.kind]);
  return { source: p.source, kind: p.kind, key: facts.key, version: facts.version, cancels: facts.cancels, doc: p.doc as CfeDocument, findings: p.findings };
}

/** Parses one CF-e (CFe or CFeCanc) from its bytes; an NF-e document is a result with an NFE_UNKNOWN_ROOT finding. */
export function parseCfe(input: { source: string; bytes: Buffer; encoding?: XmlEncoding }, options: ParseOptions = {}): ParsedCfe {
  const p = parseNfe(input, options);
  return asParsedCfe(p) ?? {
    source: p.source, kind: null, key: null, version: null, cancels: null, doc: null,
    findings: [...p.findings, finding('NFE_UNKNOWN_ROOT', p.source, `a ${p.kind} document is not a CF-e (CFe, CFeCanc)`, { path: `/${p.kind}` })],
  };
}

/** Reads the CF-e of files, directories, zips or stdin (see readXmlDocuments); NF-e documents are skipped. */
export async function* readCfe(sources: string | readonly string[], options: ReadXmlOptions & ParseOptions = {}): AsyncGenerator<ParsedCfe> {
  for await (const p of readNfe(sources, options)) {
    const c = asParsedCfe(p);
    if (c) yield c;
  }
}
