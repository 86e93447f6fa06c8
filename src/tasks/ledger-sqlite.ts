/**
 * The embedded ledger: one SQLite file (better-sqlite3, WAL), safe for several processes of one machine.
 *
 * Claims run in `BEGIN IMMEDIATE` transactions (the write lock is taken before the row is read, so two processes
 * cannot both see a key free); the other writes are single fenced UPDATEs. A process that finds the file locked
 * waits up to `busyTimeoutMs` (SQLite's busy handler) before TASK_LEDGER_UNAVAILABLE. Fences come from one
 * counter in `meta`, so a fence is never handed out twice in a file's life, even after gc deletes a key.
 * Times are this machine's clock (Date.now()). better-sqlite3 is synchronous: the async methods do their work at
 * once and return settled promises.
 */
import Database from 'better-sqlite3';
import { dirname, resolve } from 'node:path';
import { makeDir } from '../common/make-dir.js';
import { FiscalError } from '../errors.js';
import {
  TaskKeyConflictError,
  type Claim,
  type ClaimRequest,
  type ClaimResult,
  type JsonValue,
  type Ledger,
  type LedgerCounts,
  type LedgerEntry,
  type ListQuery,
  type TaskErrorInfo,
} from './ledger.js';
import { LedgerSchemaError, LedgerUnavailableError } from './ledger-errors.js';
import { LEDGER_SCHEMA_VERSION, checkClaimRequest, checkLeaseMs, checkOlderThan, countsOf, leaseLost, listLimit, rowToEntry, toJson, type LedgerRow } from './ledger-rows.js';

export interface SqliteLedgerOptions {
  /** How long a write waits for another process's lock before TASK_LEDGER_UNAVAILABLE (default 10 s). */
  readonly busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
  key            TEXT PRIMARY KEY,
  type           TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  payload_digest TEXT NOT NULL,
  attempts       INTEGER NOT NULL,
  owner          TEXT,
  fence          INTEGER NOT NULL,
  lease_until    INTEGER,
  output_digest  TEXT,
  manifest       TEXT,
  error          TEXT,
  checkpoint     TEXT,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_updated ON tasks (updated_at);
CREATE INDEX IF NOT EXISTS tasks_status_updated ON tasks (status, updated_at);
`;

/** Opens (and creates when missing, with its folder) the SQLite ledger at `path`. */
export async function openSqliteLedger(path: string, options: SqliteLedgerOptions = {}): Promise<SqliteLedger> {
  const file = resolve(path);
  await makeDir(dirname(file));
  return new SqliteLedger(file, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
}

export class SqliteLedger implements Ledger {
  readonly url: string;
  readonly path: string;
  private readonly db: Database.Database;
  private readonly claimTx: (request: ClaimRequest) => ClaimResult;
  private readonly statements: ReturnType<typeof prepare>;

  /** Use openSqliteLedger (it creates the folder). */
  constructor(path: string, busyTimeoutMs: number) {
    this.path = path;
    this.url = `sqlite:${path}`;
    this.db = this.guard(() => new Database(path, { timeout: busyTimeoutMs }));
    try {
      this.guard(() => {
        this.db.pragma('journal_mode = WAL');
        // FULL: a commit is on disk before claim/complete return (NORMAL could lose the last commits on power loss)
        this.db.pragma('synchronous = FULL');
        this.db.transaction(() => createSchema(this.db, path)).immediate();
      });
      this.statements = prepare(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
    const s = this.statements;
    this.claimTx = this.db.transaction((request: ClaimRequest): ClaimResult => {
      const now = Date.now(); // read under the write lock: a claim that waited for another process's lock is not judged on a stale clock
      const row = s.get.get(request.key) as LedgerRow | undefined;
      if (row) {
        if (row.payload_digest !== request.payloadDigest) throw new TaskKeyConflictError(request.key);
        if (row.status === 'done') return { kind: 'done', entry: rowToEntry(row) };
        if (row.status === 'running' && row.lease_until !== null && Number(row.lease_until) > now) return { kind: 'busy', entry: rowToEntry(row) };
      }
      const { value: fence } = s.nextFence.get() as { value: number };
      const leaseUntil = now + request.leaseMs;
      if (!row) {
        s.insert.run({ key: request.key, type: request.type, payload_digest: request.payloadDigest, owner: request.owner, fence, lease_until: leaseUntil, now });
        return { kind: 'claimed', claim: { key: request.key, owner: request.owner, fence, attempt: 1, checkpoint: null } };
      }
      s.reclaim.run({ key: request.key, owner: request.owner, fence, lease_until: leaseUntil, now });
      const checkpoint = row.checkpoint === null ? null : (JSON.parse(row.checkpoint) as JsonValue);
      return { kind: 'claimed', claim: { key: request.key, owner: request.owner, fence, attempt: Number(row.attempts) + 1, checkpoint } };
    }).immediate;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    checkClaimRequest(request);
    return this.guard(() => this.claimTx(request));
  }

  async renew(claim: Claim, leaseMs: number): Promise<void> {
    checkLeaseMs(leaseMs);
    const now = Date.now();
    leaseLost(claim.key, this.guard(() => this.statements.renew.run({ key: claim.key, fence: claim.fence, lease_until: now + leaseMs, now }).changes));
  }

  async checkpoint(claim: Claim, checkpoint: JsonValue, leaseMs: number): Promise<void> {
    checkLeaseMs(leaseMs);
    const now = Date.now();
    const params = { key: claim.key, fence: claim.fence, lease_until: now + leaseMs, checkpoint: toJson(checkpoint), now };
    leaseLost(claim.key, this.guard(() => this.statements.checkpoint.run(params).changes));
  }

  async complete(claim: Claim, result: { readonly outputDigest: string | null; readonly manifest: JsonValue }): Promise<void> {
    const params = { key: claim.key, fence: claim.fence, output_digest: result.outputDigest, manifest: toJson(result.manifest), now: Date.now() };
    leaseLost(claim.key, this.guard(() => this.statements.complete.run(params).changes));
  }

  async fail(claim: Claim, failure: { readonly error: TaskErrorInfo; readonly manifest: JsonValue }): Promise<void> {
    const error: TaskErrorInfo = { code: failure.error.code, message: failure.error.message };
    const params = { key: claim.key, fence: claim.fence, error: toJson(error), manifest: toJson(failure.manifest), now: Date.now() };
    leaseLost(claim.key, this.guard(() => this.statements.fail.run(params).changes));
  }

  async get(key: string): Promise<LedgerEntry | null> {
    const row = this.guard(() => this.statements.get.get(key) as LedgerRow | undefined);
    return row ? rowToEntry(row) : null;
  }

  async list(query?: ListQuery): Promise<LedgerEntry[]> {
    const limit = listLimit(query);
    const rows = this.guard(() =>
      (query?.status === undefined ? this.statements.listAll.all({ limit }) : this.statements.listStatus.all({ status: query.status, limit })) as LedgerRow[],
    );
    return rows.map(rowToEntry);
  }

  async count(): Promise<LedgerCounts> {
    return countsOf(this.guard(() => this.statements.count.all() as { status: string; n: number }[]));
  }

  async gc(olderThanMs: number): Promise<number> {
    checkOlderThan(olderThanMs);
    const cutoff = Date.now() - olderThanMs;
    return this.guard(() => this.statements.gc.run({ cutoff }).changes);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Runs one SQLite operation; SQLite's own failures (locked too long, unreadable, full disk) become TASK_LEDGER_UNAVAILABLE. */
  private guard<T>(body: () => T): T {
    try {
      return body();
    } catch (err) {
      if (err instanceof FiscalError) throw err;
      if (err instanceof Database.SqliteError || (err as { code?: unknown })?.code !== undefined) throw unavailable(this.path, err);
      throw err;
    }
  }
}

function unavailable(path: string, err: unknown): LedgerUnavailableError {
  const e = err as { code?: string; message?: string };
  const reason =
    e.code === 'SQLITE_BUSY' ? 'locked by another process for longer than the busy timeout'
    : e.code === 'SQLITE_CANTOPEN' ? 'cannot open the file'
    : e.code === 'SQLITE_NOTADB' ? 'not an SQLite database'
    : e.code === 'SQLITE_READONLY' ? 'the file is read-only'
    : e.message ?? String(err);
  return new LedgerUnavailableError(`SQLite ledger ${path}: ${reason}${e.code ? ` (${e.code})` : ''}`, { cause: err });
}

/** Creates the tables when missing and checks the schema version (run inside BEGIN IMMEDIATE: two processes opening a new file at once create it once). */
function createSchema(db: Database.Database, path: string): void {
  db.exec(SCHEMA);
  const version = db.prepare(`SELECT value FROM meta WHERE name = 'schema_version'`).get() as { value: number } | undefined;
  if (version === undefined) {
    db.prepare(`INSERT INTO meta (name, value) VALUES ('schema_version', ?), ('fence', 0)`).run(LEDGER_SCHEMA_VERSION);
  } else if (version.value > LEDGER_SCHEMA_VERSION) {
    throw new LedgerSchemaError(`SQLite ledger ${path}: schema version ${version.value} was written by a newer engine (this one knows ${LEDGER_SCHEMA_VERSION})`);
  }
}

function prepare(db: Database.Database) {
  const fenced = `WHERE key = @key AND fence = @fence AND status = 'running'`;
  return {
    get: db.prepare(`SELECT * FROM tasks WHERE key = ?`),
    nextFence: db.prepare(`UPDATE meta SET value = value + 1 WHERE name = 'fence' RETURNING value`),
    insert: db.prepare(
      `INSERT INTO tasks (key, type, status, payload_digest, attempts, owner, fence, lease_until, created_at, updated_at)
       VALUES (@key, @type, 'running', @payload_digest, 1, @owner, @fence, @lease_until, @now, @now)`,
    ),
    reclaim: db.prepare(
      `UPDATE tasks SET status = 'running', attempts = attempts + 1, owner = @owner, fence = @fence, lease_until = @lease_until,
         output_digest = NULL, manifest = NULL, error = NULL, updated_at = @now
       WHERE key = @key`,
    ),
    renew: db.prepare(`UPDATE tasks SET lease_until = @lease_until, updated_at = @now ${fenced}`),
    checkpoint: db.prepare(`UPDATE tasks SET checkpoint = @checkpoint, lease_until = @lease_until, updated_at = @now ${fenced}`),
    complete: db.prepare(
      `UPDATE tasks SET status = 'done', output_digest = @output_digest, manifest = @manifest, error = NULL, checkpoint = NULL,
         lease_until = NULL, updated_at = @now ${fenced}`,
    ),
    fail: db.prepare(`UPDATE tasks SET status = 'failed', error = @error, manifest = @manifest, lease_until = NULL, updated_at = @now ${fenced}`),
    listAll: db.prepare(`SELECT * FROM tasks ORDER BY updated_at DESC, fence DESC LIMIT @limit`),
    listStatus: db.prepare(`SELECT * FROM tasks WHERE status = @status ORDER BY updated_at DESC, fence DESC LIMIT @limit`),
    count: db.prepare(`SELECT status, COUNT(*) AS n FROM tasks GROUP BY status`),
    gc: db.prepare(`DELETE FROM tasks WHERE status IN ('done', 'failed') AND updated_at < @cutoff`),
  };
}
