// Every ledger error class has a code from LEDGER_CODES, with its documented exit code, and docs/errors.md documents each.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { TaskKeyConflictError, TaskLeaseLostError } from '../../src/tasks/ledger.js';
import { LEDGER_CODES, LedgerSchemaError, LedgerUnavailableError, LedgerUrlError } from '../../src/tasks/ledger-errors.js';
import { TaskNotFoundError } from '../../src/tasks/ledger-admin.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

t.test('every ledger code is documented with its exit code', async (t) => {
  const errors = [new TaskLeaseLostError('k'), new TaskKeyConflictError('k'), new LedgerUrlError('m'), new LedgerUnavailableError('m'), new LedgerSchemaError('m'), new TaskNotFoundError('k')];
  t.same(errors.map((e) => e.code).sort(), [...LEDGER_CODES].sort(), 'one class per code');
  for (const e of errors) {
    const row = new RegExp(`^\\| \`${e.code}\` \\| ${e.exitCode} \\|`, 'm');
    t.match(doc, row, `${e.code} (exit ${e.exitCode}) in docs/errors.md`);
  }
});
