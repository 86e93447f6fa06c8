// submitTasks: ids in the order given whatever order the inputs were digested in (they are read several at a
// time), rejected entries in their place, and the queue receiving the good ones in order.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submitTasks, taskIdentity } from '../../src/queue/submit.js';
import { parseTaskList } from '../../src/tasks/task-list.js';
import type { QueuedTask } from '../../src/queue/types.js';
import { MemoryQueue } from '../helpers/memory-queue.js';

t.test('40 tasks with inputs of very different sizes, a malformed one and a missing input: order kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fiscal-submit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    const input = join(dir, `in-${i}.txt`);
    // big inputs first, so a sequential digest order and a concurrent one differ
    if (i !== 17) writeFileSync(input, `|0000|${'x'.repeat((40 - i) * 50_000)}|\n`);
    lines.push(i === 9 ? '{"type": "no.such-type", "input": "a", "output": "b"}' : JSON.stringify({ type: 'sped.validate', input, output: join(dir, `out-${i}.json`) }));
  }
  const entries = parseTaskList(`${lines.join('\n')}\n`, 'tasks.jsonl');
  const queue = new MemoryQueue();
  const submitted: QueuedTask[] = [];
  const submit = queue.submit.bind(queue);
  queue.submit = async (tasks) => { submitted.push(...tasks); return submit(tasks); };
  const out = await submitTasks(entries, queue, { priority: 3 });
  t.equal(out.length, 40);
  const codes = out.map((s) => ('rejected' in s ? s.rejected.error?.code : 'id'));
  t.equal(codes[9], 'TASK_UNKNOWN_TYPE');
  t.equal(codes[17], 'TASK_INPUT');
  t.equal(codes.filter((c) => c === 'id').length, 38);
  const expected: string[] = [];
  for (const [i, e] of entries.entries()) if (i !== 9 && i !== 17 && 'value' in e) expected.push(await taskIdentity(e.value));
  t.same(out.flatMap((s) => ('id' in s ? [s.id] : [])), expected, 'ids in task order, each the ledger key');
  t.same(submitted.map((q) => q.id), expected, 'queued in task order');
  t.ok(submitted.every((q) => q.priority === 3));
  t.equal(new Set(expected).size, 38);
});
