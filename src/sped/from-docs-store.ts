/**
 * The on-disk store of `fiscal sped from-docs`: the layout wants block 0 (participants, items) before block C,
 * and the C100s in an order the input does not have, so every entry goes to a temporary SQLite database
 * (better-sqlite3) and comes back sorted. Memory stays flat in the number of documents: SQLite keeps at most
 * `budgetBytes` of pages in memory and the rest on disk. Keys dedupe (a second copy of a note or coupon is
 * reported; of two differing copies the one whose stored form sorts first is kept, so the result never depends
 * on the input order), and what is listed in block 0 is what the booked documents reference.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDurable, readCheckpointState, writeCheckpointState } from '../common/sqlite-checkpoint.js';
import type { StoredGroup } from './from-docs-analytic.js';
import type { CouponEntry, NoteEntry, UnusedEntry } from './from-docs-extract.js';
import { numberingKey } from './from-docs-entries.js';
import { packLists, unpackLists } from './from-docs-packed.js';
import type { StoredPisCofins } from './from-docs-pis-cofins.js';

/** What the store keeps of a note (packed: from-docs-packed.ts). */
export interface StoredNote {
  /** `unused`: a number of a homologated inutilização (its C100 is already cut to the COD_SIT 05 fields). */
  status: NoteEntry['status'] | 'unused';
  c100: string[];
  c170: string[][];
  groups: StoredGroup[];
  pisCofins?: StoredPisCofins[];
}

/** What the store keeps of a coupon (packed: from-docs-packed.ts). */
export interface StoredCoupon {
  sat: string;
  day: string;
  number: string;
  c800: string[];
  groups: StoredGroup[];
  pisCofins?: StoredPisCofins[];
}

export const DEFAULT_BUDGET_BYTES = 64 * 1024 * 1024;
const BATCH = 2000;
/**
 * The form of the tables and payloads (PRAGMA user_version). A durable file of another form (an earlier
 * version's checkpoint) is emptied when opened: its rows could not be read back, so its run starts over.
 */
const STORE_FORMAT = 2;
const TABLES = ['notes', 'refs', 'parts', 'items', 'convs', 'coupons', 'cancels', 'checkpoint'];

/** A note's payload: a head (status, the counts of C170s, groups and PIS/COFINS groups, '' when none), C100, then those lists. */
function packNote(n: StoredNote): string {
  const head = [n.status, String(n.c170.length), String(n.groups.length), n.pisCofins ? String(n.pisCofins.length) : ''];
  return packLists([head, n.c100, ...n.c170, ...n.groups, ...(n.pisCofins ?? [])]);
}

function unpackNote(text: string): StoredNote {
  const [head, c100, ...rest] = unpackLists(text) as [string[], string[], ...string[][]];
  const c170 = Number(head[1]);
  const groups = Number(head[2]);
  return {
    status: head[0] as StoredNote['status'],
    c100,
    c170: rest.slice(0, c170),
    groups: rest.slice(c170, c170 + groups) as StoredGroup[],
    ...(head[3] !== '' ? { pisCofins: rest.slice(c170 + groups) as StoredPisCofins[] } : {}),
  };
}

/** A coupon's payload: a head (SAT, day, number, the counts of groups and PIS/COFINS groups, '' when none), C800, then those lists. */
function packCoupon(c: StoredCoupon): string {
  const head = [c.sat, c.day, c.number, String(c.groups.length), c.pisCofins ? String(c.pisCofins.length) : ''];
  return packLists([head, c.c800, ...c.groups, ...(c.pisCofins ?? [])]);
}

function unpackCoupon(text: string): StoredCoupon {
  const [head, c800, ...rest] = unpackLists(text) as [string[], string[], ...string[][]];
  const groups = Number(head[3]);
  return {
    sat: head[0]!,
    day: head[1]!,
    number: head[2]!,
    c800,
    groups: rest.slice(0, groups) as StoredGroup[],
    ...(head[4] !== '' ? { pisCofins: rest.slice(groups) as StoredPisCofins[] } : {}),
  };
}

/**
 * Of two differing copies of a document, whether the new one is kept: the one whose JSON (the form the store
 * kept before payloads were packed) sorts first, so that the copy kept never changed with the store's form.
 */
const keepsNew = <T>(fresh: T, old: T): boolean => JSON.stringify(fresh) < JSON.stringify(old);

/** The outcome of adding an entry: new, or a duplicate of a key already stored (with where it was seen). */
export type AddResult = { duplicate: false } | { duplicate: true; first: string };

export interface FromDocsStoreOptions {
  tempDir?: string;
  budgetBytes?: number;
  /**
   * A durable store at this file (a resumable run): WAL, fsynced commits, and entries committed only with a
   * checkpoint (`commit`), so the file always holds the state at one checkpoint, never a mix. The file is the
   * caller's: it stays after `close`. Without it the store is a throwaway database in a temporary folder.
   */
  path?: string;
}

/** An unused number that is also the number of a note of own issue read in the same run. */
export interface UnusedConflict {
  number: string;
  unusedSource: string;
  noteKey: string;
  noteSource: string;
}

/** Keys of the unused numbers in the notes table (a note's key is its 44-character access key: they never meet). */
const UNUSED_PREFIX = 'unused:';

export class FromDocsStore {
  /** The temporary folder of a throwaway store; null for a durable one. */
  private readonly dir: string | null;
  private readonly db: Database.Database;
  private pending = 0;
  private readonly st: Record<string, Database.Statement>;

  constructor(options: FromDocsStoreOptions = {}) {
    this.dir = options.path === undefined ? mkdtempSync(join(options.tempDir ?? tmpdir(), 'fiscal-from-docs-')) : null;
    this.db = new Database(options.path ?? join(this.dir!, 'docs.sqlite'));
    const kib = Math.max(1024, Math.floor((options.budgetBytes ?? DEFAULT_BUDGET_BYTES) / 1024));
    if (options.path === undefined) {
      this.db.pragma('journal_mode = OFF');
      this.db.pragma('synchronous = OFF');
    } else makeDurable(this.db);
    if (this.db.pragma('user_version', { simple: true }) !== STORE_FORMAT) {
      for (const t of TABLES) this.db.exec(`DROP TABLE IF EXISTS ${t}`);
      if (options.path !== undefined) makeDurable(this.db);
      this.db.pragma(`user_version = ${STORE_FORMAT}`);
    }
    this.db.pragma('temp_store = FILE');
    this.db.pragma(`cache_size = -${kib}`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS notes (key TEXT PRIMARY KEY, sort TEXT NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL, payload TEXT NOT NULL, num TEXT);
      CREATE INDEX IF NOT EXISTS notes_num ON notes (num);
      CREATE TABLE IF NOT EXISTS refs (note TEXT NOT NULL, kind TEXT NOT NULL, code TEXT NOT NULL, unit TEXT);
      CREATE INDEX IF NOT EXISTS refs_note ON refs (note);
      CREATE TABLE IF NOT EXISTS parts (code TEXT PRIMARY KEY, record TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS items (code TEXT PRIMARY KEY, unit TEXT NOT NULL, record TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS convs (code TEXT NOT NULL, unit TEXT NOT NULL, factor TEXT NOT NULL, PRIMARY KEY (code, unit));
      CREATE TABLE IF NOT EXISTS coupons (key TEXT PRIMARY KEY, sort TEXT NOT NULL, source TEXT NOT NULL, payload TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS cancels (key TEXT PRIMARY KEY);
    `);
    this.st = {
      noteIns: this.db.prepare('INSERT INTO notes (key, sort, source, status, payload, num) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING'),
      noteGet: this.db.prepare('SELECT source, payload FROM notes WHERE key = ?'),
      noteSet: this.db.prepare('UPDATE notes SET sort = ?, status = ?, payload = ? WHERE key = ?'),
      refsDel: this.db.prepare('DELETE FROM refs WHERE note = ?'),
      refIns: this.db.prepare('INSERT INTO refs (note, kind, code, unit) VALUES (?, ?, ?, ?)'),
      partIns: this.db.prepare('INSERT INTO parts (code, record) VALUES (?, ?) ON CONFLICT (code) DO UPDATE SET record = excluded.record WHERE excluded.record < parts.record'),
      itemIns: this.db.prepare('INSERT INTO items (code, unit, record) VALUES (?, ?, ?) ON CONFLICT (code) DO UPDATE SET unit = excluded.unit, record = excluded.record WHERE excluded.record < items.record'),
      convIns: this.db.prepare('INSERT INTO convs (code, unit, factor) VALUES (?, ?, ?) ON CONFLICT (code, unit) DO UPDATE SET factor = excluded.factor WHERE excluded.factor < convs.factor'),
      couponIns: this.db.prepare('INSERT INTO coupons (key, sort, source, payload) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING'),
      couponGet: this.db.prepare('SELECT source, payload FROM coupons WHERE key = ?'),
      couponSet: this.db.prepare('UPDATE coupons SET sort = ?, payload = ? WHERE key = ?'),
      cancelIns: this.db.prepare('INSERT INTO cancels (key) VALUES (?) ON CONFLICT (key) DO NOTHING'),
    };
    this.db.exec('BEGIN');
  }

  /** A throwaway store commits every BATCH changes; a durable one only with its checkpoints. */
  private tick(): void {
    if (this.dir === null || ++this.pending < BATCH) return;
    this.db.exec('COMMIT');
    this.db.exec('BEGIN');
    this.pending = 0;
  }

  /** A durable store: the state of its last checkpoint, or null (a new file). */
  checkpoint(): string | null {
    return this.dir === null ? readCheckpointState(this.db) : null;
  }

  /** A durable store: commits what was added since the last checkpoint together with `state`, fsynced. */
  commit(state: string): void {
    if (this.dir !== null) throw new Error('commit needs a durable from-docs store (path)');
    writeCheckpointState(this.db, state);
    this.db.exec('COMMIT');
    this.db.exec('BEGIN');
  }

  addNote(n: NoteEntry): AddResult {
    this.tick();
    const stored: StoredNote = { status: n.status, c100: n.c100, c170: n.c170, groups: n.groups, ...(n.pisCofins ? { pisCofins: n.pisCofins } : {}) };
    const payload = packNote(stored);
    if (n.participant) this.st.partIns!.run(n.participant.code, JSON.stringify(n.participant.record));
    for (const it of n.items) {
      this.st.itemIns!.run(it.code, it.inventoryUnit, JSON.stringify(it.record));
      if (it.factor !== null) this.st.convIns!.run(it.code, it.unit, it.factor);
    }
    if (this.st.noteIns!.run(n.key, n.sort, n.source, n.status, payload, n.number ?? null).changes === 1) {
      this.refs(n);
      return { duplicate: false };
    }
    const old = this.st.noteGet!.get(n.key) as { source: string; payload: string };
    if (payload !== old.payload && keepsNew(stored, unpackNote(old.payload))) {
      this.st.noteSet!.run(n.sort, n.status, payload, n.key);
      this.st.refsDel!.run(n.key);
      this.refs(n);
    }
    return { duplicate: true, first: old.source };
  }

  private refs(n: NoteEntry): void {
    if (n.participant) this.st.refIns!.run(n.key, 'P', n.participant.code, null);
    for (const it of n.items) this.st.refIns!.run(n.key, 'I', it.code, it.unit);
  }

  addCoupon(c: CouponEntry): AddResult {
    this.tick();
    const stored: StoredCoupon = { sat: c.sat, day: c.day, number: c.number, c800: c.c800, groups: c.groups, ...(c.pisCofins ? { pisCofins: c.pisCofins } : {}) };
    const payload = packCoupon(stored);
    const sort = `${c.sat}|${c.isoDay}|${c.number.padStart(6, '0')}|${c.key}`;
    if (this.st.couponIns!.run(c.key, sort, c.source, payload).changes === 1) return { duplicate: false };
    const old = this.st.couponGet!.get(c.key) as { source: string; payload: string };
    if (payload !== old.payload && keepsNew(stored, unpackCoupon(old.payload))) this.st.couponSet!.run(sort, payload, c.key);
    return { duplicate: true, first: old.source };
  }

  /**
   * Every number of a range of unused numbers, each its C100 (sorted among the exits of own issue by the day
   * SEFAZ voided it). Returns how many were already stored and where the first of them was seen.
   */
  addUnused(u: UnusedEntry): { duplicates: number; first: string | null } {
    let duplicates = 0;
    let first: string | null = null;
    for (let n = u.first; n <= u.last; n++) {
      this.tick();
      const num = numberingKey(u.model, u.serie, n);
      const c100 = [...u.c100];
      c100[u.numberAt] = String(n);
      const payload = packNote({ status: 'unused', c100, c170: [], groups: [] });
      const sort = `1|${u.isoDay}|${u.model}|${u.serie.padStart(3, '0')}|${String(n).padStart(9, '0')}|`;
      if (this.st.noteIns!.run(UNUSED_PREFIX + num, sort, u.source, 'unused', payload, num).changes === 1) continue;
      duplicates++;
      first ??= (this.st.noteGet!.get(UNUSED_PREFIX + num) as { source: string }).source;
    }
    return { duplicates, first };
  }

  /** Unused numbers that a note of own issue of this run also carries (sealed store): reported, and not written. */
  *conflicts(): Generator<UnusedConflict> {
    const q = this.db.prepare(`
      SELECT u.num AS number, u.source AS unusedSource, n.key AS noteKey, n.source AS noteSource FROM notes u
      JOIN notes n ON n.num = u.num AND n.key NOT LIKE '${UNUSED_PREFIX}%'
      WHERE u.key LIKE '${UNUSED_PREFIX}%' ORDER BY u.sort, n.key`);
    yield* q.iterate() as Iterable<UnusedConflict>;
  }

  addCancel(key: string): void {
    this.tick();
    this.st.cancelIns!.run(key);
  }

  /** Ends the loading: what follows only reads. Builds the table of what the booked notes reference. */
  seal(): void {
    this.db.exec('COMMIT');
    this.db.exec(`
      CREATE TEMP TABLE used AS
        SELECT DISTINCT r.kind AS kind, r.code AS code, r.unit AS unit FROM refs r
        JOIN notes n ON n.key = r.note
        WHERE n.status = 'regular' AND NOT EXISTS (SELECT 1 FROM cancels c WHERE c.key = n.key);
      CREATE INDEX used_code ON used (kind, code);
    `);
  }

  /** 0150 records of the participants the booked notes name, by code. */
  *participants(): Generator<string[]> {
    const q = this.db.prepare(`SELECT p.record FROM parts p WHERE p.code IN (SELECT code FROM used WHERE kind = 'P') ORDER BY p.code`);
    for (const row of q.iterate() as Iterable<{ record: string }>) yield JSON.parse(row.record) as string[];
  }

  /** The units of the 0200 and 0220 records, upper-case, sorted. */
  *units(): Generator<string> {
    const q = this.db.prepare(`
      SELECT u FROM (
        SELECT i.unit AS u FROM items i WHERE i.code IN (SELECT code FROM used WHERE kind = 'I')
        UNION SELECT x.unit AS u FROM used x JOIN items i ON i.code = x.code WHERE x.kind = 'I' AND x.unit <> i.unit
      ) ORDER BY u`);
    for (const row of q.iterate() as Iterable<{ u: string }>) yield row.u;
  }

  /** 0200 records by code, each with its 0220 conversions (unit, factor) by unit: one query, rows grouped by item. */
  *items(): Generator<{ record: string[]; conversions: [string, string][] }> {
    // one statement: better-sqlite3 runs no other statement on the connection while one iterates
    const q = this.db.prepare(`
      SELECT i.code AS code, i.record AS record, x.unit AS unit, COALESCE(c.factor, '1,000000') AS factor FROM items i
      LEFT JOIN used x ON x.kind = 'I' AND x.code = i.code AND x.unit <> i.unit
      LEFT JOIN convs c ON c.code = i.code AND c.unit = x.unit
      WHERE i.code IN (SELECT code FROM used WHERE kind = 'I') ORDER BY i.code, x.unit`);
    let cur: { code: string; record: string[]; conversions: [string, string][] } | null = null;
    for (const row of q.iterate() as Iterable<{ code: string; record: string; unit: string | null; factor: string }>) {
      if (!cur || cur.code !== row.code) {
        if (cur) yield { record: cur.record, conversions: cur.conversions };
        cur = { code: row.code, record: JSON.parse(row.record) as string[], conversions: [] };
      }
      if (row.unit !== null) cur.conversions.push([row.unit, row.factor]);
    }
    if (cur) yield { record: cur.record, conversions: cur.conversions };
  }

  /** The notes in file order, with whether a separate event cancelled them. */
  *notes(): Generator<{ key: string; note: StoredNote; cancelledByEvent: boolean }> {
    // an unused number that a note of own issue also carries is left out (the note is written; conflicts() reports it)
    const q = this.db.prepare(`
      SELECT n.key, n.payload, EXISTS (SELECT 1 FROM cancels c WHERE c.key = n.key) AS cancelled FROM notes n
      WHERE n.key NOT LIKE '${UNUSED_PREFIX}%' OR NOT EXISTS (SELECT 1 FROM notes m WHERE m.num = n.num AND m.key NOT LIKE '${UNUSED_PREFIX}%')
      ORDER BY n.sort`);
    for (const row of q.iterate() as Iterable<{ key: string; payload: string; cancelled: number }>) {
      yield { key: row.key, note: unpackNote(row.payload), cancelledByEvent: row.cancelled === 1 };
    }
  }

  /** The coupons by SAT, day and number, with whether a CFeCanc cancelled them. */
  *coupons(): Generator<{ key: string; coupon: StoredCoupon; cancelled: boolean }> {
    const q = this.db.prepare(`SELECT c.key, c.payload, EXISTS (SELECT 1 FROM cancels x WHERE x.key = c.key) AS cancelled FROM coupons c ORDER BY c.sort`);
    for (const row of q.iterate() as Iterable<{ key: string; payload: string; cancelled: number }>) {
      yield { key: row.key, coupon: unpackCoupon(row.payload), cancelled: row.cancelled === 1 };
    }
  }

  counts(): { notes: number; coupons: number; cancels: number } {
    const n = (t: string): number => (this.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { notes: n('notes'), coupons: n('coupons'), cancels: n('cancels') };
  }

  /** Closes the database; a throwaway store's folder is removed (what a durable one did not commit is dropped). */
  close(): void {
    try {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.db.close();
    } finally {
      if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
