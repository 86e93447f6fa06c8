/**
 * runWorker: consumes a TaskQueue's deliveries and runs each with runTask (docs/queue.md "Worker").
 *
 * - done → complete; failed with a MALFORMED_CODES code → deadLetter at once (running it again cannot help);
 *   any other failure → retryLater with exponential backoff while attempt < maxAttempts, else deadLetter.
 * - An unexpected throw (the ledger unreachable, …) ends the delivery with retryLater, never the process.
 * - `signal` aborted: no new deliveries; in-flight tasks get `graceMs` to finish, then are aborted and released
 *   (redelivered; the ledger makes the redelivery safe). `hardSignal` aborted: abort and release at once.
 * - `exitWhenIdle`: stops when nothing is in flight and the queue's depth is 0.
 * - A delivery with a `refusal` is dead-lettered with it, not run; one with `timeLimitMs` is aborted past it and
 *   dead-lettered with TASK_TIME_LIMIT (running it again would hit the same limit).
 * One JSON line per task event goes to `log`.
 */
import type { Writable } from 'node:stream';
import type { FiscalPool } from '../pool/pool.js';
import type { Ledger } from '../tasks/ledger.js';
import { MALFORMED_CODES, failedManifest, runTask, type TaskManifest } from '../tasks/run-task.js';
import type { WorkerMetrics } from './metrics.js';
import { DEFAULT_RETRY_BASE_MS, retryDelay } from './retry.js';
import type { Consumer, Delivery, WorkerQueue } from './types.js';

export { retryDelay } from './retry.js';

export interface WorkerOptions {
  readonly ledger: Ledger;
  readonly pool?: FiscalPool;
  /** Deliveries worked on at once. Default 1. */
  readonly concurrency?: number;
  readonly exitWhenIdle?: boolean;
  /** Attempts before a (transient) failure is dead-lettered. Default 5. */
  readonly maxAttempts?: number;
  /** First retry delay, doubled per attempt, capped at 5 minutes. Default 1000 ms. */
  readonly retryBaseMs?: number;
  /** runTask's lease length. */
  readonly leaseMs?: number;
  /** Time in-flight tasks get to finish after `signal` aborts. Default 30 000 ms. */
  readonly graceMs?: number;
  /** Graceful stop (first SIGTERM/SIGINT). */
  readonly signal?: AbortSignal;
  /** Immediate stop (second signal): in-flight tasks are aborted and released. */
  readonly hardSignal?: AbortSignal;
  /** One JSON line per task event. */
  readonly log?: Writable;
  readonly metrics?: WorkerMetrics;
  /** How often an idle worker with exitWhenIdle asks the queue's depth. Default 200 ms. */
  readonly idleCheckMs?: number;
  /** runTask's workDir. */
  readonly workDir?: string;
}

export interface WorkerSummary {
  readonly received: number;
  /** Completed: done, reused included. */
  readonly done: number;
  /** Failed attempts sent back for a retry. */
  readonly retried: number;
  readonly dead: number;
  readonly released: number;
  /** Why it stopped. */
  readonly stoppedBy: 'signal' | 'idle';
}

export type WorkerEvent = 'received' | 'started' | 'progress' | 'done' | 'failed' | 'dead' | 'released';

/** One log line (docs/queue.md). */
export interface WorkerLogLine {
  readonly time: string;
  readonly event: WorkerEvent;
  readonly id: string;
  readonly type: string | null;
  readonly key: string | null;
  readonly attempt: number;
  readonly durationMs: number;
  readonly outcome: string | null;
  readonly code?: string;
  readonly message?: string;
  readonly phase?: string;
  readonly done?: number;
  readonly delayMs?: number;
}

const PROGRESS_EVERY_MS = 1000;

/** What to do with a finished attempt. */
export function decide(manifest: TaskManifest, attempt: number, maxAttempts: number): 'complete' | 'dead' | 'retry' {
  if (manifest.status === 'done') return 'complete';
  if (manifest.error && MALFORMED_CODES.has(manifest.error.code)) return 'dead';
  return attempt < maxAttempts ? 'retry' : 'dead';
}

interface InFlight {
  readonly delivery: Delivery;
  readonly abort: AbortController;
  readonly started: number;
  /** Set once the delivery is ended (by the task or by a release): nothing ends it twice. */
  ended: boolean;
  /** Set when its timeLimitMs aborted it. */
  timedOut: boolean;
  done: Promise<void>;
}

function taskType(task: unknown): string | null {
  const type = (task as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : null;
}

/** Consumes until stopped; never throws for a task. Resolves with what it did. */
export async function runWorker(queue: WorkerQueue, options: WorkerOptions): Promise<WorkerSummary> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const retryBaseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
  const graceMs = options.graceMs ?? 30_000;
  const { metrics } = options;
  const counts = { received: 0, done: 0, retried: 0, dead: 0, released: 0 };
  const inFlight = new Map<Delivery, InFlight>();
  let stopping = false;
  let stoppedBy: WorkerSummary['stoppedBy'] = 'signal';

  const write = (line: WorkerLogLine): void => {
    options.log?.write(`${JSON.stringify(line)}\n`);
  };
  const emit = (event: WorkerEvent, d: Delivery, started: number, extra: Partial<WorkerLogLine> = {}): void => {
    write({
      time: new Date().toISOString(), event, id: d.id, type: taskType(d.task), key: null, attempt: d.attempt,
      durationMs: Math.round(performance.now() - started), outcome: null, ...extra,
    });
  };
  const count = (d: Delivery, outcome: string, started: number): void => {
    const type = taskType(d.task) ?? 'unknown';
    metrics?.tasks.inc({ type, outcome });
    metrics?.duration.observe({ type }, (performance.now() - started) / 1000);
  };

  let wake: () => void = () => {};
  let stopped = new Promise<void>((resolve) => { wake = resolve; });
  const requestStop = (by: WorkerSummary['stoppedBy']): void => {
    if (stopping) return;
    stopping = true;
    stoppedBy = by;
    wake();
  };

  const release = async (f: InFlight): Promise<void> => {
    if (f.ended) return;
    f.ended = true;
    counts.released++;
    count(f.delivery, 'released', f.started);
    emit('released', f.delivery, f.started, { outcome: 'released' });
    await f.delivery.release().catch((err: Error) => emit('released', f.delivery, f.started, { outcome: 'released', code: 'QUEUE_ERROR', message: err.message }));
  };

  /** Ends a delivery by the task's result. */
  const finish = async (f: InFlight, manifest: TaskManifest): Promise<void> => {
    if (f.ended) return;
    f.ended = true;
    const d = f.delivery;
    const what = d.refusal || f.timedOut ? 'dead' : decide(manifest, d.attempt, maxAttempts);
    const base = { key: manifest.key, ...(manifest.error ? { code: manifest.error.code, message: manifest.error.message } : {}) };
    try {
      if (what === 'complete') {
        await d.complete(manifest);
        counts.done++;
        const outcome = manifest.reused ? 'reused' : 'done';
        count(d, outcome, f.started);
        emit('done', d, f.started, { ...base, outcome });
      } else if (what === 'dead') {
        await d.deadLetter(manifest);
        counts.dead++;
        count(d, 'dead', f.started);
        emit('dead', d, f.started, { ...base, outcome: 'dead' });
      } else {
        const delayMs = retryDelay(d.attempt, retryBaseMs);
        await d.retryLater(manifest, delayMs);
        counts.retried++;
        count(d, 'failed', f.started);
        emit('failed', d, f.started, { ...base, outcome: 'failed', delayMs });
      }
    } catch (err) {
      // the queue refused the end (connection lost): the delivery comes back by the queue's own redelivery
      emit('failed', d, f.started, { ...base, outcome: 'unacknowledged', code: 'QUEUE_ERROR', message: (err as Error).message });
    }
  };

  const work = async (f: InFlight): Promise<void> => {
    const d = f.delivery;
    if (d.refusal) {
      await finish(f, failedManifest(d.refusal, f.started, { type: taskType(d.task) }));
      return;
    }
    emit('started', d, f.started);
    let lastProgress = 0;
    const limit = d.timeLimitMs;
    const timer = limit === undefined ? null : setTimeout(() => {
      f.timedOut = true;
      f.abort.abort(new Error('time limit'));
    }, limit);
    const timedOut = (): Promise<void> =>
      finish(f, failedManifest({ code: 'TASK_TIME_LIMIT', message: `aborted after its hard time limit of ${(limit ?? 0) / 1000} s` }, f.started, { type: taskType(d.task) }));
    try {
      const manifest = await runTask(d.task, {
        ledger: options.ledger, signal: f.abort.signal,
        ...(options.pool ? { pool: options.pool } : {}),
        ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
        ...(options.workDir !== undefined ? { workDir: options.workDir } : {}),
        onProgress: (p) => {
          const now = performance.now();
          if (now - lastProgress < PROGRESS_EVERY_MS) return;
          lastProgress = now;
          emit('progress', d, f.started, { phase: p.phase, ...(p.done !== undefined ? { done: p.done } : {}) });
        },
      });
      if (f.timedOut) await timedOut();
      else if (f.abort.signal.aborted) await release(f);
      else await finish(f, manifest);
    } catch (err) {
      if (f.timedOut && !f.ended) {
        await timedOut();
        return;
      }
      if (f.abort.signal.aborted || f.ended) {
        await release(f);
        return;
      }
      // not a task failure (runTask never throws for one): the ledger or the disk; try again later
      const message = (err as Error)?.message ?? String(err);
      await finish(f, failedManifest({ code: 'TASK_INTERNAL', message }, f.started, { type: taskType(d.task) }));
    } finally {
      if (timer) clearTimeout(timer);
    }
  };

  // Idle = nothing in flight and depth 0 at two checks in a row: a broker's depth leaves out a message already on
  // its way to this consumer (delivered, not yet handed to onDelivery), which arrives well within one tick.
  let idleOnce = false;
  const checkIdle = async (): Promise<void> => {
    if (!options.exitWhenIdle || stopping || inFlight.size > 0) { idleOnce = false; return; }
    try {
      const idle = (await queue.depth()) === 0 && inFlight.size === 0;
      if (idle && idleOnce) requestStop('idle');
      idleOnce = idle;
    } catch {
      idleOnce = false; // the queue is unreachable: not idle, ask again at the next tick
    }
  };

  const onDelivery = (d: Delivery): void => {
    const f: InFlight = { delivery: d, abort: new AbortController(), started: performance.now(), ended: false, timedOut: false, done: Promise.resolve() };
    counts.received++;
    emit('received', d, f.started);
    if (stopping) {
      void release(f);
      return;
    }
    inFlight.set(d, f);
    metrics?.inFlight.set(inFlight.size);
    f.done = work(f).finally(() => {
      inFlight.delete(d);
      metrics?.inFlight.set(inFlight.size);
      if (stopping && inFlight.size === 0) wake();
      void checkIdle();
    });
  };

  const onSignal = (): void => requestStop('signal');
  const onHard = (): void => {
    requestStop('signal');
    for (const f of inFlight.values()) {
      f.abort.abort(options.hardSignal?.reason);
      void release(f);
    }
  };
  if (options.signal?.aborted) stopping = true;
  options.signal?.addEventListener('abort', onSignal, { once: true });
  options.hardSignal?.addEventListener('abort', onHard, { once: true });

  let consumer: Consumer | null = null;
  let idleTimer: NodeJS.Timeout | null = null;
  try {
    if (!stopping) {
      consumer = await queue.consume({ concurrency, onDelivery });
      if (options.exitWhenIdle) {
        idleTimer = setInterval(() => void checkIdle(), options.idleCheckMs ?? 200);
        void checkIdle();
      }
      await stopped;
    }
    if (idleTimer) clearInterval(idleTimer);
    await consumer?.stop().catch(() => {});
    // graceful: the in-flight tasks get graceMs to end by themselves
    if (inFlight.size > 0) {
      stopped = new Promise<void>((resolve) => { wake = resolve; });
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise<void>((resolve) => { grace = setTimeout(resolve, graceMs); })]);
      clearTimeout(grace);
      for (const f of inFlight.values()) {
        f.abort.abort(new Error('worker stopping'));
        await release(f);
      }
      await Promise.allSettled([...inFlight.values()].map((f) => f.done));
    }
  } finally {
    if (idleTimer) clearInterval(idleTimer);
    options.signal?.removeEventListener('abort', onSignal);
    options.hardSignal?.removeEventListener('abort', onHard);
  }
  return { ...counts, stoppedBy };
}
