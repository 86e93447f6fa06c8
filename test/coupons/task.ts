/** The task type `coupons.summary`: through runTask (as `fiscal run` and the queue worker run it), the same bytes as the CLI. */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTask } from '../../src/tasks/run-task.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cfe, cfeCancel } from '../helpers/coupons.js';

t.test('coupons.summary: a file of concatenated coupons, the output equal to the CLI\'s, reused the second time', async (t) => {
  const dir = tempDir('coupons-task-');
  const input = join(dir, 'day.xml');
  writeFileSync(input, [cfe(1).xml, cfeCancel(2).xml, cfe(2).xml, cfe(3).xml, cfe(1).xml].join('\n'));
  const ledger = new MemoryLedger();
  const task = { type: 'coupons.summary', input, output: join(dir, 'summary.json'), options: { json: true, by: 'day,equipment' } };
  const first = await runTask(task, { ledger, workDir: join(dir, '.fiscal') });
  t.match(first, { status: 'done', reused: false, counts: { read: 5, coupons: 2, cancelled: 1, duplicates: 1 }, findings: { errors: 0, warnings: 1 } });
  const cli = await run(['coupons', 'summary', input, '--json', '--by', 'day,equipment']);
  t.equal(readFileSync(join(dir, 'summary.json'), 'utf8'), cli.stdout);
  const second = await runTask(task, { ledger, workDir: join(dir, '.fiscal') });
  t.match(second, { status: 'done', reused: true, key: first.key });
  const bad = await runTask({ ...task, options: { by: 'colour' } }, { ledger, workDir: join(dir, '.fiscal') });
  t.match(bad, { status: 'failed', error: { code: 'TASK_MALFORMED' } });
});

t.test('coupons.summary on a CSV export with its mapping', async (t) => {
  const dir = tempDir('coupons-task-csv-');
  writeFileSync(join(dir, 'map.json'), JSON.stringify({ rows: 'coupon', columns: { key: 'key', date: 'day', gross: 'value' } }));
  writeFileSync(join(dir, 'pos.csv'), `key,day,value\n${cfe(1).key},2026-01-05,12.34\n${cfe(2).key},2026-01-05,0.66\n`);
  const m = await runTask({ type: 'coupons.summary', input: join(dir, 'pos.csv'), output: join(dir, 'out.csv'), options: { csv: true, by: '', mapping: join(dir, 'map.json') } }, { ledger: new MemoryLedger(), workDir: join(dir, '.fiscal') });
  t.match(m, { status: 'done', counts: { coupons: 2 } });
  t.equal(readFileSync(join(dir, 'out.csv'), 'utf8'), 'coupons,items,gross,discount,icms_base,icms_value,pis,cofins,cancelled,cancelled_gross\n2,2,13.00,0.00,0.00,0.00,0.00,0.00,0,0.00\n');
});
