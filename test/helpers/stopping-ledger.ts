/** A ledger wrapper for resume tests: it stops its attempt (aborts `stop`) once `n` checkpoints were recorded. */
import type { Claim, JsonValue, Ledger } from '../../src/tasks/ledger.js';

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
