/**
 * An in-memory Ledger (src/tasks/ledger.ts) with the interface's semantics — atomic claim, leases, fences, key
 * conflicts — for runTask tests in one process. Not exported by the package: the real backends are SQLite and
 * PostgreSQL.
 */
import {
  TaskKeyConflictError, TaskLeaseLostError, type Claim, type ClaimRequest, type ClaimResult, type JsonValue, type Ledger,
  type LedgerCounts, type LedgerEntry, type ListQuery, type TaskErrorInfo,
} from '../../src/tasks/ledger.js';

type Row = { -readonly [K in keyof LedgerEntry]: LedgerEntry[K] };

export class MemoryLedger implements Ledger {
  readonly url = 'memory:';
  private readonly rows = new Map<string, Row>();
  /** Claims made (for tests that count work). */
  claims = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async claim(r: ClaimRequest): Promise<ClaimResult> {
    const t = this.now();
    const row = this.rows.get(r.key);
    if (row && row.payloadDigest !== r.payloadDigest) throw new TaskKeyConflictError(r.key);
    if (row?.status === 'done') return { kind: 'done', entry: { ...row } };
    if (row?.status === 'running' && row.leaseUntil !== null && row.leaseUntil > t) return { kind: 'busy', entry: { ...row } };
    const next: Row = row ?? {
      key: r.key, type: r.type, status: 'running', payloadDigest: r.payloadDigest, attempts: 0, owner: null, fence: 0,
      leaseUntil: null, outputDigest: null, manifest: null, error: null, checkpoint: null, createdAt: t, updatedAt: t,
    };
    next.status = 'running';
    next.attempts += 1;
    next.fence += 1;
    next.owner = r.owner;
    next.leaseUntil = t + r.leaseMs;
    next.updatedAt = t;
    this.rows.set(r.key, next);
    this.claims++;
    return { kind: 'claimed', claim: { key: r.key, owner: r.owner, fence: next.fence, attempt: next.attempts, checkpoint: next.checkpoint } };
  }

  private owned(claim: Claim): Row {
    const row = this.rows.get(claim.key);
    if (!row || row.fence !== claim.fence || row.status !== 'running') throw new TaskLeaseLostError(claim.key);
    return row;
  }

  async renew(claim: Claim, leaseMs: number): Promise<void> {
    const row = this.owned(claim);
    row.leaseUntil = this.now() + leaseMs;
    row.updatedAt = this.now();
  }

  async checkpoint(claim: Claim, checkpoint: JsonValue, leaseMs: number): Promise<void> {
    const row = this.owned(claim);
    row.checkpoint = checkpoint;
    row.leaseUntil = this.now() + leaseMs;
    row.updatedAt = this.now();
  }

  async complete(claim: Claim, result: { readonly outputDigest: string | null; readonly manifest: JsonValue }): Promise<void> {
    const row = this.owned(claim);
    Object.assign(row, { status: 'done', outputDigest: result.outputDigest, manifest: result.manifest, leaseUntil: null, checkpoint: null, error: null, updatedAt: this.now() });
  }

  async fail(claim: Claim, failure: { readonly error: TaskErrorInfo; readonly manifest: JsonValue }): Promise<void> {
    const row = this.owned(claim);
    Object.assign(row, { status: 'failed', error: failure.error, manifest: failure.manifest, leaseUntil: null, updatedAt: this.now() });
  }

  async get(key: string): Promise<LedgerEntry | null> {
    const row = this.rows.get(key);
    return row ? { ...row } : null;
  }

  async list(query: ListQuery = {}): Promise<LedgerEntry[]> {
    return [...this.rows.values()]
      .filter((r) => query.status === undefined || r.status === query.status)
      .sort((a, b) => b.updatedAt - a.updatedAt)
      .slice(0, query.limit ?? 100)
      .map((r) => ({ ...r }));
  }

  async count(): Promise<LedgerCounts> {
    const counts = { running: 0, done: 0, failed: 0 };
    for (const r of this.rows.values()) counts[r.status]++;
    return counts;
  }

  async gc(olderThanMs: number): Promise<number> {
    let n = 0;
    for (const [k, r] of this.rows) {
      if (r.status !== 'running' && r.updatedAt < this.now() - olderThanMs) {
        this.rows.delete(k);
        n++;
      }
    }
    return n;
  }

  async close(): Promise<void> {}
}
