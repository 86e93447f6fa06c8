/**
 * The `coupons.summary` task, resumable: the summary's duplicate detector is a durable store (durable-store.ts,
 * files tagged `keys`), committed with the summary's state at each checkpoint (src/coupons/checkpoint.ts).
 */
import { couponsSummaryCommand, type CouponsSummaryCommandOptions } from '../commands/coupons.js';
import type { CommandOutcome } from '../commands/types.js';
import type { TaskHandlerContext } from './handler.js';
import { checkpointDocuments, withDurableStore } from './durable-store.js';

export function couponsSummaryTask(ctx: TaskHandlerContext): Promise<CommandOutcome> {
  return withDurableStore(ctx, { field: 'coupons', tag: 'keys' }, async (store) => {
    const output = await ctx.output.open(0);
    const every = checkpointDocuments();
    return couponsSummaryCommand({ sources: [ctx.input.path] }, { output, messages: ctx.messages, onProgress: ctx.onProgress, signal: ctx.signal }, {
      ...(ctx.options as CouponsSummaryCommandOptions),
      ...(ctx.pool ? { pool: ctx.pool } : {}),
      checkpoints: { path: store.path, resume: store.resume, ...(every !== undefined ? { every } : {}), onCheckpoint: (at) => store.record({ read: at.read }) },
    });
  });
}
