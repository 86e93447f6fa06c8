/**
 * The task types: `<group>.<command>` for every CLI command that reads one input and writes one output, each
 * calling the same command function as the CLI (src/commands/). Options are checked by the schema
 * (formats/tasks/task.v1.schema.json) before a handler runs; test/tasks/schema.ts checks that the types here
 * and the schema's agree.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { loadTrustStore, type TrustStore } from '../nfe/verify.js';
import { ioError } from '../errors.js';
import { SpedCheckpointError } from '../sped/checkpoint.js';
import {
  loadSigningCredentials, nfeSignCommand, nfeToCsvCommand, nfeToJsonlCommand, nfeValidateCommand, nfeVerifyCommand,
  type NfeToCsvCommandOptions, type NfeValidateCommandOptions, type NfeVerifyCommandOptions,
} from '../commands/nfe.js';
import {
  spedFixTotalsCommand, spedFromJsonlCommand, spedStatsCommand, spedToCsvCommand, spedToJsonlCommand, spedValidateCommand,
  type SpedFixTotalsCommandOptions, type SpedFromJsonlCommandOptions, type SpedStatsCommandOptions, type SpedToCsvCommandOptions,
  type SpedToJsonlCommandOptions, type SpedValidateCommandOptions, type ConversionCheckpoint, type ConversionResume,
} from '../commands/sped.js';
import type { CommandInput, CommandOutcome, CommandStreams } from '../commands/types.js';
import { couponsSummaryTask } from './coupons-task.js';
import { spedFromDocsTask } from './from-docs-task.js';
import { positiveEnv } from './env.js';
import type { TaskHandler, TaskHandlerContext } from './handler.js';
import type { JsonValue } from './ledger.js';

function inputOf(ctx: TaskHandlerContext): CommandInput {
  return { name: ctx.input.name, stream: createReadStream(ctx.input.path, { highWaterMark: 1 << 20, signal: ctx.signal }), size: ctx.input.bytes, path: ctx.input.path };
}

/** A handler over one input stream and the partial output file. */
function streamed<O>(run: (input: CommandInput, streams: CommandStreams, options: O, ctx: TaskHandlerContext) => Promise<CommandOutcome>): TaskHandler {
  return async (ctx) => {
    const output = await ctx.output.open(0);
    const input = inputOf(ctx);
    try {
      return await run(input, { output, messages: ctx.messages, onProgress: ctx.onProgress, signal: ctx.signal }, ctx.options as O, ctx);
    } finally {
      input.stream.destroy();
    }
  };
}

/** Input bytes between checkpoints of the resumable conversions: FISCAL_CHECKPOINT_BYTES, else the library's 64 MiB. */
const checkpointBytes = (): number | undefined => positiveEnv('FISCAL_CHECKPOINT_BYTES', 'SPED_CHECKPOINT_OPTION');

/**
 * The resumable side of to-jsonl, fix-totals and to-csv: the input read by its path, each checkpoint recorded with
 * `ctx.checkpoint` (the partial output fsynced first), and a recorded one continued from (docs/tasks.md).
 */
function resumeOf(ctx: TaskHandlerContext): ConversionResume {
  const from = ctx.resume as ConversionCheckpoint | null;
  const everyBytes = checkpointBytes();
  return {
    path: ctx.input.path,
    from: from !== null && typeof from === 'object' && 'sped' in from ? from : null,
    checkpoint: (cp) => ctx.checkpoint(cp as unknown as JsonValue),
    ...(everyBytes !== undefined ? { everyBytes } : {}),
  };
}

/** A resumable conversion into the partial output file: reopened at the checkpoint's length when resuming. */
function resumableStream<O>(run: (input: CommandInput, streams: CommandStreams, options: O, resume: ConversionResume, ctx: TaskHandlerContext) => Promise<CommandOutcome>): TaskHandler {
  return fromZeroOnMismatch(async (ctx, resume) => {
    const output = await ctx.output.open(resume.from?.sped.outputBytes ?? 0);
    const input = inputOf(ctx);
    try {
      return await run(input, { output, messages: ctx.messages, onProgress: ctx.onProgress, signal: ctx.signal }, ctx.options as O, resume, ctx);
    } finally {
      input.stream.destroy();
    }
  });
}

/**
 * Runs a resumable handler; a recorded checkpoint that no longer fits (SPED_CHECKPOINT_MISMATCH: say to-csv's
 * temporary folder was removed) is dropped and the conversion starts from zero in the same attempt, instead of
 * failing every later attempt the same way.
 */
function fromZeroOnMismatch(body: (ctx: TaskHandlerContext, resume: ConversionResume) => Promise<CommandOutcome>): TaskHandler {
  return async (ctx) => {
    const resume = resumeOf(ctx);
    if (resume.from === null) return body(ctx, resume);
    try {
      return await body(ctx, resume);
    } catch (err) {
      if (!(err instanceof SpedCheckpointError)) throw err;
      return body(ctx, { ...resume, from: null });
    }
  };
}

/** An NF-e batch handler: the input file is the one source (an XML file or a .zip). */
function batch<O>(run: (src: { sources: readonly string[] }, streams: CommandStreams, options: O) => Promise<CommandOutcome>, prepare?: (ctx: TaskHandlerContext) => O): TaskHandler {
  return async (ctx) => {
    const output = await ctx.output.open(0);
    // the batch runs on the runner's pool when it has one (the documents spread over its workers)
    const options = { ...(prepare ? prepare(ctx) : (ctx.options as O)), ...(ctx.pool ? { pool: ctx.pool } : {}) } as O;
    return run({ sources: [ctx.input.path] }, { output, messages: ctx.messages, onProgress: ctx.onProgress, signal: ctx.signal }, options);
  };
}

export const TASK_HANDLERS: Readonly<Record<string, TaskHandler>> = {
  // on the runner's pool: a local input is validated in byte ranges (the same report as one thread)
  'sped.validate': streamed<SpedValidateCommandOptions>((input, streams, o, ctx) =>
    spedValidateCommand(input, { ...streams, messages: streams.output }, { ...o, ...(ctx.pool ? { pool: ctx.pool } : {}) })),
  // on the runner's pool: a local input is read in byte ranges (the same summary, the same bytes as one thread;
  // to-jsonl's and to-csv's checkpoints are taken between ranges)
  'sped.stats': streamed<SpedStatsCommandOptions>((input, streams, o, ctx) => spedStatsCommand(input, streams, { ...o, ...(ctx.pool ? { pool: ctx.pool } : {}) })),
  'sped.to-jsonl': resumableStream<SpedToJsonlCommandOptions>((input, streams, o, resume, ctx) => spedToJsonlCommand(input, streams, { ...o, ...(ctx.pool ? { pool: ctx.pool } : {}) }, resume)),
  'sped.from-jsonl': streamed<SpedFromJsonlCommandOptions>(spedFromJsonlCommand),
  'sped.fix-totals': resumableStream<SpedFixTotalsCommandOptions>(spedFixTotalsCommand),
  'sped.to-csv': fromZeroOnMismatch(async (ctx, resume) => {
    if (resume.from === null) await fsp.rm(ctx.output.partialPath, { recursive: true, force: true });
    const input = inputOf(ctx);
    try {
      const options = { ...(ctx.options as SpedToCsvCommandOptions), ...(ctx.pool ? { pool: ctx.pool } : {}) };
      return await spedToCsvCommand(input, ctx.output.partialPath, { messages: ctx.messages, onProgress: ctx.onProgress, signal: ctx.signal }, options, resume);
    } finally {
      input.stream.destroy();
    }
  }),
  // the input (an XML file or a .zip) is the one source; the company comes inline in the options; resumable
  // (from-docs-task.ts)
  'sped.from-docs': spedFromDocsTask,
  'nfe.to-jsonl': batch(nfeToJsonlCommand),
  'nfe.to-csv': batch<NfeToCsvCommandOptions>(nfeToCsvCommand),
  // like `fiscal nfe validate -o FILE`: findings, the summary line and JSON findings all go to the output
  'nfe.validate': batch<NfeValidateCommandOptions>((src, streams, o) => nfeValidateCommand(src, { ...streams, messages: streams.output }, o)),
  'nfe.verify': async (ctx) => {
    const { trust: dir, ...rest } = ctx.options as { trust?: string } & Omit<NfeVerifyCommandOptions, 'trust'>;
    let trust: TrustStore | undefined;
    if (dir !== undefined) {
      try {
        trust = loadTrustStore(dir);
      } catch (err) {
        throw ioError(err, dir, 'read');
      }
    }
    return batch<NfeVerifyCommandOptions>(nfeVerifyCommand, () => ({ ...rest, ...(trust ? { trust } : {}) }))(ctx);
  },
  'nfe.sign': async (ctx) => {
    const o = ctx.options as { pfx: string; passwordEnv?: string; passwordFile?: string; sha256?: boolean; checkCertificate?: boolean };
    const credentials = await loadSigningCredentials(o);
    const xml = await fsp.readFile(ctx.input.path);
    return nfeSignCommand(xml, credentials, { output: await ctx.output.open(0) }, o);
  },
  // one input (XML, several concatenated, a .zip, or a CSV export with the mapping), the summary as the output;
  // resumable: checkpoints of its duplicate detector and sums (coupons-task.ts)
  'coupons.summary': couponsSummaryTask,
};
