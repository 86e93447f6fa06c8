/**
 * `fiscal worker` in real processes (dist/, so `npm run build` first) over the embedded queue (local:DIR) and the
 * SQLite ledger: a run to idle, 1,000 tasks over two workers with one killed with SIGKILL mid-way and restarted,
 * SIGTERM on a long task.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLocalQueue } from '../../src/queue/local.js';
import { checkExactlyOnce, doneCount, events, until, validateTask, worker as spawnWorker, type Child } from '../helpers/worker-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const where = (dir: string) => ({ queue: `local:${join(dir, 'queue')}`, ledger: `sqlite:${join(dir, 'ledger.db')}`, route: 'test' });
const worker = (dir: string, extra: string[] = []): Child => spawnWorker(dir, where(dir), extra);

async function enqueue(dir: string, names: readonly string[]): Promise<void> {
  const queue = await openLocalQueue(join(dir, 'queue'), { route: 'test' });
  try {
    await queue.submit(names.map((n) => ({ id: n, task: validateTask(dir, n), priority: 0 })));
  } finally {
    await queue.close();
  }
}

t.test('worker --exit-when-idle runs the queued tasks and exits 0', async (t) => {
  const dir = tempDir('fiscal-worker-cli-');
  await enqueue(dir, ['a', 'b', 'c']);
  const w = worker(dir, ['--exit-when-idle', '--concurrency', '2', '--threads', '1']);
  const { code } = await w.exited;
  t.equal(code, 0, w.stderr);
  t.match(JSON.parse(w.stdout), { done: 3, dead: 0, stoppedBy: 'idle' });
  for (const n of ['a', 'b', 'c']) t.equal(JSON.parse(readFileSync(join(dir, 'out', `${n}.json`), 'utf8')).valid, true);
  t.same(events(w.stderr).filter((e) => e.event === 'done').map((e) => e.id).sort(), ['a', 'b', 'c']);
});

t.test('1,000 tasks, two workers, one killed with SIGKILL and restarted: each task done once, one output each', async (t) => {
  const dir = tempDir('fiscal-worker-cli-');
  const names = Array.from({ length: 1000 }, (_, i) => `t${String(i).padStart(4, '0')}`);
  await enqueue(dir, names);
  const flags = ['--exit-when-idle', '--concurrency', '2', '--threads', '1', '--lease-ms', '2000'];
  const a = worker(dir, flags);
  const b = worker(dir, flags);
  await until(() => doneCount(a) >= 100 || a.proc.exitCode !== null, 'the first worker did 100 tasks');
  a.proc.kill('SIGKILL');
  t.equal((await a.exited).signal, 'SIGKILL');
  const a2 = worker(dir, flags);
  const [rb, ra2] = await Promise.all([b.exited, a2.exited]);
  t.equal(rb.code, 0, b.stderr.slice(-2000));
  t.equal(ra2.code, 0, a2.stderr.slice(-2000));
  await checkExactlyOnce(t, { dir, names, ledger: where(dir).ledger, children: [a, b, a2], reclaimable: 2 });
  const queue = await openLocalQueue(join(dir, 'queue'), { route: 'test' });
  try {
    t.match(await queue.stats(), { pending: 0, running: 0, done: 1000, dead: 0 });
  } finally {
    await queue.close();
  }
});

t.test('SIGTERM during a task: exit 0, the task finished or released', async (t) => {
  const dir = tempDir('fiscal-worker-cli-');
  await enqueue(dir, ['long']);
  const w = worker(dir, ['--threads', '1', '--grace-ms', '10000']);
  await until(() => w.stderr.includes('"event":"started"') || w.proc.exitCode !== null);
  w.proc.kill('SIGTERM');
  const { code } = await w.exited;
  t.equal(code, 0, w.stderr);
  const last = events(w.stderr).filter((e) => e.id === 'long').at(-1);
  t.ok(last?.event === 'done' || last?.event === 'released', `ended by ${last?.event}`);
  const queue = await openLocalQueue(join(dir, 'queue'), { route: 'test' });
  try {
    const stats = await queue.stats();
    t.equal(stats.running, 0);
    t.equal(stats.done + stats.pending, 1);
  } finally {
    await queue.close();
  }
});
