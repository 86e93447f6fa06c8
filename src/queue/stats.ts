/**
 * queueStats: what `fiscal queue stats` shows (docs/queue.md "Stats"). `pending` and `dead` always come from the
 * queue. `running`, `done` and `failed` come from the ledger when one is given (its counts over every key), else from
 * the queue when it keeps them (the embedded queue), else they are unknown (null): RabbitMQ holds only what waits.
 */
import type { Ledger } from '../tasks/ledger.js';
import type { TaskQueue } from './types.js';

export interface QueueStatsReport {
  readonly pending: number;
  /** null: not knowable from this queue without a ledger. */
  readonly running: number | null;
  readonly done: number | null;
  readonly failed: number | null;
  readonly dead: number;
}

export async function queueStats(queue: TaskQueue, options: { readonly ledger?: Ledger } = {}): Promise<QueueStatsReport> {
  const stats = await queue.stats();
  const { pending, dead } = stats;
  if (options.ledger) {
    const { running, done, failed } = await options.ledger.count();
    return { pending, running, done, failed, dead };
  }
  if (queue.countsOutcomes === true) return { pending, running: stats.running, done: stats.done, failed: stats.failed, dead };
  return { pending, running: null, done: null, failed: null, dead };
}
