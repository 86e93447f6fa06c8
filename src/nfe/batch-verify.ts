/**
 * `verifyNfeSources`: the signatures of every document of the sources checked on their original bytes
 * (verifyXml), one result per document and a count per outcome. The `fiscal nfe verify` command wraps it.
 */
import type { TrustStore } from './verify.js';
import type { VerifiedDocument } from './verify-job.js';
import type { NfeBatchOptions, NfeBatchSummary, NfeSources } from './batch.js';
import { runPooledDocuments } from './batch-pool.js';

export type { VerifiedDocument } from './verify-job.js';

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
  const counter = { documents: 0, stopped: false };
  const outcomes = new Map<string, number>();
  let failed = 0;
  await runPooledDocuments<VerifiedDocument>({
    sources, options, counter,
    job: 'nfe.verify',
    payload: { ...(options.trust ? { trust: options.trust } : {}), ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}) },
    emit: async (d) => {
      const outcome = d.report ? (d.report.ok ? 'OK' : (d.report.findings[0]?.code ?? 'FAILED')) : d.readFailure.code;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (outcome !== 'OK') failed++;
      if (options.onDocument) await options.onDocument(d);
      return outcome !== 'OK' && options.failFast === true;
    },
  });
  return { documents: counter.documents, stopped: counter.stopped, failed, outcomes };
}
