/**
 * The pool job of the coupon summary (`coupons.extract`): a group of XML documents parsed, turned into their
 * coupon events and findings (from-xml.ts) and, with `verify`, their signatures checked — on a worker, so that
 * the main thread only splits the input and adds the events up, in input order. At one thread the same function
 * runs in the calling thread: the summary never depends on the thread count.
 */
import { parseItem } from '../nfe/parse.js';
import { DEFAULT_MAX_DEPTH } from '../nfe/xml-tokens.js';
import { readCfeFast } from './cfe/fast-read.js';
import type { XmlSourceItem } from '../nfe/source.js';
import { verifyXml } from '../nfe/verify.js';
import { fromWire, type DocumentsPayload } from '../nfe/wire-document.js';
import { countedEvent, type CountedEvent, type Dimension } from './aggregate.js';
import { couponsOfDocument, mk, type CouponsOfDocument } from './from-xml.js';
import type { CouponFinding } from './types.js';

export interface CouponReadOptions {
  /** Check each document's signature on its original bytes; failures are findings. */
  readonly verify?: boolean;
  readonly maxDepth?: number;
}

export interface CouponsPayload extends DocumentsPayload, CouponReadOptions {
  /** The summary's grouping: each sale comes back with its contribution to the rows (contributionOf). */
  readonly by: readonly Dimension[];
}

/** One document's counted events and findings, as the job sends them back. */
export interface CountedDocument {
  readonly events: readonly CountedEvent[];
  readonly findings: readonly CouponFinding[];
}

/**
 * One source item's coupon events and findings (a document that cannot be read: its finding, no event). The usual
 * CF-e is read by the fast lane (cfe/fast-read.ts); everything else, and anything the lane does not take as it is,
 * by the general reader — the same events and findings either way.
 */
export function couponsOfItem(item: XmlSourceItem, options: CouponReadOptions): CouponsOfDocument {
  const depth = options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {};
  const fast = item.ok && item.encoding === 'utf-8' ? readCfeFast(item.source, item.bytes, options.maxDepth ?? DEFAULT_MAX_DEPTH) : null;
  const parsed = fast ?? parseItem(item, depth);
  const got = couponsOfDocument(parsed);
  if (options.verify && item.ok && got.events.length > 0) {
    const r = verifyXml(item.bytes, depth);
    for (const f of r.findings) got.findings.push(mk(f.code, item.source, `signature: ${f.where ? `${f.where}: ` : ''}${f.message}`, parsed.key));
  }
  return got;
}

export function extractCouponsJob(payload: CouponsPayload): CountedDocument[] {
  return payload.docs.map((d) => {
    const got = couponsOfItem(fromWire(d), payload);
    return { events: got.events.map((ev) => countedEvent(ev, payload.by)), findings: got.findings };
  });
}
