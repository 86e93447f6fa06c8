/**
 * runTask: one task from its JSON to its manifest, at most one effect per key (docs/tasks.md).
 *
 * 1. The task is checked against the schema (TASK_MALFORMED, TASK_UNKNOWN_TYPE) and its input read once for its
 *    digest (TASK_INPUT): nothing is recorded before the key is known.
 * 2. The key is claimed in the ledger. `done`: the recorded manifest comes back at once with `reused: true`.
 *    `busy`: another owner holds a live lease; we poll until it is done (its manifest, reused) or its lease
 *    expires (we claim it). `claimed`: we work, renewing the lease on a timer.
 * 3. The handler writes the partial output beside the target; the runner hashes it, renews (a lost lease stops
 *    here, before the target is touched), renames it over the target (or PUTs it), and records `complete` with
 *    the output digest and the manifest. A failure records `fail` with its code.
 */
import { promises as fsp, createWriteStream } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeDir } from '../common/make-dir.js';
import { FiscalError, InvalidInputError, SourceError, UsageError } from '../errors.js';
import type { CommandOutcome } from '../commands/types.js';
import type { FiscalPool } from '../pool/pool.js';
import type { TaskHandler, TaskHandlerContext, TaskOutputTarget } from './handler.js';
import {
  commitDirectory, commitFile, fetchInput, outputIdentity, hashDirectory, hashFile, outputError, parseLocation, partialPathFor, putFile, syncPath,
  type FetchedInput, type HttpOptions, type TaskLocation,
} from './io.js';
import { TaskKeyConflictError, TaskLeaseLostError, type Claim, type JsonValue, type Ledger } from './ledger.js';
import { TaskError, optionsWithDefaults, outputKind, parseTask, sha256Hex, taskKey, type Task } from './task.js';
import { TASK_HANDLERS } from './types.js';

export interface TaskManifest {
  readonly status: 'done' | 'failed';
  /** The ledger key; null when the task failed before it could be known (malformed, unreadable input). */
  readonly key: string | null;
  readonly reused: boolean;
  readonly type: string | null;
  readonly input: { readonly sha256: string; readonly bytes: number } | null;
  readonly output:
    | { readonly path: string; readonly sha256: string; readonly bytes: number; readonly files?: number }
    | { readonly url: string; readonly sha256: string; readonly bytes: number }
    | null;
  readonly counts: Readonly<Record<string, number>>;
  readonly findings: { readonly errors: number; readonly warnings: number };
  readonly attempts: number;
  readonly durationMs: number;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface TaskProgress {
  readonly phase: 'input' | 'waiting' | 'working' | 'output';
  /** Working: bytes (SPED) or documents (NF-e) read so far. */
  readonly done?: number;
}

export interface RunTaskOptions {
  readonly ledger: Ledger;
  /** The shared worker pool, handed to the handlers (ctx.pool). */
  readonly pool?: FiscalPool;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: TaskProgress) => void;
  /** Lease length, renewed every third of it while working. Default 30 000 ms. */
  readonly leaseMs?: number;
  /** How often a waiter asks the ledger again while another owner works. Default min(250, leaseMs / 4) ms. */
  readonly pollMs?: number;
  /** This owner's name in the ledger. Default `host:pid:random`. */
  readonly owner?: string;
  /** Downloads and partial remote outputs go under it. Default `.fiscal` (relative to the working directory). */
  readonly workDir?: string;
  readonly http?: HttpOptions;
  /** @internal Handlers instead of the registered ones, by type (tests of the handler context). */
  readonly handlers?: Readonly<Record<string, TaskHandler>>;
}

/** Codes a `fiscal run` exits 2 for: the task itself is wrong, not its input. */
export const MALFORMED_CODES: ReadonlySet<string> = new Set(['TASK_MALFORMED', 'TASK_UNKNOWN_TYPE', 'TASK_KEY_CONFLICT']);

const DEFAULT_OWNER = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

/** A failed manifest for a task that never reached the ledger (or was refused by it). */
export function failedManifest(error: { code: string; message: string }, started: number, partial: Partial<Pick<TaskManifest, 'key' | 'type' | 'input'>> = {}): TaskManifest {
  return {
    status: 'failed', key: partial.key ?? null, reused: false, type: partial.type ?? null, input: partial.input ?? null, output: null,
    counts: {}, findings: { errors: 0, warnings: 0 }, attempts: 0, durationMs: elapsed(started), error,
  };
}

function elapsed(started: number): number {
  return Math.max(0, Math.round(performance.now() - started));
}

/** The code a failure is recorded with: task codes as they are, a bad option as TASK_MALFORMED, an I/O error as TASK_INPUT. */
function errorInfo(err: unknown): { code: string; message: string } {
  if (err instanceof TaskError || err instanceof InvalidInputError) return { code: err.code, message: err.message };
  if (err instanceof UsageError) return { code: 'TASK_MALFORMED', message: `${err.message} [${err.code}]` };
  if (err instanceof SourceError) return { code: 'TASK_INPUT', message: `${err.message} [${err.code}]` };
  if (err instanceof FiscalError) return { code: err.code, message: err.message };
  return { code: 'TASK_INTERNAL', message: (err as Error)?.message ?? String(err) };
}

const discard = (): Writable => new Writable({ write: (_c, _e, done) => done() });

/** Runs one task (a parsed JSON value); never throws for a bad task: the manifest says what went wrong. */
export async function runTask(value: unknown, options: RunTaskOptions): Promise<TaskManifest> {
  const started = performance.now();
  let task: Task;
  let inLoc: TaskLocation;
  let outLoc: TaskLocation;
  try {
    task = parseTask(value);
    inLoc = parseLocation(task.input, 'input');
    outLoc = parseLocation(task.output, 'output');
    if (outLoc.kind === 'http' && outputKind(task.type) === 'directory') {
      throw new TaskError('TASK_MALFORMED', `$.output: ${task.type} writes a directory: give a local path, not a URL`);
    }
  } catch (err) {
    const type = typeof (value as { type?: unknown })?.type === 'string' ? (value as { type: string }).type : null;
    return failedManifest(errorInfo(err), started, { type });
  }
  const workDir = options.workDir ?? '.fiscal';
  options.onProgress?.({ phase: 'input' });
  let input: FetchedInput;
  try {
    input = await fetchInput(inLoc, join(workDir, 'inputs'), { ...options.http, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (err) {
    return failedManifest(errorInfo(err), started, { type: task.type });
  }
  try {
    return await claimAndRun(task, input, outLoc, workDir, options, started);
  } finally {
    if (input.downloaded) await fsp.rm(input.path, { force: true }).catch(() => {});
  }
}

async function claimAndRun(task: Task, input: FetchedInput, outLoc: TaskLocation, workDir: string, options: RunTaskOptions, started: number): Promise<TaskManifest> {
  const { ledger } = options;
  const { key, payloadDigest } = taskKey(task, input.sha256, outputIdentity(outLoc));
  const inputInfo = { sha256: input.sha256, bytes: input.bytes };
  const leaseMs = options.leaseMs ?? 30_000;
  const pollMs = options.pollMs ?? Math.min(250, Math.max(10, Math.floor(leaseMs / 4)));
  const owner = options.owner ?? DEFAULT_OWNER;
  for (;;) {
    options.signal?.throwIfAborted();
    let result;
    try {
      result = await ledger.claim({ key, type: task.type, payloadDigest, owner, leaseMs });
    } catch (err) {
      if (err instanceof TaskKeyConflictError) return failedManifest({ code: err.code, message: err.message }, started, { key, type: task.type, input: inputInfo });
      throw err;
    }
    if (result.kind === 'done') {
      return { ...(result.entry.manifest as unknown as TaskManifest), reused: true, durationMs: elapsed(started) };
    }
    if (result.kind === 'busy') {
      options.onProgress?.({ phase: 'waiting' });
      await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : {});
      continue;
    }
    const manifest = await work(task, key, result.claim, input, outLoc, workDir, { ...options, leaseMs }, started);
    if (manifest !== null) return manifest;
    // the lease was lost to another owner: wait for its result like any other waiter
  }
}

/** One claimed attempt. Returns null when the lease was lost (the caller waits for the new owner). */
async function work(
  task: Task, key: string, claim: Claim, input: FetchedInput, outLoc: TaskLocation, workDir: string,
  options: RunTaskOptions & { leaseMs: number }, started: number,
): Promise<TaskManifest | null> {
  const { ledger, leaseMs } = options;
  const lost = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal;
  let leaseLost = false;
  const onLost = (err: unknown): void => {
    if (err instanceof TaskLeaseLostError) leaseLost = true;
    lost.abort(err);
  };
  const timer = setInterval(() => void ledger.renew(claim, leaseMs).catch(onLost), Math.max(5, Math.floor(leaseMs / 3)));
  timer.unref?.();
  const kind = outputKind(task.type);
  const target = outLoc.kind === 'file' ? outLoc.path : join(workDir, 'outputs', sha256Hex(key).slice(0, 16));
  const partialPath = partialPathFor(target, key);
  const streams: { stream: Writable; failure: unknown }[] = [];
  let checkpointed = claim.checkpoint !== null;
  // an NF-e handler names its source by the path it reads: a download moves to a path made of the key and the URL's name
  let inputPath = input.path;
  try {
    if (input.downloaded) {
      inputPath = join(workDir, 'inputs', sha256Hex(key).slice(0, 16), basename(outLocName(input.display)));
      await makeDir(dirname(inputPath));
      await fsp.rename(input.path, inputPath);
    }
    try {
      await makeDir(dirname(partialPath));
    } catch (err) {
      throw outputError(outLoc.display, err);
    }
    // the output is renamed into place: over a device or a pipe (`/dev/null`) that would replace it with a file
    const existing = outLoc.kind === 'file' ? await fsp.stat(target).catch(() => null) : null;
    if (existing !== null && !existing.isFile() && !existing.isDirectory()) {
      throw new TaskError('TASK_OUTPUT', `cannot write ${outLoc.display}: not a regular file (a task's output is a file or directory it renames into place)`);
    }
    const resume = claim.checkpoint !== null && (await exists(partialPath)) ? claim.checkpoint : null;
    const output: TaskOutputTarget = {
      kind,
      partialPath,
      async open(at = 0) {
        if (kind !== 'file') throw new Error('a directory output has no stream: write into partialPath');
        try {
          // from zero: a new file (a new inode), so that a stale owner still writing into the old one writes into
          // nothing anybody commits; to resume: the same file, cut at the checkpoint
          if (at > 0) await fsp.truncate(partialPath, at);
          else await fsp.rm(partialPath, { force: true });
          const stream = createWriteStream(partialPath, at > 0 ? { flags: 'r+', start: at } : { flags: 'wx' });
          const entry = { stream, failure: null as unknown };
          stream.on('error', (err) => { entry.failure = err; });
          await once(stream, 'open');
          streams.push(entry);
          return stream;
        } catch (err) {
          throw outputError(outLoc.display, err);
        }
      },
    };
    const ctx: TaskHandlerContext = {
      task, key, options: optionsWithDefaults(task), output, resume, pool: options.pool, signal,
      input: { path: inputPath, name: input.display, sha256: input.sha256, bytes: input.bytes },
      onProgress: (done) => options.onProgress?.({ phase: 'working', done }),
      messages: discard(),
      async checkpoint(state: JsonValue) {
        await flushAll(streams, outLoc.display);
        try {
          await syncPath(partialPath);
        } catch (err) {
          throw outputError(outLoc.display, err);
        }
        await ledger.checkpoint(claim, state, leaseMs);
        checkpointed = true;
      },
    };
    options.onProgress?.({ phase: 'working', done: 0 });
    const handler = options.handlers?.[task.type] ?? TASK_HANDLERS[task.type];
    if (!handler) throw new TaskError('TASK_UNKNOWN_TYPE', `no handler for ${task.type}`);
    const outcome: CommandOutcome = await handler(ctx);
    await endAll(streams, outLoc.display);
    signal.throwIfAborted();
    options.onProgress?.({ phase: 'output' });
    let digest: { sha256: string; bytes: number; files?: number };
    try {
      digest = kind === 'file' ? await hashFile(partialPath) : await hashDirectory(partialPath);
    } catch (err) {
      throw outputError(outLoc.display, err);
    }
    // still ours? (fenced) — checked before the target is touched
    await ledger.renew(claim, leaseMs);
    if (outLoc.kind === 'file') {
      try {
        if (kind === 'file') await commitFile(partialPath, outLoc.path);
        else await commitDirectory(partialPath, outLoc.path);
      } catch (err) {
        throw outputError(outLoc.display, err);
      }
    } else {
      await putFile(partialPath, outLoc.url, outLoc.display, { ...options.http, signal });
      await fsp.rm(partialPath, { force: true });
    }
    const manifest: TaskManifest = {
      status: 'done', key, reused: false, type: task.type,
      input: { sha256: input.sha256, bytes: input.bytes },
      output: outLoc.kind === 'file'
        ? { path: outLoc.display, sha256: digest.sha256, bytes: digest.bytes, ...(digest.files !== undefined ? { files: digest.files } : {}) }
        : { url: outLoc.display, sha256: digest.sha256, bytes: digest.bytes },
      counts: outcome.counts, findings: outcome.findings, attempts: claim.attempt, durationMs: elapsed(started),
    };
    await ledger.complete(claim, { outputDigest: digest.sha256, manifest: manifest as unknown as JsonValue });
    return manifest;
  } catch (err) {
    for (const s of streams) s.stream.destroy();
    if (leaseLost || err instanceof TaskLeaseLostError) return null;
    if (options.signal?.aborted) throw options.signal.reason;
    const failure = streams.find((s) => s.failure)?.failure;
    const error = failure ? errorInfo(outputError(outLoc.display, failure)) : errorInfo(err);
    // nothing half-written: the partial goes, unless a checkpoint of it lets a later attempt resume
    if (!checkpointed) await fsp.rm(partialPath, { recursive: true, force: true }).catch(() => {});
    const manifest: TaskManifest = {
      ...failedManifest(error, started, { key, type: task.type, input: { sha256: input.sha256, bytes: input.bytes } }),
      attempts: claim.attempt,
    };
    try {
      await ledger.fail(claim, { error, manifest: manifest as unknown as JsonValue });
    } catch (e) {
      if (e instanceof TaskLeaseLostError) return null;
      throw e;
    }
    return manifest;
  } finally {
    clearInterval(timer);
    if (inputPath !== input.path) {
      // back where runTask keeps it: a later claim of this run (after a lost lease) reads it again
      await fsp.rename(inputPath, input.path).catch(() => {});
      await fsp.rm(dirname(inputPath), { recursive: true, force: true }).catch(() => {});
    }
  }
}

function outLocName(display: string): string {
  const name = basename(new URL(display).pathname);
  return name === '' ? 'input' : decodeURIComponent(name);
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Waits until everything written so far to each stream reached the file. */
async function flushAll(streams: readonly { stream: Writable; failure: unknown }[], display: string): Promise<void> {
  for (const s of streams) {
    if (s.failure) throw outputError(display, s.failure);
    if (s.stream.writableEnded) continue;
    await new Promise<void>((resolve, reject) => s.stream.write(Buffer.alloc(0), (err) => (err ? reject(outputError(display, err)) : resolve())));
  }
}

async function endAll(streams: readonly { stream: Writable; failure: unknown }[], display: string): Promise<void> {
  for (const s of streams) {
    if (s.failure) throw outputError(display, s.failure);
    if (!s.stream.closed) {
      s.stream.end();
      await once(s.stream, 'close');
    }
    if (s.failure) throw outputError(display, s.failure);
  }
}
