/**
 * NF-e batch conversions: every document of the sources to JSON lines (`nfeToJsonl`) or CSV rows (`nfeToCsv`),
 * into one Writable. The `fiscal nfe to-jsonl` and `to-csv` commands are thin wrappers over these.
 */
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { UsageError } from '../errors.js';
import { DECIMAL_COLUMNS, DOCUMENT_COLUMNS, ITEM_COLUMNS, documentRows, eventsOf, itemRows, type CsvFilter } from './csv.js';
import { parseNfe } from './parse.js';
import { readXmlDocuments } from './source.js';
import type { EventStatus } from './validate.js';
import { readOptionsOf, runParsedBatch, writeChunk, type NfeBatchOptions, type NfeBatchSummary, type NfeSources } from './batch.js';

/**
 * Writes one JSON line per readable document: `{"source","kind","key","keys"?,"doc"}` (`keys` when a batch holds
 * several notes). Unreadable documents give findings and no line.
 */
export function nfeToJsonl(sources: NfeSources, output: Writable, options: NfeBatchOptions = {}): Promise<NfeBatchSummary> {
  return runParsedBatch(sources, options, async (p) => {
    if (!p.doc) return;
    const line: Record<string, unknown> = { source: p.source, kind: p.kind, key: p.key };
    if (p.keys.length > 1) line.keys = p.keys;
    line.doc = p.doc;
    await writeChunk(output, `${JSON.stringify(line)}\n`);
  });
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

/**
 * The events stored apart from their notes (cancellations, CC-e), by note key, so a cancelled note says so:
 * a first pass over the sources reading only the documents whose root is an event. Empty for stdin (read once).
 */
export async function collectEvents(sources: NfeSources, options: NfeBatchOptions = {}): Promise<Map<string, EventStatus>> {
  const events = new Map<string, EventStatus>();
  const list = typeof sources === 'string' ? [sources] : sources;
  if (list.includes('-')) return events;
  const opts = readOptionsOf(options);
  for await (const item of readXmlDocuments(list, opts)) {
    options.signal?.throwIfAborted();
    if (!item.ok || !/<(?:\w+:)?(?:procEventoNFe|retEvento|retEnvEvento|CFeCanc)[\s>]/.test(item.bytes.subarray(0, 512).toString('latin1'))) continue;
    for (const [k, st] of eventsOf(parseNfe(item, opts))) {
      const prev = events.get(k);
      events.set(k, prev ? { cancelled: prev.cancelled || st.cancelled, cancellationProtocol: prev.cancellationProtocol ?? st.cancellationProtocol, cceCount: prev.cceCount + st.cceCount } : st);
    }
  }
  return events;
}

/** Writes a CSV header and one row per note or CF-e (or per item with `items`); columns in docs/nfe.md. */
export async function nfeToCsv(sources: NfeSources, output: Writable, options: NfeToCsvOptions = {}): Promise<NfeBatchSummary> {
  const delimiter = options.delimiter ?? ',';
  if (options.decimalComma && delimiter === ',') throw new UsageError('decimalComma needs another delimiter than ","', 'NFE_OPTION_INVALID');
  const events = await collectEvents(sources, options);
  const filter = options.filter ?? {};
  const columns = options.items ? ITEM_COLUMNS : DOCUMENT_COLUMNS;
  const decimalIdx = columns.map((c) => DECIMAL_COLUMNS.has(c));
  const write = (rows: string[][]): Promise<void> => writeChunk(output, stringify(rows, { delimiter }));
  if (options.bom) await writeChunk(output, '\ufeff');
  await write([[...columns]]);
  return runParsedBatch(sources, options, async (p) => {
    const rows: string[][] = [];
    for (const r of options.items ? itemRows(p, filter, events) : documentRows(p, filter, events)) {
      if (options.decimalComma) r.forEach((v, i) => (decimalIdx[i] ? (r[i] = v.replace('.', ',')) : undefined));
      rows.push(r);
    }
    if (rows.length) await write(rows);
  });
}
