/**
 * `openLedger(url)`: the ledger a URL names. `sqlite:PATH` (relative to the working directory) is the embedded
 * default; `postgres://…` / `postgresql://…` a shared server (pg is loaded only then). No URL: FISCAL_LEDGER, else
 * `sqlite:.fiscal/ledger.db` in the working directory. A bad URL is TASK_LEDGER_URL (exit 2), never echoing a
 * password.
 */
import { resolve } from 'node:path';
import type { Ledger } from './ledger.js';
import { LedgerUrlError } from './ledger-errors.js';
import type { PostgresLedgerOptions } from './ledger-postgres.js';
import { openSqliteLedger, type SqliteLedgerOptions } from './ledger-sqlite.js';
import { hidePassword } from '../common/hide-password.js';

export const DEFAULT_LEDGER_URL = 'sqlite:.fiscal/ledger.db';

export type LedgerLocation =
  | { readonly backend: 'sqlite'; readonly path: string }
  | { readonly backend: 'postgres'; readonly url: string };

export interface OpenLedgerOptions {
  /** Where a relative `sqlite:` path starts (default process.cwd()). */
  readonly cwd?: string;
  /** Where FISCAL_LEDGER is read (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly sqlite?: SqliteLedgerOptions;
  readonly postgres?: PostgresLedgerOptions;
}

/** The URL a run uses: the one given, else FISCAL_LEDGER, else the default. */
export function ledgerUrl(url: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (url !== undefined) return url;
  const fromEnv = env.FISCAL_LEDGER;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_LEDGER_URL;
}

/** Parses a ledger URL (no I/O); a URL that names no backend is a LedgerUrlError. */
export function parseLedgerUrl(url: string, cwd: string = process.cwd()): LedgerLocation {
  const shown = hidePassword(url);
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '') throw new LedgerUrlError(`ledger URL ${shown}: sqlite: needs a file path (sqlite:.fiscal/ledger.db, sqlite:/var/lib/fiscal/ledger.db)`);
    if (/^\/\/[^/]/.test(path)) throw new LedgerUrlError(`ledger URL ${shown}: sqlite: takes a file path, not a host (sqlite:/absolute/path.db or sqlite:relative/path.db)`);
    return { backend: 'sqlite', path: resolve(cwd, path) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new LedgerUrlError(`ledger URL ${shown}: not a valid PostgreSQL URL (postgres://user:password@host:5432/database)`);
    }
    return { backend: 'postgres', url };
  }
  throw new LedgerUrlError(`ledger URL ${shown}: expected sqlite:PATH or postgres://user:password@host:5432/database`);
}

/** Opens the ledger `url` names (see ledgerUrl for the default). */
export async function openLedger(url?: string, options: OpenLedgerOptions = {}): Promise<Ledger> {
  const location = parseLedgerUrl(ledgerUrl(url, options.env), options.cwd);
  if (location.backend === 'sqlite') return openSqliteLedger(location.path, options.sqlite);
  const { openPostgresLedger } = await import('./ledger-postgres.js');
  return openPostgresLedger(location.url, options.postgres);
}
