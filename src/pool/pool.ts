/**
 * The worker-thread pool every batch command and task shares (piscina). `threads: 1` runs jobs in the calling
 * thread, through the same job functions, so results never depend on the thread count. Jobs are named (jobs.ts);
 * their bytes go to workers as transferred ArrayBuffers (no copy), their results come back by structured clone.
 *
 * Backpressure is the caller's: `mapInOrder` keeps at most `inFlight` jobs queued or running and hands results
 * back in input order, so memory is bounded by the window, never by the input.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { UsageError } from '../errors.js';
import { runJob } from './jobs.js';
import type { JobMessage, JobReply } from './worker.js';
import { fromWireError } from './wire-error.js';

/** The default thread count: the cores this process may use. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/** A thread count from an option: undefined → the cores; otherwise a whole number ≥ 1. */
export function resolveThreads(threads: number | undefined): number {
  if (threads === undefined) return defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`threads must be a whole number of at least 1 (got ${threads})`, 'POOL_THREADS');
  return threads;
}

/**
 * The compiled worker entry. Workers always run the built JavaScript (`dist/pool/worker.js`): when this module
 * is itself loaded from `src/` (tests, through tap's TypeScript loader), it points at the build beside it.
 */
function workerFilename(): string {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.ts')) return new URL('../../dist/pool/worker.js', here).href;
  return new URL('./worker.js', here).href;
}

export interface RunJobOptions {
  /** ArrayBuffers in the payload to move to the worker instead of copying (the caller must not touch them after). */
  readonly transfer?: readonly ArrayBuffer[];
  readonly signal?: AbortSignal;
}

export interface FiscalPool {
  /** The thread count: 1 means jobs run in the calling thread. */
  readonly threads: number;
  /** Runs a named job (jobs.ts) on a worker (or inline at 1 thread). Errors keep their class and code. */
  run<R>(job: string, payload: unknown, options?: RunJobOptions): Promise<R>;
  /** Ends the workers (waits for running jobs). The pool cannot be used after. */
  close(): Promise<void>;
}

class InlinePool implements FiscalPool {
  readonly threads = 1;
  async run<R>(job: string, payload: unknown, options: RunJobOptions = {}): Promise<R> {
    options.signal?.throwIfAborted();
    return (await runJob(job, payload)) as R;
  }
  async close(): Promise<void> {}
}

class WorkerPool implements FiscalPool {
  private readonly piscina: Piscina<JobMessage, JobReply>;
  constructor(readonly threads: number) {
    this.piscina = new Piscina<JobMessage, JobReply>({
      filename: workerFilename(),
      minThreads: threads,
      maxThreads: threads,
      // the callers bound what they queue (mapInOrder); an idle worker stays for the next batch of a long run
      idleTimeout: 30_000,
      // a second job waits in the worker's own queue: it starts the moment the first ends, without the round trip
      // through the main thread (whose event loop may be busy writing results) that left workers idle 4-5 %
      concurrentTasksPerWorker: 2,
      // jobs allocate short-lived strings and trees by the megabyte: a larger young generation cut scavenges (GC in a
      // worker 707 -> 532 ms on 10k notes) for ~30 MiB more per thread
      resourceLimits: { maxYoungGenerationSizeMb: 64 },
    });
  }
  async run<R>(job: string, payload: unknown, options: RunJobOptions = {}): Promise<R> {
    const reply = await this.piscina.run(
      { job, payload },
      { transferList: options.transfer ? [...options.transfer] : undefined, signal: options.signal ?? null },
    );
    if (!reply.ok) throw fromWireError(reply.error);
    return reply.value as R;
  }
  close(): Promise<void> {
    return this.piscina.close();
  }
}

/** A pool of `threads` workers (undefined: the cores); `1` runs jobs in the calling thread. */
export function createPool(options: { threads?: number } = {}): FiscalPool {
  const threads = resolveThreads(options.threads);
  return threads === 1 ? new InlinePool() : new WorkerPool(threads);
}

/**
 * Runs `body` with the caller's pool when given, else with a pool of `threads` made for the call and closed after
 * it: library functions take `{ pool }` or `{ threads }` this way.
 */
export async function withPool<T>(options: { pool?: FiscalPool; threads?: number }, body: (pool: FiscalPool) => Promise<T>): Promise<T> {
  if (options.pool) return body(options.pool);
  const pool = createPool({ threads: options.threads });
  try {
    return await body(pool);
  } finally {
    await pool.close();
  }
}

/**
 * Maps `items` through `start` with at most `inFlight` results pending, and hands each result to `emit` in input
 * order (emit is awaited: a slow consumer slows the producer). The first failure (of `start` or `emit`) stops the
 * reading, waits for the jobs already started, and is thrown.
 */
export async function mapInOrder<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  start: (item: T, index: number) => Promise<R>,
  emit: (result: R, index: number) => Promise<void> | void,
  inFlight: number,
): Promise<void> {
  if (!Number.isInteger(inFlight) || inFlight < 1) throw new UsageError(`inFlight must be at least 1 (got ${inFlight})`, 'POOL_WINDOW');
  const window: Promise<R>[] = [];
  let next = 0;
  let emitted = 0;
  const drainOne = async (): Promise<void> => {
    const result = await window.shift()!;
    await emit(result, emitted++);
  };
  try {
    for await (const item of items) {
      const p = start(item, next++);
      p.catch(() => {}); // observed when its turn comes; never an unhandled rejection meanwhile
      window.push(p);
      if (window.length >= inFlight) await drainOne();
    }
    while (window.length > 0) await drainOne();
  } catch (err) {
    await Promise.allSettled(window);
    throw err;
  }
}
