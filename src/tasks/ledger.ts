/**
 * The idempotency ledger: one row per task key, the single source of truth for "has this task's effect happened".
 * Backends (SQLite for one machine, PostgreSQL for fleets) implement this interface with the same semantics;
 * `openLedger(url)` picks one from a URL.
 *
 * Semantics (docs/tasks.md):
 * - `claim` is atomic. A key that is `done` is never claimed again: the caller gets the recorded entry and reuses
 *   its manifest. A key whose lease is live is `busy` (another owner works on it). A key that is new, `failed`,
 *   or whose owner's lease expired is claimed: `attempts` grows by one and `fence` gets a new, larger value.
 * - Every write of an owner (`renew`, `checkpoint`, `complete`, `fail`) is fenced: it succeeds only while the
 *   row's fence is still the claim's and the row is `running`; otherwise TaskLeaseLostError
 *   (TASK_LEASE_LOST): an owner whose lease was taken over cannot record anything.
 * - The same key with a different payload digest is refused (TASK_KEY_CONFLICT): a caller's `id` names one
 *   payload only.
 * - Times are the backend's clock (PostgreSQL: the server's `now()`), in epoch milliseconds.
 */
import { FiscalError } from '../errors.js';

export type TaskStatus = 'running' | 'done' | 'failed';

/** Any JSON value (manifests, checkpoints and errors are stored as JSON). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface TaskErrorInfo {
  readonly code: string;
  readonly message: string;
}

export interface LedgerEntry {
  readonly key: string;
  readonly type: string;
  readonly status: TaskStatus;
  /** SHA-256 (hex) of the canonical task payload the key was first claimed with. */
  readonly payloadDigest: string;
  /** Claims so far (1 after the first). */
  readonly attempts: number;
  /** The current or last owner (e.g. `host:pid:random`). */
  readonly owner: string | null;
  /** Grows at every claim; an owner's writes carry the fence it was given. */
  readonly fence: number;
  /** Epoch ms when the owner's lease ends (running only). */
  readonly leaseUntil: number | null;
  /** SHA-256 (hex) of the output, once done. */
  readonly outputDigest: string | null;
  /** The manifest recorded on completion (done) or failure (failed). */
  readonly manifest: JsonValue | null;
  readonly error: TaskErrorInfo | null;
  /** The last checkpoint of a running or failed attempt (resumable conversions), else null. */
  readonly checkpoint: JsonValue | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ClaimRequest {
  readonly key: string;
  readonly type: string;
  readonly payloadDigest: string;
  readonly owner: string;
  readonly leaseMs: number;
}

/** What an owner holds while it works: pass it back to every fenced write. */
export interface Claim {
  readonly key: string;
  readonly owner: string;
  readonly fence: number;
  readonly attempt: number;
  /** The checkpoint left by an earlier attempt (resume from it), or null. */
  readonly checkpoint: JsonValue | null;
}

export type ClaimResult =
  | { readonly kind: 'claimed'; readonly claim: Claim }
  | { readonly kind: 'done'; readonly entry: LedgerEntry }
  | { readonly kind: 'busy'; readonly entry: LedgerEntry };

/** How many entries have each status. */
export type LedgerCounts = Readonly<Record<TaskStatus, number>>;

export interface ListQuery {
  readonly status?: TaskStatus;
  /** Most recently updated first; default 100. */
  readonly limit?: number;
}

export interface Ledger {
  /** Where it lives (`sqlite:/abs/path`, `postgres://host/db` without the password). */
  readonly url: string;
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** Extends the lease by `leaseMs` from now. Fenced. */
  renew(claim: Claim, leaseMs: number): Promise<void>;
  /** Records a checkpoint (and renews the lease). Fenced. */
  checkpoint(claim: Claim, checkpoint: JsonValue, leaseMs: number): Promise<void>;
  /** Marks done with the output digest and manifest. Fenced. */
  complete(claim: Claim, result: { readonly outputDigest: string | null; readonly manifest: JsonValue }): Promise<void>;
  /** Marks failed (claimable again by a later run). Fenced. */
  fail(claim: Claim, failure: { readonly error: TaskErrorInfo; readonly manifest: JsonValue }): Promise<void>;
  get(key: string): Promise<LedgerEntry | null>;
  list(query?: ListQuery): Promise<LedgerEntry[]>;
  /** Entries by status, over the whole ledger (every key, whoever wrote it); a running one counts until it ends or is claimed again, lease lapsed or not. */
  count(): Promise<LedgerCounts>;
  /** Deletes done and failed entries last updated more than `olderThanMs` ago; returns how many. Never a running one. */
  gc(olderThanMs: number): Promise<number>;
  close(): Promise<void>;
}

/** An owner's fenced write lost: its lease expired and another owner claimed the key. */
export class TaskLeaseLostError extends FiscalError {
  constructor(readonly key: string, message = `task ${key}: the lease was lost to another owner`) {
    super('TASK_LEASE_LOST', message, 1);
  }
}

/** The same key (a caller's `id`) with a different payload. */
export class TaskKeyConflictError extends FiscalError {
  constructor(readonly key: string, message = `task ${key}: this id was already used for a different task payload`) {
    super('TASK_KEY_CONFLICT', message, 2);
  }
}
