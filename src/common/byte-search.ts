/**
 * `bytes.indexOf(byte, from)` for the hot loops of the byte scanners (the document splitter, the CF-e lane): the
 * first bytes are looked at here and only a longer run goes to indexOf — a call costs more than the few bytes of a
 * usual tag name or value, and indexOf is far faster over a long run (a signature, a QR code).
 */
const NEAR = 24;

/** Offset of the first `byte` at or after `from`, or -1. */
export function indexOfNear(bytes: Uint8Array, byte: number, from: number): number {
  const n = bytes.length;
  const stop = Math.min(n, from + NEAR);
  for (let i = from; i < stop; i++) if (bytes[i] === byte) return i;
  return stop === n ? -1 : bytes.indexOf(byte, stop);
}
