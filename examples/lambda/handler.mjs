// An AWS Lambda handler fed by an SQS queue, running fiscal tasks (docs/tasks.md, "Embedding").
//
// Each SQS message body is a task whose input and output are presigned object-store URLs (a GET and a PUT).
// SQS delivers at least once and Lambda retries a failed batch: the ledger (PostgreSQL, shared by every
// concurrent Lambda) makes each task's effect happen once: a redelivered message returns the recorded manifest.
// A message whose task failed on its input is reported as a batch item failure only when a retry could help.
import { openLedger, runTask } from 'fiscal-engine';

const RETRYABLE = (code) => !['TASK_INPUT', 'TASK_MALFORMED', 'TASK_UNKNOWN_TYPE', 'TASK_KEY_CONFLICT'].includes(code);

let ledger; // opened once per container, reused by warm invocations

export async function handler(event) {
  ledger ??= await openLedger(process.env.FISCAL_LEDGER);
  const batchItemFailures = [];
  const manifests = [];
  for (const record of event.Records ?? []) {
    let task;
    try {
      task = JSON.parse(record.body);
    } catch {
      manifests.push({ messageId: record.messageId, error: 'not JSON' }); // a poison message: never retried
      continue;
    }
    const manifest = await runTask(task, { ledger });
    manifests.push({ messageId: record.messageId, manifest });
    if (manifest.status === 'failed' && RETRYABLE(manifest.error.code)) batchItemFailures.push({ itemIdentifier: record.messageId });
  }
  // `batchItemFailures` is what Lambda reads (ReportBatchItemFailures); `manifests` is for the logs
  return { batchItemFailures, manifests };
}

/** Closes the ledger (tests; a Lambda container just ends). */
export async function closeLedger() {
  await ledger?.close();
  ledger = undefined;
}
