/**
 * The pool job of `verifyNfeSources` (`nfe.verify`): the signatures of a group of documents checked on their
 * original bytes (verifyXml), one outcome per document in order; a read failure passes through as it is.
 */
import type { NfeFinding } from './findings.js';
import { verifyXml, type TrustStore, type VerifyReport } from './verify.js';
import { fromWire, type DocumentsPayload } from './wire-document.js';

/** One document's outcome: its verification report, or why it could not be read (`report` null). */
export type VerifiedDocument =
  | { readonly source: string; readonly report: VerifyReport; readonly readFailure: null }
  | { readonly source: string; readonly report: null; readonly readFailure: NfeFinding };

export interface VerifyPayload extends DocumentsPayload {
  /** CA certificates (X509Certificate objects cross threads by structured clone). */
  readonly trust?: TrustStore;
  readonly maxDepth?: number;
}

export function verifyJob(payload: VerifyPayload): VerifiedDocument[] {
  const opts = { ...(payload.trust ? { trust: payload.trust } : {}), ...(payload.maxDepth !== undefined ? { maxDepth: payload.maxDepth } : {}) };
  return payload.docs.map((w): VerifiedDocument => {
    const d = fromWire(w);
    return d.ok ? { source: d.source, report: verifyXml(d.bytes, opts), readFailure: null } : { source: d.source, report: null, readFailure: d.finding };
  });
}
