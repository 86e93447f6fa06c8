// examples/bullmq/worker.mjs against a real Redis: the same task queued twice (two jobs, as a producer retrying
// after a timeout would) does its work once; the second job gets the recorded manifest. A task that fails on its
// input fails its job at once (UnrecoverableError), without BullMQ's retries.
import t from 'tap';
import { Queue, QueueEvents } from 'bullmq';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLedger } from '../../src/tasks/open-ledger.js';
import { redisSkip, startRedis } from '../helpers/redis.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Example {
  startFiscalWorker(o: { queue?: string; connection: { host: string; port: number }; ledgerUrl: string; concurrency?: number }): Promise<{ close(): Promise<void> }>;
}

t.test('a BullMQ processor running fiscal tasks', redisSkip(), async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fiscal-bullmq-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const connection = { host: '127.0.0.1', port: redis.port };
  const ledgerUrl = `sqlite:${join(dir, 'ledger.db')}`;
  const example = (await import(join(ROOT, 'examples/bullmq/worker.mjs'))) as Example;
  const worker = await example.startFiscalWorker({ connection, ledgerUrl, concurrency: 2 });
  t.teardown(() => worker.close());
  const queue = new Queue('fiscal', { connection });
  const events = new QueueEvents('fiscal', { connection });
  t.teardown(async () => {
    await events.close();
    await queue.close();
  });
  await events.waitUntilReady();

  const output = join(dir, 'report.json');
  const task = { type: 'sped.validate', input: join(ROOT, 'fixtures/sped/efd-icms-ipi-2026-01-broken.txt'), output, options: { json: true } };
  // two jobs at once, picked up by two concurrent slots: one works, the other waits for it and reuses
  const jobs = await Promise.all([queue.add('validate', task), queue.add('validate', task)]);
  const manifests = (await Promise.all(jobs.map((j) => j.waitUntilFinished(events, 60_000)))) as { reused: boolean; key: string; status: string; attempts: number; findings: { errors: number } }[];
  t.same(manifests.map((m) => m.reused).sort(), [false, true], 'one did the work, one reused it');
  t.equal(manifests[0]!.key, manifests[1]!.key);
  t.ok(manifests.every((m) => m.status === 'done' && m.attempts === 1));
  t.ok(manifests[0]!.findings.errors > 0, 'findings are data: the job succeeds');
  t.ok(existsSync(output));
  t.match(JSON.parse(readFileSync(output, 'utf8')), { valid: false });

  const ledger = await openLedger(ledgerUrl);
  t.teardown(() => ledger.close());
  t.match(await ledger.get(manifests[0]!.key), { status: 'done', attempts: 1 });

  const bad = await queue.add('validate', { ...task, input: join(dir, 'missing.txt') }, { attempts: 3 });
  await t.rejects(bad.waitUntilFinished(events, 60_000), /TASK_INPUT/);
  const failed = await queue.getJob(bad.id!);
  t.equal(failed?.attemptsMade, 1, 'not retried: the input would fail the same way');
});
