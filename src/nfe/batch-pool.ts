/**
 * NF-e batches on the shared pool (src/pool): the documents of the sources, read ahead (source.ts), go to a
 * named job a group at a time, and each document's result comes back to the caller's `emit` in input order.
 * At one thread the same job functions run in this thread, a document at a time; so the output, the findings,
 * the summary and `failFast` never depend on the thread count — only the work that a stop makes useless does.
 *
 * Memory stays bounded by three limits, never by the batch: the read-ahead's document count and bytes, the
 * group being filled (JOB_LIMITS), and mapInOrder's window of groups sent and not yet emitted (WINDOW_PER_THREAD).
 */
import { createPool, mapInOrder, resolveThreads, type FiscalPool, type RunJobOptions } from '../pool/pool.js';
import type { NfeBatchOptions, NfeSources } from './batch.js';
import { readOptionsOf } from './batch.js';
import { DEFAULT_READ_AHEAD, readXmlSources, type XmlDeferredFile, type XmlSourceItem } from './source.js';
import { toWireGroup, type WireDocument } from './wire-document.js';

/** Where a batch runs: the caller's pool, or one of `threads` made for the call (default: the cores). */
export type NfePoolOptions = Pick<NfeBatchOptions, 'threads' | 'pool'>;

/**
 * What one job takes at most on worker threads: a few documents sent together cost one message instead of
 * one each (a realistic note is verified in about 2 ms; a message costs a tenth of that on a loaded machine).
 */
export const JOB_LIMITS = { documents: 16, bytes: 256 * 1024 } as const;

/** Jobs sent and not yet emitted, per thread: one running, the next ones queued so a worker never waits. */
export const WINDOW_PER_THREAD = 4;

/** Where the counts of a run go (FindingTally has these fields). */
export interface RunCounter {
  documents: number;
  stopped: boolean;
}

type Group = { readonly docs: WireDocument[]; readonly transfer: ArrayBuffer[] | null } | { readonly error: unknown };

const NOT_READY = Symbol('not ready');
const nextTurn = (): Promise<typeof NOT_READY> => new Promise((resolve) => setImmediate(resolve, NOT_READY));

/**
 * The source items in groups of at most `limits`, in order. A group also goes as soon as the next item is not at
 * hand (a slow stdin): documents are never held back waiting for more. A read error ends the groups as a group
 * of its own, after every group before it, so it surfaces at its place in the output. `stop` is the reader's
 * signal: when the consumer stops while a read is pending, aborting it ends that read instead of waiting on it.
 */
async function* groupItems(
  items: AsyncGenerator<XmlSourceItem | XmlDeferredFile>,
  limits: { readonly documents: number; readonly bytes: number },
  workers: boolean,
  stop: AbortController,
): AsyncGenerator<Group> {
  let pending: Promise<IteratorResult<XmlSourceItem | XmlDeferredFile>> | null = null;
  let group: (XmlSourceItem | XmlDeferredFile)[] = [];
  let bytes = 0;
  // one turn of the event loop, shared by the waits of a group: it comes only once nothing else is ready (made
  // anew after a group goes, since the consumer may have held us over several turns)
  let turn: Promise<typeof NOT_READY> | null = null;
  const take = (): Group => {
    const g = toWireGroup(group, workers);
    group = [];
    bytes = 0;
    turn = null;
    return g;
  };
  try {
    for (;;) {
      pending ??= items.next();
      let r: IteratorResult<XmlSourceItem | XmlDeferredFile> | typeof NOT_READY;
      try {
        if (group.length === 0) r = await pending;
        else {
          turn ??= nextTurn();
          r = await Promise.race([pending, turn]);
        }
      } catch (error) {
        pending = null;
        if (group.length) yield take();
        yield { error };
        return;
      }
      if (r === NOT_READY) {
        yield take();
        continue;
      }
      pending = null;
      if (r.done) break;
      group.push(r.value);
      bytes += r.value.ok === true ? r.value.bytes.length : 0;
      if (group.length >= limits.documents || bytes >= limits.bytes) yield take();
    }
    if (group.length) yield take();
  } finally {
    if (pending) {
      stop.abort();
      await pending.catch(() => undefined);
    }
    await items.return(undefined);
  }
}

const STOP = Symbol('stop');

/** One pooled run: which job, on which documents, and what to do with each result. */
export interface PooledRun<R> {
  /** The sources, read with readXmlDocuments; or `read`, the caller's own reader of source items. */
  readonly sources: NfeSources;
  /**
   * Reads the source items instead of readXmlDocuments(sources) (a caller that splits files of concatenated
   * documents, say); given the read-ahead that keeps every worker fed and the signal that stops the reading.
   */
  readonly read?: (readAhead: number, signal: AbortSignal, deferFiles: boolean) => AsyncGenerator<XmlSourceItem | XmlDeferredFile>;
  /**
   * Items at the start of the reading to pass over (a run resumed after them): read again, since the order of a
   * reading never changes, but neither parsed nor emitted nor counted. Default 0.
   */
  readonly skip?: number;
  /** What one job takes at most on worker threads (default JOB_LIMITS). */
  readonly limits?: { readonly documents: number; readonly bytes: number };
  /** Reading, progress, cancellation, and the pool (`threads`, `pool`). */
  readonly options: NfeBatchOptions;
  /** The job's name (src/pool/jobs.ts); it gets `{ ...payload, docs }` and returns one result per document. */
  readonly job: string;
  readonly payload: Readonly<Record<string, unknown>>;
  /** Only the items it accepts go to the job (and are counted); default all. */
  readonly select?: (item: XmlSourceItem) => boolean;
  /** Counts the documents emitted; `stopped` set when `emit` stopped the run. */
  readonly counter: RunCounter;
  /** Gets each result in input order; resolves true to stop the run there (`failFast`). */
  readonly emit: (result: R) => Promise<boolean>;
}

/**
 * Runs a job on every document of the sources and hands each document's result to `emit` in input order,
 * counting it (and reporting progress) first. Cancellation (`options.signal`) rejects with the signal's reason
 * and emits nothing after it. Uses `options.pool`, or makes a pool of `options.threads` for the call.
 */
export async function runPooledDocuments<R>(spec: PooledRun<R>): Promise<void> {
  const { options, counter, select } = spec;
  options.signal?.throwIfAborted();
  await withNfePool(options, async (pool) => {
    const workers = pool.threads > 1;
    const stop = new AbortController();
    const cancel = (): void => stop.abort();
    options.signal?.addEventListener('abort', cancel);
    try {
      // the reads keep every worker fed: the read-ahead grows with the threads (its byte budget does not)
      const readAhead = DEFAULT_READ_AHEAD * pool.threads;
      // on workers, files are read by the job (the main thread's open/fstat/read/close round trips bounded a
      // batch of many small files); a `select` needs the bytes here
      const deferFiles = workers && !select;
      const reading = spec.read
        ? spec.read(readAhead, stop.signal, deferFiles)
        : readXmlSources(spec.sources, { ...readOptionsOf(options), readAhead, signal: stop.signal, deferFiles });
      const read = spec.skip ? afterItems(reading, spec.skip) : reading;
      const groups = groupItems(select ? filtered(read, select) : read, workers ? (spec.limits ?? JOB_LIMITS) : { documents: 1, bytes: 1 }, workers, stop);
      await mapInOrder(
        groups,
        (g) => ('error' in g ? Promise.reject(g.error) : pool.run<R[]>(spec.job, { ...spec.payload, docs: g.docs }, g.transfer ? { transfer: g.transfer } : {})),
        async (results) => {
          for (const r of results) {
            options.signal?.throwIfAborted();
            counter.documents++;
            options.onProgress?.(counter.documents);
            if (await spec.emit(r)) {
              counter.stopped = true;
              throw STOP;
            }
          }
        },
        workers ? pool.threads * WINDOW_PER_THREAD : 1,
      );
    } catch (err) {
      if (err !== STOP) throw err;
    } finally {
      options.signal?.removeEventListener('abort', cancel);
    }
    // a cancellation that ended the reading early is still a cancellation
    options.signal?.throwIfAborted();
  });
}

/**
 * A pool of worker threads made only when a second job comes: the first job runs in this thread. A batch of one
 * job (a single file, a handful of notes) is done before workers would have started, and a long batch loses one
 * job's worth of overlap. Where a job runs never changes its result.
 */
class PoolOnDemand implements FiscalPool {
  readonly #inline = createPool({ threads: 1 });
  #workers: FiscalPool | null = null;
  #jobs = 0;
  constructor(readonly threads: number) {}
  run<R>(job: string, payload: unknown, options?: RunJobOptions): Promise<R> {
    if (this.#jobs++ === 0) return this.#inline.run<R>(job, payload, options);
    this.#workers ??= createPool({ threads: this.threads });
    return this.#workers.run<R>(job, payload, options);
  }
  async close(): Promise<void> {
    await this.#workers?.close();
  }
}

/**
 * Runs `body` on `options.pool` when given (left open), else on a pool of `options.threads` (default: the
 * cores) made for the call, its workers started on demand, closed after.
 */
export async function withNfePool<T>(options: NfePoolOptions, body: (pool: FiscalPool) => Promise<T>): Promise<T> {
  if (options.pool) return body(options.pool);
  const threads = resolveThreads(options.threads);
  const pool = threads === 1 ? createPool({ threads: 1 }) : new PoolOnDemand(threads);
  try {
    return await body(pool);
  } finally {
    await pool.close();
  }
}

async function* filtered(items: AsyncGenerator<XmlSourceItem | XmlDeferredFile>, select: (item: XmlSourceItem) => boolean): AsyncGenerator<XmlSourceItem | XmlDeferredFile> {
  // never deferred: a run with a `select` reads its files here
  for await (const item of items) if (item.ok === 'deferred' || select(item)) yield item;
}

/** The items of a reading after its first `n`. */
async function* afterItems<T>(items: AsyncGenerator<T>, n: number): AsyncGenerator<T> {
  let seen = 0;
  for await (const item of items) if (++seen > n) yield item;
}
