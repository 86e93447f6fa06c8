/**
 * `fiscal worker` / `fiscal submit` / `fiscal queue` as real processes (dist/, so `npm run build` first), and the
 * checks of the fault tests (test/cli/worker.ts, test/cli/worker-amqp-faults.ts): every task done once in the
 * ledger, its recorded digest the one of its file on disk and of a single clean run, no task worked to done twice.
 */
import type { Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLocalQueue } from '../../src/queue/local.js';
import { outputIdentity, parseLocation } from '../../src/tasks/io.js';
import type { LedgerEntry } from '../../src/tasks/ledger.js';
import { openLedger } from '../../src/tasks/open-ledger.js';
import { parseTask, taskKey } from '../../src/tasks/task.js';
import { tempDir } from './temp-dir.js';

export const BIN = new URL('../../bin/fiscal.js', import.meta.url).pathname;
export const EFD = new URL('../../fixtures/sped/efd-icms-ipi-2026-01.txt', import.meta.url).pathname;
export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export interface Child {
  readonly proc: ChildProcess;
  stderr: string;
  stdout: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The environment without FISCAL_QUEUE, FISCAL_ROUTE, FISCAL_LEDGER: a command given no flag takes its built-in default. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['FISCAL_QUEUE', 'FISCAL_ROUTE', 'FISCAL_LEDGER']) delete env[k];
  return env;
}

/** `fiscal ARGS…` in `cwd`, its output collected. */
export function fiscal(args: readonly string[], cwd: string): Child {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv() });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const child: Child = { proc, stderr: '', stdout: '', exited };
  proc.stderr?.on('data', (c: Buffer) => { child.stderr += c.toString(); });
  proc.stdout?.on('data', (c: Buffer) => { child.stdout += c.toString(); });
  return child;
}

/** `fiscal worker --queue QUEUE --route ROUTE --ledger LEDGER EXTRA…` in `dir`. */
export function worker(dir: string, where: { readonly queue: string; readonly ledger: string; readonly route: string }, extra: readonly string[] = []): Child {
  return fiscal(['worker', '--queue', where.queue, '--route', where.route, '--ledger', where.ledger, ...extra], dir);
}

export interface LogEvent { readonly event: string; readonly id: string; readonly outcome: string | null; readonly attempt?: number; readonly code?: string; readonly delayMs?: number }

/** The worker's JSON event lines. */
export const events = (text: string): LogEvent[] =>
  text.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogEvent);

export const doneCount = (...children: readonly Child[]): number =>
  children.reduce((n, c) => n + events(c.stderr).filter((e) => e.event === 'done').length, 0);

/** Polls `check` every `everyMs` (20); a generous deadline only so that a broken run fails instead of hanging. */
export async function until(check: () => boolean | Promise<boolean>, what = 'condition', deadlineMs = 240_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface ValidateTask { readonly type: string; readonly input: string; readonly output: string; readonly options: { readonly json: boolean } }

/** A small task: validate the EFD fixture (or `where.input`), the JSON report to `dir/out/NAME.json` (or `where.output`). */
export function validateTask(dir: string, name: string, where: { readonly input?: string; readonly output?: string } = {}): ValidateTask {
  return { type: 'sped.validate', input: where.input ?? EFD, output: where.output ?? join(dir, 'out', `${name}.json`), options: { json: true } };
}

/** The ledger key runTask gives the task (what `fiscal submit` prints as its id); `input`: its input's bytes, when not a file. */
export function keyOf(value: ValidateTask, input?: Buffer): string {
  const parsed = parseTask(value);
  return taskKey(parsed, sha(input ?? readFileSync(value.input)), outputIdentity(parseLocation(parsed.output, 'output'))).key;
}

/** The digest of the validation report from one clean run (one task, one worker, its own queue and ledger). */
export async function referenceDigest(t: Test): Promise<string> {
  const dir = tempDir('fiscal-worker-ref-');
  const queue = await openLocalQueue(join(dir, 'queue'), { route: 'ref' });
  try {
    await queue.submit([{ id: 'ref', task: validateTask(dir, 'ref'), priority: 0 }]);
  } finally {
    await queue.close();
  }
  const ref = worker(dir, { queue: `local:${join(dir, 'queue')}`, ledger: `sqlite:${join(dir, 'ledger.db')}`, route: 'ref' }, ['--exit-when-idle', '--threads', '1']);
  t.equal((await ref.exited).code, 0, 'the reference run');
  return sha(readFileSync(join(dir, 'out', 'ref.json')));
}

export interface ExactlyOnce {
  readonly dir: string;
  readonly names: readonly string[];
  readonly ledger: string;
  /** Every worker process of the run, killed ones included. */
  readonly children: readonly Child[];
  /** Keys that may have been claimed twice: those a killed worker held (its concurrency per kill). */
  readonly reclaimable: number;
}

/**
 * Each task: done in the ledger, its recorded output digest = its file's = the clean run's, no partial left, at
 * most 2 claims and only `reclaimable` keys with 2; across all the processes, no task worked (not reused) twice.
 * For runs where every task succeeds.
 */
export async function checkExactlyOnce(t: Test, run: ExactlyOnce): Promise<void> {
  const refDigest = await referenceDigest(t);
  const ledger = await openLedger(run.ledger);
  let done: LedgerEntry[];
  try {
    done = await ledger.list({ status: 'done', limit: run.names.length + 1 });
    t.same(await ledger.count(), { running: 0, done: run.names.length, failed: 0 }, 'every key done in the ledger, none running or failed');
  } finally {
    await ledger.close();
  }
  const byKey = new Map(done.map((e) => [e.key, e]));
  const bad: string[] = [];
  let claimedTwice = 0;
  for (const n of run.names) {
    const value = validateTask(run.dir, n);
    const entry = byKey.get(keyOf(value));
    const digest = existsSync(value.output) ? sha(readFileSync(value.output)) : 'missing';
    if (digest !== refDigest) bad.push(`${n}: output ${digest}, not the clean run's`);
    if (entry?.outputDigest !== digest) bad.push(`${n}: ledger digest ${entry?.outputDigest} is not its file's`);
    if (existsSync(`${value.output}.partial`)) bad.push(`${n}: a partial output is left`);
    const attempts = entry?.attempts ?? 0;
    if (attempts < 1 || attempts > 2) bad.push(`${n}: ${attempts} claims`);
    if (attempts === 2) claimedTwice++;
  }
  t.same(bad, [], `${run.names.length} outputs, each the clean run's and the ledger's digest`);
  t.ok(claimedTwice <= run.reclaimable, `claimed twice: ${claimedTwice} keys (at most the ${run.reclaimable} a killed worker held)`);
  // worked: ended done (not reused), or worked and then its end refused by the queue (the connection lost: its
  // redelivery must then be answered from the ledger, reused)
  const worked = run.children.flatMap((c) => events(c.stderr)).filter((e) => e.outcome === 'done' || e.outcome === 'unacknowledged').map((e) => e.id);
  t.equal(new Set(worked).size, worked.length, `no task worked twice (${worked.length} worked in the logs)`);
}
