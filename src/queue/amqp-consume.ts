/** What the two AMQP consumers share (src/queue/amqp.ts, src/queue/celery.ts): ending a delivery once, reopening after a loss. */
import { QueueConnectionError } from './amqp-errors.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Calls `open` until it succeeds or `going()` turns false, waiting 250 ms between tries, doubling up to 5 s. */
export async function reopenWithBackoff(open: () => Promise<void>, going: () => boolean): Promise<void> {
  let backoff = 250;
  while (going()) {
    try {
      await open();
      return;
    } catch {
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 5000);
    }
  }
}

/**
 * The `end` of one delivery: the first call runs `fn`, a second one throws; a broker failure in `fn` becomes a
 * QueueConnectionError naming `what` of `subject` (`task ID`) on `shown` (the broker redelivers the message).
 */
export function endOnce(id: string, subject: string, shown: string): (what: string, fn: () => Promise<void>) => Promise<void> {
  let ended = false;
  return async (what, fn) => {
    if (ended) throw new Error(`delivery ${id} already ended`);
    ended = true;
    try {
      await fn();
    } catch (err) {
      throw new QueueConnectionError(`${what} of ${subject} on ${shown} failed (the broker redelivers it): ${(err as Error).message}`, { cause: err });
    }
  };
}
