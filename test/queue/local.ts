/** The embedded queue on real SQLite files: order, leases, races between two instances, the delivery limit, retry, release. */
import t from 'tap';
import { join } from 'node:path';
import { openLocalQueue, type LocalQueue } from '../../src/queue/local.js';
import type { Delivery } from '../../src/queue/types.js';
import { failedManifest, type TaskManifest } from '../../src/tasks/run-task.js';
import { tempDir } from '../helpers/temp-dir.js';

const task = (n: number): { type: string; input: string; output: string } => ({ type: 'sped.validate', input: `in-${n}.txt`, output: `out-${n}.json` });
const manifest = (code?: string): TaskManifest =>
  code === undefined
    ? { ...failedManifest({ code: 'X', message: 'x' }, performance.now()), status: 'done', error: undefined as never }
    : failedManifest({ code, message: `failed: ${code}` }, performance.now());

/** Takes the next `n` deliveries (resolves once all arrived), then stops consuming. */
async function take(queue: LocalQueue, n: number, concurrency = n): Promise<Delivery[]> {
  const got: Delivery[] = [];
  let consumer: { stop(): Promise<void> } | undefined;
  await new Promise<void>((resolve) => {
    void queue.consume({
      concurrency,
      onDelivery: (d) => {
        got.push(d);
        if (got.length === n) resolve();
      },
    }).then((c) => (consumer = c));
  });
  await consumer?.stop();
  return got;
}

t.test('higher priority first, then submission order; one row per id', async (t) => {
  const q = await openLocalQueue(join(tempDir('fiscal-queue-'), 'q'), { route: 'v0' });
  t.teardown(() => q.close());
  await q.submit([{ id: 'a', task: task(1), priority: 0 }, { id: 'b', task: task(2), priority: 5 }, { id: 'c', task: task(3), priority: 0 }]);
  await q.submit([{ id: 'a', task: task(1), priority: 0 }]);
  t.equal(await q.depth(), 3);
  const ds = await take(q, 3, 3);
  t.same(ds.map((d) => d.id), ['b', 'a', 'c']);
  t.same(ds.map((d) => d.attempt), [1, 1, 1]);
  t.same(ds[1]?.task, task(1));
  t.same(await q.stats(), { pending: 0, running: 3, done: 0, failed: 0, dead: 0 });
  await ds[0]!.complete(manifest());
  await ds[1]!.complete(manifest('TASK_INPUT'));
  await ds[2]!.release();
  t.same(await q.stats(), { pending: 1, running: 0, done: 1, failed: 1, dead: 0 });
  const again = await take(q, 1);
  t.equal(again[0]?.id, 'c');
  t.equal(again[0]?.attempt, 1, 'release does not count as an attempt');
  await t.rejects(ds[0]!.complete(manifest()), { code: 'QUEUE_DELIVERY_ENDED' });
  await again[0]!.complete(manifest());
  const seen: string[] = [];
  for await (const r of q.results(['a', 'b', 'c'])) seen.push(`${r.id}:${r.manifest.status}`);
  t.same(seen, ['a:failed', 'b:done', 'c:done']);
});

t.test('a done task submitted again is pending again; a running one is not touched', async (t) => {
  const q = await openLocalQueue(tempDir('fiscal-queue-'), { route: 'v0' });
  t.teardown(() => q.close());
  await q.submit([{ id: 'a', task: task(1), priority: 0 }]);
  const [d] = await take(q, 1);
  await q.submit([{ id: 'a', task: task(1), priority: 0 }]);
  t.same(await q.stats(), { pending: 0, running: 1, done: 0, failed: 0, dead: 0 });
  await d!.complete(manifest());
  await q.submit([{ id: 'a', task: task(1), priority: 0 }]);
  t.same(await q.stats(), { pending: 1, running: 0, done: 0, failed: 0, dead: 0 });
});

t.test('an expired lease (a crashed consumer) is delivered again, its attempt counted', async (t) => {
  const dir = tempDir('fiscal-queue-');
  const crashed = await openLocalQueue(dir, { route: 'v0', leaseMs: 50, pollMs: 10 });
  const q = await openLocalQueue(dir, { route: 'v0', leaseMs: 30_000, pollMs: 10 });
  t.teardown(() => q.close());
  await q.submit([{ id: 'a', task: task(1), priority: 0 }]);
  const [first] = await take(crashed, 1);
  t.equal(first?.attempt, 1);
  await crashed.close(); // its renewals stop: the lease lapses
  const [second] = await take(q, 1);
  t.equal(second?.id, 'a');
  t.equal(second?.attempt, 2);
  await second!.complete(manifest());
  t.same(await q.stats(), { pending: 0, running: 0, done: 1, failed: 0, dead: 0 });
});

t.test('lapsed deliveries take their turn among the pending ones: higher priority first, then submission order', async (t) => {
  const dir = tempDir('fiscal-queue-');
  const crashed = await openLocalQueue(dir, { route: 'v0', leaseMs: 50, pollMs: 10 });
  const q = await openLocalQueue(dir, { route: 'v0', leaseMs: 30_000, pollMs: 10 });
  t.teardown(() => q.close());
  await q.submit([{ id: 'a', task: task(1), priority: 0 }, { id: 'b', task: task(2), priority: 5 }]);
  t.same((await take(crashed, 2)).map((d) => d.id), ['b', 'a']);
  await crashed.close(); // a and b lapse, running
  await q.submit([{ id: 'c', task: task(3), priority: 5 }, { id: 'd', task: task(4), priority: 0 }]);
  await new Promise((r) => setTimeout(r, 80));
  const ds = await take(q, 4, 4);
  t.same(ds.map((d) => `${d.id}${d.attempt}`), ['b2', 'c1', 'a2', 'd1']);
});

t.test('two queue instances on one file never hold one row at once', async (t) => {
  const dir = tempDir('fiscal-queue-');
  const a = await openLocalQueue(dir, { route: 'v0', pollMs: 5 });
  const b = await openLocalQueue(dir, { route: 'v0', pollMs: 5 });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const N = 200;
  await a.submit(Array.from({ length: N }, (_, i) => ({ id: `t${i}`, task: task(i), priority: i % 3 })));
  const holding = new Set<string>();
  const ends: string[] = [];
  let overlap = 0;
  await new Promise<void>((resolve) => {
    const onDelivery = (d: Delivery): void => {
      if (holding.has(d.id)) overlap++;
      holding.add(d.id);
      setImmediate(() => {
        holding.delete(d.id);
        void d.complete(manifest()).then(() => {
          ends.push(d.id);
          if (ends.length === N) resolve();
        });
      });
    };
    void a.consume({ concurrency: 4, onDelivery });
    void b.consume({ concurrency: 4, onDelivery });
  });
  t.equal(overlap, 0);
  t.equal(new Set(ends).size, N, 'each row delivered once');
  t.same(await a.stats(), { pending: 0, running: 0, done: N, failed: 0, dead: 0 });
});

t.test('past the delivery limit a row goes dead; retry brings it back; retryLater waits', async (t) => {
  const dir = tempDir('fiscal-queue-');
  const q = await openLocalQueue(dir, { route: 'v0', deliveryLimit: 2, pollMs: 10 });
  t.teardown(() => q.close());
  await q.submit([{ id: 'a', task: task(1), priority: 0 }]);
  // two crashed deliveries of a: each lapses
  for (let i = 1; i <= 2; i++) {
    const crashed = await openLocalQueue(dir, { route: 'v0', leaseMs: 20, pollMs: 10 });
    const [d] = await take(crashed, 1);
    t.same([d?.id, d?.attempt], ['a', i]);
    await crashed.close();
  }
  await q.submit([{ id: 'b', task: task(2), priority: 0 }]);
  const got: Delivery[] = [];
  const consumer = await q.consume({ concurrency: 2, onDelivery: (x) => got.push(x) });
  const results: string[] = [];
  for await (const r of q.results(['a'])) results.push(r.manifest.error?.code ?? '');
  await consumer.stop();
  t.same(results, ['QUEUE_DELIVERY_LIMIT']);
  t.same(got.map((x) => x.id), ['b'], 'a is dead instead of delivered a third time');
  const d = got[0];
  const dead = await q.dead();
  t.same(dead.map((x) => [x.id, x.attempts, x.error.code]), [['a', 2, 'QUEUE_DELIVERY_LIMIT']]);
  t.same(dead[0]?.task, task(1));
  await d!.retryLater(manifest('TASK_INPUT'), 60_000);
  t.same(await q.stats(), { pending: 1, running: 0, done: 0, failed: 0, dead: 1 });
  t.equal(await q.depth(), 1, 'a task waiting for its retry delay counts');
  t.equal(await q.retry(['a', 'nope']), 1);
  const [again] = await take(q, 1);
  t.same([again?.id, again?.attempt], ['a', 1], 'retried: attempts from zero; b waits for its delay');
  await again!.deadLetter(manifest('TASK_MALFORMED'));
  t.same((await q.dead()).map((x) => x.error.code), ['TASK_MALFORMED']);
  t.equal(await q.retry('all-dead'), 1);
});

t.test('routes are separate queues in one file; a bad route is refused', async (t) => {
  const dir = tempDir('fiscal-queue-');
  const v0 = await openLocalQueue(dir, { route: 'v0' });
  const v1 = await openLocalQueue(dir, { route: 'v1' });
  t.teardown(async () => {
    await v0.close();
    await v1.close();
  });
  await v0.submit([{ id: 'a', task: task(1), priority: 0 }]);
  t.equal(await v0.depth(), 1);
  t.equal(await v1.depth(), 0);
  t.match(v0.url, /^local:.*#v0$/);
  await t.rejects(openLocalQueue(dir, { route: 'v 0' }), { code: 'QUEUE_ROUTE' });
});
