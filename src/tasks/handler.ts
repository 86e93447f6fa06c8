/**
 * What a task type's handler gets from the runner (src/tasks/run-task.ts) and gives back. A handler reads its
 * input from a local file, writes into the partial output the runner named from the key, and returns the
 * command's outcome; the runner hashes, commits (rename or PUT) and records it.
 *
 * Resumable handlers (long SPED conversions): `resume` is the checkpoint an earlier attempt of the same key
 * recorded (null when there is none, or when its partial output is gone); `checkpoint(state)` makes the partial
 * output durable (flush, fsync) and then records `state` in the ledger (renewing the lease), so a checkpoint
 * never names bytes that a crash could lose. `output.open(at)` reopens the partial file at byte `at` (0
 * truncates it) to continue after a checkpoint.
 */
import type { Writable } from 'node:stream';
import type { CommandOutcome } from '../commands/types.js';
import type { FiscalPool } from '../pool/pool.js';
import type { JsonValue } from './ledger.js';
import type { Task } from './task.js';

export interface TaskInputFile {
  /** The local file to read: the task's path, or the downloaded copy of an HTTP input. */
  readonly path: string;
  /** The input as the task named it (an HTTP URL without its query): what messages and reports show. */
  readonly name: string;
  readonly sha256: string;
  readonly bytes: number;
}

export interface TaskOutputTarget {
  readonly kind: 'file' | 'directory';
  /** The partial file (or directory) beside the target, `.NAME.<16 hex>.partial`, the same for every attempt of a key. */
  readonly partialPath: string;
  /**
   * File outputs: a write stream on the partial file from byte `at` (default 0: the file is truncated; a larger
   * `at` truncates it there and appends). The runner ends, fsyncs and commits it; the handler must not end it.
   */
  open(at?: number): Promise<Writable>;
}

export interface TaskHandlerContext {
  readonly task: Task;
  readonly key: string;
  /** The options with the schema's defaults filled in. */
  readonly options: Readonly<Record<string, JsonValue>>;
  readonly input: TaskInputFile;
  readonly output: TaskOutputTarget;
  /** The checkpoint of an earlier attempt of this key whose partial output still exists, else null. */
  readonly resume: JsonValue | null;
  /** Flushes and fsyncs the partial output, then records `state` in the ledger (fenced; renews the lease). */
  checkpoint(state: JsonValue): Promise<void>;
  readonly pool: FiscalPool | undefined;
  /** Aborted when the caller cancels or the lease is lost. */
  readonly signal: AbortSignal;
  /** Bytes (SPED) or documents (NF-e) read so far. */
  readonly onProgress: (done: number) => void;
  /** Findings and notes as the CLI would print them on stderr (a task keeps only counts: discarded). */
  readonly messages: Writable;
}

export type TaskHandler = (ctx: TaskHandlerContext) => Promise<CommandOutcome>;
