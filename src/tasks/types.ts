/**
 * The task types: `<group>.<command>` for every CLI command that reads one input and writes one output, each
 * calling the same command function as the CLI (src/commands/). Options are checked by the schema
 * (formats/tasks/task.v1.schema.json) before a handler runs; test/tasks/schema.ts checks that the types here
 * and the schema's agree.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { loadTrustStore, type TrustStore } from '../nfe/verify.js';
import { ioError } from '../errors.js';
import {
  loadSigningCredentials, nfeSignCommand, nfeToCsvCommand, nfeToJsonlCommand, nfeValidateCommand, nfeVerifyCommand,
  type NfeToCsvCommandOptions, type NfeValidateCommandOptions, type NfeVerifyCommandOptions,
} from '../commands/nfe.js';
import {
  spedFixTotalsCommand, spedFromJsonlCommand, spedStatsCommand, spedToCsvCommand, spedToJsonlCommand, spedValidateCommand,
  type SpedFixTotalsCommandOptions, type SpedFromJsonlCommandOptions, type SpedStatsCommandOptions, type SpedToCsvCommandOptions,
  type SpedToJsonlCommandOptions, type SpedValidateCommandOptions,
} from '../commands/sped.js';
import type { CommandInput, CommandOutcome, CommandStreams } from '../commands/types.js';
import type { TaskHandler, TaskHandlerContext } from './handler.js';

function inputOf(ctx: TaskHandlerContext): CommandInput {
  return { name: ctx.input.name, stream: createReadStream(ctx.input.path, { highWaterMark: 1 << 20, signal: ctx.signal }), size: ctx.input.bytes };
}

/** A handler over one input stream and the partial output file. */
function streamed<O>(run: (input: CommandInput, streams: CommandStreams, options: O) => Promise<CommandOutcome>): TaskHandler {
  return async (ctx) => {
    const output = await ctx.output.open(0);
    const input = inputOf(ctx);
    try {
      return await run(input, { output, messages: ctx.messages, onProgress: ctx.onProgress, signal: ctx.signal }, ctx.options as O);
    } finally {
      input.stream.destroy();
    }
  };
}

/** An NF-e batch handler: the input file is the one source (an XML file or a .zip). */
function batch<O>(run: (src: { sources: readonly string[] }, streams: CommandStreams, options: O) => Promise<CommandOutcome>, prepare?: (ctx: TaskHandlerContext) => O): TaskHandler {
  return async (ctx) => {
    const output = await ctx.output.open(0);
    return run({ sources: [ctx.input.path] }, { output, messages: ctx.messages, onProgress: ctx.onProgress, signal: ctx.signal }, prepare ? prepare(ctx) : (ctx.options as O));
  };
}

export const TASK_HANDLERS: Readonly<Record<string, TaskHandler>> = {
  'sped.validate': streamed<SpedValidateCommandOptions>((input, streams, o) => spedValidateCommand(input, { ...streams, messages: streams.output }, o)),
  'sped.stats': streamed<SpedStatsCommandOptions>(spedStatsCommand),
  'sped.to-jsonl': streamed<SpedToJsonlCommandOptions>(spedToJsonlCommand),
  'sped.from-jsonl': streamed<SpedFromJsonlCommandOptions>(spedFromJsonlCommand),
  'sped.fix-totals': streamed<SpedFixTotalsCommandOptions>(spedFixTotalsCommand),
  'sped.to-csv': async (ctx) => {
    if (ctx.resume === null) await fsp.rm(ctx.output.partialPath, { recursive: true, force: true });
    const input = inputOf(ctx);
    try {
      return await spedToCsvCommand(input, ctx.output.partialPath, { messages: ctx.messages, onProgress: ctx.onProgress, signal: ctx.signal }, ctx.options as SpedToCsvCommandOptions);
    } finally {
      input.stream.destroy();
    }
  },
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
};
