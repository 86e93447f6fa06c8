/** `fiscal submit` in-process on a real embedded queue; --wait against a test consumer that runs each delivery with runTask. */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLocalQueue } from '../../src/queue/local.js';
import { openSqliteLedger } from '../../src/tasks/ledger-sqlite.js';
import { runTask, type TaskManifest } from '../../src/tasks/run-task.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const EFD = new URL('../../fixtures/sped/efd-icms-ipi-2026-01.txt', import.meta.url).pathname;

// `queue stats` counts from $FISCAL_LEDGER or an existing default ledger in the working directory: run where neither is
process.chdir(tempDir('fiscal-cli-cwd-'));
delete process.env.FISCAL_LEDGER;

t.test('the same task twice: the same id, one row; a malformed line is reported and not queued', async (t) => {
  const dir = tempDir('fiscal-submit-');
  const url = `local:${join(dir, 'q')}`;
  const task = JSON.stringify({ type: 'sped.validate', input: EFD, output: join(dir, 'out.txt') });
  const first = await run(['submit', '--queue', url, '-'], Buffer.from(`${task}\n`));
  t.equal(first.code, 0, first.stderr);
  const id = first.stdout.trim();
  t.match(id, /^[0-9a-f]{64}$/);
  const second = await run(['submit', '--queue', url, '--priority', '3', '-'], Buffer.from(`${task}\n${task}\n`));
  t.equal(second.code, 0, second.stderr);
  t.same(second.stdout.trim().split('\n'), [id, id]);
  const stats = await run(['queue', 'stats', '--queue', url, '--json']);
  t.same(JSON.parse(stats.stdout), { pending: 1, running: 0, done: 0, failed: 0, dead: 0 });

  const bad = await run(['submit', '--queue', url, '-'], Buffer.from(`${task}\nnot json\n{"type":"sped.nope","input":"a","output":"b"}\n`));
  t.equal(bad.code, 2);
  t.same(bad.stdout.trim().split('\n'), [id]);
  t.match(bad.stderr, /stdin line 2: not JSON.*\[TASK_MALFORMED\]/);
  t.match(bad.stderr, /\[TASK_UNKNOWN_TYPE\]/);
  const missing = await run(['submit', '--queue', url, '-'], Buffer.from(JSON.stringify({ type: 'sped.validate', input: join(dir, 'nope.txt'), output: 'x' })));
  t.equal(missing.code, 1);
  t.match(missing.stderr, /\[TASK_INPUT\]/);
  t.same(JSON.parse((await run(['queue', 'stats', '--queue', url, '--json'])).stdout).pending, 1);
});

t.test('--wait prints each manifest once a consumer ran it (runTask over a real ledger)', async (t) => {
  const dir = tempDir('fiscal-submit-');
  const qdir = join(dir, 'q');
  const out = join(dir, 'report.txt');
  const tasks = join(dir, 'tasks.jsonl');
  writeFileSync(tasks, `${JSON.stringify({ type: 'sped.validate', input: EFD, output: out })}\n`);
  const queue = await openLocalQueue(qdir, { route: 'v0', pollMs: 10 });
  const ledger = await openSqliteLedger(join(dir, 'ledger.db'));
  t.teardown(async () => {
    await queue.close();
    await ledger.close();
  });
  const consumer = await queue.consume({
    concurrency: 1,
    onDelivery: (d) => void runTask(d.task, { ledger, workDir: join(dir, '.fiscal') }).then((m) => d.complete(m)),
  });
  t.teardown(() => consumer.stop());
  const r = await run(['submit', '--queue', `local:${qdir}`, '--route', 'v0', '--wait', tasks]);
  t.equal(r.code, 0, r.stderr);
  const manifests = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as TaskManifest);
  t.equal(manifests.length, 1);
  t.equal(manifests[0]?.status, 'done');
  t.match(manifests[0]?.output, { path: out });
  t.ok(readFileSync(out).length > 0, 'the consumer wrote the report');
});

t.test('a bad queue URL or route: exit 2, no password echoed', async (t) => {
  const r = await run(['submit', '--queue', 'redis://user:s3cret@host/0', '-'], Buffer.from('{}'));
  t.equal(r.code, 2);
  t.match(r.stderr, /\[QUEUE_URL\]/);
  t.notMatch(r.stderr, /s3cret/);
  const route = await run(['queue', 'stats', '--queue', `local:${tempDir('fiscal-submit-')}`, '--route', 'v 0']);
  t.equal(route.code, 2);
  t.match(route.stderr, /\[QUEUE_ROUTE\]/);
  const priority = await run(['submit', '--priority', '10', '-']);
  t.equal(priority.code, 2);
});
