/**
 * The Celery message protocol (src/queue/celery-protocol.ts) on messages built as Celery 5.2 builds them, and the
 * Celery consumer (src/queue/celery.ts) under runWorker against a real RabbitMQ: kombu's topology, an eta past the
 * hold going through a delay queue, an existing queue declared with other arguments.
 */
import t from 'tap';
import amqp from 'amqplib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CELERY_CODES, celeryResult, parseCeleryMessage, parseCeleryTime, type CeleryMessageProperties } from '../../src/queue/celery-protocol.js';
import { hopMs, openCeleryQueue } from '../../src/queue/celery.js';
import { runWorker } from '../../src/queue/worker.js';
import { failedManifest, type TaskManifest } from '../../src/tasks/run-task.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { rabbitSkip, startRabbit } from '../helpers/rabbitmq.js';
import { tempDir } from '../helpers/temp-dir.js';

const EFD = new URL('../../fixtures/sped/efd-icms-ipi-2026-01.txt', import.meta.url).pathname;

/** The headers celery.app.amqp.as_task_v2 writes, with overrides. */
function headers(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    lang: 'py', task: 'fiscal.run', id: 'c0ffee', shadow: null, eta: null, expires: null, group: null, group_index: null,
    retries: 0, timelimit: [null, null], root_id: 'c0ffee', parent_id: null, argsrepr: '(…)', kwargsrepr: '{}', origin: 'gen1@host',
    ignore_result: false, ...over,
  };
}
const EMBED = { callbacks: null, errbacks: null, chain: null, chord: null };
const body = (args: unknown[], kwargs: Record<string, unknown> = {}, embed: unknown = EMBED): Buffer => Buffer.from(JSON.stringify([args, kwargs, embed]));
const props = (over: Partial<CeleryMessageProperties> = {}, h: Record<string, unknown> = {}): CeleryMessageProperties => ({
  contentType: 'application/json', contentEncoding: 'utf-8', correlationId: 'c0ffee', replyTo: 'reply-q', priority: 0, headers: headers(h), ...over,
});
const TASK = { type: 'sped.validate', input: '/x.txt', output: '/y.json' };

t.test('a protocol 2 JSON message is read: task, retries, eta, expires, time limits, reply', async (t) => {
  const m = parseCeleryMessage(body([TASK]), props({ priority: 3 }, { retries: 2, eta: '2026-12-03T10:00:00.250000+00:00', expires: '2026-12-03T07:00:00-03:00', timelimit: [2.5, 1] }));
  t.same(m, {
    kind: 'request', id: 'c0ffee', replyTo: 'reply-q', task: TASK, retries: 2, eta: Date.parse('2026-12-03T10:00:00.250Z'),
    expires: Date.parse('2026-12-03T10:00:00Z'), timeLimitMs: 2500, softTimeLimitMs: 1000, priority: 3,
  });
  t.equal(parseCeleryTime('2026-12-03T10:00:00'), Date.parse('2026-12-03T10:00:00Z'), 'a naive time is UTC');
  t.equal(parseCeleryTime('tomorrow'), 'bad');
  t.match(parseCeleryMessage(body([TASK]), props({}, { ignore_result: true })), { kind: 'request', replyTo: null }, 'ignore_result: no reply');
  t.match(parseCeleryMessage(body([TASK]), props({ replyTo: '' })), { kind: 'request', replyTo: null });
});

t.test('what cannot be run faithfully is refused with a code', async (t) => {
  const refused = (content: Buffer, p: CeleryMessageProperties): string | null => {
    const m = parseCeleryMessage(content, p);
    return m.kind === 'refusal' ? `${m.code} ${m.id}` : null;
  };
  t.equal(refused(body([TASK]), props({ contentType: 'application/x-python-serialize' })), 'CELERY_PROTOCOL c0ffee');
  t.equal(refused(body([TASK]), props({ contentType: 'application/x-yaml' })), 'CELERY_PROTOCOL c0ffee');
  t.equal(refused(Buffer.from('[[{'), props()), 'CELERY_PROTOCOL c0ffee');
  const v1 = Buffer.from(JSON.stringify({ task: 'fiscal.run', id: 'v1-id', args: [TASK], kwargs: {} }));
  t.equal(refused(v1, { contentType: 'application/json', correlationId: 'v1-id', headers: {} }), 'CELERY_PROTOCOL v1-id', 'protocol 1: the id from the body');
  t.equal(refused(body([TASK]), props({}, { task: 'billing.charge' })), 'CELERY_TASK_NAME c0ffee');
  t.equal(refused(body([TASK, 1]), props()), 'CELERY_ARGS c0ffee');
  t.equal(refused(body([]), props()), 'CELERY_ARGS c0ffee');
  t.equal(refused(body([TASK], { strict: true }), props()), 'CELERY_ARGS c0ffee');
  t.equal(refused(body([TASK], {}, { ...EMBED, callbacks: [{ task: 'notify' }] }), props()), 'CELERY_UNSUPPORTED c0ffee');
  t.equal(refused(body([TASK], {}, { ...EMBED, chain: [{ task: 'next' }] }), props()), 'CELERY_UNSUPPORTED c0ffee');
  t.equal(refused(body([TASK]), props({}, { eta: 'soon' })), 'CELERY_PROTOCOL c0ffee');
  t.equal(refused(body([TASK]), props({}, { timelimit: 5 })), 'CELERY_PROTOCOL c0ffee');
  t.equal(refused(body([TASK]), props({}, { retries: -1 })), 'CELERY_PROTOCOL c0ffee');
  t.equal(refused(body([TASK]), props({}, { id: undefined })), null, 'no id header: the correlation id');
  t.match(parseCeleryMessage(body([TASK], {}, { ...EMBED, callbacks: [] }), props()), { kind: 'request' }, 'an empty callback list is no canvas');
});

t.test('results as the rpc:// backend reads them, exceptions Celery 5.2 can rebuild', async (t) => {
  const done: TaskManifest = { ...failedManifest({ code: 'x', message: 'y' }, 0), status: 'done', error: undefined as never };
  delete (done as { error?: unknown }).error;
  const ok = celeryResult('id1', done, Date.parse('2026-12-03T07:00:00Z'));
  t.same(ok, { state: 'SUCCESS', body: { task_id: 'id1', status: 'SUCCESS', result: done, traceback: null, children: [], date_done: '2026-12-03T07:00:00.000Z' } });
  const exc = (code: string): unknown => celeryResult('id2', failedManifest({ code, message: 'why' }, 0)).body.result;
  t.same(exc('TASK_INPUT'), { exc_type: 'FiscalTaskError', exc_module: 'fiscal_engine', exc_message: ['TASK_INPUT: why'] });
  t.same(exc('TASK_TIME_LIMIT'), { exc_type: 'TimeLimitExceeded', exc_module: 'celery.exceptions', exc_message: ['TASK_TIME_LIMIT: why'] });
  t.same(exc('CELERY_EXPIRED'), { exc_type: 'TaskRevokedError', exc_module: 'celery.exceptions', exc_message: ['CELERY_EXPIRED: why'] });
  t.equal(celeryResult('id3', failedManifest({ code: 'CELERY_EXPIRED', message: 'm' }, 0)).state, 'REVOKED');
  t.equal(celeryResult('id3', failedManifest({ code: 'CELERY_ARGS', message: 'm' }, 0)).state, 'FAILURE');
});

t.test('delay hops: the largest power-of-two seconds not past the wait', async (t) => {
  t.same([hopMs(500), hopMs(1000), hopMs(1999), hopMs(2000), hopMs(90_000), hopMs(1e12)], [1000, 1000, 1000, 2000, 64_000, 2 ** 21 * 1000]);
});

t.test('every Celery code is documented in docs/errors.md', async (t) => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const code of [...CELERY_CODES, 'TASK_TIME_LIMIT']) t.match(doc, new RegExp(`^\\| \`${code}\` \\|`, 'm'), code);
});

t.test('the Celery consumer on a real broker', rabbitSkip(), async (t) => {
  const rabbit = await startRabbit(t);
  const conn = await amqp.connect(rabbit.url);
  t.teardown(() => conn.close());

  t.test('kombu\'s topology; an eta past the hold waits in a delay queue, then runs; the result goes to reply_to', async (t) => {
    const dir = tempDir('fiscal-celery-q-');
    const name = 'hop-test';
    const queue = await openCeleryQueue(rabbit.url, { queue: name, holdMs: 500 });
    t.teardown(() => queue.close());
    const ch = await conn.createConfirmChannel();
    // what kombu declares for send_task(queue=name) succeeds against ours: same type, durability, binding
    await ch.assertExchange(name, 'direct', { durable: true, autoDelete: false });
    await ch.assertQueue(name, { durable: true, autoDelete: false, exclusive: false });
    const reply = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    const eta = Date.now() + 2600;
    const task = { type: 'sped.validate', input: EFD, output: join(dir, 'out.json'), options: { json: true } };
    ch.publish(name, name, body([task]), {
      contentType: 'application/json', contentEncoding: 'utf-8', correlationId: 'hop-1', replyTo: reply.queue, persistent: true,
      headers: headers({ id: 'hop-1', root_id: 'hop-1', eta: new Date(eta).toISOString().replace('Z', '+00:00') }),
    });
    await ch.waitForConfirms();
    const lines: string[] = [];
    const log = { write: (s: string) => { lines.push(s); return true; } } as unknown as NodeJS.WritableStream;
    const summary = await runWorker(queue, { ledger: new MemoryLedger(), exitWhenIdle: true, log: log as never, workDir: join(dir, '.fiscal') });
    t.match(summary, { received: 1, done: 1, stoppedBy: 'idle' });
    const started = lines.map((l) => JSON.parse(l) as { event: string; time: string }).find((e) => e.event === 'started')!;
    t.ok(Date.parse(started.time) >= eta, 'not before its eta');
    t.equal((await ch.checkQueue(`${name}.eta.2000`)).messageCount, 0, 'it went through the 2 s delay queue');
    const msg = await ch.get(reply.queue, { noAck: true });
    t.ok(msg, 'a result was published');
    if (!msg) return;
    t.equal(msg.properties.correlationId, 'hop-1');
    t.equal(msg.properties.contentType, 'application/json');
    t.match(JSON.parse(msg.content.toString()), { task_id: 'hop-1', status: 'SUCCESS', result: { status: 'done', type: 'sped.validate' }, children: [] });
  });

  t.test('a queue the Celery app declared with other arguments is consumed as it is', async (t) => {
    const ch = await conn.createChannel();
    await ch.assertQueue('prio-test', { durable: true, arguments: { 'x-max-priority': 10 } });
    const queue = await openCeleryQueue(rabbit.url, { queue: 'prio-test' });
    t.teardown(() => queue.close());
    t.equal(await queue.depth(), 0);
    const c = await queue.consume({ concurrency: 1, onDelivery: () => {} });
    t.equal((await ch.checkQueue('prio-test')).consumerCount, 1);
    await c.stop();
  });

  t.test('an unreachable broker is QUEUE_CONNECTION, a non-AMQP URL QUEUE_URL', async (t) => {
    await t.rejects(openCeleryQueue('amqp://guest:secret@127.0.0.1:1'), { code: 'QUEUE_CONNECTION' });
    await t.rejects(openCeleryQueue('local:/tmp/x'), { code: 'QUEUE_URL' });
  });
});
