/**
 * What the durable SQLite stores of resumable runs share (the coupon key store, the from-docs store): one row of
 * checkpoint state committed in the same transaction as the data it describes, and a consistent copy of the file
 * as of its last commit for a later attempt to own.
 */
import Database from 'better-sqlite3';

/** Makes the store durable (WAL, fsync at commit) and gives it its checkpoint table. */
export function makeDurable(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)');
}

/** The state of the last commit, or null (a new file). */
export function readCheckpointState(db: Database.Database): string | null {
  const row = db.prepare<[], { state: string }>('SELECT state FROM checkpoint WHERE id = 1').get();
  return row ? row.state : null;
}

/** Puts `state` in the current transaction: it is committed with the data. */
export function writeCheckpointState(db: Database.Database, state: string): void {
  db.prepare('INSERT OR REPLACE INTO checkpoint (id, state) VALUES (1, ?)').run(state);
}

/**
 * Copies a durable store's file as of its last commit (VACUUM INTO: a consistent snapshot even while another
 * process still writes the original) to a new file `to`, which a resumed run then owns alone.
 */
export function snapshotSqlite(from: string, to: string): void {
  const db = new Database(from, { readonly: true, fileMustExist: true });
  try {
    db.prepare('VACUUM INTO ?').run(to);
  } finally {
    db.close();
  }
}
