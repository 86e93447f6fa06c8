/** The RabbitMQ adapter's failures (docs/errors.md). Messages show the URL without its password. */
import { FiscalError } from '../errors.js';
import { QueueUrlError } from './errors.js';

export const AMQP_QUEUE_CODES = ['QUEUE_URL', 'QUEUE_CONNECTION'] as const;

/** One class for every bad queue URL (`local:` or `amqp://`), so `instanceof` holds whichever adapter refused it. */
export { QueueUrlError };

/** The broker cannot be reached, or the connection a delivery came on was lost before it was ended (the broker redelivers it). */
export class QueueConnectionError extends FiscalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('QUEUE_CONNECTION', message, 2, options);
  }
}

/** `amqp://user:secret@host/vhost` → `amqp://user@host/vhost`: what every message and `url` show. */
export function redactAmqpUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1@');
  }
}
