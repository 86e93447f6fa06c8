/**
 * NF-e batch conversions: every document of the sources to JSON lines (`nfeToJsonl`) or CSV rows (`nfeToCsv`),
 * into one Writable. The `fiscal nfe to-jsonl` and `to-csv` commands are thin wrappers over these.
 */
import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { UsageError } from '../errors.js';
import type { CsvFilter } from './csv.js';
import { shareEvents, type ConvertedDocument, type CsvPayload } from './convert-jobs.js';
import { DuplicateKeyTracker } from './duplicate-keys.js';
import type { EventStatus } from './validate.js';
import { FindingTally, writeChunk, type NfeBatchOptions, type NfeBatchSummary, type NfeSources } from './batch.js';
import { runPooledDocuments, withNfePool } from './batch-pool.js';
import { DOCUMENT_COLUMNS, ITEM_COLUMNS } from './csv.js';

/**
 * Runs a conversion job over the sources: each document's text written in input order, its findings (with
 * duplicate keys) passed on after it; `failFast` stops after the first document with an error.
 */
async function runConversion(sources: NfeSources, output: Writable, options: NfeBatchOptions, job: string, payload: Record<string, unknown>): Promise<NfeBatchSummary> {
  const tally = new FindingTally(options);
  const dups = new DuplicateKeyTracker();
  try {
    await runPooledDocuments<ConvertedDocument>({
      sources, options, job, counter: tally,
      payload: { ...payload, ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}) },
      emit: async (d) => {
        if (d.text) await writeChunk(output, d.text);
        return (await tally.document([...d.findings, ...dups.check(d)])) && options.failFast === true;
      },
    });
  } finally {
    dups.close();
  }
  return tally.summary();
}

/**
 * Writes one JSON line per readable document: `{"source","kind","key","keys"?,"doc"}` (`keys` when a batch holds
 * several notes). Unreadable documents give findings and no line.
 */
export function nfeToJsonl(sources: NfeSources, output: Writable, options: NfeBatchOptions = {}): Promise<NfeBatchSummary> {
  return runConversion(sources, output, options, 'nfe.to-jsonl', {});
}

export interface NfeToCsvOptions extends NfeBatchOptions {
  /** One row per item instead of one per document. */
  readonly items?: boolean;
  /** Column delimiter. Default `,`. */
  readonly delimiter?: string;
  /** Decimal columns with a comma (needs another delimiter than `,`). */
  readonly decimalComma?: boolean;
  /** Starts the output with a UTF-8 BOM (for spreadsheets). */
  readonly bom?: boolean;
  /** Rows kept: emission dates, CNPJ/CPF, model. */
  readonly filter?: CsvFilter;
}

const EVENT_ROOT = /<(?:\w+:)?(?:procEventoNFe|retEvento|retEnvEvento|CFeCanc)[\s>]/;

/**
 * The events stored apart from their notes (cancellations, CC-e), by note key, so a cancelled note says so:
 * a first pass over the sources reading only the documents whose root is an event. Empty for stdin (read once).
 */
export async function collectEvents(sources: NfeSources, options: NfeBatchOptions = {}): Promise<Map<string, EventStatus>> {
  const events = new Map<string, EventStatus>();
  const list = typeof sources === 'string' ? [sources] : sources;
  if (list.includes('-')) return events;
  await runPooledDocuments<[string, EventStatus][]>({
    sources: list,
    // the reading, the pool and the cancellation of the run; not its progress or its findings (that is the second pass)
    options: { ...options, onProgress: undefined, onFinding: undefined, failFast: false },
    job: 'nfe.events',
    payload: options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {},
    select: (item) => item.ok && EVENT_ROOT.test(item.bytes.subarray(0, 512).toString('latin1')),
    counter: { documents: 0, stopped: false },
    emit: async (entries) => {
      for (const [k, st] of entries) {
        const prev = events.get(k);
        events.set(k, prev ? { cancelled: prev.cancelled || st.cancelled, cancellationProtocol: prev.cancellationProtocol ?? st.cancellationProtocol, cceCount: prev.cceCount + st.cceCount } : st);
      }
      return false;
    },
  });
  return events;
}

/** Writes a CSV header and one row per note or CF-e (or per item with `items`); columns in docs/nfe.md. */
export async function nfeToCsv(sources: NfeSources, output: Writable, options: NfeToCsvOptions = {}): Promise<NfeBatchSummary> {
  const delimiter = options.delimiter ?? ',';
  if (options.decimalComma && delimiter === ',') throw new UsageError('decimalComma needs another delimiter than ","', 'NFE_OPTION_INVALID');
  // one pool for both passes
  return withNfePool(options, async (pool) => {
    const pooled = { ...options, pool };
    const events = await collectEvents(sources, pooled);
    const columns = options.items ? ITEM_COLUMNS : DOCUMENT_COLUMNS;
    if (options.bom) await writeChunk(output, '\ufeff');
    await writeChunk(output, stringify([[...columns]], { delimiter }));
    const payload: Omit<CsvPayload, 'docs' | 'maxDepth'> = {
      items: options.items === true,
      delimiter,
      decimalComma: options.decimalComma === true,
      filter: options.filter ?? {},
      events: shareEvents(randomUUID(), events),
    };
    return runConversion(sources, output, pooled, 'nfe.to-csv', { ...payload });
  });
}
