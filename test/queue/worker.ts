import t from 'tap';
import { readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Delivery, WorkerQueue } from '../../src/queue/types.js';
import { runWorker, retryDelay, type WorkerLogLine } from '../../src/queue/worker.js';
import { createWorkerMetrics } from '../../src/queue/metrics.js';
import { parseTask, taskKey } from '../../src/tasks/task.js';
import { outputIdentity, parseLocation } from '../../src/tasks/io.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { MemoryQueue } from '../helpers/memory-queue.js';
import { sink } from '../helpers/sink.js';
import { tempDir } from '../helpers/temp-dir.js';

const EFD = new URL('../../fixtures/sped/efd-icms-ipi-2026-01.txt', import.meta.url).pathname;
const validate = (output: string, input = EFD): { type: string; input: string; output: string; options: { json: boolean } } =>
  ({ type: 'sped.validate', input, output, options: { json: true } });
const lines = (text: string): WorkerLogLine[] => text.trim().split('\n').map((l) => JSON.parse(l) as WorkerLogLine);

t.test('retry delays double from the base and stop at 5 minutes', async (t) => {
  t.same([1, 2, 3, 4].map((a) => retryDelay(a, 1000)), [1000, 2000, 4000, 8000]);
  t.equal(retryDelay(30, 1000), 300_000);
});

t.test('a done task is completed, with its output, and the worker stops when idle', async (t) => {
  const dir = tempDir('fiscal-worker-');
  const queue = new MemoryQueue();
  const ledger = new MemoryLedger();
  const log = sink();
  await queue.submit([{ id: 'a', task: validate(join(dir, 'a.json')), priority: 0 }]);
  const summary = await runWorker(queue, { ledger, exitWhenIdle: true, log, workDir: join(dir, '.fiscal') });
  t.equal(summary.stoppedBy, 'idle');
  t.equal(summary.done, 1);
  t.same(queue.ends.map((e) => [e.id, e.how]), [['a', 'complete']]);
  const bytes = readFileSync(join(dir, 'a.json'));
  t.equal(queue.ends[0]?.manifest?.output?.sha256, createHash('sha256').update(bytes).digest('hex'));
  const events = lines(log.text());
  t.same(events.map((e) => e.event).filter((e) => e !== 'progress'), ['received', 'started', 'done']);
  for (const e of events) {
    t.match(e, { id: 'a', type: 'sped.validate', attempt: 1 });
    t.ok(!Number.isNaN(Date.parse(e.time)), 'time is ISO');
    t.type(e.durationMs, 'number');
    t.ok('key' in e && 'outcome' in e);
  }
  t.match(events.at(-1), { outcome: 'done', key: queue.ends[0]?.manifest?.key });
});

t.test('a malformed task is dead-lettered at once', async (t) => {
  const queue = new MemoryQueue();
  await queue.submit([{ id: 'bad', task: { type: 'sped.validate', output: '/tmp/x.json' }, priority: 0 }]);
  const summary = await runWorker(queue, { ledger: new MemoryLedger(), exitWhenIdle: true, maxAttempts: 5 });
  t.equal(summary.dead, 1);
  t.same(queue.ends.map((e) => [e.how, e.attempt]), [['deadLetter', 1]]);
  t.equal((await queue.dead())[0]?.error.code, 'TASK_MALFORMED');
});

t.test('a transient failure (missing input) is retried with backoff, then dead after maxAttempts', async (t) => {
  const dir = tempDir('fiscal-worker-');
  const queue = new MemoryQueue();
  const log = sink();
  await queue.submit([{ id: 'm', task: validate(join(dir, 'm.json'), join(dir, 'missing.txt')), priority: 0 }]);
  const summary = await runWorker(queue, { ledger: new MemoryLedger(), exitWhenIdle: true, maxAttempts: 3, retryBaseMs: 5, log });
  t.same(queue.ends.map((e) => [e.how, e.attempt, e.delayMs]), [['retryLater', 1, 5], ['retryLater', 2, 10], ['deadLetter', 3, undefined]]);
  t.match(summary, { retried: 2, dead: 1, done: 0 });
  t.equal((await queue.dead())[0]?.error.code, 'TASK_INPUT');
  t.same(lines(log.text()).filter((e) => e.event === 'failed' || e.event === 'dead').map((e) => [e.event, e.code]),
    [['failed', 'TASK_INPUT'], ['failed', 'TASK_INPUT'], ['dead', 'TASK_INPUT']]);
  t.notOk(existsSync(join(dir, 'm.json')));
});

t.test('the same task delivered twice: the second manifest is the ledger\'s, one output', async (t) => {
  const dir = tempDir('fiscal-worker-');
  const queue = new MemoryQueue();
  const ledger = new MemoryLedger();
  const task = { id: 'd', task: validate(join(dir, 'd.json')), priority: 0 };
  await queue.submit([task]);
  queue.duplicate(task);
  const summary = await runWorker(queue, { ledger, exitWhenIdle: true, concurrency: 1 });
  t.equal(summary.done, 2);
  const [first, second] = queue.ends.map((e) => e.manifest);
  t.equal(first?.reused, false);
  t.equal(second?.reused, true);
  t.equal(second?.output?.sha256, first?.output?.sha256);
  t.equal(ledger.claims, 1, 'worked once');
});

t.test('no more than `concurrency` deliveries at once', async (t) => {
  const dir = tempDir('fiscal-worker-');
  const queue = new MemoryQueue();
  const metrics = createWorkerMetrics(() => queue.depth());
  await queue.submit(Array.from({ length: 6 }, (_, i) => ({ id: `c${i}`, task: validate(join(dir, `c${i}.json`)), priority: 0 })));
  const summary = await runWorker(queue, { ledger: new MemoryLedger(), exitWhenIdle: true, concurrency: 2, metrics });
  t.equal(summary.done, 6);
  t.equal(queue.maxOpen, 2);
  const text = await metrics.registry.metrics();
  t.match(text, /fiscal_tasks_total\{type="sped.validate",outcome="done"\} 6/);
  t.match(text, /fiscal_task_duration_seconds_count\{type="sped.validate"\} 6/);
  t.match(text, /fiscal_tasks_in_flight 0/);
  t.match(text, /fiscal_queue_depth 0/);
});

t.test('a stop signal releases the task still running after the grace time', async (t) => {
  const dir = tempDir('fiscal-worker-');
  const queue = new MemoryQueue();
  const ledger = new MemoryLedger();
  const value = validate(join(dir, 'busy.json'));
  // another owner holds the key with a long lease: our runTask waits (polls) until it is aborted
  const parsed = parseTask(value);
  const { key, payloadDigest } = taskKey(parsed, createHash('sha256').update(readFileSync(EFD)).digest('hex'), outputIdentity(parseLocation(parsed.output, 'output')));
  await ledger.claim({ key, type: parsed.type, payloadDigest, owner: 'someone-else', leaseMs: 600_000 });
  await queue.submit([{ id: 'busy', task: value, priority: 0 }]);
  const stop = new AbortController();
  const log = sink();
  const { Writable } = await import('node:stream');
  const watch = new Writable({
    write(chunk: Buffer, _e, cb) {
      log.write(chunk);
      if (chunk.toString().includes('"event":"started"')) stop.abort();
      cb();
    },
  });
  const summary = await runWorker(queue, { ledger, signal: stop.signal, graceMs: 20, log: watch, leaseMs: 1000 });
  t.match(summary, { stoppedBy: 'signal', released: 1, done: 0 });
  t.same(queue.ends.map((e) => e.how), ['release']);
  t.equal(await queue.depth(), 1, 'back on the queue');
  t.ok(lines(log.text()).some((e) => e.event === 'released' && e.outcome === 'released'));
});

t.test('a ledger that throws: the delivery is retried, the worker goes on', async (t) => {
  const dir = tempDir('fiscal-worker-');
  const queue = new MemoryQueue();
  const ledger = new MemoryLedger();
  let fail = 1;
  const claim = ledger.claim.bind(ledger);
  ledger.claim = async (r) => {
    if (fail-- > 0) throw new Error('ledger down');
    return claim(r);
  };
  await queue.submit([{ id: 'l', task: validate(join(dir, 'l.json')), priority: 0 }]);
  const summary = await runWorker(queue, { ledger, exitWhenIdle: true, retryBaseMs: 1 });
  t.same(queue.ends.map((e) => [e.how, e.manifest?.error?.code]), [['retryLater', 'TASK_INTERNAL'], ['complete', undefined]]);
  t.equal(summary.done, 1);
});

/** The MemoryQueue's deliveries with fields a queue may add (a refusal, a time limit). */
function adding(queue: MemoryQueue, extra: Partial<Pick<Delivery, 'refusal' | 'timeLimitMs'>>): WorkerQueue {
  return { depth: () => queue.depth(), consume: (o) => queue.consume({ ...o, onDelivery: (d) => o.onDelivery({ ...d, ...extra }) }) };
}

t.test('a delivery with a refusal is dead-lettered with it, never run', async (t) => {
  const dir = tempDir('fiscal-worker-');
  const queue = new MemoryQueue();
  await queue.submit([{ id: 'r', task: validate(join(dir, 'r.json')), priority: 0 }]);
  const log = sink();
  const summary = await runWorker(adding(queue, { refusal: { code: 'CELERY_TASK_NAME', message: 'not ours' } }), { ledger: new MemoryLedger(), exitWhenIdle: true, log, maxAttempts: 5 });
  t.match(summary, { dead: 1, done: 0, retried: 0 });
  t.match(queue.ends, [{ id: 'r', how: 'deadLetter', manifest: { status: 'failed', error: { code: 'CELERY_TASK_NAME', message: 'not ours' } } }]);
  t.notOk(existsSync(join(dir, 'r.json')), 'not run');
  t.same(lines(log.text()).map((e) => e.event), ['received', 'dead']);
});

t.test('a delivery past its time limit is aborted and dead-lettered with TASK_TIME_LIMIT, not retried', async (t) => {
  const dir = tempDir('fiscal-worker-');
  const queue = new MemoryQueue();
  // an input that never ends: only the limit stops the task
  const server = createServer((_req, res) => { res.writeHead(200, { 'content-length': '1000000' }); res.write('|0000|'); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  const input = `http://127.0.0.1:${(server.address() as AddressInfo).port}/efd.txt`;
  await queue.submit([{ id: 's', task: validate(join(dir, 's.json'), input), priority: 0 }]);
  const summary = await runWorker(adding(queue, { timeLimitMs: 300 }), { ledger: new MemoryLedger(), exitWhenIdle: true, maxAttempts: 5, workDir: join(dir, '.fiscal') });
  t.match(summary, { dead: 1, retried: 0 });
  t.match(queue.ends, [{ id: 's', how: 'deadLetter', manifest: { error: { code: 'TASK_TIME_LIMIT', message: /0\.3 s/ } } }]);
  t.notOk(existsSync(join(dir, 's.json')));
});
