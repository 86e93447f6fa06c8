/**
 * The worker's retry schedule (docs/queue.md "Retry policy"): retry number k (1-based) waits base · 2^(k-1), at
 * most 5 minutes. Shared by the worker (which delays) and the RabbitMQ adapter (which declares one delay queue per
 * delay up front, so that every process counts the tasks waiting in them).
 */
export const DEFAULT_RETRY_BASE_MS = 1000;
export const MAX_RETRY_DELAY_MS = 5 * 60_000;

/** The delay before retry number `attempt` (1-based): base · 2^(attempt-1), at most 5 minutes. */
export function retryDelay(attempt: number, baseMs: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** Every delay the schedule with this base can ask for, whatever the number of attempts (1000 ms: 1 s … 256 s, 300 s). */
export function retrySchedule(baseMs: number = DEFAULT_RETRY_BASE_MS): number[] {
  const delays: number[] = [];
  for (let k = 1; ; k++) {
    const ms = retryDelay(k, baseMs);
    if (delays.at(-1) === ms) return delays;
    delays.push(ms);
  }
}
