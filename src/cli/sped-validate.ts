/** `fiscal sped validate FILE [--json] [--max-errors N]`: a thin wrapper over spedValidateCommand. */
import type { Command } from 'commander';
import type { ExitCode } from '../errors.js';
import { spedValidateCommand } from '../commands/sped.js';
import type { LayoutId } from '../sped/layout.js';
import { createProgress, openInput, openOutput, type InputSource } from './io.js';
import type { CommandContext } from './main.js';
import { addOptions } from './options.js';

interface ValidateFlags {
  json?: boolean;
  output?: string;
  maxErrors: number;
  layout?: LayoutId;
  progress: boolean;
}

export function registerSpedValidateCommand(sped: Command, ctx: CommandContext): void {
  addOptions(
    sped
      .command('validate')
      .description('validate a SPED file: structure, fields, totals, references, consistency (exit 1: invalid)')
      .argument('<file>', 'SPED file, or - for stdin'),
    'json', 'output', 'maxErrors', 'layout', 'progress',
  )
    .action((file: string, flags: ValidateFlags) =>
      ctx.run(async (): Promise<ExitCode> => {
        const input = await openInput(file, ctx.io.stdin);
        try {
          return await validateInput(input, flags, ctx);
        } finally {
          input.stream.destroy(); // closes the file at once, also when the output could not be opened
        }
      }),
    );
}

async function validateInput(input: InputSource, flags: ValidateFlags, ctx: CommandContext): Promise<ExitCode> {
  // the report goes to stdout (--json) or stderr (findings), or to -o FILE
  const output = flags.output !== undefined ? await openOutput(flags.output, ctx.io.stdout) : null;
  const report = output?.stream ?? (flags.json ? ctx.io.stdout : ctx.io.stderr);
  const progress = createProgress(input.size, flags.progress, 'validate');
  let exitCode: ExitCode;
  try {
    ({ exitCode } = await spedValidateCommand(input, { output: report, messages: report, onProgress: (bytes) => progress.update(bytes) }, flags));
  } catch (err) {
    await output?.abort();
    throw err;
  } finally {
    progress.stop();
  }
  await output?.commit();
  return exitCode;
}
