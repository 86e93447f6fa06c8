/**
 * What both ledger backends share: the checks on a claim request, the fenced-write outcome, and the mapping of a
 * stored row (JSON as text, times as epoch ms) to a LedgerEntry.
 */
import { UsageError } from '../errors.js';
import { TaskLeaseLostError, type ClaimRequest, type JsonValue, type LedgerCounts, type LedgerEntry, type ListQuery, type TaskErrorInfo, type TaskStatus } from './ledger.js';

/** The schema version both backends write (SQLite `meta`, PostgreSQL `fiscal_ledger_meta`). */
export const LEDGER_SCHEMA_VERSION = 1;

export const TASK_STATUSES: readonly TaskStatus[] = ['running', 'done', 'failed'];

export const DEFAULT_LIST_LIMIT = 100;

export function isTaskStatus(value: string): value is TaskStatus {
  return (TASK_STATUSES as readonly string[]).includes(value);
}

/** A row as both backends store it: JSON columns as text, times as epoch ms (numbers or bigint strings from pg). */
export interface LedgerRow {
  key: string;
  type: string;
  status: string;
  payload_digest: string;
  attempts: number | string;
  owner: string | null;
  fence: number | string;
  lease_until: number | string | null;
  output_digest: string | null;
  manifest: string | null;
  error: string | null;
  checkpoint: string | null;
  created_at: number | string;
  updated_at: number | string;
}

export function checkClaimRequest(request: ClaimRequest): void {
  if (typeof request.key !== 'string' || request.key === '') throw new UsageError('a task key must be a non-empty string');
  if (typeof request.type !== 'string' || request.type === '') throw new UsageError(`task ${request.key}: the type must be a non-empty string`);
  if (typeof request.payloadDigest !== 'string' || request.payloadDigest === '') throw new UsageError(`task ${request.key}: the payload digest must be a non-empty string`);
  if (typeof request.owner !== 'string' || request.owner === '') throw new UsageError(`task ${request.key}: the owner must be a non-empty string`);
  checkLeaseMs(request.leaseMs);
}

export function checkLeaseMs(leaseMs: number): void {
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1) throw new UsageError(`a lease must be a whole number of milliseconds, at least 1 (got ${leaseMs})`);
}

export function checkOlderThan(olderThanMs: number): void {
  if (!Number.isSafeInteger(olderThanMs) || olderThanMs < 0) throw new UsageError(`gc needs an age in whole milliseconds, at least 0 (got ${olderThanMs})`);
}

/** `SELECT status, COUNT(*) …` rows as one count per status (statuses with no row are 0). */
export function countsOf(rows: readonly { readonly status: string; readonly n: number | string }[]): LedgerCounts {
  const counts: Record<TaskStatus, number> = { running: 0, done: 0, failed: 0 };
  for (const r of rows) if (isTaskStatus(r.status)) counts[r.status] = Number(r.n);
  return counts;
}

export function listLimit(query: ListQuery | undefined): number {
  const limit = query?.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new UsageError(`a list limit must be a whole number of at least 1 (got ${limit})`);
  if (query?.status !== undefined && !isTaskStatus(query.status)) throw new UsageError(`unknown task status ${String(query.status)} (expected ${TASK_STATUSES.join(', ')})`);
  return limit;
}

/** A fenced write changed no row: the claim's fence is no longer the row's (taken over, or the row is not running). */
export function leaseLost(key: string, changed: number): void {
  if (changed === 0) throw new TaskLeaseLostError(key);
}

export function toJson(value: JsonValue | TaskErrorInfo | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

function fromJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

function num(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}

export function rowToEntry(row: LedgerRow): LedgerEntry {
  return {
    key: row.key,
    type: row.type,
    status: row.status as TaskStatus,
    payloadDigest: row.payload_digest,
    attempts: num(row.attempts),
    owner: row.owner,
    fence: num(row.fence),
    leaseUntil: row.lease_until === null ? null : num(row.lease_until),
    outputDigest: row.output_digest,
    manifest: fromJson<JsonValue>(row.manifest),
    error: fromJson<TaskErrorInfo>(row.error),
    checkpoint: fromJson<JsonValue>(row.checkpoint),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}
