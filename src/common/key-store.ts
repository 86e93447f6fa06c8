/**
 * A key → (state, data) store within a memory budget, for the detectors that must remember every access key of a
 * stream of any length (the coupon summary's, the NF-e batches' duplicate keys). The coupon summary's use: what it
 * remembers per access key — the sale was counted (with what it added to the sums, so that a cancellation arriving
 * later can take it back out), counted as cancelled, or a cancellation is waiting for its sale — within a memory
 * budget: entries live in a Map until their estimated size passes `memoryBytes`, then the whole Map is written to
 * an SQLite table in a temporary file (better-sqlite3, one transaction) and emptied.
 *
 * A look-up asks the Map first, then a Bloom filter of the keys on disk (a sixteenth of the budget: 4 MiB for the
 * default 64 MiB, under 1% false positives up to about 3 million spilled keys), then the table only when the filter
 * says the key may be there — a key seen for the first time, nearly every key of a stream, costs no disk read.
 * The table is a plain rowid table with a unique index on the key, written in key order per spill: the
 * contributions are appended, only the small index entries go in at random places (1M coupons: 5 s of writes
 * instead of 33 s for a table keyed by the access key; 16 KiB pages). SQLite's page cache takes at most a quarter
 * of the budget. Memory stays at the budget whatever the number of keys; the spilled keys cost disk (about 100
 * bytes each plus their contributions).
 */
import Database from 'better-sqlite3';
import { BloomFilter } from './bloom-filter.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownCopy } from './own-copy.js';
import { makeDurable, readCheckpointState, snapshotSqlite, writeCheckpointState } from './sqlite-checkpoint.js';

/** `sale`: counted, `data` its contribution; `cancelled`: counted as cancelled; `pending`: a cancellation waits for its sale. */
export type KeyState = 'sale' | 'cancelled' | 'pending';

export interface KeyEntry {
  readonly state: KeyState;
  /** For `sale`: the serialized contribution (see aggregate.ts); else ''. */
  readonly data: string;
}

export interface KeyStoreOptions {
  /** Estimated bytes the in-memory entries may hold before they spill to disk. Default 64 MiB. */
  readonly memoryBytes?: number;
  /** Where the spill file goes (a fresh folder under it, removed by close). Default the OS temporary folder. */
  readonly tmpDir?: string;
  /**
   * A durable store in this file instead (created when missing, kept by close): nothing spills by itself — the
   * caller commits the entries together with its checkpoint (`commit`) when `overBudget` says so or when it
   * wants a checkpoint, so that what the file holds is always the state at one checkpoint, never a mix.
   */
  readonly path?: string;
}

export const DEFAULT_KEY_MEMORY_BYTES = 64 * 1024 * 1024;

/** Estimated heap bytes of one entry: the key string and the Map slot and entry object, plus the data. */
const ENTRY_OVERHEAD = 160;

const STATE_CODE: Record<KeyState, number> = { sale: 0, cancelled: 1, pending: 2 };
const STATE_OF: readonly KeyState[] = ['sale', 'cancelled', 'pending'];

export class KeyStore {
  readonly #budget: number;
  readonly #tmpRoot: string;
  #memory = new Map<string, KeyEntry>();
  #bytes = 0;
  #dir: string | null = null;
  #db: Database.Database | null = null;
  #get: Database.Statement<[string], { state: number; data: string }> | null = null;
  #put: Database.Statement<[string, number, string]> | null = null;
  #spilled = 0;
  #spills = 0;
  /** The keys in the table (null until there is a table). */
  #onDisk: BloomFilter | null = null;

  readonly #durable: boolean;

  constructor(options: KeyStoreOptions = {}) {
    this.#budget = options.memoryBytes ?? DEFAULT_KEY_MEMORY_BYTES;
    this.#tmpRoot = options.tmpDir ?? tmpdir();
    this.#durable = options.path !== undefined;
    if (options.path !== undefined) {
      const db = new Database(options.path);
      makeDurable(db);
      this.#open(db);
    }
  }

  #open(db: Database.Database): void {
    // 16 KiB pages: the spill's writes 15% faster than at 4 KiB (taken by a new file only)
    db.pragma('page_size = 16384');
    // SQLite's page cache within the budget: a quarter of it, at most better-sqlite3's default of 16 MB (it fills
    // as the table grows: left at the default, a 16 MiB budget's store held 16 MB more at 1M keys than at 100k)
    db.pragma(`cache_size = -${Math.max(256, Math.min(16000, Math.floor(this.#budget / 4 / 1024)))}`);
    // (a file of an earlier version has the table keyed by the key, WITHOUT ROWID: the index is redundant there)
    db.exec('CREATE TABLE IF NOT EXISTS keys (key TEXT NOT NULL, state INTEGER NOT NULL, data TEXT NOT NULL)');
    db.exec('CREATE UNIQUE INDEX IF NOT EXISTS keys_key ON keys (key)');
    this.#db = db;
    this.#get = db.prepare('SELECT state, data FROM keys WHERE key = ?');
    this.#put = db.prepare('INSERT OR REPLACE INTO keys (key, state, data) VALUES (?, ?, ?)');
    this.#onDisk = new BloomFilter(Math.max(1 << 16, this.#budget / 2));
    // a durable file resumed: the keys it holds
    for (const row of db.prepare<[], { key: string }>('SELECT key FROM keys').iterate()) this.#onDisk.add(row.key);
  }

  /** Whether the entries in memory passed the budget (a durable store's caller commits then). */
  get overBudget(): boolean {
    return this.#bytes > this.#budget;
  }

  /** The state of the last commit of a durable store, or null (a new file). */
  checkpoint(): string | null {
    if (!this.#durable || !this.#db) return null;
    return readCheckpointState(this.#db);
  }

  /**
   * Durable store: writes the entries in memory and `state` (the caller's checkpoint) in one transaction, fsynced
   * (synchronous FULL), then empties memory. After a crash the file holds the entries of the last commit and its
   * state, together.
   */
  commit(state: string): void {
    if (!this.#durable || !this.#db) throw new Error('commit needs a durable key store (path)');
    const db = this.#db;
    this.#write(db, () => writeCheckpointState(db, state));
  }

  /** Copies a durable store's file as of its last commit (snapshotSqlite), for a resumed run to own. */
  static snapshot(from: string, to: string): void {
    snapshotSqlite(from, to);
  }

  /** Keys written to disk so far (a key rewritten counts once per spill). */
  get spilledKeys(): number {
    return this.#spilled;
  }

  /** How many times the Map was written out. */
  get spills(): number {
    return this.#spills;
  }

  get(key: string): KeyEntry | undefined {
    const m = this.#memory.get(key);
    if (m !== undefined || !this.#get || !this.#onDisk!.has(key)) return m;
    const row = this.#get.get(key);
    return row ? { state: STATE_OF[row.state]!, data: row.data } : undefined;
  }

  set(key: string, entry: KeyEntry): void {
    const prev = this.#memory.get(key);
    if (prev) this.#bytes -= ENTRY_OVERHEAD + prev.data.length * 2;
    // a copy of the key: a slice of a document's text would keep all of that text alive
    this.#memory.set(prev ? key : ownCopy(key), entry);
    this.#bytes += ENTRY_OVERHEAD + entry.data.length * 2;
    if (this.#bytes > this.#budget && !this.#durable) this.#spill();
  }

  /** Every entry in the given state (memory first, then disk, a key once: memory wins). */
  *entries(state: KeyState): Generator<[string, KeyEntry]> {
    for (const [k, e] of this.#memory) if (e.state === state) yield [k, e];
    if (!this.#db) return;
    const rows = this.#db.prepare<[number], { key: string; data: string }>('SELECT key, data FROM keys WHERE state = ? ORDER BY key').iterate(STATE_CODE[state]);
    for (const r of rows) if (!this.#memory.has(r.key)) yield [r.key, { state, data: r.data }];
  }

  #spill(): void {
    if (!this.#db) {
      this.#dir = mkdtempSync(join(this.#tmpRoot, 'fiscal-keys-'));
      const db = new Database(join(this.#dir, 'keys.db'));
      db.pragma('journal_mode = OFF');
      db.pragma('synchronous = OFF');
      this.#open(db);
    }
    this.#write(this.#db!, () => {});
    this.#spills++;
  }

  /** Writes the entries in memory, and whatever `also` writes, in one transaction; then empties memory. */
  #write(db: Database.Database, also: () => void): void {
    const put = this.#put!;
    const onDisk = this.#onDisk!;
    // in key order: the index entries go in as runs instead of at random places
    const entries = [...this.#memory].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    db.transaction(() => {
      for (const [k, e] of entries) {
        put.run(k, STATE_CODE[e.state], e.data);
        onDisk.add(k);
      }
      also();
    })();
    this.#spilled += entries.length;
    this.#memory = new Map();
    this.#bytes = 0;
  }

  /** Closes; removes the spill file (a durable store's file stays). */
  close(): void {
    this.#db?.close();
    this.#db = null;
    this.#get = null;
    this.#put = null;
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = null;
    this.#memory = new Map();
  }
}
