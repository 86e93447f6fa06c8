/**
 * `fiscal worker --celery` (dist/, so `npm run build` first) against a real RabbitMQ 3.10 (test/helpers/rabbitmq.ts)
 * and a real Celery 5 client (Debian's python3-celery under /usr/bin/python3, test/helpers/celery-client.py):
 * Python sends with app.send_task and reads the results through the rpc:// backend; our worker runs the tasks.
 * Every test uses its own Celery queue name.
 */
import t from 'tap';
import amqp from 'amqplib';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { openLedger } from '../../src/tasks/open-ledger.js';
import { runTask } from '../../src/tasks/run-task.js';
import { rabbitSkip, startRabbit, type RabbitServer } from '../helpers/rabbitmq.js';
import { tempDir } from '../helpers/temp-dir.js';

const BIN = new URL('../../bin/fiscal.js', import.meta.url).pathname;
const CLIENT = new URL('../helpers/celery-client.py', import.meta.url).pathname;
const EFD = new URL('../../fixtures/sped/efd-icms-ipi-2026-01.txt', import.meta.url).pathname;
// Debian's interpreter: python3-celery installs for it, whatever python3 comes first on PATH
const PYTHON = '/usr/bin/python3';

function celerySkip(): { skip: string | false } {
  const rabbit = rabbitSkip();
  if (rabbit.skip) return rabbit;
  const ok = spawnSync(PYTHON, ['-c', 'import celery'], { stdio: 'ignore' }).status === 0;
  if (ok || process.env.CI === 'true') return { skip: false };
  return { skip: 'needs Celery for /usr/bin/python3: apt-get install -y python3-celery' };
}

interface Send {
  name?: string; args?: unknown[]; kwargs?: Record<string, unknown>; task_id?: string;
  countdown?: number; expires?: number; time_limit?: number; serializer?: string;
}
interface Outcome { id: string; ok: boolean; state: string; result?: Record<string, unknown>; exc_type?: string; exc_module?: string; message?: string }
interface Python { sent: Promise<{ sent: string[]; eta: (number | null)[] }>; results: Promise<Outcome[]>; proc: ChildProcess }

/** Runs the Celery client: `sent` once every message is published, `results` once it has read them all. */
function python(broker: string, queue: string, sends: Send[], extra: { protocol?: number } = {}): Python {
  const proc = spawn(PYTHON, [CLIENT, JSON.stringify({ broker, queue, sends, timeout: 90, ...extra })], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  let sentResolve: (v: { sent: string[]; eta: (number | null)[] }) => void = () => {};
  const sent = new Promise<{ sent: string[]; eta: (number | null)[] }>((r) => { sentResolve = r; });
  proc.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    const first = out.split('\n')[0]!;
    if (out.includes('\n') && first.startsWith('{')) sentResolve(JSON.parse(first) as { sent: string[]; eta: (number | null)[] });
  });
  const results = once(proc, 'exit').then(([code]) => {
    const lines = out.trim().split('\n');
    if (code !== 0 || lines.length < 2) throw new Error(`celery client exited ${String(code)}: ${err}\n${out}`);
    return JSON.parse(lines[1]!) as Outcome[];
  });
  void results.catch(() => sentResolve({ sent: [], eta: [] }));
  return { sent, results, proc };
}

interface Worker { proc: ChildProcess; stderr: string; stdout: string; exited: Promise<number | null> }

function worker(broker: string, queue: string, dir: string, extra: string[] = []): Worker {
  const proc = spawn(process.execPath, [BIN, 'worker', '--celery', '--queue', broker, '--celery-queue', queue, '--ledger', `sqlite:${join(dir, 'ledger.db')}`, '--threads', '1', ...extra], { cwd: dir });
  const w: Worker = { proc, stderr: '', stdout: '', exited: null as never };
  proc.stderr!.on('data', (c: Buffer) => { w.stderr += c.toString(); });
  proc.stdout!.on('data', (c: Buffer) => { w.stdout += c.toString(); });
  w.exited = once(proc, 'exit').then(([code]) => code as number | null);
  return w;
}

interface LogLine { time: string; event: string; id: string; attempt: number; outcome: string | null; code?: string }
const events = (text: string): LogLine[] => text.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);

const validate = (dir: string, name: string, input = EFD): Record<string, unknown> => ({ type: 'sped.validate', input, output: join(dir, 'out', `${name}.json`), options: { json: true } });

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let n = 0;
const nextQueue = (): string => `celery-${process.pid}-${n++}`;

t.test('fiscal worker --celery with a Celery 5 client', celerySkip(), async (t) => {
  const rabbit: RabbitServer = await startRabbit(t);
  const url = rabbit.url;
  const conn = await amqp.connect(url);
  t.teardown(() => conn.close());
  const ch = await conn.createChannel();
  /** Until a worker consumes the queue (it declares it). */
  const consuming = (queue: string): Promise<void> => until(`a consumer on ${queue}`, async () => {
    const probe = await conn.createChannel();
    probe.on('error', () => undefined);
    try {
      return (await probe.checkQueue(queue)).consumerCount > 0;
    } catch {
      return false; // not declared yet (the probe channel is closed by the broker)
    } finally {
      await probe.close().catch(() => undefined);
    }
  });

  t.test('send_task(...).get() returns the manifest; a duplicate runs once; failures raise with our code', async (t) => {
    const dir = tempDir('fiscal-celery-');
    const queue = nextQueue();
    const task = validate(dir, 'a');
    const py = python(url, queue, [
      { args: [task] },
      { args: [task], task_id: 'resent-by-hand' },
      { args: [task], task_id: 'resent-by-hand' },
      { args: [{ type: 'sped.validate', input: EFD }] },
      { args: [validate(dir, 'missing', join(dir, 'no-such-file.txt'))] },
      { name: 'billing.charge', args: [task] },
      { args: [task, 'extra'] },
      { args: [task], serializer: 'pickle' },
    ]);
    await py.sent;
    const w = worker(url, queue, dir, ['--exit-when-idle', '--max-attempts', '2']);
    const [results, code] = await Promise.all([py.results, w.exited]);
    t.equal(code, 0, code === 0 ? 'exit 0' : w.stderr);
    const [first, again, sameId, malformed, missing, otherName, extraArg, pickled] = results as [Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome];
    t.match(first, { ok: true, state: 'SUCCESS', result: { status: 'done', reused: false, type: 'sped.validate' } }, JSON.stringify(first));
    t.match(JSON.parse(readFileSync(join(dir, 'out', 'a.json'), 'utf8')), { valid: true });
    t.match(again, { ok: true, result: { status: 'done', reused: true, key: first.result!.key } }, 'the same task again: answered from the ledger');
    t.match(sameId, { ok: true, result: { status: 'done', key: first.result!.key } });
    const ledger = await openLedger(`sqlite:${join(dir, 'ledger.db')}`);
    t.teardown(() => ledger.close());
    t.match(await ledger.get(first.result!.key as string), { status: 'done', attempts: 1 }, 'worked once');

    t.match(malformed, { ok: false, state: 'FAILURE', exc_type: 'FiscalTaskError', message: /^TASK_MALFORMED: / });
    t.match(missing, { ok: false, state: 'FAILURE', exc_type: 'FiscalTaskError', message: /^TASK_INPUT: / });
    t.match(otherName, { ok: false, state: 'FAILURE', message: /^CELERY_TASK_NAME: task "billing\.charge"/ });
    t.match(extraArg, { ok: false, state: 'FAILURE', message: /^CELERY_ARGS: / });
    t.match(pickled, { ok: false, state: 'FAILURE', message: /^CELERY_PROTOCOL: content type "application\/x-python-serialize"/ });

    const log = events(w.stderr);
    // the missing input failed, was sent again with retries=1 (Celery's Task.retry), and ran as attempt 2
    t.same(log.filter((e) => e.id === missing.id && (e.event === 'failed' || e.event === 'dead')).map((e) => [e.event, e.attempt, e.code]), [['failed', 1, 'TASK_INPUT'], ['dead', 2, 'TASK_INPUT']]);
    t.match(JSON.parse(w.stdout), { received: 9, done: 3, retried: 1, dead: 5, stoppedBy: 'idle' });
  });

  t.test('protocol 1 is refused with a FAILURE, and the message acked', async (t) => {
    const dir = tempDir('fiscal-celery-');
    const queue = nextQueue();
    const py = python(url, queue, [{ args: [validate(dir, 'v1')] }], { protocol: 1 });
    await py.sent;
    const w = worker(url, queue, dir, ['--exit-when-idle']);
    const [[v1], code] = await Promise.all([py.results, w.exited]);
    t.equal(code, 0, code === 0 ? 'exit 0' : w.stderr);
    t.match(v1, { ok: false, state: 'FAILURE', message: /^CELERY_PROTOCOL: Celery message protocol 1/ });
    t.equal((await ch.checkQueue(queue)).messageCount, 0, 'nothing left to redeliver');
  });

  t.test('eta is waited for without a concurrency slot; expires before it is REVOKED; a time limit aborts', async (t) => {
    const dir = tempDir('fiscal-celery-');
    const queue = nextQueue();
    // an input that never ends: only the hard time limit stops the task
    const server = createServer((_req, res) => { res.writeHead(200, { 'content-length': '1000000' }); res.write('|0000|'); });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.teardown(() => { server.closeAllConnections(); server.close(); });
    const stalled = `http://127.0.0.1:${(server.address() as AddressInfo).port}/efd.txt`;
    // the worker consumes first: a message that sits in the queue past `expires` is dropped by RabbitMQ itself
    // (Celery sets the AMQP expiration), so only a consumer that has it can answer REVOKED
    const w = worker(url, queue, dir, ['--concurrency', '1']);
    await consuming(queue);
    const py = python(url, queue, [
      { args: [validate(dir, 'later')], countdown: 3 },
      { args: [validate(dir, 'never')], countdown: 30, expires: 1 },
      { args: [validate(dir, 'now')] },
      { args: [validate(dir, 'slow', stalled)], time_limit: 1 },
    ]);
    const { eta } = await py.sent;
    const outcomes = await py.results;
    w.proc.kill('SIGTERM');
    t.equal(await w.exited, 0, 'exit 0 after SIGTERM');
    const [later, never, now, slow] = outcomes as [Outcome, Outcome, Outcome, Outcome];
    t.match(later, { ok: true, result: { status: 'done' } });
    t.match(now, { ok: true, result: { status: 'done' } });
    t.match(never, { ok: false, state: 'REVOKED', exc_type: 'TaskRevokedError', message: /^CELERY_EXPIRED: / });
    // billiard's TimeLimitExceeded shows its args: TimeLimitExceeded('TASK_TIME_LIMIT: …',)
    t.match(slow, { ok: false, state: 'FAILURE', exc_type: 'TimeLimitExceeded', message: /TASK_TIME_LIMIT: aborted after its hard time limit of 1 s/ });
    const log = events(w.stderr);
    const started = (id: string): number => Date.parse(log.find((e) => e.id === id && e.event === 'started')!.time);
    t.ok(started(later.id) >= eta[0]! * 1000, 'not started before its eta');
    // with --concurrency 1, the task sent after it ran while it was waiting for its eta
    t.ok(started(now.id) < started(later.id), 'the held message took no concurrency slot');
    t.notOk(log.some((e) => e.id === never.id && e.event === 'started'), 'the expired one never ran');
    t.throws(() => statSync(join(dir, 'out', 'slow.json')), 'the aborted task wrote nothing');
  });

  t.test('a worker killed with SIGKILL while holding messages: they are redelivered and each task done once', async (t) => {
    const dir = tempDir('fiscal-celery-');
    const queue = nextQueue();
    const names = Array.from({ length: 6 }, (_, i) => `k${i}`);
    const a = worker(url, queue, dir, ['--concurrency', '2', '--lease-ms', '2000']);
    await consuming(queue);
    const py = python(url, queue, names.map((name) => ({ args: [validate(dir, name)], countdown: 5 })));
    await py.sent;
    // confirmed by the broker and no longer ready: worker a holds them all, unacked, waiting for their eta
    await until('worker a holds every message', async () => (await ch.checkQueue(queue)).messageCount === 0);
    a.proc.kill('SIGKILL');
    await a.exited;
    const b = worker(url, queue, dir, ['--exit-when-idle', '--concurrency', '2', '--lease-ms', '2000']);
    const [results, code] = await Promise.all([py.results, b.exited]);
    t.equal(code, 0, code === 0 ? 'exit 0' : b.stderr);
    t.same(results.map((r) => r.ok), names.map(() => true), JSON.stringify(results));
    const log = events(b.stderr).filter((e) => e.event === 'done');
    t.same(log.map((e) => e.attempt), names.map(() => 2), 'redelivered: attempt 2');
    const ledger = await openLedger(`sqlite:${join(dir, 'ledger.db')}`);
    t.teardown(() => ledger.close());
    for (const r of results) t.match(await ledger.get(r.result!.key as string), { status: 'done', attempts: 1 }, `${r.id} worked once`);
  });

  t.test('a redelivered message whose task the ledger already holds is answered from it, its output not rewritten', async (t) => {
    const dir = tempDir('fiscal-celery-');
    const queue = nextQueue();
    const task = validate(dir, 'recorded');
    // a previous worker ran the task and died before its ack
    const ledger = await openLedger(`sqlite:${join(dir, 'ledger.db')}`);
    const before = await runTask(task, { ledger, workDir: join(dir, '.fiscal') });
    await ledger.close();
    const written = statSync(join(dir, 'out', 'recorded.json'));
    const py = python(url, queue, [{ args: [task] }]);
    await py.sent;
    const w = worker(url, queue, dir, ['--exit-when-idle']);
    const [[answer], code] = await Promise.all([py.results, w.exited]);
    t.equal(code, 0, code === 0 ? 'exit 0' : w.stderr);
    t.match(answer, { ok: true, result: { status: 'done', reused: true, key: before.key, output: before.output } });
    const after = statSync(join(dir, 'out', 'recorded.json'));
    t.same([after.ino, after.mtimeMs], [written.ino, written.mtimeMs], 'the output is the first run\'s');
  });

  t.test('usage: --celery needs an amqp:// queue; --celery-queue needs --celery', async (t) => {
    const dir = tempDir('fiscal-celery-');
    const local = spawnSync(process.execPath, [BIN, 'worker', '--celery', '--queue', `local:${dir}`], { encoding: 'utf8', cwd: dir });
    t.equal(local.status, 2);
    t.match(local.stderr, /--celery needs a RabbitMQ URL .*\[QUEUE_URL\]/);
    const lone = spawnSync(process.execPath, [BIN, 'worker', '--celery-queue', 'x', '--queue', `local:${dir}`], { encoding: 'utf8', cwd: dir });
    t.equal(lone.status, 2);
    t.match(lone.stderr, /--celery-queue needs --celery/);
  });
});
