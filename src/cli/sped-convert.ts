/** `fiscal sped stats | to-jsonl | from-jsonl | fix-totals | to-csv`: thin wrappers over src/commands/sped.ts. */
export { formatStats } from '../commands/sped.js';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { isLayoutId, LAYOUT_IDS, type LayoutId } from '../sped/layout.js';
import { SPED_LINE_ENDS, SPED_OUTPUT_ENCODINGS, type SpedLineEnd, type SpedOutputEncoding } from '../sped/writer.js';
import { spedFixTotalsCommand, spedFromJsonlCommand, spedStatsCommand, spedToCsvCommand, spedToJsonlCommand } from '../commands/sped.js';
import { nameInput } from '../commands/types.js';
import { createProgress, openInput, openOutput, type InputSource, type Output } from './io.js';
import type { CommandContext } from './main.js';
import { OPTIONS } from './options.js';
import { defaultThreads } from '../pool/pool.js';

interface CommonOptions {
  output?: string;
  layout?: string;
  progress: boolean;
}

function layoutOption(value: string | undefined): LayoutId | undefined {
  if (value === undefined) return undefined;
  if (!isLayoutId(value)) throw new UsageError(`--layout must be one of ${LAYOUT_IDS.join(', ')} (got '${value}')`, 'SPED_LAYOUT_UNKNOWN');
  return value;
}

function choice<T extends string>(flag: string, allowed: readonly T[], value: string | undefined): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got '${value}')`, 'SPED_OUTPUT_OPTION');
  return value as T;
}

/** The input with its path when it is a file (not stdin): stats and to-jsonl cut a file into ranges on threads. */
function withPath(input: InputSource): InputSource & { path?: string } {
  return input.name === '-' ? input : { ...input, path: input.name };
}

/** Runs `body` with an input, an output and a progress bar; aborts the output (no half-written file) on error. */
async function withStreams<T>(
  ctx: CommandContext,
  file: string,
  outPath: string | undefined,
  progressEnabled: boolean,
  body: (input: InputSource, output: Output, progress: (bytes: number) => void) => Promise<T>,
): Promise<T> {
  const input = await openInput(file, ctx.io.stdin);
  const progress = createProgress(input.size, progressEnabled);
  let output: Output | null = null;
  try {
    output = await openOutput(outPath, ctx.io.stdout);
    const result = await body(input, output, (b) => progress.update(b));
    progress.stop();
    await output.commit();
    return result;
  } catch (err) {
    progress.stop();
    await output?.abort();
    throw nameInput(err, input.name); // "FILE: line 3: …"

  } finally {
    input.stream.destroy();
  }
}

export function registerSpedConvertCommands(sped: Command, ctx: CommandContext): void {
  const { stderr } = ctx.io;

  sped
    .command('stats')
    .description('Summarise a SPED file: layout, version, period, company, encoding, lines, signature, lines per register and block')
    .argument('<file>', 'SPED file, or - for stdin')
    .addOption(OPTIONS.json())
    .addOption(OPTIONS.layout())
    .addOption(OPTIONS.output())
    .addOption(OPTIONS.progress())
    .addOption(OPTIONS.threads())
    .action((file: string, opts: CommonOptions & { json?: boolean; threads?: number }) =>
      ctx.run(async () => {
        const layout = layoutOption(opts.layout);
        const outcome = await withStreams(ctx, file, opts.output, opts.progress, (input, output, progress) =>
          spedStatsCommand(withPath(input), { output: output.stream, messages: stderr, onProgress: progress }, { ...opts, layout, threads: opts.threads ?? defaultThreads() }),
        );
        return outcome.exitCode;
      }),
    );

  sped
    .command('to-jsonl')
    .description('SPED → JSON Lines: {"line", "register", "fields": {NAME: raw string, …}} per record')
    .argument('<file>', 'SPED file, or - for stdin')
    .addOption(OPTIONS.output())
    .addOption(OPTIONS.layout())
    .addOption(OPTIONS.progress())
    .addOption(OPTIONS.threads())
    .action((file: string, opts: CommonOptions & { threads?: number }) =>
      ctx.run(async () => {
        const layout = layoutOption(opts.layout);
        const outcome = await withStreams(ctx, file, opts.output, opts.progress, (input, output, progress) =>
          spedToJsonlCommand(withPath(input), { output: output.stream, messages: stderr, onProgress: progress }, { layout, threads: opts.threads ?? defaultThreads() }),
        );
        return outcome.exitCode;
      }),
    );

  sped
    .command('from-jsonl')
    .description('JSON Lines → SPED (Windows-1252, CRLF unless --encoding/--line-ends); X001/X990/9001/9900/9990/9999 regenerated, 9900 in the order given')
    .argument('<file>', 'JSONL file, or - for stdin')
    .addOption(OPTIONS.output())
    .addOption(OPTIONS.layout())
    .addOption(OPTIONS.replace())
    .addOption(OPTIONS.encoding())
    .addOption(OPTIONS.lineEnds())
    .addOption(OPTIONS.progress())
    .action((file: string, opts: CommonOptions & { replace?: boolean; encoding?: string; lineEnds?: string }) =>
      ctx.run(async () => {
        const layout = layoutOption(opts.layout);
        const outputEncoding = choice<SpedOutputEncoding>('--encoding', SPED_OUTPUT_ENCODINGS, opts.encoding ?? 'windows-1252');
        const lineEnd = choice<SpedLineEnd>('--line-ends', SPED_LINE_ENDS, opts.lineEnds ?? 'crlf');
        const outcome = await withStreams(ctx, file, opts.output, opts.progress, (input, output, progress) =>
          spedFromJsonlCommand(input, { output: output.stream, messages: stderr, onProgress: progress }, { layout, replace: opts.replace, encoding: outputEncoding, lineEnds: lineEnd }),
        );
        return outcome.exitCode;
      }),
    );

  sped
    .command('fix-totals')
    .description("Rewrite a SPED file with its own records and regenerated totals (X001 IND_MOV, X990, 9900, 9990, 9999); keeps its encoding, line ends and 9900 order")
    .argument('<file>', 'SPED file, or - for stdin')
    .addOption(OPTIONS.output())
    .option('--in-place', 'replace FILE itself (written to a temporary file, then renamed over it)')
    .addOption(OPTIONS.layout())
    .addOption(OPTIONS.replace())
    .addOption(OPTIONS.encoding())
    .addOption(OPTIONS.lineEnds())
    .addOption(OPTIONS.progress())
    .action((file: string, opts: CommonOptions & { inPlace?: boolean; replace?: boolean; encoding?: string; lineEnds?: string }) =>
      ctx.run(async () => {
        const layout = layoutOption(opts.layout);
        const outputEncoding = choice<SpedOutputEncoding | 'keep'>('--encoding', ['keep', ...SPED_OUTPUT_ENCODINGS], opts.encoding ?? 'keep');
        const lineEnd = choice<SpedLineEnd | 'keep'>('--line-ends', ['keep', ...SPED_LINE_ENDS], opts.lineEnds ?? 'keep');
        if (opts.inPlace && file === '-') throw new UsageError('--in-place needs a file, not stdin');
        if (opts.inPlace && opts.output !== undefined) throw new UsageError('--in-place and -o are exclusive');
        const outcome = await withStreams(ctx, file, opts.inPlace ? file : opts.output, opts.progress, (input, output, progress) =>
          spedFixTotalsCommand(input, { output: output.stream, messages: stderr, onProgress: progress }, { layout, replace: opts.replace, encoding: outputEncoding, lineEnds: lineEnd, inPlace: opts.inPlace }),
        );
        return outcome.exitCode;
      }),
    );

  sped
    .command('to-csv')
    .description('One CSV per register (C170.csv) in DIR, header from the layout; UTF-8; dates as ISO yyyy-mm-dd')
    .argument('<file>', 'SPED file, or - for stdin')
    .addOption(OPTIONS.outDir().makeOptionMandatory())
    .addOption(OPTIONS.delimiter())
    .addOption(OPTIONS.decimalComma())
    .addOption(OPTIONS.bom())
    .addOption(OPTIONS.layout())
    .addOption(OPTIONS.progress())
    .addOption(OPTIONS.threads())
    .action((file: string, opts: CommonOptions & { outDir: string; delimiter: string; decimalComma?: boolean; bom?: boolean; threads?: number }) =>
      ctx.run(async () => {
        const layout = layoutOption(opts.layout);
        const input = await openInput(file, ctx.io.stdin);
        const progress = createProgress(input.size, opts.progress);
        try {
          const outcome = await spedToCsvCommand(withPath(input), opts.outDir, { messages: stderr, onProgress: (b) => progress.update(b) }, { ...opts, layout, threads: opts.threads ?? defaultThreads() });
          return outcome.exitCode;
        } finally {
          progress.stop();
          input.stream.destroy();
        }
      }),
    );
}
