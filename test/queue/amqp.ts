/**
 * The RabbitMQ adapter against a real RabbitMQ 3.10 node (test/helpers/rabbitmq.ts, one per file). Every test
 * uses its own route, so its queues start empty.
 */
import t from 'tap';
import amqp from 'amqplib';
import { openAmqpQueue, QueueUrlError } from '../../src/queue/amqp.js';
import type { Delivery, TaskQueue } from '../../src/queue/types.js';
import { retryDelay } from '../../src/queue/worker.js';
import type { TaskManifest } from '../../src/tasks/run-task.js';
import { rabbitSkip, startRabbit, type RabbitServer } from '../helpers/rabbitmq.js';

const skip = rabbitSkip();

function manifest(status: 'done' | 'failed', error?: { code: string; message: string }): TaskManifest {
  return { status, key: null, reused: false, type: 'sped.validate', input: null, output: null, counts: {}, findings: { errors: 0, warnings: 0 }, attempts: 1, durationMs: 1, ...(error ? { error } : {}) };
}

/** Deliveries as they come, awaited one at a time. */
function inbox(): { onDelivery: (d: Delivery) => void; next(): Promise<Delivery> } {
  const ready: Delivery[] = [];
  const wait: ((d: Delivery) => void)[] = [];
  return {
    onDelivery: (d) => { const w = wait.shift(); if (w) w(d); else ready.push(d); },
    next: () => new Promise((r) => { const d = ready.shift(); if (d) r(d); else wait.push(r); }),
  };
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let route = 0;
const nextRoute = (): string => `t${process.pid}x${route++}`;

t.test('amqp adapter', skip, async (t) => {
  const rabbit: RabbitServer = await startRabbit(t);
  const open = async (opts: { deliveryLimit?: number } = {}): Promise<TaskQueue> => {
    const q = await openAmqpQueue(rabbit.url, { route: nextRoute(), ...opts });
    t.teardown(() => q.close());
    return q;
  };

  t.test('a bad URL is a QueueUrlError that does not echo the password', async (t) => {
    const err = await openAmqpQueue('redis://u:s3cret@127.0.0.1', { route: 'v0' }).then(() => null, (e: unknown) => e);
    t.ok(err instanceof QueueUrlError, 'QueueUrlError');
    t.equal((err as QueueUrlError).code, 'QUEUE_URL');
    t.notOk((err as Error).message.includes('s3cret'), (err as Error).message);
    const q = await open();
    t.notOk(q.url.includes('guest:guest'), 'url has no password');
    t.match(q.url, /#t\d+x\d+$/);
  });

  t.test('submit is confirmed, consumed, acked only on complete', async (t) => {
    const q = await open();
    await q.submit([{ id: 'a', task: { type: 'sped.validate', input: 'x' }, priority: 7 }]);
    t.equal(await q.depth(), 1, 'confirmed publish is in the queue');
    const box = inbox();
    const c1 = await q.consume({ concurrency: 1, onDelivery: box.onDelivery });
    const d1 = await box.next();
    t.same([d1.id, d1.attempt, d1.priority, d1.task], ['a', 1, 7, { type: 'sped.validate', input: 'x' }]);
    await c1.stop();
    // lose the consuming connection before complete: the broker redelivers with attempt 2
    await q.close();
    const q2 = await openAmqpQueue(rabbit.url, { route: q.route });
    t.teardown(() => q2.close());
    await t.rejects(d1.complete(manifest('done')), { code: 'QUEUE_CONNECTION' }, 'ending a delivery of a lost channel is a typed error');
    const box2 = inbox();
    await q2.consume({ concurrency: 1, onDelivery: box2.onDelivery });
    const d2 = await box2.next();
    t.same([d2.id, d2.attempt], ['a', 2], 'redelivered, attempt 2');
    await d2.complete(manifest('done'));
    await until('acked', async () => (await q2.depth()) === 0);
    t.equal((await q2.stats()).dead, 0);
  });

  t.test('retryLater goes through the delay queue and redelivers with attempt+1', async (t) => {
    const q = await open();
    await q.submit([{ id: 'r', task: { n: 1 }, priority: 0 }]);
    const box = inbox();
    await q.consume({ concurrency: 1, onDelivery: box.onDelivery });
    const d1 = await box.next();
    await d1.retryLater(manifest('failed', { code: 'TASK_INPUT', message: 'timeout' }), 300);
    const d2 = await box.next();
    t.same([d2.id, d2.attempt, d2.task], ['r', 2, { n: 1 }]);
    const raw = await amqp.connect(rabbit.url);
    t.teardown(() => raw.close());
    t.equal((await (await raw.createChannel()).checkQueue(`fiscal.tasks.${q.route}.retry.300`)).messageCount, 0, 'the delay queue exists and is drained');
    await d2.complete(manifest('done'));
  });

  t.test('a task waiting for a retry delay of the worker\'s schedule counts as pending for another process too', async (t) => {
    const route = nextRoute();
    const worker = await openAmqpQueue(rabbit.url, { route });
    t.teardown(() => worker.close());
    await worker.submit([{ id: 'w', task: { n: 4 }, priority: 0 }]);
    const box = inbox();
    const consumer = await worker.consume({ concurrency: 1, onDelivery: box.onDelivery });
    await consumer.stop();
    await (await box.next()).retryLater(manifest('failed', { code: 'TASK_OUTPUT', message: 'disk full' }), retryDelay(5, 1000));
    // another process (`fiscal queue stats`, a second worker with --exit-when-idle) never used that delay itself
    const other = await openAmqpQueue(rabbit.url, { route });
    t.teardown(() => other.close());
    t.equal(await other.depth(), 1, 'depth');
    t.match(await other.stats(), { pending: 1, dead: 0 }, 'stats');
  });

  t.test('delivery limit sends to the dead queue; dead() lists; retry() brings back', async (t) => {
    const q = await open({ deliveryLimit: 2 });
    await q.submit([{ id: 'd', task: { n: 2 }, priority: 0 }, { id: 'e', task: { n: 3 }, priority: 0 }]);
    const box = inbox();
    const seen: string[] = [];
    let working = true;
    // 'd' is released until the broker gives up on it; 'e' is dead-lettered by the worker with its error
    await q.consume({ concurrency: 2, onDelivery: (d) => {
      if (!working) { box.onDelivery(d); return; }
      seen.push(`${d.id}${d.attempt}`);
      void (d.id === 'e' ? d.deadLetter(manifest('failed', { code: 'TASK_MALFORMED', message: 'bad task' })) : d.release());
    } });
    await until('both dead', async () => (await q.stats()).dead === 2);
    working = false;
    t.ok(seen.includes('d1') && seen.includes('d2') && seen.includes('e1'), `deliveries ${seen.join(',')}`);
    const dead = [...(await q.dead())].sort((a, b) => a.id.localeCompare(b.id));
    t.same(dead.map((x) => [x.id, x.error.code, x.task]), [['d', 'QUEUE_DELIVERY_LIMIT', { n: 2 }], ['e', 'TASK_MALFORMED', { n: 3 }]]);
    t.equal(dead[1]?.error.message, 'bad task');
    t.equal((await q.stats()).dead, 2, 'dead() leaves them in place');
    t.equal(await q.retry(['e']), 1);
    const back = await box.next();
    t.same([back.id, back.attempt], ['e', 1], 'back to pending with attempts from zero');
    await back.complete(manifest('done'));
    t.equal((await q.stats()).dead, 1);
  });

  t.test('results() via reply_to', async (t) => {
    const q = await open();
    await q.submit([{ id: 'w1', task: {}, priority: 0 }, { id: 'w2', task: {}, priority: 0 }], { wait: true });
    const worker = await openAmqpQueue(rabbit.url, { route: q.route });
    t.teardown(() => worker.close());
    const ends: Promise<void>[] = [];
    await worker.consume({ concurrency: 2, onDelivery: (d) => {
      ends.push(d.id === 'w1' ? d.complete(manifest('done')) : d.deadLetter(manifest('failed', { code: 'TASK_MALFORMED', message: 'no' })));
    } });
    const got: Record<string, string> = {};
    for await (const r of q.results(['w1', 'w2'])) got[r.id] = r.manifest.status;
    t.same(got, { w1: 'done', w2: 'failed' });
    // the reply is published before the ack: let both acks land before teardown closes the worker's connection
    await Promise.all(ends);
  });

  t.test('broker restart mid-stream: the consumer resumes and no message is lost', async (t) => {
    const q = await open();
    const ids = Array.from({ length: 40 }, (_, i) => `m${i}`);
    await q.submit(ids.slice(0, 20).map((id) => ({ id, task: { id }, priority: 0 })));
    const done = new Set<string>();
    let restarted = false;
    let onRestart: () => void = () => undefined;
    const restartedNow = new Promise<void>((r) => { onRestart = r; });
    await q.consume({ concurrency: 3, onDelivery: (d) => {
      if (done.size >= 10 && !restarted) { restarted = true; onRestart(); return; } // held, unacked, while the broker goes down
      d.complete(manifest('done')).then(() => { done.add(d.id); }, () => undefined);
    } });
    await restartedNow;
    await rabbit.restart();
    await until('publisher back', async () => q.submit(ids.slice(20).map((id) => ({ id, task: { id }, priority: 0 }))).then(() => true, () => false));
    await until('every id done', async () => ids.every((id) => done.has(id)));
    t.equal(done.size, 40);
    t.equal(await q.depth(), 0);
  });

  // The raw broker view: the message properties the adapter sets (persistent, message_id, priority, headers).
  t.test('message properties on the wire', async (t) => {
    const q = await openAmqpQueue(rabbit.url, { route: 'wire' });
    t.teardown(() => q.close());
    await q.submit([{ id: 'p', task: { a: 1 }, priority: 6 }]);
    const conn = await amqp.connect(rabbit.url);
    t.teardown(() => conn.close());
    const ch = await conn.createChannel();
    const msg = await ch.get('fiscal.tasks.wire', { noAck: true });
    t.ok(msg);
    if (!msg) return;
    t.same([msg.properties.messageId, msg.properties.deliveryMode, msg.properties.priority, msg.properties.headers?.['x-fiscal-attempt'], msg.properties.headers?.['x-fiscal-priority']], ['p', 2, 6, 1, 6]);
    const main = await ch.checkQueue('fiscal.tasks.wire');
    t.equal(main.messageCount, 0);
  });
});
