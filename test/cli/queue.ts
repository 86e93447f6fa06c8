/** `fiscal queue stats | dead | retry` on a real embedded queue filled through the library. */
import t from 'tap';
import { openLocalQueue } from '../../src/queue/local.js';
import type { Delivery } from '../../src/queue/types.js';
import { failedManifest } from '../../src/tasks/run-task.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

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
