/**
 * A Bloom filter of strings in a fixed number of bits: `has` is false for every string never added, and true for
 * one added (or, rarely, for one that was not: a false positive). The key store asks it before its disk table, so
 * that the look-up of a key seen for the first time — nearly every key of a stream — costs no disk read. Fixed
 * size: past its design load the false positives grow (each one costs a disk look-up, never a wrong answer).
 *
 * Hashing: two 32-bit FNV-1a-style hashes of the string's UTF-16 code units with different multipliers, each
 * finished by MurmurHash3's fmix32, combined by double hashing (h1 + i·h2) into `hashes` bit positions (Kirsch and
 * Mitzenmacher, "Less hashing, same performance", 2006).
 */

/** MurmurHash3's 32-bit finalizer: every input bit moves every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
export class BloomFilter {
  readonly #bits: Uint32Array;
  readonly #mask: number;
  readonly #hashes: number;
  #count = 0;

  /** `bits`: rounded up to a power of two (at least 2^10); `hashes`: bit positions per string (default 7). */
  constructor(bits: number, hashes = 7) {
    const log = Math.max(10, Math.ceil(Math.log2(Math.max(1, bits))));
    this.#bits = new Uint32Array(2 ** log / 32);
    this.#mask = 2 ** log - 1;
    this.#hashes = hashes;
  }

  /** Bits of the filter. */
  get size(): number {
    return this.#mask + 1;
  }

  /** Strings added (an estimate of the load: the same string added twice counts twice). */
  get count(): number {
    return this.#count;
  }

  add(s: string): void {
    this.#probe(s, true);
    this.#count++;
  }

  has(s: string): boolean {
    return this.#probe(s, false);
  }

  /** Sets (`set`) or tests the string's bits; whether they were all set before. */
  #probe(s: string, set: boolean): boolean {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193 ^ 0x5bd1e995;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    h1 = fmix(h1);
    h2 = fmix(h2) | 1;
    let all = true;
    for (let i = 0; i < this.#hashes; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.#mask;
      const word = bit >>> 5;
      const m = 1 << (bit & 31);
      if ((this.#bits[word]! & m) === 0) {
        if (!set) return false;
        all = false;
        this.#bits[word]! |= m;
      }
    }
    return all;
  }
}
