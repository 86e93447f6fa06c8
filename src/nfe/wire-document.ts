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
 * The wire form of a source item. With `transfer`, the bytes' ArrayBuffer is added to it: a Buffer that owns its
 * whole ArrayBuffer goes as it is; one that shares it (Node's pool of small Buffers, a slice) is copied first,
 * so that moving it detaches nothing else. Without `transfer` (one thread) the Buffer itself goes.
 */
export function toWire(item: XmlSourceItem | XmlDeferredFile, transfer: ArrayBuffer[] | null): WireDocument {
  if (item.ok === 'deferred') return { source: item.source, path: item.source, cap: item.cap };
  if (!item.ok) return { source: item.source, failure: item.finding };
  if (!transfer) return { source: item.source, bytes: item.bytes, encoding: item.encoding };
  const b = item.bytes;
  const owned = b.buffer instanceof ArrayBuffer && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;
  const bytes = owned ? b : new Uint8Array(b);
  transfer.push(bytes.buffer as ArrayBuffer);
  return { source: item.source, bytes, encoding: item.encoding };
}

/** The source item again, in the job. */
export function fromWire(d: WireDocument): XmlSourceItem {
  if ('failure' in d) return { ok: false, source: d.source, finding: d.failure };
  if ('path' in d) return readFileItemSync(d.path, d.cap);
  return { ok: true, source: d.source, bytes: asBuffer(d.bytes), encoding: d.encoding };
}
