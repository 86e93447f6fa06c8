/** The duplicate-key check of NF-e batches (on the main thread, in input order). */
import { KeyStore } from '../common/key-store.js';
import { ownCopy } from '../common/own-copy.js';
import { finding, type NfeFinding } from './findings.js';
import type { ParsedNfe } from './parse.js';

/**
 * Reports a key already seen in the batch (notes only: events legitimately repeat their note's key). Every key
 * seen is remembered with where it was first seen, within a memory budget (src/common/key-store.ts: past it the
 * keys spill to a temporary SQLite file), so a batch of millions of documents keeps a flat memory. `close()`
 * removes the spill file.
 */
const DEFAULT_MEMORY_BYTES = 16 * 1024 * 1024;

export class DuplicateKeyTracker {
  readonly #seen: KeyStore;
  /** `memoryBytes`: the budget before the keys spill (default 16 MiB, about 90,000 keys). */
  constructor(options: { memoryBytes?: number; tmpDir?: string } = {}) {
    this.#seen = new KeyStore({ memoryBytes: DEFAULT_MEMORY_BYTES, ...options });
  }
  check(parsed: Pick<ParsedNfe, 'source' | 'kind' | 'keys'>): NfeFinding[] {
    const out: NfeFinding[] = [];
    if (parsed.kind !== 'NFe' && parsed.kind !== 'nfeProc' && parsed.kind !== 'enviNFe' && parsed.kind !== 'CFe') return out;
    for (const k of parsed.keys) {
      const first = this.#seen.get(k);
      if (first !== undefined) out.push(finding('NFE_DUPLICATE_KEY', parsed.source, `key ${k} already seen in ${first.data}`));
      else this.#seen.set(k, { state: 'sale', data: ownCopy(parsed.source) });
    }
    return out;
  }
  /** Keys written to disk so far (0 while they fit the budget). */
  get spilledKeys(): number {
    return this.#seen.spilledKeys;
  }
  close(): void {
    this.#seen.close();
  }
}
