/**
 * The pool job of `validateNfeSources` (`nfe.validate`): a group of documents parsed and checked against the
 * project's rules, with what the XSD check will need. The duplicate-key check and the schema check (xmllint,
 * a group of documents per run) stay in the calling thread: they need the whole batch.
 */
import { buildNfe } from './build.js';
import { cfeFacts, isCfeKind } from '../coupons/cfe/model.js';
import type { CfeDocument } from '../coupons/cfe/types.js';
import type { NfeFinding } from './findings.js';
import { parseItem, type ParsedNfe } from './parse.js';
import type { DocumentKind, NfeDocument } from './types.js';
import { validateNfe } from './validate.js';
import { fromWire, type DocumentsPayload } from './wire-document.js';

export interface ValidatePayload extends DocumentsPayload {
  readonly maxDepth?: number;
  /** Whether the schema check runs (then each document brings back the bytes to check). */
  readonly schema: boolean;
}

/** What xmllint validates for a document: its original bytes, or the rebuilt inner document of a wrapped one. */
export interface SchemaBytes {
  readonly kind: DocumentKind;
  readonly version: string | null;
  readonly bytes: Uint8Array | string;
}

export interface ValidatedDocument {
  readonly source: string;
  readonly kind: ParsedNfe['kind'];
  readonly keys: readonly string[];
  /** The reader's findings (come before the duplicate-key ones). */
  readonly parseFindings: readonly NfeFinding[];
  /** The rules' findings (come after them). */
  readonly ruleFindings: readonly NfeFinding[];
  /** With `schema`: what to check; null when the document could not be read. */
  readonly schema: SchemaBytes | null;
}

export function validateJob(payload: ValidatePayload): ValidatedDocument[] {
  const opts = payload.maxDepth !== undefined ? { maxDepth: payload.maxDepth } : {};
  return payload.docs.map((d) => {
    const item = fromWire(d);
    const p = parseItem(item, opts);
    return {
      source: p.source,
      kind: p.kind,
      keys: p.keys,
      parseFindings: p.findings,
      ruleFindings: validateNfe(p),
      schema: payload.schema && item.ok ? schemaBytes(p, item.bytes) : null,
    };
  });
}

/** A CF-e sale is checked by its versaoDadosEnt; a wrapped (SOAP) document by its inner document rebuilt. */
function schemaBytes(p: ParsedNfe, bytes: Buffer): SchemaBytes | null {
  if (!p.doc || !p.kind) return null;
  if (isCfeKind(p.kind)) return { kind: p.kind, version: cfeFacts(p.doc as CfeDocument).dataVersion, bytes };
  return { kind: p.kind, version: p.version, bytes: p.wrappers.length ? buildNfe(p.doc as NfeDocument).xml : bytes };
}
