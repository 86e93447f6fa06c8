// Every queue code is documented in docs/errors.md with its exit code.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { QUEUE_CODES, QueueRouteError, QueueUnavailableError, QueueUrlError } from '../../src/queue/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

t.test('every queue code is documented; the thrown ones with their exit code', async (t) => {
  for (const e of [new QueueUrlError('m'), new QueueRouteError('a b'), new QueueUnavailableError('m')]) {
    t.ok(QUEUE_CODES.includes(e.code as (typeof QUEUE_CODES)[number]), e.code);
    t.match(doc, new RegExp(`^\\| \`${e.code}\` \\| ${e.exitCode} \\|`, 'm'), `${e.code} (exit ${e.exitCode})`);
  }
  for (const code of QUEUE_CODES) t.match(doc, new RegExp(`^\\| \`${code}\` \\|`, 'm'), code);
});
