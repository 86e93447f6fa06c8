// openQueue: which URL and route a command uses, local: relative to cwd and made when missing, bad URLs refused.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_QUEUE_URL, openQueue, queueRoute, queueUrl } from '../../src/queue/open-queue.js';
import { ENGINE_MAJOR } from '../../src/tasks/task.js';
import { tempDir } from '../helpers/temp-dir.js';

t.test('URL and route: given, else the environment, else the defaults', async (t) => {
  t.equal(queueUrl('local:x', { FISCAL_QUEUE: 'local:y' }), 'local:x');
  t.equal(queueUrl(undefined, { FISCAL_QUEUE: 'local:y' }), 'local:y');
  t.equal(queueUrl(undefined, { FISCAL_QUEUE: '' }), DEFAULT_QUEUE_URL);
  t.equal(queueRoute(undefined, {}), `v${ENGINE_MAJOR}`);
  t.equal(queueRoute(undefined, { FISCAL_ROUTE: 'v7.beta' }), 'v7.beta');
  t.equal(queueRoute('v1', { FISCAL_ROUTE: 'v7' }), 'v1');
  t.throws(() => queueRoute('a/b', {}), { code: 'QUEUE_ROUTE' });
});

t.test('local: relative to cwd, made when missing; other schemes are QUEUE_URL without the password', async (t) => {
  const cwd = tempDir('fiscal-open-queue-');
  const q = await openQueue(undefined, { cwd, env: { FISCAL_QUEUE: 'local:a/b' } });
  t.teardown(() => q.close());
  t.ok(existsSync(join(cwd, 'a/b/queue.db')));
  t.equal(q.url, `local:${join(cwd, 'a/b')}#v${ENGINE_MAJOR}`);
  await t.rejects(openQueue('local:', { cwd }), { code: 'QUEUE_URL' });
  const err = await openQueue('redis://u:hunter2@h/0', { cwd }).catch((e: Error) => e);
  t.match(err, { code: 'QUEUE_URL', exitCode: 2 });
  t.notMatch((err as Error).message, /hunter2/);
  t.match((err as Error).message, /u:\*\*\*@/);
});
