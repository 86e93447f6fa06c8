/**
 * An in-memory TaskQueue (src/queue/types.ts) with the contract's semantics — at-least-once deliveries ended
 * exactly once, at most `concurrency` open per consumer, delayed retries, dead letters — for worker tests in one
 * process. Not exported by the package: the real adapters are local: (SQLite) and amqp://.
 */
import type { TaskManifest } from '../../src/tasks/run-task.js';
import type { ConsumeOptions, Consumer, DeadTask, Delivery, QueueStats, QueuedTask, TaskQueue } from '../../src/queue/types.js';

interface Entry {
  readonly task: QueuedTask;
  attempts: number;
  availableAt: number;
}

export interface EndRecord {
  readonly id: string;
  readonly attempt: number;
  readonly how: 'complete' | 'retryLater' | 'deadLetter' | 'release';
  readonly delayMs?: number;
  readonly manifest?: TaskManifest;
}

export class MemoryQueue implements TaskQueue {
  readonly url = 'memory:#test';
  readonly route = 'test';
  readonly countsOutcomes = true;
  private pending: Entry[] = [];
  private readonly running = new Map<string, Entry>();
  private readonly deadTasks: DeadTask[] = [];
  private doneCount = 0;
  private readonly consumers = new Set<() => void>();
  /** Every end of every delivery, in order. */
  readonly ends: EndRecord[] = [];
  /** Most deliveries open at once, over all consumers. */
  maxOpen = 0;
  /** When set, retryLater delays are replaced by this (tests do not wait minutes). */
  constructor(private readonly delayScale = 1) {}

  async submit(tasks: readonly QueuedTask[]): Promise<void> {
    for (const task of tasks) {
      if (this.running.has(task.id) || this.pending.some((e) => e.task.id === task.id)) continue;
      this.pending.push({ task, attempts: 0, availableAt: 0 });
    }
    this.kick();
  }

  /** Puts a task on the queue even if it is already there (a duplicate delivery, as a broker may make). */
  duplicate(task: QueuedTask): void {
    this.pending.push({ task, attempts: 0, availableAt: 0 });
    this.kick();
  }

  async *results(): AsyncIterable<{ readonly id: string; readonly manifest: TaskManifest }> {
    // not needed by the worker
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    let open = 0;
    let stopped = false;
    let timer: NodeJS.Timeout | null = null;
    const pump = (): void => {
      if (stopped) return;
      const now = Date.now();
      while (open < options.concurrency) {
        const i = this.pending.findIndex((e) => e.availableAt <= now);
        if (i < 0) break;
        const [entry] = this.pending.splice(i, 1) as [Entry];
        entry.attempts++;
        this.running.set(entry.task.id, entry);
        open++;
        this.maxOpen = Math.max(this.maxOpen, open);
        options.onDelivery(this.delivery(entry, () => { open--; queueMicrotask(pump); }));
      }
      const next = this.pending.reduce((m, e) => Math.min(m, e.availableAt), Infinity);
      if (timer) clearTimeout(timer);
      timer = Number.isFinite(next) && open < options.concurrency ? setTimeout(pump, Math.max(1, next - now)) : null;
    };
    this.consumers.add(pump);
    queueMicrotask(pump);
    return {
      stop: async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        this.consumers.delete(pump);
      },
    };
  }

  private kick(): void {
    for (const pump of this.consumers) queueMicrotask(pump);
  }

  private delivery(entry: Entry, onEnd: () => void): Delivery {
    let ended = false;
    const attempt = entry.attempts;
    const end = (how: EndRecord['how'], extra: Omit<EndRecord, 'id' | 'attempt' | 'how'>, apply: () => void): Promise<void> => {
      if (ended) return Promise.reject(new Error(`delivery ${entry.task.id} ended twice`));
      ended = true;
      this.running.delete(entry.task.id);
      apply();
      this.ends.push({ id: entry.task.id, attempt, how, ...extra });
      onEnd();
      this.kick();
      return Promise.resolve();
    };
    return {
      id: entry.task.id, task: entry.task.task, priority: entry.task.priority, attempt,
      complete: (manifest) => end('complete', { manifest }, () => { this.doneCount++; }),
      retryLater: (manifest, delayMs) => end('retryLater', { manifest, delayMs }, () => {
        entry.availableAt = Date.now() + delayMs * this.delayScale;
        this.pending.push(entry);
      }),
      deadLetter: (manifest) => end('deadLetter', { manifest }, () => {
        this.deadTasks.push({
          id: entry.task.id, task: entry.task.task, attempts: entry.attempts,
          error: manifest.error ?? { code: 'UNKNOWN', message: '' }, deadAt: Date.now(),
        });
      }),
      release: () => end('release', {}, () => {
        entry.attempts--;
        this.pending.push(entry);
      }),
    };
  }

  async depth(): Promise<number> {
    return this.pending.length;
  }

  async stats(): Promise<QueueStats> {
    return { pending: this.pending.length, running: this.running.size, done: this.doneCount, failed: 0, dead: this.deadTasks.length };
  }

  async dead(): Promise<readonly DeadTask[]> {
    return [...this.deadTasks];
  }

  async retry(which: readonly string[] | 'all-dead'): Promise<number> {
    const back = this.deadTasks.filter((d) => which === 'all-dead' || which.includes(d.id));
    for (const d of back) {
      this.deadTasks.splice(this.deadTasks.indexOf(d), 1);
      this.pending.push({ task: { id: d.id, task: d.task, priority: 0 }, attempts: 0, availableAt: 0 });
    }
    this.kick();
    return back.length;
  }

  async close(): Promise<void> {
    this.consumers.clear();
  }
}
