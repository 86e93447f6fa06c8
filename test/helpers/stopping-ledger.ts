/** A ledger wrapper for resume tests: it stops its attempt (aborts `stop`) once `n` checkpoints were recorded. */
import type { Test } from 'tap';
import type { Claim, JsonValue, Ledger } from '../../src/tasks/ledger.js';
import { runTask } from '../../src/tasks/run-task.js';
import { MemoryLedger } from './memory-ledger.js';

export function stoppingAt(ledger: Ledger, n: number, stop: AbortController): Ledger {
  let seen = 0;
  return new Proxy(ledger, {
    get(target, prop, receiver) {
      if (prop === 'checkpoint') {
        return async (claim: Claim, checkpoint: JsonValue, leaseMs: number) => {
          await target.checkpoint(claim, checkpoint, leaseMs);
          if (++seen === n) stop.abort(new Error('stopped after a checkpoint'));
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Sets the environment variable `name` for the rest of the test `t` (restored at its teardown). */
export function envForTest(t: Test, name: string, value: string): void {
  const prev = process.env[name];
  process.env[name] = value;
  t.teardown(() => {
    if (prev === undefined) delete process.env[name];
    else process.env[name] = prev;
  });
}

/** Runs `task` (a task value, as runTask takes it) on a memory ledger and stops it once its `n`th checkpoint is recorded; the ledger and that checkpoint. */
export async function stopAfterCheckpoint(t: Test, task: unknown, n: number, workDir: string): Promise<{ ledger: MemoryLedger; checkpoint: JsonValue }> {
  const ledger = new MemoryLedger();
  const stop = new AbortController();
  await t.rejects(runTask(task, { ledger: stoppingAt(ledger, n, stop), signal: stop.signal, leaseMs: 200, workDir }), { message: 'stopped after a checkpoint' });
  const [entry] = await ledger.list();
  return { ledger, checkpoint: entry!.checkpoint };
}
