// A BullMQ worker whose processor runs fiscal tasks (docs/tasks.md, "Embedding").
//
// BullMQ delivers a job at least once: a worker that dies or stalls has its job handed to another. The ledger
// makes the task's effect happen once: a redelivered (or duplicated) task finds its key done and returns the
// recorded manifest (`reused: true`) without doing the work again; two workers racing on one key serialize on the
// claim. Failures on the input (a bad file, a 404) would fail the same way again: UnrecoverableError tells BullMQ
// not to retry those; anything else (a network error, a lost lease) is retried with BullMQ's own backoff.
import { UnrecoverableError, Worker } from 'bullmq';
import { openLedger, runTask } from 'fiscal-engine';

const INPUT_FAILURES = new Set(['TASK_INPUT', 'TASK_MALFORMED', 'TASK_UNKNOWN_TYPE', 'TASK_KEY_CONFLICT']);

/**
 * Starts a worker on `queue`. `connection` is ioredis' options ({ host, port }); `ledgerUrl` a ledger URL
 * (postgres://… when several machines share the queue; sqlite:PATH for the processes of one machine).
 */
export async function startFiscalWorker({ queue = 'fiscal', connection, ledgerUrl, concurrency = 2 }) {
  const ledger = await openLedger(ledgerUrl);
  const worker = new Worker(
    queue,
    async (job) => {
      const manifest = await runTask(job.data, { ledger });
      if (manifest.status === 'failed') {
        const message = `${manifest.error.code}: ${manifest.error.message}`;
        throw INPUT_FAILURES.has(manifest.error.code) ? new UnrecoverableError(message) : new Error(message);
      }
      return manifest;
    },
    { connection: { ...connection, maxRetriesPerRequest: null }, concurrency },
  );
  return {
    worker,
    async close() {
      await worker.close();
      await ledger.close();
    },
  };
}
