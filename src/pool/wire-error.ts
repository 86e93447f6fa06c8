/**
 * Errors across the thread boundary. Structured clone keeps an Error's message but not its class or its `code`,
 * so a job's FiscalError travels as data and is rebuilt on the calling side with the same class, code, exit
 * code, line and path: a caller cannot tell whether the job ran in a worker or in its own thread.
 */
import { FiscalError, InvalidInputError, SourceError, UsageError, type ExitCode } from '../errors.js';

export interface WireError {
  readonly kind: 'usage' | 'source' | 'invalid-input' | 'fiscal' | 'other';
  readonly code: string;
  readonly message: string;
  readonly exitCode: ExitCode;
  readonly line: number | null;
  readonly path: string | null;
  readonly stack: string | null;
}

export function toWireError(err: unknown): WireError {
  if (err instanceof FiscalError) {
    const kind = err instanceof UsageError ? 'usage' : err instanceof SourceError ? 'source' : err instanceof InvalidInputError ? 'invalid-input' : 'fiscal';
    return {
      kind,
      code: err.code,
      message: err.message,
      exitCode: err.exitCode,
      line: err instanceof InvalidInputError ? err.line : null,
      path: err instanceof SourceError ? err.path ?? null : null,
      stack: err.stack ?? null,
    };
  }
  const e = err as { message?: unknown; code?: unknown; stack?: unknown } | null;
  return {
    kind: 'other',
    code: typeof e?.code === 'string' ? e.code : 'INTERNAL',
    message: typeof e?.message === 'string' ? e.message : String(err),
    exitCode: 2,
    line: null,
    path: null,
    stack: typeof e?.stack === 'string' ? e.stack : null,
  };
}

export function fromWireError(w: WireError): Error {
  let err: Error;
  switch (w.kind) {
    case 'usage': err = new UsageError(w.message, w.code); break;
    case 'source': err = new SourceError(w.message, w.path ?? undefined, { code: w.code }); break;
    case 'invalid-input': err = new InvalidInputError(w.code, w.message, w.line); break;
    case 'fiscal': err = new FiscalError(w.code, w.message, w.exitCode); break;
    default: err = Object.assign(new Error(w.message), { code: w.code });
  }
  if (w.stack) err.stack = `${err.stack ?? ''}\n    --- in the pool worker ---\n${w.stack}`;
  return err;
}
