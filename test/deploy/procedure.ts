/**
 * docs/deploy.md "A new version without downtime" run step by step on the embedded queue (local:DIR), with real
 * `fiscal` processes and tasks flowing the whole time (the scenarios: test/helpers/deploy-procedure.ts; the same on
 * RabbitMQ: test/deploy/procedure-amqp.ts).
 */
import t from 'tap';
import { join } from 'node:path';
import { NEW, OLD, stragglers, switchWhileFlowing } from '../helpers/deploy-procedure.js';
import type { Site } from '../helpers/task-flow.js';
import { tempDir } from '../helpers/temp-dir.js';

function site(): Site {
  const dir = tempDir('fiscal-deploy-');
  return { dir, queue: `local:${join(dir, 'queue')}`, ledger: `sqlite:${join(dir, 'ledger.db')}` };
}

t.test(`${OLD} → ${NEW} while tasks keep flowing`, (t) => switchWhileFlowing(t, site()));
t.test('the stragglers of the old route: a released task and a delayed retry', (t) => stragglers(t, site()));
