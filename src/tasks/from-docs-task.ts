/**
 * The `sped.from-docs` task, resumable: the store of extracted documents is a durable store (durable-store.ts,
 * files tagged `docs`), committed with the run's counters every FISCAL_CHECKPOINT_DOCUMENTS documents (default
 * 50,000) and once every document is read; a later attempt passes over the documents already stored (or, past
 * the last checkpoint, only writes the file) and gives a clean run's bytes.
 */
import { spedFromDocsCommand, type SpedFromDocsCommandOptions } from '../commands/sped-from-docs.js';
import type { CommandOutcome } from '../commands/types.js';
import type { TaskHandlerContext } from './handler.js';
import { checkpointDocuments, withDurableStore } from './durable-store.js';

export function spedFromDocsTask(ctx: TaskHandlerContext): Promise<CommandOutcome> {
  return withDurableStore(ctx, { field: 'fromDocs', tag: 'docs' }, async (store) => {
    const output = await ctx.output.open(0);
    const every = checkpointDocuments();
    return spedFromDocsCommand({ sources: [ctx.input.path] }, { output, messages: ctx.messages, onProgress: ctx.onProgress, signal: ctx.signal }, {
      ...(ctx.options as unknown as SpedFromDocsCommandOptions),
      ...(ctx.pool ? { pool: ctx.pool } : {}),
      checkpoints: { path: store.path, resume: store.resume, ...(every !== undefined ? { every } : {}), onCheckpoint: (at) => store.record({ documents: at.documents, loaded: at.loaded }) },
    });
  });
}
