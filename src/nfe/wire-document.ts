/**
 * A document on its way to a pool job: the source item (read-ahead.ts, source.ts) as plain data. Its bytes are
 * a Uint8Array whose ArrayBuffer is moved to the worker (transferred, not copied); a read failure travels as its
 * finding. Job modules import this and nothing of the pool, so a worker loads only what its job needs.
 */
import type { NfeFinding } from './findings.js';
import { readFileItemSync, type XmlDeferredFile, type XmlEncoding, type XmlSourceItem } from './source.js';

export type WireDocument =
  | { readonly source: string; readonly bytes: Uint8Array; readonly encoding: XmlEncoding }
  | { readonly source: string; readonly failure: NfeFinding }
  // a file the job reads itself (readXmlSources with deferFiles)
  | { readonly source: string; readonly path: string; readonly cap: number };

/** What every job payload holds: the documents, in input order. */
export interface DocumentsPayload {
  readonly docs: readonly WireDocument[];
}

/** A Buffer over the same memory (structured clone delivers a Buffer as a plain Uint8Array). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The wire form of a group of source items. On worker threads (`transfer`) their bytes are copied into one
 * ArrayBuffer, which is moved to the worker (one allocation and one transferable per group, not one per document;
 * each document is a view of it); on one thread the Buffers themselves go.
 */
export function toWireGroup(items: readonly (XmlSourceItem | XmlDeferredFile)[], transfer: boolean): { docs: WireDocument[]; transfer: ArrayBuffer[] | null } {
  if (!transfer) return { docs: items.map((item) => wireOf(item, null)), transfer: null };
  let total = 0;
  for (const item of items) if (item.ok === true) total += item.bytes.length;
  const pack = new Uint8Array(total);
  let at = 0;
  const docs = items.map((item) => {
    if (item.ok !== true) return wireOf(item, null);
    pack.set(item.bytes, at);
    const bytes = pack.subarray(at, at + item.bytes.length);
    at += item.bytes.length;
    return wireOf(item, bytes);
  });
  return { docs, transfer: total > 0 ? [pack.buffer] : [] };
}

function wireOf(item: XmlSourceItem | XmlDeferredFile, bytes: Uint8Array | null): WireDocument {
  if (item.ok === 'deferred') return { source: item.source, path: item.source, cap: item.cap };
  if (!item.ok) return { source: item.source, failure: item.finding };
  return { source: item.source, bytes: bytes ?? item.bytes, encoding: item.encoding };
}

/** The source item again, in the job. */
export function fromWire(d: WireDocument): XmlSourceItem {
  if ('failure' in d) return { ok: false, source: d.source, finding: d.failure };
  if ('path' in d) return readFileItemSync(d.path, d.cap);
  return { ok: true, source: d.source, bytes: asBuffer(d.bytes), encoding: d.encoding };
}
