/**
 * The fleet ledger: PostgreSQL through a pg Pool, with the semantics of ledger.ts and the SQLite backend.
 *
 * A claim is one statement: `INSERT … ON CONFLICT (key) DO UPDATE … WHERE` the row is failed or its lease has
 * expired, `RETURNING` the new fence. PostgreSQL locks the conflicting row, so of two claimants racing on one key
 * exactly one gets a row back; the other reads the entry (done: reuse it; running: busy). Leases and all times
 * are the server's clock (`now()`, epoch ms), never the client's. Fences come from one sequence, so a fence is
 * never handed out twice, even after gc deletes a key. The tables (prefixed `fiscal_ledger_`) are created when
 * missing under an advisory lock, so that several processes opening a new database at once create them once.
 * The password of the URL is never printed: `url` carries none, and errors name host:port and the database.
 */
import pg from 'pg';
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

export interface PostgresLedgerOptions {
  /** Connections in the pool (default 10). */
  readonly maxConnections?: number;
  /** How long to wait for a connection before TASK_LEDGER_UNAVAILABLE (default 10 s). */
  readonly connectTimeoutMs?: number;
}

/** The server's clock in epoch ms (now() is the transaction's start: one value per statement here). */
const NOW_MS = `(extract(epoch from now()) * 1000)::bigint`;

/** Any constant: the advisory lock key under which the schema is created. */
const SCHEMA_LOCK = 7_274_010_001;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS fiscal_ledger_meta (
  name  text PRIMARY KEY,
  value bigint NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS fiscal_ledger_fence;
CREATE TABLE IF NOT EXISTS fiscal_ledger_tasks (
  key            text PRIMARY KEY,
  type           text NOT NULL,
  status         text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  payload_digest text NOT NULL,
  attempts       integer NOT NULL,
  owner          text,
  fence          bigint NOT NULL,
  lease_until    bigint,
  output_digest  text,
  manifest       text,
  error          text,
  checkpoint     text,
  created_at     bigint NOT NULL,
  updated_at     bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS fiscal_ledger_tasks_updated ON fiscal_ledger_tasks (updated_at);
CREATE INDEX IF NOT EXISTS fiscal_ledger_tasks_status_updated ON fiscal_ledger_tasks (status, updated_at);
`;

const CLAIM = `
INSERT INTO fiscal_ledger_tasks AS t (key, type, status, payload_digest, attempts, owner, fence, lease_until, created_at, updated_at)
SELECT $1, $2, 'running', $3, 1, $4, nextval('fiscal_ledger_fence'), n.ms + $5, n.ms, n.ms FROM (SELECT ${NOW_MS} AS ms) n
ON CONFLICT (key) DO UPDATE SET
  status = 'running', attempts = t.attempts + 1, owner = EXCLUDED.owner, fence = EXCLUDED.fence,
  lease_until = EXCLUDED.lease_until, output_digest = NULL, manifest = NULL, error = NULL, updated_at = EXCLUDED.updated_at
WHERE t.payload_digest = EXCLUDED.payload_digest
  AND (t.status = 'failed' OR (t.status = 'running' AND t.lease_until <= EXCLUDED.updated_at))
RETURNING t.fence, t.attempts, t.checkpoint`;

const FENCED = `WHERE key = $1 AND fence = $2 AND status = 'running'`;

/** How often a claim re-reads a key that changed between its upsert and its read (deleted by gc, failed, expired). */
const CLAIM_ROUNDS = 5;

/** The URL without its password (and without a `password` parameter): what `url` and every message show. */
export function redactPostgresUrl(url: string): string {
  const u = new URL(url);
  u.password = '';
  u.searchParams.delete('password');
  return u.toString();
}

/** `host:port/database` of a PostgreSQL URL, for messages. */
export function describePostgresUrl(url: string): string {
  const u = new URL(url);
  const host = u.searchParams.get('host') ?? (u.hostname === '' ? 'localhost' : decodeURIComponent(u.hostname));
  const port = u.searchParams.get('port') ?? (u.port === '' ? '5432' : u.port);
  const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
  return `${host}:${port}/${db}`;
}

/** Connects, creates the schema when missing, and returns the ledger; an unreachable server is TASK_LEDGER_UNAVAILABLE. */
export async function openPostgresLedger(url: string, options: PostgresLedgerOptions = {}): Promise<PostgresLedger> {
  const where = describePostgresUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
  });
  // an idle connection the server drops must not crash the process: the next query reports it
  pool.on('error', () => {});
  const ledger = new PostgresLedger(pool, redactPostgresUrl(url), where);
  try {
    await ledger.createSchema();
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  return ledger;
}

export class PostgresLedger implements Ledger {
  /** Use openPostgresLedger. */
  constructor(private readonly pool: pg.Pool, readonly url: string, private readonly where: string) {}

  /** Creates the tables when missing and checks the schema version, under a transaction-level advisory lock. */
  async createSchema(): Promise<void> {
    const client = await this.connect();
    try {
      await this.guard(async () => {
        await client.query('BEGIN');
        try {
          await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
          await client.query(SCHEMA);
          const { rows } = await client.query<{ value: string }>(`SELECT value FROM fiscal_ledger_meta WHERE name = 'schema_version'`);
          const version = rows[0] === undefined ? undefined : Number(rows[0].value);
          if (version === undefined) await client.query(`INSERT INTO fiscal_ledger_meta (name, value) VALUES ('schema_version', $1)`, [LEDGER_SCHEMA_VERSION]);
          else if (version > LEDGER_SCHEMA_VERSION) {
            throw new LedgerSchemaError(`PostgreSQL ledger ${this.where}: schema version ${version} was written by a newer engine (this one knows ${LEDGER_SCHEMA_VERSION})`);
          }
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        }
      });
    } finally {
      client.release();
    }
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    checkClaimRequest(request);
    const { key, type, payloadDigest, owner, leaseMs } = request;
    for (let round = 1; ; round++) {
      const won = await this.query<{ fence: string; attempts: number; checkpoint: string | null }>(CLAIM, [key, type, payloadDigest, owner, leaseMs]);
      const row = won.rows[0];
      if (row) {
        const checkpoint = row.checkpoint === null ? null : (JSON.parse(row.checkpoint) as JsonValue);
        return { kind: 'claimed', claim: { key, owner, fence: Number(row.fence), attempt: Number(row.attempts), checkpoint } };
      }
      // not claimed: the key is done, leased, or another payload's; read it (with the server's clock)
      const { rows } = await this.query<LedgerRow & { now_ms: string }>(`SELECT *, ${NOW_MS} AS now_ms FROM fiscal_ledger_tasks WHERE key = $1`, [key]);
      const current = rows[0];
      if (current) {
        if (current.payload_digest !== payloadDigest) throw new TaskKeyConflictError(key);
        if (current.status === 'done') return { kind: 'done', entry: rowToEntry(current) };
        const live = current.status === 'running' && Number(current.lease_until) > Number(current.now_ms);
        if (live || round === CLAIM_ROUNDS) return { kind: 'busy', entry: rowToEntry(current) };
      }
      // deleted, failed or expired since the upsert: try again
      if (round === CLAIM_ROUNDS && !current) throw new LedgerUnavailableError(`PostgreSQL ledger ${this.where}: task ${key} kept changing during a claim`);
    }
  }

  async renew(claim: Claim, leaseMs: number): Promise<void> {
    checkLeaseMs(leaseMs);
    const r = await this.query(`UPDATE fiscal_ledger_tasks SET lease_until = ${NOW_MS} + $3, updated_at = ${NOW_MS} ${FENCED}`, [claim.key, claim.fence, leaseMs]);
    leaseLost(claim.key, r.rowCount ?? 0);
  }

  async checkpoint(claim: Claim, checkpoint: JsonValue, leaseMs: number): Promise<void> {
    checkLeaseMs(leaseMs);
    const r = await this.query(
      `UPDATE fiscal_ledger_tasks SET checkpoint = $3, lease_until = ${NOW_MS} + $4, updated_at = ${NOW_MS} ${FENCED}`,
      [claim.key, claim.fence, toJson(checkpoint), leaseMs],
    );
    leaseLost(claim.key, r.rowCount ?? 0);
  }

  async complete(claim: Claim, result: { readonly outputDigest: string | null; readonly manifest: JsonValue }): Promise<void> {
    const r = await this.query(
      `UPDATE fiscal_ledger_tasks SET status = 'done', output_digest = $3, manifest = $4, error = NULL, checkpoint = NULL,
         lease_until = NULL, updated_at = ${NOW_MS} ${FENCED}`,
      [claim.key, claim.fence, result.outputDigest, toJson(result.manifest)],
    );
    leaseLost(claim.key, r.rowCount ?? 0);
  }

  async fail(claim: Claim, failure: { readonly error: TaskErrorInfo; readonly manifest: JsonValue }): Promise<void> {
    const error: TaskErrorInfo = { code: failure.error.code, message: failure.error.message };
    const r = await this.query(
      `UPDATE fiscal_ledger_tasks SET status = 'failed', error = $3, manifest = $4, lease_until = NULL, updated_at = ${NOW_MS} ${FENCED}`,
      [claim.key, claim.fence, toJson(error), toJson(failure.manifest)],
    );
    leaseLost(claim.key, r.rowCount ?? 0);
  }

  async get(key: string): Promise<LedgerEntry | null> {
    const { rows } = await this.query<LedgerRow>(`SELECT * FROM fiscal_ledger_tasks WHERE key = $1`, [key]);
    return rows[0] ? rowToEntry(rows[0]) : null;
  }

  async list(query?: ListQuery): Promise<LedgerEntry[]> {
    const limit = listLimit(query);
    const { rows } =
      query?.status === undefined
        ? await this.query<LedgerRow>(`SELECT * FROM fiscal_ledger_tasks ORDER BY updated_at DESC, fence DESC LIMIT $1`, [limit])
        : await this.query<LedgerRow>(`SELECT * FROM fiscal_ledger_tasks WHERE status = $1 ORDER BY updated_at DESC, fence DESC LIMIT $2`, [query.status, limit]);
    return rows.map(rowToEntry);
  }

  async count(): Promise<LedgerCounts> {
    const { rows } = await this.query<{ status: string; n: string }>(`SELECT status, COUNT(*) AS n FROM fiscal_ledger_tasks GROUP BY status`, []);
    return countsOf(rows);
  }

  async gc(olderThanMs: number): Promise<number> {
    checkOlderThan(olderThanMs);
    const r = await this.query(`DELETE FROM fiscal_ledger_tasks WHERE status IN ('done', 'failed') AND updated_at < ${NOW_MS} - $1`, [olderThanMs]);
    return r.rowCount ?? 0;
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }

  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return this.guard(() => this.pool.query<R>(text, values));
  }

  private async connect(): Promise<pg.PoolClient> {
    return this.guard(() => this.pool.connect());
  }

  /** The server's and the network's failures become TASK_LEDGER_UNAVAILABLE naming host:port/database. */
  private async guard<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      if (err instanceof FiscalError) throw err;
      throw new LedgerUnavailableError(`PostgreSQL ledger ${this.where}: ${reason(err)}`, { cause: err });
    }
  }
}

function reason(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: { code?: string }[] };
  // an AggregateError (IPv4 and IPv6 both refused) carries the codes in its errors
  const code = e.code ?? e.errors?.[0]?.code;
  switch (code) {
    case 'ECONNREFUSED': return 'connection refused (is the server running?)';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'unknown host';
    case 'ETIMEDOUT': return 'connection timed out';
    case 'ECONNRESET': return 'connection reset by the server';
    case 'ENOENT': return 'no server socket there (is the server running?)';
    case '28P01': case '28000': return e.message ?? 'authentication failed';
    case '3D000': return e.message ?? 'the database does not exist';
    default:
      if (/timeout/i.test(e.message ?? '')) return 'connection timed out';
      return code ? `${e.message ?? String(err)} (${code})` : (e.message ?? String(err));
  }
}
