/**
 * The embedded queue (`local:DIR`): one SQLite file DIR/queue.db (better-sqlite3, WAL), safe for several processes
 * of one machine and durable across kill -9 of any of them (docs/queue.md).
 *
 * One row per (route, id). A consumer takes a row in a `BEGIN IMMEDIATE` transaction (the write lock is held from
 * the read to the update, so two consumers never take one row), sets it running with a lease it renews on a timer,
 * and ends it with a fenced UPDATE (route, id, owner, attempt as taken): the end of a delivery whose lease expired
 * and that another consumer took again changes nothing. A running row whose lease expired (its consumer crashed)
 * is delivered again; a row delivered `deliveryLimit` times goes dead (QUEUE_DELIVERY_LIMIT) instead.
 *
 * Durability: submit and retry (what a caller is told is queued) commit with `synchronous = FULL`, fsynced before
 * they return, so a queued task survives a power loss. A delivery's changes (take, renew, complete, retry later,
 * dead letter, release) commit with `synchronous = NORMAL`: durable across kill -9 of any process (the WAL is in
 * the file), and a power loss can undo only the last of them, never a submit, since every fsync of the WAL covers
 * all that came before. An undone take or end is the at-least-once case the ledger already answers: the row is
 * pending, or running under a lease that lapses, and is delivered again; runTask then finds the key done in the
 * ledger (reused) or runs it again if it never finished.
 * better-sqlite3 is synchronous: the async methods do their work at once.
 */
import Database from 'better-sqlite3';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeDir } from '../common/make-dir.js';
import { FiscalError } from '../errors.js';
import { failedManifest, type TaskManifest } from '../tasks/run-task.js';
import { QueueUnavailableError, checkRoute } from './errors.js';
import type { ConsumeOptions, Consumer, DeadTask, Delivery, QueueStats, QueuedTask, SubmitOptions, TaskQueue } from './types.js';

export interface LocalQueueOptions {
  readonly route: string;
  /** A delivery's lease, renewed every third of it while open (default 30 000 ms). */
  readonly leaseMs?: number;
  /** Deliveries of one task before it goes dead with QUEUE_DELIVERY_LIMIT (default 10). */
  readonly deliveryLimit?: number;
  /** How often consumers and results() look at the file (default 100 ms; a submit in this process wakes them at once). */
  readonly pollMs?: number;
  /** How long a write waits for another process's lock (default 10 s). */
  readonly busyTimeoutMs?: number;
  /** This process's name on running rows (default `host:pid:random`). */
  readonly owner?: string;
}

export const DELIVERY_LIMIT_CODE = 'QUEUE_DELIVERY_LIMIT';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS queue (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  route        TEXT NOT NULL,
  id           TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'dead')),
  priority     INTEGER NOT NULL,
  attempt      INTEGER NOT NULL,
  available_at INTEGER NOT NULL,
  lease_until  INTEGER,
  owner        TEXT,
  task         TEXT NOT NULL,
  error        TEXT,
  manifest     TEXT,
  updated_at   INTEGER NOT NULL,
  UNIQUE (route, id)
);
CREATE INDEX IF NOT EXISTS queue_ready ON queue (route, status, priority DESC, seq);
`;

interface Row {
  seq: number;
  id: string;
  status: 'pending' | 'running' | 'done' | 'dead';
  priority: number;
  attempt: number;
  task: string;
  error: string | null;
  manifest: string | null;
  updated_at: number;
}

/** Wakes the consumers of a file in this process after a submit (other processes find the rows by polling). */
const wakers = new Map<string, Set<() => void>>();

function wake(file: string): void {
  for (const w of wakers.get(file) ?? []) w();
}

/** Opens (creating DIR and the file when missing) the embedded queue in DIR for one route. */
export async function openLocalQueue(dir: string, options: LocalQueueOptions): Promise<LocalQueue> {
  const folder = resolve(dir);
  await makeDir(folder);
  return new LocalQueue(folder, options);
}

export class LocalQueue implements TaskQueue {
  readonly url: string;
  readonly route: string;
  readonly countsOutcomes = true;
  readonly path: string;
  private readonly db: Database.Database;
  private readonly leaseMs: number;
  private readonly deliveryLimit: number;
  private readonly pollMs: number;
  private readonly owner: string;
  private readonly s: ReturnType<typeof prepare>;
  private readonly takeTx: (now: number) => Row | null;
  /** Each consumer's stop and the end of its lease renewals (at close). */
  private readonly consumers = new Set<{ stop(): Promise<void>; halt(): void }>();
  private closed = false;

  /** Use openLocalQueue (it creates the folder). */
  constructor(dir: string, options: LocalQueueOptions) {
    this.route = checkRoute(options.route);
    this.path = join(dir, 'queue.db');
    this.url = `local:${dir}#${this.route}`;
    this.leaseMs = positive(options.leaseMs ?? 30_000, 'leaseMs');
    this.deliveryLimit = positive(options.deliveryLimit ?? 10, 'deliveryLimit');
    this.pollMs = positive(options.pollMs ?? 100, 'pollMs');
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.db = this.guard(() => new Database(this.path, { timeout: options.busyTimeoutMs ?? 10_000 }));
    try {
      this.guard(() => {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = NORMAL'); // the deliveries'; submit and retry commit with FULL (durably)
        this.db.exec(SCHEMA);
      });
      this.s = prepare(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
    const s = this.s;
    const route = this.route;
    // One transaction per taken row: rows past the delivery limit go dead on the way, and the next is looked at.
    this.takeTx = this.db.transaction((now: number): Row | null => {
      for (;;) {
        const row = firstInLine(s.nextPending.get({ route, now }) as Row | undefined, s.nextLapsed.get({ route, now }) as Row | undefined);
        if (!row) return null;
        if (row.attempt >= this.deliveryLimit) {
          const error = { code: DELIVERY_LIMIT_CODE, message: `delivered ${row.attempt} times without an end (the delivery limit is ${this.deliveryLimit}): a worker crashes on it?` };
          s.toDead.run({ route, id: row.id, error: JSON.stringify(error), manifest: JSON.stringify(failedManifest(error, performance.now())), now });
          continue;
        }
        s.take.run({ route, id: row.id, owner: this.owner, lease_until: now + this.leaseMs, now });
        return { ...row, attempt: row.attempt + 1, status: 'running' };
      }
    }).immediate;
  }

  async submit(tasks: readonly QueuedTask[], _options?: SubmitOptions): Promise<void> {
    const now = Date.now();
    this.durably(() =>
      this.db.transaction(() => {
        for (const t of tasks) {
          const params = { route: this.route, id: t.id, priority: priorityOf(t.priority), task: JSON.stringify(t.task), now };
          if (this.s.insert.run(params).changes === 0) this.s.resubmit.run(params);
        }
      }).immediate(),
    );
    wake(this.path);
  }

  async *results(ids: readonly string[], options: { readonly signal?: AbortSignal } = {}): AsyncIterable<{ readonly id: string; readonly manifest: TaskManifest }> {
    const waiting = new Set(ids);
    while (waiting.size > 0) {
      options.signal?.throwIfAborted();
      for (const id of [...waiting]) {
        const row = this.guard(() => this.s.get.get({ route: this.route, id }) as Row | undefined);
        if (row && (row.status === 'done' || row.status === 'dead')) {
          waiting.delete(id);
          yield { id, manifest: manifestOf(row) };
        }
      }
      if (waiting.size > 0) await sleep(this.pollMs, undefined, options.signal ? { signal: options.signal } : {});
    }
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    const concurrency = positive(options.concurrency, 'concurrency');
    const open = new Map<string, number>(); // id → attempt of the deliveries this consumer holds
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const poll = (): void => {
      if (stopped || this.closed) return;
      clearTimeout(timer);
      try {
        while (open.size < concurrency) {
          const row = this.guard(() => this.takeTx(Date.now()));
          if (!row) break;
          open.set(row.id, row.attempt);
          options.onDelivery(this.delivery(row, () => {
            open.delete(row.id);
            queueMicrotask(poll);
          }));
        }
      } catch (err) {
        // a locked file: the next poll tries again
        if (!(err instanceof QueueUnavailableError)) throw err;
      }
      if (!stopped) timer = setTimeout(poll, this.pollMs);
    };
    const renew = setInterval(() => {
      const lease = Date.now() + this.leaseMs;
      for (const [id, attempt] of open) {
        try {
          this.guard(() => this.s.renew.run({ route: this.route, id, owner: this.owner, attempt, lease_until: lease }));
        } catch {
          // the next renewal tries again; a lease that lapses is redelivered, and the ledger answers the repeat
        }
      }
    }, Math.max(1, Math.floor(this.leaseMs / 3)));
    const waker = (): void => queueMicrotask(poll);
    let set = wakers.get(this.path);
    if (!set) wakers.set(this.path, (set = new Set()));
    set.add(waker);
    let check: NodeJS.Timeout | undefined;
    const consumer = {
      stop: async (): Promise<void> => {
        if (stopped) return;
        stopped = true;
        clearTimeout(timer);
        wakers.get(this.path)?.delete(waker);
        // open deliveries keep their lease until they end (renewals go on) or the queue closes
        if (open.size === 0) consumer.halt();
        else check = setInterval(() => open.size === 0 && consumer.halt(), this.pollMs);
      },
      halt: (): void => {
        clearInterval(renew);
        clearInterval(check);
        this.consumers.delete(consumer);
      },
    };
    this.consumers.add(consumer);
    poll();
    return consumer;
  }

  private delivery(row: Row, ended: () => void): Delivery {
    const fence = { route: this.route, id: row.id, owner: this.owner, attempt: row.attempt };
    let done = false;
    const end = async (body: (now: number) => void): Promise<void> => {
      if (done) throw new FiscalError('QUEUE_DELIVERY_ENDED', `delivery of ${row.id} already ended`);
      done = true;
      try {
        this.guard(() => body(Date.now()));
      } finally {
        ended();
      }
      wake(this.path);
    };
    return {
      id: row.id,
      task: JSON.parse(row.task) as unknown,
      priority: row.priority,
      attempt: row.attempt,
      complete: (manifest) => end((now) => void this.s.complete.run({ ...fence, manifest: JSON.stringify(manifest), now })),
      retryLater: (manifest, delayMs) =>
        end((now) => void this.s.retryLater.run({ ...fence, error: errorJson(manifest), available_at: now + Math.max(0, delayMs), now })),
      deadLetter: (manifest) => end((now) => void this.s.deadLetter.run({ ...fence, error: errorJson(manifest), manifest: JSON.stringify(manifest), now })),
      release: () => end((now) => void this.s.release.run({ ...fence, now })),
    };
  }

  async depth(): Promise<number> {
    return (this.guard(() => this.s.depth.get({ route: this.route })) as { n: number }).n;
  }

  async stats(): Promise<QueueStats> {
    const rows = this.guard(() => this.s.stats.all({ route: this.route }) as { status: string; failed: number; n: number }[]);
    const stats = { pending: 0, running: 0, done: 0, failed: 0, dead: 0 };
    for (const r of rows) {
      if (r.status === 'done' && r.failed) stats.failed += r.n;
      else stats[r.status as keyof typeof stats] += r.n;
    }
    return stats;
  }

  async dead(): Promise<readonly DeadTask[]> {
    const rows = this.guard(() => this.s.dead.all({ route: this.route }) as Row[]);
    return rows.map((r) => ({
      id: r.id,
      task: JSON.parse(r.task) as unknown,
      attempts: r.attempt,
      error: r.error === null ? { code: 'QUEUE_DEAD', message: 'dead-lettered' } : (JSON.parse(r.error) as { code: string; message: string }),
      deadAt: r.updated_at,
    }));
  }

  async retry(which: readonly string[] | 'all-dead'): Promise<number> {
    const now = Date.now();
    const n = this.durably(() =>
      which === 'all-dead'
        ? this.s.retryAll.run({ route: this.route, now }).changes
        : this.db.transaction(() => which.reduce((sum, id) => sum + this.s.retryOne.run({ route: this.route, id, now }).changes, 0)).immediate(),
    );
    wake(this.path);
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const c of [...this.consumers]) {
      await c.stop();
      c.halt();
    }
    this.closed = true;
    this.db.close();
  }

  /** `body` (one transaction) committed with synchronous = FULL: fsynced, with all the WAL before it, when it returns. */
  private durably<T>(body: () => T): T {
    return this.guard(() => {
      this.db.pragma('synchronous = FULL');
      try {
        return body();
      } finally {
        this.db.pragma('synchronous = NORMAL');
      }
    });
  }

  private guard<T>(body: () => T): T {
    try {
      return body();
    } catch (err) {
      if (err instanceof FiscalError) throw err;
      if (err instanceof Database.SqliteError || (err as { code?: unknown })?.code !== undefined) {
        const e = err as { code?: string; message?: string };
        const reason = e.code === 'SQLITE_BUSY' ? 'locked by another process for longer than the busy timeout' : (e.message ?? String(err));
        throw new QueueUnavailableError(`queue ${this.path}: ${reason}`, { cause: err });
      }
      throw err;
    }
  }
}

function positive(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new FiscalError('USAGE', `${name}: expected a whole number of at least 1, got ${n}`);
  return n;
}

/** The row to deliver first of a ready pending one and a lapsed running one: higher priority, then submitted first. */
function firstInLine(a: Row | undefined, b: Row | undefined): Row | undefined {
  if (!a || !b) return a ?? b;
  if (a.priority !== b.priority) return a.priority > b.priority ? a : b;
  return a.seq < b.seq ? a : b;
}

function priorityOf(p: number): number {
  return Number.isInteger(p) ? Math.min(9, Math.max(0, p)) : 0;
}

function errorJson(manifest: TaskManifest): string {
  return JSON.stringify(manifest.error ?? { code: 'TASK_FAILED', message: 'the task failed' });
}

function manifestOf(row: Row): TaskManifest {
  if (row.manifest !== null) return JSON.parse(row.manifest) as TaskManifest;
  const error = row.error === null ? { code: 'QUEUE_DEAD', message: 'dead-lettered' } : (JSON.parse(row.error) as { code: string; message: string });
  return failedManifest(error, performance.now());
}

function prepare(db: Database.Database) {
  const fenced = 'route = @route AND id = @id AND status = \'running\' AND owner = @owner AND attempt = @attempt';
  return {
    insert: db.prepare(`INSERT INTO queue (route, id, status, priority, attempt, available_at, task, updated_at)
      VALUES (@route, @id, 'pending', @priority, 0, @now, @task, @now) ON CONFLICT (route, id) DO NOTHING`),
    // a done or dead task submitted again: a user asked again (the ledger answers a done task without redoing it)
    resubmit: db.prepare(`UPDATE queue SET status = 'pending', priority = @priority, attempt = 0, available_at = @now, lease_until = NULL,
      owner = NULL, task = @task, error = NULL, manifest = NULL, updated_at = @now WHERE route = @route AND id = @id AND status IN ('done', 'dead')`),
    get: db.prepare('SELECT * FROM queue WHERE route = @route AND id = @id'),
    // two queries, each walking queue_ready in order for one status (one query with an OR over both scanned every
    // row of the route, done ones included, and sorted them: a take grew with the queue's history)
    nextPending: db.prepare(`SELECT * FROM queue WHERE route = @route AND status = 'pending' AND available_at <= @now
      ORDER BY priority DESC, seq LIMIT 1`),
    nextLapsed: db.prepare(`SELECT * FROM queue WHERE route = @route AND status = 'running' AND lease_until <= @now
      ORDER BY priority DESC, seq LIMIT 1`),
    take: db.prepare(`UPDATE queue SET status = 'running', attempt = attempt + 1, owner = @owner, lease_until = @lease_until, updated_at = @now
      WHERE route = @route AND id = @id`),
    toDead: db.prepare(`UPDATE queue SET status = 'dead', owner = NULL, lease_until = NULL, error = @error, manifest = @manifest, updated_at = @now
      WHERE route = @route AND id = @id`),
    renew: db.prepare(`UPDATE queue SET lease_until = @lease_until WHERE ${fenced}`),
    complete: db.prepare(`UPDATE queue SET status = 'done', owner = NULL, lease_until = NULL, manifest = @manifest, updated_at = @now WHERE ${fenced}`),
    retryLater: db.prepare(`UPDATE queue SET status = 'pending', owner = NULL, lease_until = NULL, available_at = @available_at, error = @error,
      updated_at = @now WHERE ${fenced}`),
    deadLetter: db.prepare(`UPDATE queue SET status = 'dead', owner = NULL, lease_until = NULL, error = @error, manifest = @manifest, updated_at = @now
      WHERE ${fenced}`),
    release: db.prepare(`UPDATE queue SET status = 'pending', owner = NULL, lease_until = NULL, available_at = @now, attempt = attempt - 1,
      updated_at = @now WHERE ${fenced}`),
    depth: db.prepare("SELECT count(*) AS n FROM queue WHERE route = @route AND status = 'pending'"),
    stats: db.prepare(`SELECT status, (status = 'done' AND json_extract(manifest, '$.status') = 'failed') AS failed, count(*) AS n
      FROM queue WHERE route = @route GROUP BY 1, 2`),
    dead: db.prepare("SELECT * FROM queue WHERE route = @route AND status = 'dead' ORDER BY updated_at, seq"),
    retryAll: db.prepare(`UPDATE queue SET status = 'pending', attempt = 0, available_at = @now, error = NULL, manifest = NULL, updated_at = @now
      WHERE route = @route AND status = 'dead'`),
    retryOne: db.prepare(`UPDATE queue SET status = 'pending', attempt = 0, available_at = @now, error = NULL, manifest = NULL, updated_at = @now
      WHERE route = @route AND id = @id AND status = 'dead'`),
  };
}
