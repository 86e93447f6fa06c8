/**
 * Resumable tasks whose state is a durable SQLite store (the coupon summary's key store, from-docs' document
 * store): the store lives beside the partial output (`.NAME.<key>.partial.<tag>-<id>.db`), committed with the
 * run's state at each checkpoint, and the ledger's checkpoint names that file. A later attempt of the same key
 * copies the named file as of its last commit (snapshotSqlite: consistent even if the attempt that wrote it still
 * runs, its lease lost) into a file of its own and continues from there; its output is a clean run's bytes.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { snapshotSqlite } from '../common/sqlite-checkpoint.js';
import type { TaskHandlerContext } from './handler.js';
import type { JsonValue } from './ledger.js';
import { positiveEnv } from './env.js';

/** Documents (or CSV coupons) between checkpoints: FISCAL_CHECKPOINT_DOCUMENTS, else the library's 50,000. */
export const checkpointDocuments = (): number | undefined => positiveEnv('FISCAL_CHECKPOINT_DOCUMENTS', 'TASK_CHECKPOINT_OPTION');

/** Which store: the ledger checkpoint's field (`{ [field]: { db, ...progress } }`) and the file name's tag. */
export interface DurableStoreKind {
  readonly field: string;
  readonly tag: string;
}

export interface DurableStore {
  /** This attempt's store file: new, or a snapshot of the store an earlier attempt checkpointed. */
  readonly path: string;
  /** The file is such a snapshot: continue from its last checkpoint. */
  readonly resume: boolean;
  /** Records, after the store committed a checkpoint, that the ledger's checkpoint is this file at `progress`. */
  record(progress: Readonly<Record<string, JsonValue>>): Promise<void>;
}

function recordedDb(ctx: TaskHandlerContext, kind: DurableStoreKind): string | null {
  const r = ctx.resume as Record<string, { db?: unknown } | undefined> | null;
  const entry = r !== null && typeof r === 'object' ? r[kind.field] : undefined;
  const name = entry && typeof entry === 'object' && typeof entry.db === 'string' ? entry.db : null;
  // a name of this task's own files only (never a path the ledger could point elsewhere with)
  if (name === null || basename(name) !== name || !name.startsWith(basename(`${ctx.output.partialPath}.${kind.tag}-`))) return null;
  const path = join(dirname(ctx.output.partialPath), name);
  return existsSync(path) ? path : null;
}

/** Removes a store file and its WAL companions. */
async function removeDb(path: string): Promise<void> {
  await Promise.all(['', '-wal', '-shm'].map((s) => fsp.rm(`${path}${s}`, { force: true })));
}

/** Removes every store file of this task's partial output (every attempt's). */
async function removeAllDbs(partialPath: string, tag: string): Promise<void> {
  const dir = dirname(partialPath);
  const prefix = basename(`${partialPath}.${tag}-`);
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => fsp.rm(join(dir, n), { force: true })));
}

/**
 * Runs `body` with this attempt's store file. Done: every store file of the task is removed. Failed or stopped:
 * ours stays only when the ledger names it; an earlier attempt's stays while the ledger still names that one.
 */
export async function withDurableStore<T>(ctx: TaskHandlerContext, kind: DurableStoreKind, body: (store: DurableStore) => Promise<T>): Promise<T> {
  const own = `${ctx.output.partialPath}.${kind.tag}-${randomUUID().slice(0, 8)}.db`;
  const from = recordedDb(ctx, kind);
  if (from) snapshotSqlite(from, own);
  let checkpointed = false;
  const store: DurableStore = {
    path: own,
    resume: from !== null,
    record: async (progress) => {
      await ctx.checkpoint({ [kind.field]: { db: basename(own), ...progress } });
      if (!checkpointed && from) await removeDb(from); // the ledger names ours now
      checkpointed = true;
    },
  };
  try {
    const result = await body(store);
    await removeAllDbs(ctx.output.partialPath, kind.tag);
    return result;
  } catch (err) {
    if (!checkpointed) await removeDb(own);
    throw err;
  }
}
