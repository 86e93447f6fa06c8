/** The pool's worker entry (piscina calls the default export once per task): runs the named job. */
import type { Piscina as PiscinaClass } from 'piscina';
import { runJob } from './jobs.js';
import { transferListOf } from './transfer.js';
import { toWireError, type WireError } from './wire-error.js';

export interface JobMessage {
  readonly job: string;
  readonly payload: unknown;
}

/** What a worker sends back: the job's result, or its error as data (see wire-error.ts). */
export type JobReply = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: WireError };

/**
 * Piscina's `move`, imported at the first result that moves memory: the package's main module (the pool itself)
 * costs 15-20 ms to load in every worker, and most jobs return plain data.
 */
let piscina: typeof PiscinaClass | null = null;

export default async function work(message: JobMessage): Promise<JobReply> {
  try {
    const value = await runJob(message.job, message.payload);
    const reply: JobReply = { ok: true, value };
    const transfer = transferListOf(value);
    // piscina posts a "movable" result with its transfer list (the reply is what arrives)
    if (transfer !== null) {
      const Piscina = (piscina ??= (await import('piscina')).Piscina);
      const movable = { [Piscina.transferableSymbol]: transfer, [Piscina.valueSymbol]: reply } as unknown as Parameters<typeof Piscina.move>[0];
      return Piscina.move(movable) as unknown as JobReply;
    }
    return reply;
  } catch (err) {
    return { ok: false, error: toWireError(err) };
  }
}
