/**
 * What the NF-e batch functions share (nfeToJsonl, nfeToCsv, validateNfeSources, verifyNfeSources): their
 * options, their summary, the finding tally, and writing with backpressure to any Writable; nothing here knows
 * about a terminal or exit codes. The documents themselves go through the pool (batch-pool.ts).
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { FiscalPool } from '../pool/pool.js';
import { finding, type NfeFinding } from './findings.js';
import type { ParseOptions } from './parse.js';
import type { ReadXmlOptions } from './source.js';

/** Where the documents come from: paths of files, directories (read recursively) or .zip archives, `-` for stdin. */
export type NfeSources = string | readonly string[];

/** The options every NF-e batch function takes. */
export interface NfeBatchOptions {
  /** Per-document byte cap (also a zip entry's uncompressed size). Default 64 MiB (NFE_TOO_LARGE beyond). */
  readonly maxBytes?: number;
  /** Maximum element nesting depth. Default 64 (NFE_XML_TOO_DEEP beyond). */
  readonly maxDepth?: number;
  /** Stop after the first document with an error finding (its own output is still written). */
  readonly failFast?: boolean;
  /** The stream read for the source `-`. Default process.stdin. */
  readonly stdin?: Readable;
  /** Called with each finding, in document order, as it is found; awaited when it returns a promise. */
  readonly onFinding?: (f: NfeFinding) => void | Promise<void>;
  /** Called with the number of documents read so far, once per document. */
  readonly onProgress?: (documents: number) => void;
  /** Cancels the run: the reads in flight are settled and the function rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Worker threads the documents are spread over (default: the available cores); 1 runs them in the calling
   * thread. The output, findings and summary are the same for any count.
   */
  readonly threads?: number;
  /** A pool to run on instead (src/pool: createPool); its thread count wins, and it is left open. */
  readonly pool?: FiscalPool;
}

/** What a batch run found. `documents === 0` means the sources held no document at all (see noDocumentsFinding). */
export interface NfeBatchSummary {
  /** Documents read, readable or not (a failed zip entry or an unreadable file counts as one). */
  readonly documents: number;
  /** Documents with at least one finding (errors or warnings). */
  readonly withFindings: number;
  /** Documents with at least one error finding: a CLI exits 1 when this is not 0. */
  readonly withErrors: number;
  /** Findings passed to onFinding. */
  readonly findings: number;
  /** True when `failFast` stopped the run before the end of the sources. */
  readonly stopped: boolean;
}

/** The finding for sources that hold no document (an empty folder, a folder of other files, empty stdin). */
export function noDocumentsFinding(sources: NfeSources): NfeFinding {
  const name = typeof sources === 'string' ? sources : sources.join(' ');
  return finding('NFE_NO_DOCUMENTS', name, 'no documents found (no .xml file or .zip entry, nothing on stdin)');
}

/** The reader's and parser's options from the batch options. */
export function readOptionsOf(options: NfeBatchOptions): ReadXmlOptions & ParseOptions {
  return {
    ...(options.maxBytes !== undefined ? { maxDocumentBytes: options.maxBytes } : {}),
    ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}),
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
  };
}

/** Writes a chunk, waiting for 'drain' when the stream asks for it. */
export async function writeChunk(stream: Writable, chunk: string | Uint8Array): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

/** Counts findings and documents with findings, passing each finding on; used by every batch function. */
export class FindingTally {
  documents = 0;
  withFindings = 0;
  withErrors = 0;
  findings = 0;
  stopped = false;
  readonly #onFinding: NfeBatchOptions['onFinding'];

  constructor(options: NfeBatchOptions) {
    this.#onFinding = options.onFinding;
  }

  /** Passes one document's findings on; returns true when one of them is an error. */
  async document(findings: readonly NfeFinding[]): Promise<boolean> {
    let error = false;
    for (const f of findings) {
      this.findings++;
      if (f.severity === 'error') error = true;
      if (this.#onFinding) await this.#onFinding(f);
    }
    if (findings.length) this.withFindings++;
    if (error) this.withErrors++;
    return error;
  }

  summary(): NfeBatchSummary {
    return { documents: this.documents, withFindings: this.withFindings, withErrors: this.withErrors, findings: this.findings, stopped: this.stopped };
  }
}
