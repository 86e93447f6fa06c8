/**
 * Typed errors with stable codes. Callers branch on `code`, never on message text.
 * Every error that reaches the CLI maps to an exit code: 1 = the input has findings,
 * 2 = usage error or a source that cannot be opened or read.
 */

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

export type ExitCode = typeof EXIT_OK | typeof EXIT_FINDINGS | typeof EXIT_USAGE;

export class FiscalError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  constructor(code: string, message: string, exitCode: ExitCode = EXIT_USAGE, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Bad command line or bad options passed to a library function. */
export class UsageError extends FiscalError {
  constructor(message: string, code = 'USAGE') {
    super(code, message, EXIT_USAGE);
  }
}

/** A source that cannot be opened or read, or an output that cannot be written. */
export class SourceError extends FiscalError {
  readonly path: string | undefined;
  constructor(message: string, path?: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'IO_ERROR', message, EXIT_USAGE, options);
    this.path = path;
  }
}

/** Input that is present but wrong in a way that stops the operation (e.g. a value that cannot be written). */
export class InvalidInputError extends FiscalError {
  readonly line: number | null;
  constructor(code: string, message: string, line: number | null = null) {
    super(code, message, EXIT_FINDINGS);
    this.line = line;
  }
}

/** Converts a Node system error into a SourceError with a readable message. */
export function ioError(err: unknown, path: string, action: 'read' | 'write' | 'open' = 'open'): SourceError {
  const e = err as NodeJS.ErrnoException;
  const reason =
    e?.code === 'ENOENT' ? 'no such file or directory'
    : e?.code === 'EACCES' || e?.code === 'EPERM' ? 'permission denied'
    : e?.code === 'EISDIR' ? 'is a directory'
    : e?.code === 'ENOTDIR' ? 'not a directory'
    : e?.message ?? String(err);
  return new SourceError(`cannot ${action} ${path}: ${reason}`, path, { cause: err, code: e?.code ? `IO_${e.code}` : 'IO_ERROR' });
}
