// Every task error code is in docs/errors.md with the exit `fiscal run` gives for a manifest that carries it.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { TaskError } from '../../src/tasks/task.js';
import { failedManifest } from '../../src/tasks/run-task.js';
import { exitCodeOf } from '../../src/tasks/task-list.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const section = doc.slice(doc.indexOf('## Tasks: running them'));

t.test('each code is documented with the exit of a run that carries it', async (t) => {
  const errors = (['TASK_MALFORMED', 'TASK_UNKNOWN_TYPE', 'TASK_INPUT', 'TASK_OUTPUT'] as const).map((c) => new TaskError(c, 'm'));
  for (const code of [...errors.map((e) => e.code), 'TASK_INTERNAL', 'TASK_KEY_CONFLICT']) {
    const exit = exitCodeOf([failedManifest({ code, message: 'm' }, performance.now())]);
    t.match(section, new RegExp(`^\\| \`${code}\` \\| ${exit} \\|`, 'm'), `${code} (exit ${exit}) in docs/errors.md`);
  }
  for (const e of errors) t.equal(exitCodeOf([failedManifest({ code: e.code, message: 'm' }, 0)]), e.exitCode, `${e.code}: the class's exit is the run's`);
  t.equal(exitCodeOf([]), 0);
});
