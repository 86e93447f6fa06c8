/**
 * Results that move back from a worker instead of being copied: a job returns `transferring(value, buffers)` and the
 * worker entry (worker.ts) hands the buffers to postMessage's transfer list, so a range's megabytes of output cross
 * the thread boundary without a structured-clone copy. In the calling thread (a pool of one) nothing changes.
 */
const TRANSFER = Symbol('fiscal-engine.transfer');

/** `value`, marked to move `buffers` (each wholly owned by one of its Uint8Arrays: see `ownedBytes`). */
export function transferring<T extends object>(value: T, buffers: ArrayBuffer[]): T {
  Object.defineProperty(value, TRANSFER, { value: buffers, enumerable: false });
  return value;
}

/** The buffers `value` was marked to move (`transferring`), or null. */
export function transferListOf(value: unknown): ArrayBuffer[] | null {
  if (value === null || typeof value !== 'object') return null;
  return (value as { [TRANSFER]?: ArrayBuffer[] })[TRANSFER] ?? null;
}

/** Below this, bytes are copied rather than moved (and Node's shared pool of small Buffers is never moved). */
const MOVE_MIN = 64 * 1024;

/**
 * Bytes whose ArrayBuffer can be moved: `bytes` itself when it starts its own buffer of at least 64 KiB (a large
 * Buffer.allocUnsafe, or a subarray from its start: the rest of the buffer moves along, unused), else a copy.
 */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength >= MOVE_MIN && bytes.byteOffset === 0 && bytes.buffer instanceof ArrayBuffer) return bytes;
  return new Uint8Array(bytes);
}
