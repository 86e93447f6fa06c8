/**
 * The NF-e batch runner the batch functions share (nfeToJsonl, nfeToCsv, validateNfeSources, verifyNfeSources):
 * the sources read in order, progress and cancellation, findings passed on as they come, duplicate keys, and
 * `failFast`. Output goes to any Writable, with backpressure; nothing here knows about a terminal or exit codes.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { finding, type NfeFinding } from './findings.js';
import { DuplicateKeyTracker, parseItem, type ParseOptions, type ParsedNfe } from './parse.js';
import { readXmlDocuments, type ReadXmlOptions, type XmlSourceItem } from './source.js';

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

/** Every source item in order, with progress and cancellation. */
export async function* batchItems(sources: NfeSources, options: NfeBatchOptions, tally: FindingTally): AsyncGenerator<XmlSourceItem> {
  options.signal?.throwIfAborted();
  for await (const item of readXmlDocuments(sources, readOptionsOf(options))) {
    options.signal?.throwIfAborted();
    tally.documents++;
    options.onProgress?.(tally.documents);
    yield item;
  }
}

/**
 * Runs `emit` on every parsed document of the sources, its findings (with duplicate keys) passed on after it;
 * `failFast` stops after the first document with an error.
 */
export async function runParsedBatch(sources: NfeSources, options: NfeBatchOptions, emit: (p: ParsedNfe) => Promise<void>): Promise<NfeBatchSummary> {
  const tally = new FindingTally(options);
  const dups = new DuplicateKeyTracker();
  const parseOpts = readOptionsOf(options);
  for await (const item of batchItems(sources, options, tally)) {
    const p = parseItem(item, parseOpts);
    await emit(p);
    if ((await tally.document([...p.findings, ...dups.check(p)])) && options.failFast) {
      tally.stopped = true;
      break;
    }
  }
  return tally.summary();
}
