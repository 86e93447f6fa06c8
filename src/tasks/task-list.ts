/**
 * A list of tasks as `fiscal run` reads it: one JSON task (an object, pretty-printed or not), a JSON array of
 * tasks, or JSON Lines (one task per non-blank line). A line that is not JSON is a TASK_MALFORMED manifest for
 * that line; the others still run.
 */
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, type ExitCode } from '../errors.js';
import { failedManifest, MALFORMED_CODES, runTask, type RunTaskOptions, type TaskManifest } from './run-task.js';
import { TaskError } from './task.js';

/** Each entry: the parsed JSON value of one task, or the malformed-task error of its line. */
export type TaskListEntry = { readonly value: unknown } | { readonly error: TaskError };

/** Splits the text of a task file into tasks. `name` prefixes the messages (`tasks.jsonl line 3`). */
export function parseTaskList(text: string, name: string): TaskListEntry[] {
  const trimmed = text.trim();
  if (trimmed === '') return [{ error: new TaskError('TASK_MALFORMED', `${name}: no task (the file is empty)`) }];
  try {
    const whole = JSON.parse(trimmed) as unknown;
    return Array.isArray(whole) ? whole.map((value) => ({ value })) : [{ value: whole }];
  } catch {
    // JSON Lines
  }
  const entries: TaskListEntry[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      entries.push({ value: JSON.parse(line) as unknown });
    } catch (err) {
      entries.push({ error: new TaskError('TASK_MALFORMED', `${name} line ${i + 1}: not JSON: ${(err as Error).message}`) });
    }
  });
  return entries;
}

/** The exit code of a run: 2 when a task was malformed, else 1 when one failed, else 0. */
export function exitCodeOf(manifests: readonly TaskManifest[]): ExitCode {
  if (manifests.some((m) => m.status === 'failed' && MALFORMED_CODES.has(m.error?.code ?? ''))) return EXIT_USAGE;
  if (manifests.some((m) => m.status === 'failed')) return EXIT_FINDINGS;
  return EXIT_OK;
}

/** Runs the tasks in order, handing each manifest to `emit` as it is known; returns the run's exit code. */
export async function runTaskList(entries: readonly TaskListEntry[], options: RunTaskOptions, emit: (m: TaskManifest) => void | Promise<void>): Promise<ExitCode> {
  const manifests: TaskManifest[] = [];
  for (const entry of entries) {
    const started = performance.now();
    const m = 'error' in entry ? failedManifest({ code: entry.error.code, message: entry.error.message }, started) : await runTask(entry.value, options);
    manifests.push(m);
    await emit(m);
  }
  return exitCodeOf(manifests);
}
