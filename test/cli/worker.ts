/**
 * `fiscal worker` in real processes (dist/, so `npm run build` first) over the embedded queue (local:DIR) and the
 * SQLite ledger: a run to idle, a worker killed with SIGKILL mid-way beside another one, SIGTERM on a long task.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { openLocalQueue } from '../../src/queue/local.js';
import { openLedger } from '../../src/tasks/open-ledger.js';
import { parseTask, taskKey } from '../../src/tasks/task.js';
import { outputIdentity, parseLocation } from '../../src/tasks/io.js';
import { tempDir } from '../helpers/temp-dir.js';

const BIN = new URL('../../bin/fiscal.js', import.meta.url).pathname;
const EFD = new URL('../../fixtures/sped/efd-icms-ipi-2026-01.txt', import.meta.url).pathname;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Child { proc: ChildProcess; stderr: string; stdout: string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

function worker(dir: string, extra: string[] = []): Child {
  const proc = spawn(process.execPath, [BIN, 'worker', '--queue', `local:${join(dir, 'queue')}`, '--route', 'test', '--ledger', `sqlite:${join(dir, 'ledger.db')}`, ...extra], { cwd: dir });
  const child: Child = { proc, stderr: '', stdout: '', exited: null as never };
  proc.stderr?.on('data', (c: Buffer) => { child.stderr += c.toString(); });
  proc.stdout?.on('data', (c: Buffer) => { child.stdout += c.toString(); });
  child.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

const events = (text: string): { event: string; id: string; outcome: string | null }[] =>
  text.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event: string; id: string; outcome: string | null });

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}

function task(dir: string, name: string): { type: string; input: string; output: string; options: { json: boolean } } {
  return { type: 'sped.validate', input: EFD, output: join(dir, 'out', `${name}.json`), options: { json: true } };
}

async function enqueue(dir: string, names: readonly string[]): Promise<void> {
  const queue = await openLocalQueue(join(dir, 'queue'), { route: 'test' });
  try {
    await queue.submit(names.map((n) => ({ id: n, task: task(dir, n), priority: 0 })));
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

t.test('200 tasks, two workers, one killed with SIGKILL and restarted: each task done once, one output each', async (t) => {
  const dir = tempDir('fiscal-worker-cli-');
  const names = Array.from({ length: 200 }, (_, i) => `t${String(i).padStart(3, '0')}`);
  await enqueue(dir, names);
  const flags = ['--exit-when-idle', '--concurrency', '2', '--threads', '1', '--lease-ms', '600'];
  const a = worker(dir, flags);
  const b = worker(dir, flags);
  await until(() => events(a.stderr).filter((e) => e.event === 'done').length >= 20 || a.proc.exitCode !== null);
  a.proc.kill('SIGKILL');
  t.equal((await a.exited).signal, 'SIGKILL');
  const a2 = worker(dir, flags);
  const [rb, ra2] = await Promise.all([b.exited, a2.exited]);
  t.equal(rb.code, 0, b.stderr.slice(-2000));
  t.equal(ra2.code, 0, a2.stderr.slice(-2000));

  // the single-run reference: the same validation, run once
  const refDir = tempDir('fiscal-worker-ref-');
  await enqueue(refDir, ['ref']);
  const ref = worker(refDir, ['--exit-when-idle', '--threads', '1']);
  t.equal((await ref.exited).code, 0);
  const refDigest = sha(readFileSync(join(refDir, 'out', 'ref.json')));

  const ledger = await openLedger(`sqlite:${join(dir, 'ledger.db')}`);
  try {
    const done = await ledger.list({ status: 'done', limit: 1000 });
    t.equal(done.length, 200, 'every key done in the ledger');
    const byKey = new Map(done.map((e) => [e.key, e]));
    for (const n of names) {
      const value = task(dir, n);
      const bytes = readFileSync(value.output);
      t.equal(sha(bytes), refDigest, `${n}: the single-run output`);
      const parsed = parseTask(value);
      const { key } = taskKey(parsed, sha(readFileSync(EFD)), outputIdentity(parseLocation(parsed.output, 'output')));
      const entry = byKey.get(key);
      t.equal(entry?.outputDigest, refDigest, `${n}: the ledger's digest is the file's`);
      t.ok((entry?.attempts ?? 0) >= 1 && (entry?.attempts ?? 0) <= 3, `${n}: attempts ${entry?.attempts}`);
    }
  } finally {
    await ledger.close();
  }
  // worked (not reused) at most once per task over all the processes, killed one included
  const worked = [a, b, a2].flatMap((w) => events(w.stderr)).filter((e) => e.event === 'done' && e.outcome === 'done').map((e) => e.id);
  t.equal(new Set(worked).size, worked.length, 'no task worked to done twice');
  t.notOk(existsSync(join(dir, 'out', 't000.json.partial')));
  const queue = await openLocalQueue(join(dir, 'queue'), { route: 'test' });
  try {
    t.match(await queue.stats(), { pending: 0, running: 0, done: 200, dead: 0 });
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
