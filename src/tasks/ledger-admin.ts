/**
 * Inspecting and pruning a ledger (what `fiscal ledger show | list | gc` print): look an entry up, list entries,
 * delete old finished ones, parse an age (`30d`), and render entries for people. The JSON forms are the
 * LedgerEntry objects themselves.
 */
import { FiscalError, UsageError } from '../errors.js';
import type { Ledger, LedgerEntry } from './ledger.js';

/** `fiscal ledger show` of a key the ledger does not hold (exit 1, like a lookup that finds nothing). */
export class TaskNotFoundError extends FiscalError {
  constructor(readonly key: string) {
    super('TASK_NOT_FOUND', `task ${key}: not found in the ledger`, 1);
  }
}

const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30d`, `12h`, `15m`, `45s` (a whole number and one unit) in milliseconds; anything else is a UsageError. */
export function parseDuration(text: string): number {
  const m = /^([0-9]+)([smhd])$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNITS[m[2]!]! : NaN;
  if (!Number.isSafeInteger(ms)) throw new UsageError(`bad duration ${JSON.stringify(text)}: expected a whole number and a unit, e.g. 30d, 12h, 15m or 45s`);
  return ms;
}

/** The entry of `key`, or TaskNotFoundError. */
export async function showLedgerEntry(ledger: Ledger, key: string): Promise<LedgerEntry> {
  const entry = await ledger.get(key);
  if (!entry) throw new TaskNotFoundError(key);
  return entry;
}

export interface GcResult {
  readonly deleted: number;
  readonly olderThanMs: number;
}

/** Deletes done and failed entries last updated more than `olderThan` ago (`30d` or milliseconds). */
export async function gcLedger(ledger: Ledger, olderThan: string | number): Promise<GcResult> {
  const olderThanMs = typeof olderThan === 'number' ? olderThan : parseDuration(olderThan);
  return { deleted: await ledger.gc(olderThanMs), olderThanMs };
}

/** `2026-12-02T16:40:00.000Z (in 59 s)` / `(3 s ago)`. */
function when(ms: number, now: number): string {
  const delta = ms - now;
  const span = humanSpan(Math.abs(delta));
  return `${new Date(ms).toISOString()} (${delta >= 0 ? `in ${span}` : `${span} ago`})`;
}

function humanSpan(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1_000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}

function lease(entry: LedgerEntry, now: number): string {
  if (entry.status !== 'running' || entry.leaseUntil === null) return 'none';
  return `${entry.leaseUntil > now ? 'held until' : 'expired at'} ${when(entry.leaseUntil, now)}`;
}

/** One entry, one field a line, for people (`fiscal ledger show`); `now` is the clock the lease is told against. */
export function formatLedgerEntry(entry: LedgerEntry, now: number = Date.now()): string {
  const rows: [string, string][] = [
    ['key', entry.key],
    ['type', entry.type],
    ['status', entry.status],
    ['attempts', String(entry.attempts)],
    ['owner', entry.owner ?? '-'],
    ['lease', lease(entry, now)],
    ['fence', String(entry.fence)],
    ['payload', `sha256 ${entry.payloadDigest}`],
    ['output', entry.outputDigest === null ? '-' : `sha256 ${entry.outputDigest}`],
  ];
  if (entry.error) rows.push(['error', `${entry.error.code}: ${entry.error.message}`]);
  if (entry.checkpoint !== null) rows.push(['checkpoint', JSON.stringify(entry.checkpoint)]);
  rows.push(['created', when(entry.createdAt, now)], ['updated', when(entry.updatedAt, now)]);
  const text = rows.map(([name, value]) => `${name.padEnd(10)} ${value}`).join('\n');
  const manifest = entry.manifest === null ? '-' : JSON.stringify(entry.manifest, null, 2).replace(/\n/g, '\n           ');
  return `${text}\n${'manifest'.padEnd(10)} ${manifest}\n`;
}

/** Entries as a table, newest first (`fiscal ledger list`): status, attempts, updated, type, key. */
export function formatLedgerList(entries: readonly LedgerEntry[]): string {
  if (entries.length === 0) return 'no entries\n';
  const header = ['STATUS', 'ATTEMPTS', 'UPDATED', 'TYPE', 'KEY'];
  const rows = entries.map((e) => [e.status, String(e.attempts), new Date(e.updatedAt).toISOString(), e.type, e.key]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return `${[header, ...rows].map(line).join('\n')}\n`;
}
