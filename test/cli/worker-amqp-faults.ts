/**
 * Issue 8's fault tests on RabbitMQ, through the CLI processes (dist/, so `npm run build` first) and a real broker
 * (test/helpers/rabbitmq.ts, one for the file), with the SQLite ledger in a temp dir shared by the workers:
 *  - 1,000 tasks submitted with `fiscal submit`, two `fiscal worker`s, one killed with SIGKILL mid-way and
 *    restarted, the broker restarted once mid-way: every task done once, one output each (ledger and files);
 *  - a task that fails every time ends in the dead letters after --max-attempts, `fiscal queue dead` lists it
 *    with its error, `fiscal queue retry ID` / `--all-dead` bring it back and a worker runs it;
 *  - `fiscal queue stats` with and without --ledger.
 */
import t from 'tap';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { rabbitSkip, startRabbit } from '../helpers/rabbitmq.js';
import { tempDir } from '../helpers/temp-dir.js';
import { checkExactlyOnce, doneCount, events, fiscal, keyOf, until, validateTask, worker, type Child } from '../helpers/worker-cli.js';

const skip = rabbitSkip();

/** Runs `fiscal ARGS…` to its end; stdout, stderr and the exit code. */
async function cli(args: readonly string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = fiscal(args, cwd);
  const { code } = await c.exited;
  return { code, stdout: c.stdout, stderr: c.stderr };
}

t.test('fiscal worker over RabbitMQ', skip, async (t) => {
  const rabbit = await startRabbit(t);

  t.test('1,000 tasks, two workers, one killed with SIGKILL and restarted, the broker restarted: each task done once', async (t) => {
    const dir = tempDir('fiscal-amqp-faults-');
    const where = { queue: rabbit.url, ledger: `sqlite:${join(dir, 'ledger.db')}`, route: 'faults' };
    const names = Array.from({ length: 1000 }, (_, i) => `t${String(i).padStart(4, '0')}`);
    writeFileSync(join(dir, 'tasks.jsonl'), names.map((n) => `${JSON.stringify(validateTask(dir, n))}\n`).join(''));
    const submitted = await cli(['submit', '--queue', where.queue, '--route', where.route, 'tasks.jsonl'], dir);
    t.equal(submitted.code, 0, submitted.stderr);
    t.same(submitted.stdout.trim().split('\n'), names.map((n) => keyOf(validateTask(dir, n))), 'one id per task, its ledger key');

    const flags = ['--exit-when-idle', '--concurrency', '2', '--threads', '1', '--lease-ms', '2000'];
    const a = worker(dir, where, flags);
    const b = worker(dir, where, flags);
    await until(() => doneCount(a) >= 100 || a.proc.exitCode !== null, 'the first worker did 100 tasks');
    a.proc.kill('SIGKILL');
    t.equal((await a.exited).signal, 'SIGKILL');
    const a2 = worker(dir, where, flags);
    const children: Child[] = [a, b, a2];
    await until(() => doneCount(...children) >= 450 || (b.proc.exitCode !== null && a2.proc.exitCode !== null), 'about half the tasks done');
    const doneAtRestart = doneCount(...children);
    const survivorsAtRestart = doneCount(b, a2);
    const restarting = Date.now();
    await rabbit.restart();
    t.comment(`broker down and up again in ${Date.now() - restarting} ms`);
    t.ok(doneAtRestart < names.length, `the broker was restarted with tasks left (${doneAtRestart} done events before)`);
    const [rb, ra2] = await Promise.all([b.exited, a2.exited]);
    t.equal(rb.code, 0, b.stderr.slice(-2000));
    t.equal(ra2.code, 0, a2.stderr.slice(-2000));
    t.ok(doneCount(b, a2) > survivorsAtRestart, 'the workers went on after the broker came back');
    const outcomes = new Map<string, number>();
    for (const e of children.flatMap((c) => events(c.stderr))) if (e.outcome) outcomes.set(e.outcome, (outcomes.get(e.outcome) ?? 0) + 1);
    t.comment(`outcomes over the three processes: ${JSON.stringify(Object.fromEntries(outcomes))}`);

    await checkExactlyOnce(t, { dir, names, ledger: where.ledger, children, reclaimable: 2 });
    const stats = await cli(['queue', 'stats', '--queue', where.queue, '--route', where.route, '--ledger', where.ledger, '--json'], dir);
    t.equal(stats.code, 0, stats.stderr);
    t.same(JSON.parse(stats.stdout), { pending: 0, running: 0, done: 1000, failed: 0, dead: 0 }, 'queue stats --ledger');
    const bare = await cli(['queue', 'stats', '--queue', where.queue, '--route', where.route], dir);
    t.equal(bare.stdout, 'pending 0\nrunning -\ndone -\nfailed -\ndead 0\n', 'without --ledger RabbitMQ cannot say running/done/failed');
  });

  t.test('a task that fails every time is dead after --max-attempts; queue dead lists it, queue retry brings it back', async (t) => {
    const dir = tempDir('fiscal-amqp-poison-');
    const where = { queue: rabbit.url, ledger: `sqlite:${join(dir, 'ledger.db')}`, route: 'poison' };
    // the output's folder is a plain file: TASK_OUTPUT, a failure worth retrying (the disk may be mended), every time
    writeFileSync(join(dir, 'out'), 'not a folder');
    const tasks = ['p1', 'p2'].map((n) => validateTask(dir, n));
    writeFileSync(join(dir, 'tasks.jsonl'), tasks.map((x) => `${JSON.stringify(x)}\n`).join(''));
    const submitted = await cli(['submit', '--queue', where.queue, '--route', where.route, 'tasks.jsonl'], dir);
    t.equal(submitted.code, 0, submitted.stderr);
    const [id1, id2] = submitted.stdout.trim().split('\n');

    const w = worker(dir, where, ['--exit-when-idle', '--threads', '1', '--max-attempts', '3']);
    t.equal((await w.exited).code, 0, w.stderr.slice(-2000));
    const log = events(w.stderr);
    t.same(log.filter((e) => e.id === id1 && (e.event === 'failed' || e.event === 'dead')).map((e) => `${e.event} ${e.code}`),
      ['failed TASK_OUTPUT', 'failed TASK_OUTPUT', 'dead TASK_OUTPUT'], 'two retries, then the dead letters');

    const dead = await cli(['queue', 'dead', '--queue', where.queue, '--route', where.route], dir);
    t.equal(dead.code, 0, dead.stderr);
    const lines = dead.stdout.trim().split('\n').map((l) => l.split('\t')).sort((x, y) => x[0]!.localeCompare(y[0]!));
    t.same(lines.map((l) => l.slice(0, 3)), [[id1, '3', 'TASK_OUTPUT'], [id2, '3', 'TASK_OUTPUT']].sort((x, y) => x[0]!.localeCompare(y[0]!)), 'id, attempts, code');
    t.match(lines[0]![3], /cannot write .*not a directory/, 'with its message');
    const deadJson = JSON.parse((await cli(['queue', 'dead', '--queue', where.queue, '--route', where.route, '--json'], dir)).stdout) as { id: string; task: unknown }[];
    t.same(deadJson.find((d) => d.id === id1)?.task, tasks[0], 'the task as submitted');
    const statsArgs = ['queue', 'stats', '--queue', where.queue, '--route', where.route, '--ledger', where.ledger, '--json'];
    t.same(JSON.parse((await cli(statsArgs, dir)).stdout), { pending: 0, running: 0, done: 0, failed: 2, dead: 2 }, 'dead on the queue, failed in the ledger');

    rmSync(join(dir, 'out'));
    mkdirSync(join(dir, 'out'));
    t.equal((await cli(['queue', 'retry', '--queue', where.queue, '--route', where.route, id1!], dir)).stdout, '1\n', 'retry ID');
    t.same(JSON.parse((await cli(statsArgs, dir)).stdout), { pending: 1, running: 0, done: 0, failed: 2, dead: 1 });
    t.equal((await cli(['queue', 'retry', '--queue', where.queue, '--route', where.route, '--all-dead'], dir)).stdout, '1\n', 'retry --all-dead: the other one');
    const again = worker(dir, where, ['--exit-when-idle', '--threads', '1', '--max-attempts', '3']);
    t.equal((await again.exited).code, 0, again.stderr.slice(-2000));
    t.same(events(again.stderr).filter((e) => e.event === 'done').map((e) => `${e.id} ${e.outcome}`).sort(), [`${id1} done`, `${id2} done`].sort(), 'both run again, to done');
    for (const x of tasks) t.equal(JSON.parse(readFileSync(x.output, 'utf8')).valid, true, `${x.output} written`);
    t.notOk(existsSync(`${tasks[0]!.output}.partial`));
    t.same(JSON.parse((await cli(statsArgs, dir)).stdout), { pending: 0, running: 0, done: 2, failed: 0, dead: 0 });
    t.equal((await cli(['queue', 'dead', '--queue', where.queue, '--route', where.route], dir)).stdout, '', 'no dead letters left');
  });
});
