/** The queue's own failures: documented in docs/errors.md. */
import { FiscalError, UsageError } from '../errors.js';

/** Every code the queue, `fiscal submit` and `fiscal queue` raise or record. */
export const QUEUE_CODES = ['QUEUE_URL', 'QUEUE_ROUTE', 'QUEUE_UNAVAILABLE', 'QUEUE_DELIVERY_LIMIT'] as const;

/** A `--queue` / FISCAL_QUEUE URL that names no adapter, or names one badly (exit 2). */
export class QueueUrlError extends UsageError {
  constructor(message: string) {
    super(message, 'QUEUE_URL');
  }
}

/** A route name outside `[A-Za-z0-9._-]+` (exit 2). */
export class QueueRouteError extends UsageError {
  constructor(route: string) {
    super(`route ${JSON.stringify(route)}: expected letters, digits, '.', '_' or '-' (e.g. v0)`, 'QUEUE_ROUTE');
  }
}

/** The queue cannot be opened or written: an SQLite file that cannot be opened, a lock held too long. */
export class QueueUnavailableError extends FiscalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('QUEUE_UNAVAILABLE', message, 2, options);
  }
}

const ROUTE = /^[A-Za-z0-9._-]+$/;

/** Returns the route when it is a valid name, else throws QueueRouteError. */
export function checkRoute(route: string): string {
  if (!ROUTE.test(route)) throw new QueueRouteError(route);
  return route;
}
