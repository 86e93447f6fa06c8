/** `fiscal sped validate FILE [--json] [--max-errors N]` */
import type { Command } from 'commander';
import { EXIT_FINDINGS, EXIT_OK, type ExitCode } from '../errors.js';
import { formatFinding } from '../sped/findings.js';
import type { LayoutId } from '../sped/layout.js';
import { defaultThreads } from '../pool/pool.js';
import { validateSped } from '../sped/validator.js';
import { createProgress, openInput, openOutput, type InputSource } from './io.js';
import type { CommandContext } from './main.js';
import { addOptions } from './options.js';

interface ValidateFlags {
  json?: boolean;
  output?: string;
  maxErrors: number;
  layout?: LayoutId;
  progress: boolean;
  threads?: number;
}

export function registerSpedValidateCommand(sped: Command, ctx: CommandContext): void {
  addOptions(
    sped
      .command('validate')
      .description('validate a SPED file: structure, fields, totals, references, consistency (exit 1: invalid)')
      .argument('<file>', 'SPED file, or - for stdin'),
    'json', 'output', 'maxErrors', 'layout', 'progress', 'threads',
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
  let result;
  try {
    // a path is validated in byte ranges on the pool (the same result as one thread); stdin on one thread
    const threads = flags.threads ?? defaultThreads();
    result = await validateSped(input.name !== '-' && threads > 1 ? input.name : input.stream, {
      threads,
      maxErrors: flags.maxErrors,
      layout: flags.layout,
      onProgress: (bytes) => progress.update(bytes),
      onFinding: flags.json ? undefined : (f) => report.write(`${formatFinding(input.name, f)}\n`),
    });
  } catch (err) {
    await output?.abort();
    throw err;
  } finally {
    progress.stop();
  }
  if (flags.json) {
    report.write(`${JSON.stringify(result)}\n`);
  } else {
    const more = result.truncated ? ` (only the first ${flags.maxErrors} listed)` : '';
    report.write(
      `${input.name}: ${result.valid ? 'valid' : 'INVALID'} — ${result.layout ?? 'unknown layout'} ${result.version ?? ''}, ${result.lines} lines, ${result.encoding}, ${result.errorCount} error(s), ${result.warningCount} warning(s)${more}${result.signature ? `, signed (${result.signature.length} bytes at ${result.signature.offset})` : ''}\n`,
    );
  }
  await output?.commit();
  return result.valid ? EXIT_OK : EXIT_FINDINGS;
}
