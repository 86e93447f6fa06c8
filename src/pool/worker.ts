/** The pool's worker entry (piscina calls the default export once per task): runs the named job. */
import { runJob } from './jobs.js';
import { toWireError, type WireError } from './wire-error.js';

export interface JobMessage {
  readonly job: string;
  readonly payload: unknown;
}

/** What a worker sends back: the job's result, or its error as data (see wire-error.ts). */
export type JobReply = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: WireError };

export default async function work(message: JobMessage): Promise<JobReply> {
  try {
    return { ok: true, value: await runJob(message.job, message.payload) };
  } catch (err) {
    return { ok: false, error: toWireError(err) };
  }
}
