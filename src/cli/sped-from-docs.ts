/**
 * `fiscal sped from-docs --company COMPANY.json --period YYYY-MM [--layout efd-contribuicoes] SOURCE… [-o FILE]`: a thin wrapper over
 * spedFromDocsCommand (the EFD goes to -o, written atomically, or stdout; findings and the summary to stderr).
 */
import type { Command } from 'commander';
import { UsageError, type ExitCode } from '../errors.js';
import { FROM_DOCS_LAYOUTS, type FromDocsLayout } from '../sped/from-docs-extract.js';
import type { LayoutId } from '../sped/layout.js';
import { spedFromDocsCommand } from '../commands/sped-from-docs.js';
import { createCountProgress, openOutput } from './io.js';
import type { CommandContext } from './main.js';
import { addOptions, parsePositiveInt } from './options.js';

interface FromDocsFlags {
  company: string;
  period: string;
  output?: string;
  maxBytes?: number;
  maxDepth?: number;
  budgetMb?: number;
  tempDir?: string;
  progress: boolean;
  threads?: number;
  layout?: LayoutId;
}

/** The `--layout` of from-docs: one of the layouts it writes. */
function fromDocsLayout(layout: LayoutId | undefined): FromDocsLayout | undefined {
  if (layout === undefined) return undefined;
  const found = FROM_DOCS_LAYOUTS.find((l) => l === layout);
  if (!found) throw new UsageError(`--layout: from-docs writes ${FROM_DOCS_LAYOUTS.join(' or ')} (got '${layout}')`, 'FROMDOCS_LAYOUT');
  return found;
}

export function registerSpedFromDocsCommand(sped: Command, ctx: CommandContext): void {
  addOptions(
    sped
      .command('from-docs')
      .description('the EFD ICMS/IPI (or, --layout efd-contribuicoes, the EFD-Contribuições) of a month from the NF-e, NFC-e and CF-e SAT documents issued and received (docs/from-docs.md)')
      .argument('<sources...>', 'files, directories, .zip archives, or - for stdin')
      .requiredOption('--company <file>', 'COMPANY.json: the 0000/0005/0100 data and the filing choices (formats/sped/from-docs/company.schema.json)')
      .requiredOption('--period <yyyy-mm>', 'the month of the file')
      .option('--budget-mb <n>', 'memory of the temporary store before it works from disk (default 64)', parsePositiveInt)
      .option('--temp-dir <dir>', 'folder of the temporary store (default the system temporary folder)'),
    'output', 'layout', 'maxBytes', 'maxDepth', 'progress', 'threads',
  ).action((sources: string[], flags: FromDocsFlags) =>
    ctx.run(async (): Promise<ExitCode> => {
      const layout = fromDocsLayout(flags.layout);
      const out = await openOutput(flags.output, ctx.io.stdout);
      const progress = createCountProgress(flags.progress);
      try {
        const outcome = await spedFromDocsCommand(
          { sources, stdin: ctx.io.stdin },
          { output: out.stream, messages: ctx.io.stderr, onProgress: (n) => progress.update(n) },
          {
            company: flags.company, period: flags.period,
            ...(layout ? { layout } : {}),
            ...(flags.maxBytes ? { maxBytes: flags.maxBytes } : {}),
            ...(flags.maxDepth ? { maxDepth: flags.maxDepth } : {}),
            ...(flags.budgetMb ? { budgetMb: flags.budgetMb } : {}),
            ...(flags.tempDir ? { tempDir: flags.tempDir } : {}),
            ...(flags.threads ? { threads: flags.threads } : {}),
          },
        );
        progress.stop();
        await out.commit();
        return outcome.exitCode;
      } catch (err) {
        progress.stop();
        await out.abort();
        throw err;
      }
    }),
  );
}
