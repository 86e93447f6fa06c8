/**
 * docs/deploy.md "A new version without downtime", as two scenarios that run it step by step with real `fiscal`
 * processes on one queue URL (the embedded queue in test/deploy/procedure.ts, RabbitMQ in
 * test/deploy/procedure-amqp.ts), with one SQLite ledger the workers share. The old version line is this engine's
 * default route, v<ENGINE_MAJOR>: its workers and the submitter take no --route. The new line is the next major,
 * v<ENGINE_MAJOR + 1>, given as --route (this one build plays both versions).
 *
 * - switchWhileFlowing: while a submitter keeps running `fiscal submit` (to the default route, then switched to
 *   --route NEW), new workers start beside the old ones, the old route is watched with `fiscal queue stats` until
 *   it is drained, the old workers get SIGTERM, and the old route is checked empty (step 5). Then: every submitted
 *   id done by a worker of the route it was sent to, once in the ledger (one claim), its output the clean run's.
 * - stragglers: the last old worker stops (SIGTERM) while a task's input download hangs past the grace period (the
 *   task is handed back to the old route) and another task waits for its retry delay. `fiscal queue stats` shows
 *   both pending on the old route with no worker left, and an old worker run with --exit-when-idle (step 5)
 *   finishes both before it stops by itself.
 */
import type { Test } from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { queueRoute } from '../../src/queue/open-queue.js';
import { ENGINE_MAJOR } from '../../src/tasks/task.js';
import { openLedger } from '../../src/tasks/open-ledger.js';
import { Submitter, cliStats, doneIds, routeStats, siteWorker, submitBatch, summaryOf, terminate, type Site } from './task-flow.js';
import { EFD, checkExactlyOnce, events, keyOf, referenceDigest, sha, until, validateTask, type Child } from './worker-cli.js';

/** The route of this engine's line: what a worker or a submit without --route uses. */
export const OLD = `v${ENGINE_MAJOR}`;
/** The next major's line. */
export const NEW = `v${Number(ENGINE_MAJOR) + 1}`;
/** The default route, as the commands get it: no --route. */
const DEFAULT = undefined;

/**
 * The processes of a scenario: `track` each one started, so that all are gone at its end whatever failed; `wait`
 * polls like `until` and, when its deadline passes or the submitter failed, fails with the tail of every process's
 * stderr.
 */
function processes(t: Test, submitter?: Submitter): { track: (c: Child) => Child; wait: (check: () => boolean | Promise<boolean>, what: string, everyMs?: number) => Promise<void> } {
  const started: Child[] = [];
  t.teardown(() => {
    for (const c of started) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  });
  return {
    track: (c) => {
      started.push(c);
      return c;
    },
    wait: async (check, what, everyMs) => {
      const failed = (): boolean => (submitter?.error ?? null) !== null;
      const diagnostics = (): object => ({ submitter: submitter?.error?.message ?? null, processes: started.map((c) => ({ exit: c.proc.exitCode, stderr: c.stderr.slice(-1500) })) });
      try {
        await until(async () => failed() || (await check()), what, 120_000, everyMs);
      } catch (err) {
        t.fail((err as Error).message, diagnostics());
        throw err;
      }
      if (failed()) {
        t.fail(`the submitter failed while waiting for: ${what}`, diagnostics());
        throw submitter!.error!;
      }
    },
  };
}

/** `--metrics-port 0`: a worker logs its metrics line once it is up, just before it consumes. */
const up = (c: Child): boolean => c.stderr.includes('"event":"metrics"') || c.proc.exitCode !== null;

/** `running` is null where the queue cannot know it (RabbitMQ without --ledger): then pending alone says it. */
const drained = (s: { pending: number; running: number | null }): boolean => s.pending === 0 && (s.running ?? 0) === 0;

export async function switchWhileFlowing(t: Test, site: Site): Promise<void> {
  t.equal(queueRoute(undefined, {}), OLD, `a command without --route (or FISCAL_ROUTE) uses ${OLD}`);
  const flags = ['--concurrency', '2', '--threads', '1', '--metrics-port', '0'];

  // Running: the application submits to the default route and the old workers consume it (neither names a route).
  const flow = new Submitter(site, DEFAULT);
  t.teardown(() => flow.stop().catch(() => undefined));
  const { track, wait } = processes(t, flow);
  const old = [track(siteWorker(site, DEFAULT, flags)), track(siteWorker(site, DEFAULT, flags))];
  await wait(() => flow.count(DEFAULT) >= 1 && doneIds(...old).length >= 4, 'the old workers at work');

  // 1. Start the new workers beside the old ones: nothing is on their route yet, they idle.
  const fresh = [track(siteWorker(site, NEW, flags)), track(siteWorker(site, NEW, flags))];
  await wait(() => fresh.every(up), 'the new workers up');
  t.same(doneIds(...fresh), [], `the new workers idle: nothing is on ${NEW}`);

  // 2. Route new submissions to the new version. The batch in flight still goes to the old route.
  flow.route = NEW;
  await flow.settle();
  const oldBatches = flow.count(DEFAULT);
  await wait(() => flow.count(NEW) >= 1 && doneIds(...fresh).length >= 4, 'the new route flowing');
  t.equal(flow.count(DEFAULT), oldBatches, `nothing more goes to ${OLD}`);

  // 3. Let the old workers drain: `fiscal queue stats --route OLD` until nothing is pending (or running) there.
  await wait(async () => drained(await cliStats(site, OLD)), `${OLD} drained`, 250);

  // 4. Stop the old workers with SIGTERM: each finishes what it holds and exits 0.
  for (const w of old) {
    const { code, summary } = await terminate(w);
    t.equal(code, 0, 'an old worker exits 0', { stderr: w.stderr.slice(-2000) });
    t.match(summary, { released: 0, dead: 0, retried: 0, stoppedBy: 'signal' }, 'nothing handed back');
  }
  // 5. With no old worker left, nothing is waiting on the old route.
  t.match(await cliStats(site, OLD), { pending: 0, dead: 0 }, `${OLD} is empty once its workers stopped`);

  // The application went on submitting the whole time; one more batch, then the new workers finish the route.
  const flowing = flow.count(NEW);
  await wait(() => flow.count(NEW) > flowing, 'submissions go on');
  await flow.stop();
  const v0 = flow.names(DEFAULT);
  const v1 = flow.names(NEW);
  await wait(() => new Set(doneIds(...fresh)).size >= v1.size || fresh.some((w) => w.proc.exitCode !== null), `the ${v1.size} tasks of ${NEW} done`);
  for (const w of fresh) {
    const { code, summary } = await terminate(w);
    t.equal(code, 0, 'a new worker exits 0', { stderr: w.stderr.slice(-2000) });
    t.match(summary, { released: 0, dead: 0, retried: 0 });
  }

  t.ok(v0.size > 0 && v1.size > 0, `${v0.size} tasks submitted to ${OLD}, ${v1.size} to ${NEW}`);
  const all = flow.names();
  t.equal(all.size, v0.size + v1.size, 'no id submitted twice');
  t.same([...all].filter(([id, name]) => keyOf(validateTask(site.dir, name)) !== id), [], 'each id is its ledger key');
  t.same(new Set(doneIds(...old)), new Set(v0.keys()), `the old workers did exactly the ${OLD} tasks`);
  t.same(new Set(doneIds(...fresh)), new Set(v1.keys()), `the new workers did exactly the ${NEW} tasks`);
  const workers = [...old, ...fresh];
  t.same(workers.flatMap((w) => events(w.stderr)).filter((e) => ['failed', 'dead', 'released'].includes(e.event) || e.outcome === 'reused'), [],
    'no attempt failed, was handed back, or was answered from the ledger');
  await checkExactlyOnce(t, { dir: site.dir, names: [...all.values()], ledger: site.ledger, children: workers, reclaimable: 0 });
  // the embedded queue keeps what it did; RabbitMQ's stats count only what waits (done is null there)
  for (const [route, names] of [[OLD, v0], [NEW, v1]] as const) {
    const s = await routeStats(site, route);
    t.match(s, { pending: 0, dead: 0 }, `${route}: nothing left`);
    if (s.done !== null) t.match(s, { running: 0, done: names.size }, `${route}: every task done on its route`);
  }
}

/** An HTTP server of the EFD fixture whose answers can be held: the headers and a few bytes, then nothing. */
async function holdingServer(t: Test): Promise<{ url: string; hold: boolean; held: number }> {
  const efd = readFileSync(EFD);
  const state = { url: '', hold: false, held: 0 };
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': efd.length });
    if (!state.hold) {
      res.end(efd);
      return;
    }
    state.held++;
    res.write(efd.subarray(0, 64));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/efd.txt`;
  return state;
}

export async function stragglers(t: Test, site: Site): Promise<void> {
  const { track, wait } = processes(t);
  const server = await holdingServer(t);
  // 'flaky' fails while a file stands where its output folder goes (TASK_OUTPUT: retried after 1 s, 2 s, 4 s);
  // 'held' reads its input from the server, which holds the answer once the worker asks
  const blocked = join(site.dir, 'blocked');
  writeFileSync(blocked, 'a file, not a folder');
  const flaky = validateTask(site.dir, 'flaky', { output: join(blocked, 'flaky.json') });
  const held = validateTask(site.dir, 'held', { input: server.url });
  const [flakyId, heldId] = await submitBatch(site, DEFAULT, 'stragglers', [flaky, held]);
  t.same([flakyId, heldId], [keyOf(flaky), keyOf(held, readFileSync(EFD))], `both queued on ${OLD}`);
  server.hold = true;

  // the last old worker, with a short grace period
  const last = track(siteWorker(site, DEFAULT, ['--concurrency', '2', '--threads', '1', '--grace-ms', '500']));
  const failures = (): number[] => events(last.stderr).filter((e) => e.event === 'failed' && e.id === flakyId).map((e) => e.delayMs ?? -1);
  await wait(() => (failures().length >= 3 && server.held >= 1) || last.proc.exitCode !== null, 'the third failure of flaky while held hangs');
  t.same(failures(), [1000, 2000, 4000], 'flaky waits 4 s for its fourth attempt');
  rmSync(blocked);
  server.hold = false;

  // 4. SIGTERM: held does not end within the grace period and is handed back to the old route
  const { code, summary } = await terminate(last);
  t.equal(code, 0, 'the last old worker exits 0', { stderr: last.stderr.slice(-2000) });
  t.match(summary, { released: 1, retried: 3, done: 0, stoppedBy: 'signal' }, 'held handed back, flaky waiting for its retry');

  // 5. No old worker is left, and the old route is not empty: both are pending there…
  t.match(await cliStats(site, OLD), { pending: 2, dead: 0 }, 'the handed-back task and the delayed retry are pending');
  // … so an old worker runs with --exit-when-idle: it does both and stops once the route is empty
  const sweeper = track(siteWorker(site, DEFAULT, ['--exit-when-idle', '--threads', '1']));
  t.equal((await sweeper.exited).code, 0, 'the sweeping worker exits 0', { stderr: sweeper.stderr.slice(-2000) });
  t.match(summaryOf(sweeper), { done: 2, released: 0, dead: 0, stoppedBy: 'idle' }, 'it waited for the retry before stopping');
  t.match(await routeStats(site, OLD), { pending: 0, dead: 0 }, `${OLD} is empty`);

  // each done once in the ledger: flaky after 4 claims (3 failed), held after 1 (handed back before its claim)
  const digest = await referenceDigest(t);
  const ledger = await openLedger(site.ledger);
  try {
    for (const [id, task, claims] of [[flakyId!, flaky, 4], [heldId!, held, 1]] as const) {
      const entry = await ledger.get(id);
      t.match(entry, { status: 'done', attempts: claims, outputDigest: digest }, `${task.output}: done once, ${claims} claims, the clean run's output`);
      t.equal(sha(readFileSync(task.output)), digest, 'the file is the one recorded');
      t.notOk(existsSync(`${task.output}.partial`), 'no partial left');
    }
  } finally {
    await ledger.close();
  }
  const worked = [last, sweeper].flatMap((c) => events(c.stderr)).filter((e) => e.outcome === 'done').map((e) => e.id).sort();
  t.same(worked, [flakyId, heldId].sort(), 'each worked to done once, by the sweeping worker');
}
