/**
 * `verifyNfeSources`: the signatures of every document of the sources checked on their original bytes
 * (verifyXml), one result per document and a count per outcome. The `fiscal nfe verify` command wraps it.
 */
import type { NfeFinding } from './findings.js';
import { verifyXml, type TrustStore, type VerifyReport } from './verify.js';
import { FindingTally, batchItems, type NfeBatchOptions, type NfeBatchSummary, type NfeSources } from './batch.js';

/** One document's outcome: its verification report, or why it could not be read (`report` null). */
export type VerifiedDocument =
  | { readonly source: string; readonly report: VerifyReport; readonly readFailure: null }
  | { readonly source: string; readonly report: null; readonly readFailure: NfeFinding };

export interface VerifyNfeOptions extends Omit<NfeBatchOptions, 'onFinding'> {
  /** CA certificates: with them each certificate chain is judged too (CERT_UNTRUSTED). */
  readonly trust?: TrustStore;
  /** Called with each document's outcome, in order; awaited when it returns a promise. */
  readonly onDocument?: (d: VerifiedDocument) => void | Promise<void>;
}

export interface VerifyNfeSummary extends Omit<NfeBatchSummary, 'findings' | 'withFindings' | 'withErrors'> {
  /** Documents that did not verify (or could not be read). */
  readonly failed: number;
  /** Documents per outcome: `OK`, or the code of the document's first finding (read failures by their code). */
  readonly outcomes: ReadonlyMap<string, number>;
}

/** Verifies every document; `failFast` stops after the first one that fails. */
export async function verifyNfeSources(sources: NfeSources, options: VerifyNfeOptions = {}): Promise<VerifyNfeSummary> {
  const tally = new FindingTally({});
  const outcomes = new Map<string, number>();
  const verifyOpts = { ...(options.trust ? { trust: options.trust } : {}), ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}) };
  let failed = 0;
  for await (const item of batchItems(sources, options, tally)) {
    let d: VerifiedDocument;
    let outcome: string;
    if (!item.ok) {
      d = { source: item.source, report: null, readFailure: item.finding };
      outcome = item.finding.code;
    } else {
      const report = verifyXml(item.bytes, verifyOpts);
      d = { source: item.source, report, readFailure: null };
      outcome = report.ok ? 'OK' : (report.findings[0]?.code ?? 'FAILED');
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    if (outcome !== 'OK') failed++;
    if (options.onDocument) await options.onDocument(d);
    if (outcome !== 'OK' && options.failFast) {
      tally.stopped = true;
      break;
    }
  }
  return { documents: tally.documents, stopped: tally.stopped, failed, outcomes };
}
