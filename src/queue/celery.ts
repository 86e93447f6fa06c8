/**
 * The Celery consumer (docs/celery.md): takes the messages a Python Celery application sends with
 * `app.send_task("fiscal.run", args=[task], queue="fiscal")` off that queue and hands them to runWorker as
 * Deliveries; each result goes where Celery's `rpc://` result backend reads it.
 *
 * - Topology: the queue is declared as kombu declares it by default (a durable classic queue named like the Celery
 *   queue, bound to a durable direct exchange of the same name with that routing key). When it already exists with
 *   other arguments (a priority or quorum queue of the Celery app's own `task_queues`) it is used as it is.
 * - A message is acked only when its delivery ends: after the ledger recorded the task (runTask) and the result
 *   was published with a broker confirm. A redelivered message runs through runTask again, which answers it from
 *   the ledger.
 * - `eta`: a message due within `holdMs` is held unacked on a timer, the channel's prefetch raised by one meanwhile
 *   (Celery's own way) so it takes no concurrency slot; one due later is moved (confirmed publish, then ack) to a
 *   delay queue `<queue>.eta.<ms>` whose TTL is the largest power-of-two seconds not past its eta and which
 *   dead-letters it back, so nothing is held unacked for longer than `holdMs` (RabbitMQ's consumer_timeout).
 * - `expires` past (when the message is due): refused with CELERY_EXPIRED (a REVOKED result). `retries`: the
 *   attempt is retries + 1 (+ 1 for a broker redelivery). `timelimit` hard: the delivery's timeLimitMs.
 * - retryLater sends the message again with retries + 1 and an eta, as Celery's Task.retry does (through a delay
 *   queue, so that depth() sees it while it waits).
 */
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { UsageError } from '../errors.js';
import type { TaskManifest } from '../tasks/run-task.js';
import { QueueConnectionError, QueueUrlError, redactAmqpUrl } from './amqp-errors.js';
import { endOnce, reopenWithBackoff } from './amqp-consume.js';
import { celeryResult, expiredRefusal, parseCeleryMessage, type CeleryRefusal, type CeleryRequest } from './celery-protocol.js';
import type { ConsumeOptions, Consumer, Delivery, WorkerQueue } from './types.js';

export const DEFAULT_CELERY_QUEUE = 'fiscal';
const DEFAULT_HOLD_MS = 60_000;
/** The longest hop through a delay queue: 2^21 s (about 24 days); a farther eta takes several. */
const MAX_HOP_MS = 2 ** 21 * 1000;

export interface CeleryQueueOptions {
  /** The Celery queue consumed (`send_task(..., queue=NAME)`). Default `fiscal`. */
  readonly queue?: string;
  /** Messages due within this many ms are held unacked on a timer; later ones wait in delay queues. Default 60 000. */
  readonly holdMs?: number;
}

export interface CeleryQueue extends WorkerQueue {
  /** The broker URL without its password, with the queue: `amqp://guest@127.0.0.1:5672#celery:fiscal`. */
  readonly url: string;
  readonly queue: string;
  close(): Promise<void>;
}

/** Largest power-of-two seconds (≥ 1 s, ≤ MAX_HOP_MS) not longer than `waitMs`. */
export function hopMs(waitMs: number): number {
  let hop = 1000;
  while (hop * 2 <= waitMs && hop * 2 <= MAX_HOP_MS) hop *= 2;
  return hop;
}

/** Python's isoformat of a UTC time (what Celery writes in `eta`). */
const isoUtc = (ms: number): string => new Date(ms).toISOString().replace('Z', '+00:00');

async function confirmed(ch: ConfirmChannel, queue: string, content: Buffer, props: Options.Publish): Promise<void> {
  ch.sendToQueue(queue, content, props);
  await ch.waitForConfirms();
}

/** The properties of a message, as it is published again (to a delay queue, or for a retry). */
function republished(msg: ConsumeMessage, headers: Record<string, unknown>): Options.Publish {
  const p = msg.properties;
  return {
    persistent: true, headers, contentType: p.contentType, contentEncoding: p.contentEncoding,
    ...(p.correlationId ? { correlationId: p.correlationId } : {}), ...(p.replyTo ? { replyTo: p.replyTo } : {}),
    ...(typeof p.priority === 'number' ? { priority: p.priority } : {}),
  };
}

export async function openCeleryQueue(url: string, options: CeleryQueueOptions = {}): Promise<CeleryQueue> {
  if (!/^amqps?:\/\//i.test(url)) throw new QueueUrlError(`--celery needs a RabbitMQ URL (amqp:// or amqps://), not ${redactAmqpUrl(url)}`);
  const name = options.queue ?? DEFAULT_CELERY_QUEUE;
  if (name === '' || Buffer.byteLength(name) > 255) throw new UsageError(`Celery queue name ${JSON.stringify(name)}: expected 1 to 255 bytes`);
  const holdMs = Math.max(0, options.holdMs ?? DEFAULT_HOLD_MS);
  const shown = redactAmqpUrl(url);
  const delayQueues = new Set<string>();
  const stops = new Set<() => Promise<void>>();
  let closed = false;

  async function connect(): Promise<ChannelModel> {
    try {
      const conn = await amqp.connect(url);
      conn.on('error', () => undefined);
      return conn;
    } catch (err) {
      throw new QueueConnectionError(`cannot connect to ${shown}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** kombu's default declaration; an existing queue with other arguments (406) is taken as it is. */
  async function declare(conn: ChannelModel): Promise<void> {
    const attempt = async (fn: (ch: Channel) => Promise<unknown>): Promise<void> => {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      await fn(ch);
      await ch.close();
    };
    try {
      await attempt(async (ch) => {
        await ch.assertExchange(name, 'direct', { durable: true, autoDelete: false });
        await ch.assertQueue(name, { durable: true, autoDelete: false, exclusive: false });
        await ch.bindQueue(name, name, name);
      });
    } catch (err) {
      if ((err as { code?: number }).code !== 406) throw new QueueConnectionError(`Celery queue ${name} on ${shown}: ${(err as Error).message}`, { cause: err });
      try {
        await attempt((ch) => ch.checkQueue(name));
      } catch (again) {
        throw new QueueConnectionError(`Celery queue ${name} on ${shown}: ${(again as Error).message}`, { cause: again });
      }
    }
  }

  // one connection for depth(), reopened after a loss; callers at once share the one being opened
  let admin: Promise<{ conn: ChannelModel; ch: Channel }> | null = null;
  function adminChannel(): Promise<Channel> {
    if (!admin) {
      const opening = (async () => {
        const conn = await connect();
        const ch = await conn.createChannel();
        const drop = (): void => { if (admin === opening) admin = null; };
        ch.on('error', () => undefined);
        ch.on('close', drop);
        conn.on('close', drop);
        return { conn, ch };
      })();
      admin = opening;
      opening.catch(() => { if (admin === opening) admin = null; });
    }
    return admin.then((a) => a.ch);
  }
  async function count(queue: string): Promise<number | null> {
    const ch = await adminChannel();
    try {
      return (await ch.checkQueue(queue)).messageCount;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return null; // a delay queue that expired (x-expires)
      throw new QueueConnectionError(`${shown}: ${(err as Error).message}`, { cause: err });
    }
  }

  let heldCount = 0;

  const consume = async (copts: ConsumeOptions): Promise<Consumer> => {
    let stopped = false;
    let current: { conn: ChannelModel; ch: ConfirmChannel; tag: string; drop(): void } | null = null;

    const open = async (): Promise<void> => {
      const conn = await connect();
      if (stopped || closed) {
        await conn.close().catch(() => undefined);
        return;
      }
      await declare(conn);
      const ch = await conn.createConfirmChannel();
      ch.on('error', () => undefined);
      // global: RabbitMQ applies a changed per-channel limit to the running consumer (a per-consumer one would not)
      await ch.prefetch(copts.concurrency, true);
      const held = new Map<NodeJS.Timeout, ConsumeMessage>();
      const setPrefetch = (): void => void ch.prefetch(copts.concurrency + held.size, true).catch(() => undefined);
      const unhold = (timer: NodeJS.Timeout): void => {
        clearTimeout(timer);
        if (held.delete(timer)) heldCount--;
      };
      /** Held messages back to the queue (stop), or forgotten (a lost channel: the broker redelivers them). */
      const dropHeld = (requeue: boolean): void => {
        for (const [timer, msg] of [...held]) {
          unhold(timer);
          if (requeue) try { ch.nack(msg, false, true); } catch { /* channel gone */ }
        }
      };

      const delivery = (msg: ConsumeMessage, req: CeleryRequest | CeleryRefusal): Delivery => {
        const retries = req.kind === 'request' ? req.retries : 0;
        const attempt = retries + 1 + (msg.fields.redelivered ? 1 : 0);
        const id = req.id === '' ? `(no id, delivery ${msg.fields.deliveryTag})` : req.id;
        const end = endOnce(id, `Celery task ${id}`, shown);
        const answer = async (manifest: TaskManifest): Promise<void> => {
          if (req.replyTo && req.id !== '') {
            const { body } = celeryResult(req.id, manifest);
            await confirmed(ch, req.replyTo, Buffer.from(JSON.stringify(body)), { correlationId: req.id, contentType: 'application/json', contentEncoding: 'utf-8', persistent: false });
          }
          ch.ack(msg);
        };
        return {
          id, task: req.task, priority: req.kind === 'request' ? req.priority : 0, attempt,
          ...(req.kind === 'refusal' ? { refusal: { code: req.code, message: req.message } } : {}),
          ...(req.kind === 'request' && req.timeLimitMs !== null ? { timeLimitMs: req.timeLimitMs } : {}),
          complete: (manifest) => end('complete', () => answer(manifest)),
          deadLetter: (manifest) => end('deadLetter', () => answer(manifest)),
          retryLater: (manifest, delayMs) => end('retryLater', async () => {
            if (req.kind === 'refusal') return answer(manifest);
            // Celery's Task.retry: the same message again, retries + 1, due after the delay (through a delay
            // queue, which depth() counts: the worker is not idle while a retry waits)
            const wait = Math.max(0, delayMs);
            await toDelayQueue(msg, { ...(msg.properties.headers ?? {}), retries: retries + 1, eta: isoUtc(Date.now() + wait) }, wait);
            ch.ack(msg);
          }),
          release: () => end('release', async () => { ch.nack(msg, false, true); }),
        };
      };

      /** Publishes a copy of the message (confirmed) to the delay queue of hopMs(waitMs), which dead-letters it back to the Celery queue. */
      const toDelayQueue = async (msg: ConsumeMessage, headers: Record<string, unknown>, waitMs: number): Promise<void> => {
        const hop = hopMs(waitMs);
        const queue = `${name}.eta.${hop}`;
        await ch.assertQueue(queue, { durable: true, arguments: { 'x-message-ttl': hop, 'x-expires': hop + 600_000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': name } });
        delayQueues.add(queue);
        await confirmed(ch, queue, msg.content, republished(msg, headers));
      };
      /** Moves a message due in more than holdMs to a delay queue, then acks it. */
      const park = async (msg: ConsumeMessage, waitMs: number): Promise<void> => {
        try {
          await toDelayQueue(msg, { ...(msg.properties.headers ?? {}) }, waitMs);
          ch.ack(msg);
        } catch {
          // the channel is gone: the broker redelivers the message and it is parked again
        }
      };

      const schedule = (msg: ConsumeMessage, req: CeleryRequest): void => {
        const now = Date.now();
        const due = req.eta ?? now;
        // expired when due (or already certain to be): refused, never run
        if (req.expires !== null && req.expires <= Math.max(now, due)) {
          copts.onDelivery(delivery(msg, expiredRefusal(req, now)));
          return;
        }
        const wait = due - now;
        if (wait <= 0) {
          copts.onDelivery(delivery(msg, req));
          return;
        }
        if (wait > holdMs) {
          void park(msg, wait);
          return;
        }
        const timer = setTimeout(() => {
          unhold(timer);
          setPrefetch();
          schedule(msg, req);
        }, wait);
        held.set(timer, msg);
        heldCount++;
        setPrefetch();
      };

      const onMessage = (msg: ConsumeMessage): void => {
        const parsed = parseCeleryMessage(msg.content, {
          contentType: msg.properties.contentType as string | undefined, contentEncoding: msg.properties.contentEncoding as string | undefined,
          correlationId: msg.properties.correlationId as string | undefined, replyTo: msg.properties.replyTo as string | undefined,
          priority: msg.properties.priority as number | undefined, headers: msg.properties.headers as Record<string, unknown> | undefined,
        });
        if (parsed.kind === 'refusal') copts.onDelivery(delivery(msg, parsed));
        else schedule(msg, parsed);
      };

      let lost = false;
      const onLost = (): void => {
        if (lost) return;
        lost = true;
        dropHeld(false);
        if (current?.ch === ch) current = null;
        if (!stopped && !closed) void reconnect();
      };
      conn.on('close', onLost);
      ch.on('close', onLost);
      const { consumerTag } = await ch.consume(name, (msg) => {
        if (msg) onMessage(msg);
        else onLost(); // the broker cancelled the consumer (queue deleted)
      }, { noAck: false });
      current = { conn, ch, tag: consumerTag, drop: () => dropHeld(true) };
    };

    const reconnect = (): Promise<void> => reopenWithBackoff(open, () => !stopped && !closed);

    await open();
    const close = async (): Promise<void> => {
      stopped = true;
      const c = current;
      current = null;
      if (c) {
        c.drop();
        await c.conn.close().catch(() => undefined);
      }
    };
    stops.add(close);
    return {
      async stop() {
        stopped = true;
        const c = current;
        if (!c) return;
        await c.ch.cancel(c.tag).catch(() => undefined);
        c.drop();
      },
    };
  };

  const queue: CeleryQueue = {
    url: `${shown}#celery:${name}`,
    queue: name,
    consume,
    /** Ready messages of the Celery queue and of the delay queues this process used, and the held ones. */
    async depth() {
      let n = (await count(name)) ?? 0;
      for (const q of [...delayQueues]) {
        const c = await count(q);
        if (c === null) delayQueues.delete(q);
        else n += c;
      }
      return n + heldCount;
    },
    async close() {
      closed = true;
      for (const stop of stops) await stop();
      const a = admin;
      admin = null;
      if (a) await a.then((x) => x.conn.close()).catch(() => undefined);
    },
  };
  // fail at open on an unreachable broker, and declare the queue
  const conn = await connect();
  try {
    await declare(conn);
  } finally {
    await conn.close().catch(() => undefined);
  }
  return queue;
}
