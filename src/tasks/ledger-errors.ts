/** The ledger's own failures (beside ledger.ts's TaskLeaseLostError and TaskKeyConflictError): documented in docs/errors.md. */
import { FiscalError, UsageError } from '../errors.js';

/** Every code the ledger and `fiscal ledger` raise (test/tasks/ledger-errors.ts checks docs/errors.md has each). */
export const LEDGER_CODES = ['TASK_LEASE_LOST', 'TASK_KEY_CONFLICT', 'TASK_LEDGER_URL', 'TASK_LEDGER_UNAVAILABLE', 'TASK_LEDGER_SCHEMA', 'TASK_NOT_FOUND'] as const;

/** A `--ledger` / FISCAL_LEDGER URL that names no backend, or names one badly. */
export class LedgerUrlError extends UsageError {
  constructor(message: string) {
    super(message, 'TASK_LEDGER_URL');
  }
}

/** The ledger cannot be reached or opened: a PostgreSQL server that does not answer, an SQLite file that cannot be opened. */
export class LedgerUnavailableError extends FiscalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TASK_LEDGER_UNAVAILABLE', message, 2, options);
  }
}

/** The ledger's schema was written by a newer engine (a version this one does not know). */
export class LedgerSchemaError extends FiscalError {
  constructor(message: string) {
    super('TASK_LEDGER_SCHEMA', message, 2);
  }
}
