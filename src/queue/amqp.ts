/**
 * The RabbitMQ adapter of the queue contract (src/queue/types.ts, docs/queue.md "RabbitMQ"). Topology per route:
 *  - `fiscal.tasks.<route>`: durable quorum queue, `x-delivery-limit` (default 10), dead-lettering to the dead queue;
 *  - `fiscal.tasks.<route>.retry.<ms>`: durable queues with `x-message-ttl` ms that dead-letter back to the main
 *    queue through the default exchange (retryLater);
 *  - `fiscal.tasks.<route>.dead`: durable queue of dead tasks with their last error in headers.
 * Publishes are confirmed (ConfirmChannel + waitForConfirms) and persistent; a delivery is acked only when it is
 * ended. The consumer reconnects with backoff after a connection loss; deliveries of the lost channel are
 * redelivered by the broker, and ending one of them rejects with QueueConnectionError.
 */
import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel, ConsumeMessage, GetMessage, Options } from 'amqplib';
import type { TaskManifest } from '../tasks/run-task.js';
import type { ConsumeOptions, Consumer, DeadTask, Delivery, QueuedTask, QueueStats, SubmitOptions, TaskQueue } from './types.js';
import { QueueConnectionError, QueueUrlError, redactAmqpUrl } from './amqp-errors.js';
import { retrySchedule } from './retry.js';
import { endOnce, reopenWithBackoff } from './amqp-consume.js';

export { QueueConnectionError, QueueUrlError } from './amqp-errors.js';

export interface AmqpQueueOptions {
  readonly route: string;
  /** Deliveries of one message before the broker dead-letters it (quorum `x-delivery-limit`); also caps retryLater. Default 10. */
  readonly deliveryLimit?: number;
  /**
   * Retry delays (ms) whose delay queues are declared up front and counted by stats()/depth() in every process;
   * others are declared when used and counted only by the process that used them. Default: the worker's schedule
   * with its default base (retrySchedule(), 1 s … 300 s), which is every delay `fiscal worker` asks for.
   */
  readonly retryDelays?: readonly number[];
  /** Where running/done/failed come from (the ledger): AMQP cannot know them. Without it they are 0. */
  readonly counts?: () => Promise<Pick<QueueStats, 'running' | 'done' | 'failed'>>;
}

const H_ATTEMPT = 'x-fiscal-attempt';
const H_PRIORITY = 'x-fiscal-priority';
const H_ERROR_CODE = 'x-fiscal-error-code';
const H_ERROR_MESSAGE = 'x-fiscal-error-message';
const H_DEAD_AT = 'x-fiscal-dead-at';

function parseUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueUrlError(`not a queue URL: ${redactAmqpUrl(url)}`);
  }
  if (u.protocol !== 'amqp:' && u.protocol !== 'amqps:') throw new QueueUrlError(`not an AMQP URL (amqp:// or amqps://): ${redactAmqpUrl(url)}`);
}

function headerNumber(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}

/** The attempt of a delivery: explicit retries (x-fiscal-attempt, set at submit and raised by retryLater) plus the quorum queue's redeliveries (x-delivery-count) of this copy. */
export function attemptOf(headers: Record<string, unknown> | undefined): number {
  const explicit = headerNumber(headers?.[H_ATTEMPT]) ?? 1;
  const redeliveries = headerNumber(headers?.['x-delivery-count']) ?? 0;
  return Math.max(1, explicit) + Math.max(0, redeliveries);
}

interface Waiter { ids: Set<string>; push(r: { id: string; manifest: TaskManifest }): void }

export async function openAmqpQueue(url: string, options: AmqpQueueOptions): Promise<TaskQueue> {
  parseUrl(url);
  const shown = redactAmqpUrl(url);
  const route = options.route;
  const limit = options.deliveryLimit ?? 10;
  const main = `fiscal.tasks.${route}`;
  const deadQ = `${main}.dead`;
  const retryQueues = new Set<number>(options.retryDelays ?? retrySchedule());

  async function connect(): Promise<ChannelModel> {
    try {
      return await amqp.connect(url);
    } catch (err) {
      throw new QueueConnectionError(`cannot connect to ${shown}: ${(err as Error).message}`, { cause: err });
    }
  }

  async function declareMain(ch: ConfirmChannel): Promise<void> {
    await ch.assertQueue(main, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': limit, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': deadQ } });
    await ch.assertQueue(deadQ, { durable: true });
  }
  const retryName = (ms: number): string => `${main}.retry.${ms}`;
  async function declareRetry(ch: ConfirmChannel, ms: number): Promise<void> {
    await ch.assertQueue(retryName(ms), { durable: true, arguments: { 'x-message-ttl': ms, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': main } });
    retryQueues.add(ms);
  }

  // One publishing connection, reopened after a loss.
  let pub: { conn: ChannelModel; ch: ConfirmChannel } | null = null;
  let closed = false;
  async function publisher(): Promise<{ conn: ChannelModel; ch: ConfirmChannel }> {
    if (pub) return pub;
    const conn = await connect();
    const ch = await conn.createConfirmChannel();
    const mine = { conn, ch };
    const drop = (): void => { if (pub === mine) { pub = null; reply = null; } };
    conn.on('close', drop);
    conn.on('error', drop);
    ch.on('close', drop);
    ch.on('error', drop);
    await declareMain(ch);
    for (const ms of retryQueues) await declareRetry(ch, ms);
    pub = mine;
    return mine;
  }
  async function withPublisher<T>(fn: (ch: ConfirmChannel) => Promise<T>): Promise<T> {
    const p = await publisher();
    try {
      return await fn(p.ch);
    } catch (err) {
      if (err instanceof QueueConnectionError) throw err;
      pub = null;
      await p.conn.close().catch(() => undefined);
      throw new QueueConnectionError(`${shown}: ${(err as Error).message}`, { cause: err });
    }
  }

  // Results: one exclusive auto-delete reply queue on the publishing connection.
  const arrived = new Map<string, TaskManifest>();
  const waiters = new Set<Waiter>();
  let reply: string | null = null;
  async function replyQueue(): Promise<string> {
    if (reply) return reply;
    const p = await publisher();
    const q = await p.ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await p.ch.consume(q.queue, (msg) => {
      if (!msg) return;
      const id = String(msg.properties.correlationId ?? '');
      let manifest: TaskManifest;
      try { manifest = JSON.parse(msg.content.toString('utf8')) as TaskManifest; } catch { return; }
      arrived.set(id, manifest);
      for (const w of waiters) if (w.ids.has(id)) w.push({ id, manifest });
    }, { noAck: true });
    reply = q.queue;
    return q.queue;
  }

  function taskProps(t: QueuedTask, attempt: number, extra: Options.Publish = {}): Options.Publish {
    return {
      persistent: true, messageId: t.id, contentType: 'application/json', priority: t.priority,
      ...extra,
      headers: { [H_PRIORITY]: t.priority, [H_ATTEMPT]: attempt, ...(extra.headers as Record<string, unknown> | undefined) },
    };
  }
  const body = (task: unknown): Buffer => Buffer.from(JSON.stringify(task));

  async function publishConfirmed(ch: ConfirmChannel, queue: string, content: Buffer, props: Options.Publish): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      ch.sendToQueue(queue, content, props, (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
    });
  }

  async function queueCount(ch: ConfirmChannel, q: string): Promise<number> {
    return (await ch.checkQueue(q)).messageCount;
  }

  function toDeadTask(msg: GetMessage): DeadTask {
    const h = (msg.properties.headers ?? {}) as Record<string, unknown>;
    const code = typeof h[H_ERROR_CODE] === 'string' ? (h[H_ERROR_CODE] as string) : 'QUEUE_DELIVERY_LIMIT';
    const message = typeof h[H_ERROR_MESSAGE] === 'string' ? (h[H_ERROR_MESSAGE] as string) : `delivered ${limit} times without being ended (x-delivery-limit): the worker crashed or lost its connection each time`;
    let task: unknown = null;
    try { task = JSON.parse(msg.content.toString('utf8')); } catch { task = msg.content.toString('utf8'); }
    const deadAt = headerNumber(h[H_DEAD_AT]) ?? (msg.properties.timestamp as number | undefined) ?? 0;
    return { id: String(msg.properties.messageId ?? ''), task, attempts: attemptOf(h), error: { code, message }, deadAt };
  }

  /** Takes every dead message (held unacked on a fresh channel), lets `keep` decide, and requeues the rest by closing the channel. */
  async function overDead<T>(visit: (msg: GetMessage, ch: ConfirmChannel) => Promise<T | null>): Promise<T[]> {
    const p = await publisher();
    const ch = await p.conn.createConfirmChannel();
    const out: T[] = [];
    try {
      const n = await queueCount(ch, deadQ);
      for (let i = 0; i < n; i++) {
        const msg = await ch.get(deadQ, { noAck: false });
        if (!msg) break;
        const r = await visit(msg, ch);
        if (r !== null) out.push(r);
      }
    } finally {
      await ch.close().catch(() => undefined);
    }
    return out;
  }

  const queue: TaskQueue = {
    url: `${shown}#${route}`,
    route,

    async submit(tasks: readonly QueuedTask[], opts?: SubmitOptions): Promise<void> {
      const replyTo = opts?.wait ? await replyQueue() : undefined;
      await withPublisher(async (ch) => {
        for (const t of tasks) {
          opts?.signal?.throwIfAborted();
          ch.sendToQueue(main, body(t.task), taskProps(t, 1, replyTo ? { replyTo, correlationId: t.id } : {}));
        }
        await ch.waitForConfirms();
      });
    },

    async *results(ids: readonly string[], opts?: { readonly signal?: AbortSignal }) {
      const want = new Set(ids);
      const ready: { id: string; manifest: TaskManifest }[] = [];
      let wake: (() => void) | null = null;
      const waiter: Waiter = { ids: want, push: (r) => { ready.push(r); wake?.(); } };
      for (const id of want) { const m = arrived.get(id); if (m) ready.push({ id, manifest: m }); }
      waiters.add(waiter);
      const onAbort = (): void => wake?.();
      opts?.signal?.addEventListener('abort', onAbort);
      try {
        while (want.size > 0) {
          const next = ready.shift();
          if (next) {
            if (!want.delete(next.id)) continue;
            yield next;
            continue;
          }
          opts?.signal?.throwIfAborted();
          await new Promise<void>((r) => { wake = r; });
          wake = null;
        }
      } finally {
        waiters.delete(waiter);
        opts?.signal?.removeEventListener('abort', onAbort);
      }
    },

    async consume(copts: ConsumeOptions): Promise<Consumer> {
      let stopped = false;
      let current: { conn: ChannelModel; ch: ConfirmChannel; tag: string } | null = null;
      let lost: (() => void) | null = null;

      const delivery = (ch: ConfirmChannel, msg: ConsumeMessage): Delivery => {
        const props = msg.properties;
        const headers = (props.headers ?? {}) as Record<string, unknown>;
        const id = String(props.messageId ?? '');
        let task: unknown = null;
        try { task = JSON.parse(msg.content.toString('utf8')); } catch { task = msg.content.toString('utf8'); }
        const priority = headerNumber(headers[H_PRIORITY]) ?? props.priority ?? 0;
        const attempt = attemptOf(headers);
        const replyTo = typeof props.replyTo === 'string' && props.replyTo !== '' ? props.replyTo : null;
        const qt: QueuedTask = { id, task, priority };
        const end = endOnce(id, `task ${id}`, shown);
        const answer = async (manifest: TaskManifest): Promise<void> => {
          if (replyTo) await publishConfirmed(ch, replyTo, Buffer.from(JSON.stringify(manifest)), { correlationId: id, contentType: 'application/json' });
        };
        const toDead = async (manifest: TaskManifest): Promise<void> => {
          const error = manifest.error ?? { code: 'TASK_FAILED', message: `task ${id} failed` };
          await publishConfirmed(ch, deadQ, msg.content, taskProps(qt, attempt, { headers: { [H_ERROR_CODE]: error.code, [H_ERROR_MESSAGE]: error.message, [H_DEAD_AT]: Date.now() } }));
          await answer(manifest);
          ch.ack(msg);
        };
        return {
          id, task, priority, attempt,
          complete: (manifest) => end('complete', async () => { await answer(manifest); ch.ack(msg); }),
          deadLetter: (manifest) => end('deadLetter', () => toDead(manifest)),
          retryLater: (manifest, delayMs) => end('retryLater', async () => {
            if (attempt + 1 > limit) return toDead(manifest);
            const ms = Math.max(1, Math.round(delayMs));
            if (!retryQueues.has(ms)) await declareRetry(ch, ms);
            const error = manifest.error ?? { code: 'TASK_FAILED', message: `task ${id} failed` };
            const keep: Options.Publish = replyTo ? { replyTo, correlationId: id } : {};
            await publishConfirmed(ch, retryName(ms), msg.content, taskProps(qt, attempt + 1, { ...keep, headers: { [H_ERROR_CODE]: error.code, [H_ERROR_MESSAGE]: error.message } }));
            ch.ack(msg);
          }),
          release: () => end('release', async () => { ch.nack(msg, false, true); }),
        };
      };

      const open = async (): Promise<void> => {
        const conn = await connect();
        const ch = await conn.createConfirmChannel();
        await declareMain(ch);
        await ch.prefetch(copts.concurrency);
        const gone = new Promise<void>((r) => { lost = r; });
        const onLost = (): void => { lost?.(); };
        conn.on('close', onLost);
        conn.on('error', () => undefined);
        ch.on('close', onLost);
        ch.on('error', () => undefined);
        const { consumerTag } = await ch.consume(main, (msg) => {
          if (msg) copts.onDelivery(delivery(ch, msg));
          else onLost(); // the broker cancelled the consumer (queue deleted)
        }, { noAck: false });
        current = { conn, ch, tag: consumerTag };
        void gone.then(() => { current = null; if (!stopped) void reconnect(); });
      };
      const reconnect = (): Promise<void> => reopenWithBackoff(open, () => !stopped && !closed);
      await open();
      consumers.add(async () => { stopped = true; const c = current; current = null; if (c) await c.conn.close().catch(() => undefined); });
      return {
        async stop() {
          stopped = true;
          const c = current;
          if (c) await c.ch.cancel(c.tag).catch(() => undefined);
        },
      };
    },

    async depth() {
      return withPublisher(async (ch) => {
        // the delay queues first, the main queue last: the way a retry moves when its delay ends, so one that
        // moves during the count is found where it arrives
        let n = 0;
        for (const ms of retryQueues) n += await queueCount(ch, retryName(ms));
        return n + (await queueCount(ch, main));
      });
    },

    async stats(): Promise<QueueStats> {
      const pending = await queue.depth();
      const dead = await withPublisher((ch) => queueCount(ch, deadQ));
      const counts = options.counts ? await options.counts() : { running: 0, done: 0, failed: 0 };
      return { pending, dead, running: counts.running, done: counts.done, failed: counts.failed };
    },

    async dead() {
      return overDead(async (msg) => toDeadTask(msg));
    },

    async retry(which) {
      const ids = which === 'all-dead' ? null : new Set(which);
      const moved = await overDead(async (msg, ch) => {
        const id = String(msg.properties.messageId ?? '');
        if (ids && !ids.has(id)) return null;
        const h = (msg.properties.headers ?? {}) as Record<string, unknown>;
        const priority = headerNumber(h[H_PRIORITY]) ?? msg.properties.priority ?? 0;
        await publishConfirmed(ch, main, msg.content, taskProps({ id, task: null, priority }, 1));
        ch.ack(msg);
        return id;
      });
      return moved.length;
    },

    async close() {
      closed = true;
      for (const stop of consumers) await stop();
      const p = pub;
      pub = null;
      if (p) await p.conn.close().catch(() => undefined);
    },
  };
  const consumers = new Set<() => Promise<void>>();
  // Fail at open on a bad URL or an unreachable broker, and declare the topology.
  await publisher();
  return queue;
}
