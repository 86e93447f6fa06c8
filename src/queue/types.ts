/**
 * The queue contract (docs/queue.md): what `fiscal submit`, `fiscal worker` and `fiscal queue` need of a queue,
 * whatever carries it. Adapters: the embedded queue (`local:DIR`, SQLite in DIR, src/queue/local.ts) and RabbitMQ
 * (`amqp://…`, src/queue/amqp.ts). The ledger, not the queue, decides whether a task's effect happened: a queue
 * delivers at least once, and a redelivered task is answered from the ledger (runTask) instead of running again.
 *
 * Routes: every queue URL holds one queue per route (`fiscal.tasks.<route>`). A route is the engine version
 * line the tasks are meant for; a worker consumes its own engine's route (`v<ENGINE_MAJOR>`, or --route) so a new
 * engine version can be deployed beside the old one and new submissions routed to it (docs/deploy.md).
 */
import type { TaskManifest } from '../tasks/run-task.js';

/** A task as it travels: its id (the idempotency key), the task JSON as submitted, and its priority. */
export interface QueuedTask {
  /** The task's ledger key (taskKey), or the caller's `id`: submitting the same task twice gives the same id. */
  readonly id: string;
  /** The task (task.v1) exactly as submitted; the worker checks it again (runTask). */
  readonly task: unknown;
  /** 0 (default) … 9: higher first, where the adapter can order by it (docs/queue.md). */
  readonly priority: number;
}

export interface QueueStats {
  /** Waiting, including tasks waiting for their retry delay. */
  readonly pending: number;
  readonly running: number;
  readonly done: number;
  /** Failed attempts waiting for a retry are pending; this counts tasks whose last attempt failed and that are not dead (0 on adapters that retry by requeueing). */
  readonly failed: number;
  readonly dead: number;
}

export interface DeadTask {
  readonly id: string;
  readonly task: unknown;
  /** Deliveries so far (attempts, including crashed ones). */
  readonly attempts: number;
  readonly error: { readonly code: string; readonly message: string };
  /** Epoch ms when it was dead-lettered. */
  readonly deadAt: number;
}

/** One delivery of a task to a worker. Exactly one of complete / retryLater / deadLetter / release ends it. */
export interface Delivery {
  readonly id: string;
  readonly task: unknown;
  readonly priority: number;
  /** 1 the first time; grows at every delivery, a crashed worker's included. */
  readonly attempt: number;
  /**
   * Set when the queue already knows the delivery must not run (a Celery message this worker cannot run, or one
   * that expired): the worker dead-letters it at once with this error instead of running it.
   */
  readonly refusal?: { readonly code: string; readonly message: string };
  /** A hard time limit for this delivery's run (Celery's `timelimit`): past it the run is aborted and dead-lettered with TASK_TIME_LIMIT. */
  readonly timeLimitMs?: number;
  /** The task's effect is recorded in the ledger (or it failed for good and the worker says so by deadLetter): remove it; waiters get the manifest. */
  complete(manifest: TaskManifest): Promise<void>;
  /** A failed attempt: deliver it again after `delayMs`. */
  retryLater(manifest: TaskManifest, delayMs: number): Promise<void>;
  /** Failed for good: to the dead letters with its last error (and the manifest for waiters). */
  deadLetter(manifest: TaskManifest): Promise<void>;
  /** Not worked on (shutdown): back to the queue at once, not counted as an attempt where the adapter can. */
  release(): Promise<void>;
}

export interface ConsumeOptions {
  /** Deliveries held at once (the worker's --concurrency; RabbitMQ's prefetch). */
  readonly concurrency: number;
  /** Called for each delivery; the consumer waits while `concurrency` deliveries are open. */
  readonly onDelivery: (delivery: Delivery) => void;
}

export interface Consumer {
  /** Stops receiving new deliveries; open ones can still be ended. */
  stop(): Promise<void>;
}

/** What runWorker needs of a queue: a consume-only adapter (the Celery consumer, src/queue/celery.ts) is one too. */
export type WorkerQueue = Pick<TaskQueue, 'consume' | 'depth'>;

export interface SubmitOptions {
  /** Return each task's result manifest as it is known (`fiscal submit --wait`). */
  readonly wait?: boolean;
  readonly signal?: AbortSignal;
}

export interface TaskQueue {
  /** The queue's URL as shown (no password) with its route: `local:/var/lib/fiscal/queue#v0`. */
  readonly url: string;
  readonly route: string;
  /**
   * Whether stats() knows running/done/failed itself (the embedded queue keeps every task's state). Absent or false:
   * they come from elsewhere (RabbitMQ: the ledger's counts, see queueStats in src/queue/stats.ts).
   */
  readonly countsOutcomes?: boolean;
  /**
   * Enqueues durably (committed, or confirmed by the broker, when it resolves). A task whose id is already waiting
   * or running on this route is not queued a second time.
   */
  submit(tasks: readonly QueuedTask[], options?: SubmitOptions): Promise<void>;
  /** With `wait`: the manifests of these ids as they end (done, failed for good or dead), each once. */
  results(ids: readonly string[], options?: { readonly signal?: AbortSignal }): AsyncIterable<{ readonly id: string; readonly manifest: TaskManifest }>;
  consume(options: ConsumeOptions): Promise<Consumer>;
  /** Pending tasks (ready or delayed) on the route: a worker with --exit-when-idle stops when this is 0 and it holds nothing. */
  depth(): Promise<number>;
  stats(): Promise<QueueStats>;
  dead(): Promise<readonly DeadTask[]>;
  /** Back to pending, attempts from zero: these dead ids, or all dead ones. Returns how many. */
  retry(which: readonly string[] | 'all-dead'): Promise<number>;
  close(): Promise<void>;
}
