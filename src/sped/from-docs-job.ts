/**
 * The pool job of from-docs (`sped.from-docs-extract`): a group of documents parsed and turned into their
 * entries on a worker (from-docs-extract.ts); the main thread only stores them, in input order.
 */
import { parseItem } from '../nfe/parse.js';
import { readCfeItem } from '../coupons/cfe/fast-read.js';
import { FROM_DOCS_CFE_LANE } from './from-docs-coupon.js';
import { fromWire, type DocumentsPayload } from '../nfe/wire-document.js';
import type { Company } from './from-docs-company.js';
import { extractDocument, type Extracted, type FromDocsLayout } from './from-docs-extract.js';
import { RecordMaker } from './from-docs-records.js';
import { loadLayout } from './layout.js';

export interface ExtractPayload extends DocumentsPayload {
  readonly layout: FromDocsLayout;
  readonly company: Company;
  readonly period: { start: string; end: string };
  /** COD_VER of the file. */
  readonly version: string;
  readonly maxDepth?: number;
}

const makers = new Map<string, RecordMaker>();

export function extractJob(payload: ExtractPayload): Extracted[] {
  const id = `${payload.layout} ${payload.version}`;
  let records = makers.get(id);
  if (!records) makers.set(id, (records = new RecordMaker(loadLayout(payload.layout), payload.version)));
  const opts = payload.maxDepth !== undefined ? { maxDepth: payload.maxDepth } : {};
  const ctx = { layout: payload.layout, company: payload.company, period: payload.period, records };
  return payload.docs.map((d) => {
    const item = fromWire(d);
    // a usual CF-e through the fast lane (what it does not take as it is, the general reader reads)
    return extractDocument(readCfeItem(item, payload.maxDepth, FROM_DOCS_CFE_LANE) ?? parseItem(item, opts), ctx);
  });
}
