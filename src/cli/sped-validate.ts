/** `fiscal sped validate FILE [--json] [--max-errors N]` */
import { InvalidArgumentError, type Command } from 'commander';
import { EXIT_FINDINGS, EXIT_OK, type ExitCode } from '../errors.js';
import { formatFinding } from '../sped/findings.js';
import { isLayoutId, LAYOUT_IDS, type LayoutId } from '../sped/layout.js';
import { validateSped } from '../sped/validator.js';
import { createProgress, openInput, openOutput } from './io.js';
import type { CommandContext } from './main.js';

export function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number (0 = all)');
  return Number(value);
}

export function parseLayout(value: string): LayoutId {
  if (!isLayoutId(value)) throw new InvalidArgumentError(`expected one of ${LAYOUT_IDS.join(', ')}`);
  return value;
}

interface ValidateFlags {
  json?: boolean;
  output?: string;
  maxErrors: number;
  layout?: LayoutId;
  progress: boolean;
}

export function registerSpedValidateCommand(sped: Command, ctx: CommandContext): void {
  sped
    .command('validate')
    .description('validate a SPED file: structure, fields, totals, references, consistency')
    .argument('<file>', 'SPED file, or - for stdin')
    .option('--json', 'print the result as JSON on stdout')
    .option('-o, --output <file>', 'write the report (the JSON with --json, else the findings) to FILE, atomically')
    .option('--max-errors <n>', 'findings to list (counts stay complete); 0 lists all', parseCount, 1000)
    .option('--layout <layout>', `layout instead of detecting it (${LAYOUT_IDS.join(', ')})`, parseLayout)
    .option('--no-progress', 'no progress bar on a terminal')
    .addHelpText('after', '\nExit codes: 0 valid, 1 invalid (errors found), 2 usage error or unreadable file.')
    .action((file: string, flags: ValidateFlags) =>
      ctx.run(async (): Promise<ExitCode> => {
        const input = await openInput(file, ctx.io.stdin);
        // the report goes to stdout (--json) or stderr (findings), or to -o FILE
        const output = flags.output !== undefined ? await openOutput(flags.output, ctx.io.stdout) : null;
        const report = output?.stream ?? (flags.json ? ctx.io.stdout : ctx.io.stderr);
        const progress = createProgress(input.size, flags.progress, 'validate');
        let result;
        try {
          result = await validateSped(input.stream, {
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
      }),
    );
}
