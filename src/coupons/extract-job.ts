/**
 * The pool job of the coupon summary (`coupons.extract`): a group of XML documents parsed, turned into their
 * coupon events and findings (from-xml.ts) and, with `verify`, their signatures checked — on a worker, so that
 * the main thread only splits the input and adds the events up, in input order. At one thread the same function
 * runs in the calling thread: the summary never depends on the thread count.
 */
import { parseItem } from '../nfe/parse.js';
import { readCfeItem } from './cfe/fast-read.js';
import type { XmlSourceItem } from '../nfe/source.js';
import { verifyXml } from '../nfe/verify.js';
import { fromWire, type DocumentsPayload } from '../nfe/wire-document.js';
import { countedEvent, type CountedEvent, type Dimension } from './aggregate.js';
import { PresumBuilder, presummedSale, type Presum } from './presum.js';
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
  /**
   * Sum the group's sales here (presum.ts): a document that is one sale without findings comes back as its index
   * in the group's presum, which travels on the group's first result (CountedDocument.presum).
   */
  readonly presum?: boolean;
}

/** One document's counted events and findings, as the job sends them back. */
export interface CountedDocument {
  readonly events: readonly CountedEvent[];
  readonly findings: readonly CouponFinding[];
  /** On a group's first result, with `presum`: the sums of the group's presummed sales (added before its events). */
  readonly presum?: Presum;
}

/** A document's result from the job: its events and findings, or (with `presum`) sale `i` of the group's presum. */
export type CountedResult = CountedDocument | number;

/** A result as the summary takes it: a presummed sale made whole again from the group's presum. */
export function countedDocumentOf(r: CountedResult, presum: Presum | null): CountedDocument {
  return typeof r === 'number' ? { events: [presummedSale(presum!, r)], findings: [] } : r;
}

/**
 * One source item's coupon events and findings (a document that cannot be read: its finding, no event). The usual
 * CF-e is read by the fast lane (cfe/fast-read.ts); everything else, and anything the lane does not take as it is,
 * by the general reader — the same events and findings either way.
 */
export function couponsOfItem(item: XmlSourceItem, options: CouponReadOptions): CouponsOfDocument {
  const depth = options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {};
  const parsed = readCfeItem(item, options.maxDepth) ?? parseItem(item, depth);
  const got = couponsOfDocument(parsed);
  if (options.verify && item.ok && got.events.length > 0) {
    const r = verifyXml(item.bytes, depth);
    for (const f of r.findings) got.findings.push(mk(f.code, item.source, `signature: ${f.where ? `${f.where}: ` : ''}${f.message}`, parsed.key));
  }
  return got;
}

export function extractCouponsJob(payload: CouponsPayload): CountedResult[] {
  const presum = payload.presum ? new PresumBuilder() : null;
  const results: CountedResult[] = payload.docs.map((d) => {
    const got = couponsOfItem(fromWire(d), payload);
    const events = got.events.map((ev) => countedEvent(ev, payload.by));
    return presum?.takeItem(events, got.findings) ?? { events, findings: got.findings };
  });
  const sums = presum?.result();
  if (sums && results.length > 0) {
    // the first result carries the sums: a presummed one is sent whole
    const first = countedDocumentOf(results[0]!, sums);
    results[0] = { ...first, presum: sums };
  }
  return results;
}
