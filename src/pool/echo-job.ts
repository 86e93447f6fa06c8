/** A job for the pool's own tests: returns its payload (after `delayMs`), or throws when asked to. */
import { threadId } from 'node:worker_threads';
import { InvalidInputError } from '../errors.js';

export interface EchoPayload {
  value: unknown;
  delayMs?: number;
  fail?: string;
  /** Throw a FiscalError of this code instead (its class and code must survive the thread boundary). */
  failInput?: string;
  /** Bytes moved here: the reply says how many arrived. */
  bytes?: ArrayBuffer;
}

export async function echoJob(payload: EchoPayload): Promise<{ value: unknown; threadId: number; bytes: number }> {
  if (payload.delayMs) await new Promise((resolve) => setTimeout(resolve, payload.delayMs));
  if (payload.fail !== undefined) throw new Error(payload.fail);
  if (payload.failInput !== undefined) throw new InvalidInputError(payload.failInput, `bad input (${payload.failInput})`, 7);
  return { value: payload.value, threadId, bytes: payload.bytes?.byteLength ?? 0 };
}
