/**
 * docs/deploy.md "A new version without downtime" run step by step on RabbitMQ (a broker of this file's own,
 * test/helpers/rabbitmq.ts), with real `fiscal` processes and tasks flowing the whole time (the scenarios:
 * test/helpers/deploy-procedure.ts; the same on the embedded queue: test/deploy/procedure.ts).
 */
import t from 'tap';
import { join } from 'node:path';
import { NEW, OLD, stragglers, switchWhileFlowing } from '../helpers/deploy-procedure.js';
import { rabbitSkip, startRabbit } from '../helpers/rabbitmq.js';
import type { Site } from '../helpers/task-flow.js';
import { tempDir } from '../helpers/temp-dir.js';

t.test('RabbitMQ', rabbitSkip(), async (t) => {
  const rabbit = await startRabbit(t);
  // one broker: both scenarios use the routes OLD and NEW, and each leaves them empty
  const site = (): Site => {
    const dir = tempDir('fiscal-deploy-amqp-');
    return { dir, queue: rabbit.url, ledger: `sqlite:${join(dir, 'ledger.db')}` };
  };
  t.test(`${OLD} → ${NEW} while tasks keep flowing`, (t) => switchWhileFlowing(t, site()));
  t.test('the stragglers of the old route: a released task and a delayed retry', (t) => stragglers(t, site()));
});
