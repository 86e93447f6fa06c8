/** `fiscal queue stats | dead | retry` on a real embedded queue filled through the library. */
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openLocalQueue } from '../../src/queue/local.js';
import type { Delivery } from '../../src/queue/types.js';
import { failedManifest } from '../../src/tasks/run-task.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { openLedger } from '../../src/tasks/open-ledger.js';
import { claimed, request } from '../helpers/ledger-conformance.js';

// `queue stats` counts from $FISCAL_LEDGER or an existing default ledger in the working directory: run where neither is
process.chdir(tempDir('fiscal-cli-cwd-'));
delete process.env.FISCAL_LEDGER;

t.test('stats, dead and retry of a route', async (t) => {
  const dir = tempDir('fiscal-cli-queue-');
  const url = `local:${dir}`;
  const queue = await openLocalQueue(dir, { route: 'v0' });
  t.teardown(() => queue.close());
  await queue.submit(['a', 'b', 'c'].map((id) => ({ id, task: { type: 'sped.validate', input: `${id}.txt`, output: `${id}.out` }, priority: 0 })));
  const got: Delivery[] = [];
  let taken!: () => void;
  const both = new Promise<void>((resolve) => (taken = resolve));
  const consumer = await queue.consume({ concurrency: 2, onDelivery: (d) => void (got.push(d) === 2 && taken()) });
  await both;
  await consumer.stop();
  await got[0]!.deadLetter(failedManifest({ code: 'TASK_MALFORMED', message: 'bad\noption' }, 0));

  const text = await run(['queue', 'stats', '--queue', url, '--route', 'v0']);
  t.equal(text.code, 0, text.stderr);
  t.equal(text.stdout, 'pending 1\nrunning 1\ndone 0\nfailed 0\ndead 1\n');
  const dead = await run(['queue', 'dead', '--queue', url]);
  t.equal(dead.stdout, 'a\t1\tTASK_MALFORMED\tbad option\n');
  const json = await run(['queue', 'dead', '--queue', url, '--json']);
  t.match(JSON.parse(json.stdout), [{ id: 'a', attempts: 1, error: { code: 'TASK_MALFORMED' } }]);
  t.equal((await run(['queue', 'stats', '--queue', url, '--route', 'v1'])).stdout, 'pending 0\nrunning 0\ndone 0\nfailed 0\ndead 0\n', 'another route');

  const usage = await run(['queue', 'retry', '--queue', url]);
  t.equal(usage.code, 2);
  t.equal((await run(['queue', 'retry', '--queue', url, 'a', 'zz'])).stdout, '1\n');
  t.equal((await run(['queue', 'retry', '--queue', url, '--all-dead'])).stdout, '0\n');
  t.same(await queue.stats(), { pending: 2, running: 1, done: 0, failed: 0, dead: 0 });
});

t.test('stats --ledger: running, done and failed are the ledger\'s counts, pending and dead the queue\'s', async (t) => {
  const dir = tempDir('fiscal-cli-queue-');
  const queue = await openLocalQueue(join(dir, 'queue'), { route: 'v0' });
  t.teardown(() => queue.close());
  await queue.submit([{ id: 'waiting', task: { type: 'sped.validate', input: 'w.txt', output: 'w.out' }, priority: 0 }]);
  const ledgerUrl = `sqlite:${join(dir, 'ledger.db')}`;
  const ledger = await openLedger(ledgerUrl);
  t.teardown(() => ledger.close());
  for (const k of ['d1', 'd2']) await ledger.complete(claimed(t, await ledger.claim(request(k, 'o')), k), { outputDigest: null, manifest: {} });
  await ledger.fail(claimed(t, await ledger.claim(request('f', 'o')), 'f'), { error: { code: 'E', message: 'e' }, manifest: {} });
  claimed(t, await ledger.claim(request('r', 'o')), 'r');

  const args = ['queue', 'stats', '--queue', `local:${join(dir, 'queue')}`, '--route', 'v0'];
  t.equal((await run(args)).stdout, 'pending 1\nrunning 0\ndone 0\nfailed 0\ndead 0\n', 'without --ledger: the embedded queue\'s own counts');
  const text = await run([...args, '--ledger', ledgerUrl]);
  t.equal(text.code, 0, text.stderr);
  t.equal(text.stdout, 'pending 1\nrunning 1\ndone 2\nfailed 1\ndead 0\n');
  t.same(JSON.parse((await run([...args, '--ledger', ledgerUrl, '--json'])).stdout), { pending: 1, running: 1, done: 2, failed: 1, dead: 0 });
  const bad = await run([...args, '--ledger', 'mysql://x']);
  t.equal(bad.code, 2, 'a bad ledger URL is a usage error');
  t.match(bad.stderr, /TASK_LEDGER_URL/);
});

t.test('stats counts from a ledger: --ledger, $FISCAL_LEDGER, or the default file only when it exists', async (t) => {
  const dir = tempDir('fiscal-cli-queue-');
  const url = `local:${join(dir, 'q')}`;
  const bare = await run(['queue', 'stats', '--queue', url, '--json']);
  t.same(JSON.parse(bare.stdout), { pending: 0, running: 0, done: 0, failed: 0, dead: 0 }, 'the queue\'s own counts');
  t.notOk(existsSync('.fiscal/ledger.db'), 'looking at counts created no ledger');
  const made = await openLedger('sqlite:.fiscal/ledger.db');
  claimed(t, await made.claim(request('k1', 'o')), 'k1');
  await made.close();
  t.match(JSON.parse((await run(['queue', 'stats', '--queue', url, '--json'])).stdout), { pending: 0, running: 1 }, 'the default ledger, now that it exists');
  process.env.FISCAL_LEDGER = `sqlite:${join(dir, 'other.db')}`;
  t.teardown(() => { delete process.env.FISCAL_LEDGER; });
  t.match(JSON.parse((await run(['queue', 'stats', '--queue', url, '--json'])).stdout), { running: 0, done: 0 }, '$FISCAL_LEDGER first');
  t.match(JSON.parse((await run(['queue', 'stats', '--queue', url, '--json', '--ledger', 'sqlite:.fiscal/ledger.db'])).stdout), { running: 1 }, '--ledger above all');
});
