/**
 * The pool jobs of the NF-e conversions (batch-convert.ts): a group of documents parsed and written as JSON
 * lines (`nfe.to-jsonl`) or CSV rows (`nfe.to-csv`), and the events of the first to-csv pass (`nfe.events`).
 * Each returns one result per document, in order, with the text to write: the main thread only writes it, and
 * keeps what needs the whole batch (duplicate keys, counts, the stop).
 */
import { stringify } from 'csv-stringify/sync';
import { DECIMAL_COLUMNS, DOCUMENT_COLUMNS, ITEM_COLUMNS, documentRows, eventsOf, itemRows, type CsvFilter, type EventIndex } from './csv.js';
import type { NfeFinding } from './findings.js';
import { parseItem, type ParsedNfe } from './parse.js';
import type { EventStatus } from './validate.js';
import { fromWire, type DocumentsPayload } from './wire-document.js';

/** A parsed document as the batch sees it: what the duplicate-key check needs, its findings, its output text. */
export interface ConvertedDocument {
  readonly source: string;
  readonly kind: ParsedNfe['kind'];
  readonly keys: readonly string[];
  readonly findings: readonly NfeFinding[];
  /** The document's lines or rows ('' when it gives none). */
  readonly text: string;
}

export interface ConvertPayload extends DocumentsPayload {
  readonly maxDepth?: number;
}

function convert(payload: ConvertPayload, text: (p: ParsedNfe) => string): ConvertedDocument[] {
  const opts = payload.maxDepth !== undefined ? { maxDepth: payload.maxDepth } : {};
  return payload.docs.map((d) => {
    const p = parseItem(fromWire(d), opts);
    return { source: p.source, kind: p.kind, keys: p.keys, findings: p.findings, text: text(p) };
  });
}

/** `{"source","kind","key","keys"?,"doc"}` per readable document (`keys` when it holds several notes). */
export function jsonlJob(payload: ConvertPayload): ConvertedDocument[] {
  return convert(payload, (p) => {
    if (!p.doc) return '';
    const line: Record<string, unknown> = { source: p.source, kind: p.kind, key: p.key };
    if (p.keys.length > 1) line.keys = p.keys;
    line.doc = p.doc;
    return `${JSON.stringify(line)}\n`;
  });
}

/**
 * The events index as the jobs get it: JSON of its entries in shared memory (one copy for every job and
 * thread), and an id by which each thread decodes it once.
 */
export interface SharedEvents {
  readonly id: string;
  readonly json: SharedArrayBuffer;
  readonly length: number;
}

export function shareEvents(id: string, events: EventIndex): SharedEvents | null {
  if (events.size === 0) return null;
  const bytes = Buffer.from(JSON.stringify([...events]));
  const json = new SharedArrayBuffer(bytes.length);
  new Uint8Array(json).set(bytes);
  return { id, json, length: bytes.length };
}

let decoded: { id: string; index: EventIndex } | null = null;

function eventIndexOf(shared: SharedEvents | null): EventIndex | undefined {
  if (!shared) return undefined;
  if (decoded?.id !== shared.id) {
    const text = Buffer.from(new Uint8Array(shared.json, 0, shared.length)).toString('utf8');
    decoded = { id: shared.id, index: new Map(JSON.parse(text) as [string, EventStatus][]) };
  }
  return decoded.index;
}

export interface CsvPayload extends ConvertPayload {
  readonly items: boolean;
  readonly delimiter: string;
  readonly decimalComma: boolean;
  readonly filter: CsvFilter;
  readonly events: SharedEvents | null;
}

/** The CSV rows of each document (one per note or CF-e, or per item), without the header. */
export function csvJob(payload: CsvPayload): ConvertedDocument[] {
  const events = eventIndexOf(payload.events);
  const columns = payload.items ? ITEM_COLUMNS : DOCUMENT_COLUMNS;
  const decimalIdx = columns.map((c) => DECIMAL_COLUMNS.has(c));
  return convert(payload, (p) => {
    const rows: string[][] = [];
    for (const r of payload.items ? itemRows(p, payload.filter, events) : documentRows(p, payload.filter, events)) {
      if (payload.decimalComma) r.forEach((v, i) => (decimalIdx[i] ? (r[i] = v.replace('.', ',')) : undefined));
      rows.push(r);
    }
    return rows.length ? stringify(rows, { delimiter: payload.delimiter }) : '';
  });
}

/** The cancellation and CC-e statuses each event document carries, by note key (first to-csv pass). */
export function eventsJob(payload: ConvertPayload): [string, EventStatus][][] {
  const opts = payload.maxDepth !== undefined ? { maxDepth: payload.maxDepth } : {};
  return payload.docs.map((d) => eventsOf(parseItem(fromWire(d), opts)));
}
