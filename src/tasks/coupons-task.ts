/**
 * The `coupons.summary` task, resumable: the summary's duplicate detector lives in a durable SQLite file beside
 * the partial output (`.NAME.<key>.partial.keys-<id>.db`), committed with the summary's state at each checkpoint
 * (src/coupons/checkpoint.ts), and the ledger's checkpoint names that file. A later attempt of the same key copies
 * the named file as of its last commit (KeyStore.snapshot: consistent even if the attempt that wrote it still
 * runs, its lease lost) into a file of its own and continues from there; its output is a clean run's bytes.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { couponsSummaryCommand, type CouponsSummaryCommandOptions } from '../commands/coupons.js';
import type { CommandOutcome } from '../commands/types.js';
import { KeyStore } from '../coupons/key-store.js';
import type { TaskHandlerContext } from './handler.js';
import type { JsonValue } from './ledger.js';
import { positiveEnv } from './env.js';

/** Documents (or CSV coupons) between checkpoints: FISCAL_CHECKPOINT_DOCUMENTS, else the library's 50,000. */
const checkpointDocuments = (): number | undefined => positiveEnv('FISCAL_CHECKPOINT_DOCUMENTS', 'COUPON_CHECKPOINT_OPTION');

/** What the ledger's checkpoint of this task holds. */
interface RecordedCheckpoint {
  readonly coupons: { readonly db: string; readonly read: number };
}

function recordedDb(ctx: TaskHandlerContext): string | null {
  const r = ctx.resume as Partial<RecordedCheckpoint> | null;
  const name = r !== null && typeof r === 'object' && r.coupons && typeof r.coupons.db === 'string' ? r.coupons.db : null;
  // a name of this task's own files only (never a path the ledger could point elsewhere with)
  if (name === null || basename(name) !== name || !name.startsWith(basename(`${ctx.output.partialPath}.keys-`))) return null;
  const path = join(dirname(ctx.output.partialPath), name);
  return existsSync(path) ? path : null;
}

/** Removes a key-store file and its WAL companions. */
async function removeDb(path: string): Promise<void> {
  await Promise.all(['', '-wal', '-shm'].map((s) => fsp.rm(`${path}${s}`, { force: true })));
}

/** Removes every key-store file of this task's partial output (every attempt's). */
async function removeAllDbs(partialPath: string): Promise<void> {
  const dir = dirname(partialPath);
  const prefix = basename(`${partialPath}.keys-`);
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => fsp.rm(join(dir, n), { force: true })));
}

export async function couponsSummaryTask(ctx: TaskHandlerContext): Promise<CommandOutcome> {
  const output = await ctx.output.open(0);
  const own = `${ctx.output.partialPath}.keys-${randomUUID().slice(0, 8)}.db`;
  const from = recordedDb(ctx);
  if (from) KeyStore.snapshot(from, own);
  const every = checkpointDocuments();
  let checkpointed = false;
  try {
    const outcome = await couponsSummaryCommand({ sources: [ctx.input.path] }, { output, messages: ctx.messages, onProgress: ctx.onProgress, signal: ctx.signal }, {
      ...(ctx.options as CouponsSummaryCommandOptions),
      ...(ctx.pool ? { pool: ctx.pool } : {}),
      checkpoints: {
        path: own,
        resume: from !== null,
        ...(every !== undefined ? { every } : {}),
        onCheckpoint: async (at) => {
          const recorded: RecordedCheckpoint = { coupons: { db: basename(own), read: at.read } };
          await ctx.checkpoint(recorded as unknown as JsonValue);
          if (!checkpointed && from) await removeDb(from); // the ledger names ours now
          checkpointed = true;
        },
      },
    });
    await removeAllDbs(ctx.output.partialPath);
    return outcome;
  } catch (err) {
    // ours stays only when the ledger names it; an earlier attempt's stays while the ledger still names that one
    if (!checkpointed) await removeDb(own);
    throw err;
  }
}
