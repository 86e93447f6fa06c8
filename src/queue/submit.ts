/**
 * submitTasks: tasks from a task list onto a queue, each under the id runTask's ledger key will be (the same task
 * submitted twice is one queued task). A task is checked (parseTask) and its input read once for its digest before
 * it is queued; a malformed task or an unreadable input is reported (a failed manifest) and not queued.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { fetchInput, outputIdentity, parseLocation } from '../tasks/io.js';
import { failedManifest, type TaskManifest } from '../tasks/run-task.js';
import { TaskError, parseTask, taskKey } from '../tasks/task.js';
import type { TaskListEntry } from '../tasks/task-list.js';
import type { TaskQueue } from './types.js';

export interface SubmitTasksOptions {
  /** 0 … 9, higher first (default 0). */
  readonly priority?: number;
  /** Downloads of HTTP inputs (to digest them) go under it (default `.fiscal`). */
  readonly workDir?: string;
  readonly signal?: AbortSignal;
}

/** One entry's outcome, in the order given: its queue id, or the failed manifest saying why it was not queued. */
export type Submitted = { readonly id: string } | { readonly rejected: TaskManifest };

/** The ledger key runTask will use for this task (docs/tasks.md): checks the task and reads its input once. */
export async function taskIdentity(value: unknown, options: { readonly workDir?: string; readonly signal?: AbortSignal } = {}): Promise<string> {
  const task = parseTask(value);
  const inLoc = parseLocation(task.input, 'input');
  const outLoc = parseLocation(task.output, 'output');
  const input = await fetchInput(inLoc, join(options.workDir ?? '.fiscal', 'inputs'), options.signal ? { signal: options.signal } : {});
  if (input.downloaded) await fsp.rm(input.path, { force: true }).catch(() => {});
  return taskKey(task, input.sha256, outputIdentity(outLoc)).key;
}

/** Inputs read and digested at once while submitting: a list of many small tasks is bound by file opens, not CPU. */
const IDENTITY_CONCURRENCY = 8;

export async function submitTasks(entries: readonly TaskListEntry[], queue: TaskQueue, options: SubmitTasksOptions = {}): Promise<Submitted[]> {
  const priority = options.priority ?? 0;
  const out = new Array<Submitted>(entries.length);
  const identify = async (i: number): Promise<void> => {
    const entry = entries[i]!;
    const started = performance.now();
    if ('error' in entry) {
      out[i] = { rejected: failedManifest({ code: entry.error.code, message: entry.error.message }, started) };
      return;
    }
    try {
      out[i] = { id: await taskIdentity(entry.value, options) };
    } catch (err) {
      if (!(err instanceof TaskError)) throw err;
      const type = typeof (entry.value as { type?: unknown })?.type === 'string' ? (entry.value as { type: string }).type : null;
      out[i] = { rejected: failedManifest({ code: err.code, message: err.message }, started, { type }) };
    }
  };
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < entries.length) await identify(next++);
  };
  await Promise.all(Array.from({ length: Math.min(IDENTITY_CONCURRENCY, entries.length) }, lane));
  // queued in the order given, whatever order the digests finished in
  const queued = [];
  for (const [i, s] of out.entries()) if ('id' in s) queued.push({ id: s.id, task: (entries[i] as { value: unknown }).value, priority });
  if (queued.length > 0) await queue.submit(queued, options.signal ? { signal: options.signal } : {});
  return out;
}
