/**
 * The pool job of the coupon summary (`coupons.extract`): a group of XML documents parsed, turned into their
 * coupon events and findings (from-xml.ts) and, with `verify`, their signatures checked — on a worker, so that
 * the main thread only splits the input and adds the events up, in input order. At one thread the same function
 * runs in the calling thread: the summary never depends on the thread count.
 */
import { parseItem } from '../nfe/parse.js';
import type { XmlSourceItem } from '../nfe/source.js';
import { verifyXml } from '../nfe/verify.js';
import { fromWire, type DocumentsPayload } from '../nfe/wire-document.js';
import { couponsOfDocument, mk, type CouponsOfDocument } from './from-xml.js';

export interface CouponReadOptions {
  /** Check each document's signature on its original bytes; failures are findings. */
  readonly verify?: boolean;
  readonly maxDepth?: number;
}

export interface CouponsPayload extends DocumentsPayload, CouponReadOptions {}

/** One source item's coupon events and findings (a document that cannot be read: its finding, no event). */
export function couponsOfItem(item: XmlSourceItem, options: CouponReadOptions): CouponsOfDocument {
  const depth = options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {};
  const parsed = parseItem(item, depth);
  const got = couponsOfDocument(parsed);
  if (options.verify && item.ok && got.events.length > 0) {
    const r = verifyXml(item.bytes, depth);
    for (const f of r.findings) got.findings.push(mk(f.code, item.source, `signature: ${f.where ? `${f.where}: ` : ''}${f.message}`, parsed.key));
  }
  return got;
}

export function extractCouponsJob(payload: CouponsPayload): CouponsOfDocument[] {
  return payload.docs.map((d) => couponsOfItem(fromWire(d), payload));
}
