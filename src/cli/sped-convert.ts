/** `fiscal sped stats | to-jsonl | from-jsonl | fix-totals | to-csv`: thin wrappers over the library. */
import type { Command } from 'commander';
import type { Writable } from 'node:stream';
import { EXIT_FINDINGS, EXIT_OK, InvalidInputError, UsageError, type ExitCode } from '../errors.js';
import { formatFinding, type SpedFinding } from '../sped/findings.js';
import { isLayoutId, LAYOUT_IDS, loadLayout, type LayoutId } from '../sped/layout.js';
import { spedStats, type SpedStats } from '../sped/stats.js';
import { spedToJsonl, spedFromJsonl } from '../sped/jsonl.js';
import { fixTotals } from '../sped/fix-totals.js';
import { SPED_LINE_ENDS, SPED_OUTPUT_ENCODINGS, type SpedLineEnd, type SpedOutputEncoding } from '../sped/writer.js';
import { spedToCsv } from '../sped/csv.js';
import { createProgress, openInput, openOutput, type InputSource, type Output } from './io.js';
import type { CommandContext } from './main.js';
import { OPTIONS } from './options.js';

const MAX_PRINTED = 1000;

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

/** Prints findings one per line (the first MAX_PRINTED) and remembers whether any was an error. */
class FindingPrinter {
  errors = 0;
  printed = 0;
  omitted = 0;
  constructor(private readonly file: string, private readonly stderr: Writable) {}
  readonly add = (f: SpedFinding): void => {
    if (f.severity === 'error') this.errors++;
    if (this.printed >= MAX_PRINTED) {
      this.omitted++;
      return;
    }
    this.printed++;
    this.stderr.write(`${formatFinding(this.file, f)}\n`);
  };
  close(): ExitCode {
    if (this.omitted > 0) this.stderr.write(`${this.file}: … ${this.omitted} more findings not shown\n`);
    return this.errors > 0 ? EXIT_FINDINGS : EXIT_OK;
  }
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
    // name the input: "FILE: line 3: …"
    if (err instanceof InvalidInputError) throw new InvalidInputError(err.code, `${input.name}: ${err.message}`, err.line);
    throw err;
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
    .action((file: string, opts: CommonOptions & { json?: boolean }) =>
      ctx.run(async () => {
        const layout = layoutOption(opts.layout);
        const printer = new FindingPrinter(file, stderr);
        await withStreams(ctx, file, opts.output, opts.progress, async (input, output, progress) => {
          const { stats } = await spedStats(input.stream, { layout, onFinding: printer.add, onProgress: progress, maxFindings: 0 });
          output.stream.write(opts.json ? `${JSON.stringify(stats, null, 2)}\n` : formatStats(stats));
        });
        return printer.close();
      }),
    );

  sped
    .command('to-jsonl')
    .description('SPED → JSON Lines: {"line", "register", "fields": {NAME: raw string, …}} per record')
    .argument('<file>', 'SPED file, or - for stdin')
    .addOption(OPTIONS.output())
    .addOption(OPTIONS.layout())
    .addOption(OPTIONS.progress())
    .action((file: string, opts: CommonOptions) =>
      ctx.run(async () => {
        const layout = layoutOption(opts.layout);
        const printer = new FindingPrinter(file, stderr);
        const { info, lineEnd } = await withStreams(ctx, file, opts.output, opts.progress, (input, output, progress) =>
          spedToJsonl(input.stream, output.stream, { layout, onFinding: printer.add, onProgress: progress }),
        );
        if (info.signature) {
          stderr.write(`${file}: note: the input carried a PVA signature block (${info.signature.length} bytes); JSON Lines do not carry it, so from-jsonl gives an unsigned file\n`);
        }
        // what from-jsonl needs to give this file back as it was (its defaults are the standard's)
        const keep = [info.encoding === 'utf-8' ? '--encoding utf-8' : '', lineEnd === 'lf' ? '--line-ends lf' : ''].filter(Boolean);
        if (keep.length > 0) {
          stderr.write(`${file}: note: the input is ${[info.encoding === 'utf-8' ? 'UTF-8' : '', lineEnd === 'lf' ? 'LF-terminated' : ''].filter(Boolean).join(' and ')}; from-jsonl ${keep.join(' ')} writes it back that way (default: Windows-1252, CRLF)\n`);
        }
        return printer.close();
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
        const summary = await withStreams(ctx, file, opts.output, opts.progress, (input, output, progress) =>
          spedFromJsonl(input.stream, output.stream, { layout, replace: opts.replace, outputEncoding, lineEnd, onProgress: progress }),
        );
        if (summary.replaced > 0) stderr.write(`${file}: ${summary.replaced} values replaced (--replace)\n`);
        return EXIT_OK;
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
        const printer = new FindingPrinter(file, stderr);
        const result = await withStreams(ctx, file, opts.inPlace ? file : opts.output, opts.progress, async (input, output, progress) => {
          const r = await fixTotals(input.stream, output.stream, { layout, replace: opts.replace, outputEncoding, lineEnd, onFinding: printer.add, onProgress: progress });
          if (opts.inPlace && r.droppedLines > 0) {
            throw new InvalidInputError('SPED_FIX_DROPPED', `${file} not replaced: ${r.droppedLines} lines could not be read as records (see above); write to -o and compare`);
          }
          return r;
        });
        if (result.info.signature) {
          stderr.write(`${file}: note: the input carried a PVA signature block (${result.info.signature.length} bytes); the repaired file is not signed\n`);
        }
        if (result.summary.replaced > 0) stderr.write(`${file}: ${result.summary.replaced} values replaced (--replace)\n`);
        return printer.close();
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
    .action((file: string, opts: CommonOptions & { outDir: string; delimiter: string; decimalComma?: boolean; bom?: boolean }) =>
      ctx.run(async () => {
        const layout = layoutOption(opts.layout);
        const printer = new FindingPrinter(file, stderr);
        const input = await openInput(file, ctx.io.stdin);
        const progress = createProgress(input.size, opts.progress);
        try {
          await spedToCsv(input.stream, opts.outDir, {
            layout,
            delimiter: opts.delimiter,
            decimalComma: opts.decimalComma,
            bom: opts.bom,
            onFinding: printer.add,
            onProgress: (b) => progress.update(b),
          });
        } finally {
          progress.stop();
          input.stream.destroy();
        }
        return printer.close();
      }),
    );
}

/** The human summary printed by `fiscal sped stats`. */
export function formatStats(s: SpedStats): string {
  const lines: string[] = [];
  const row = (k: string, v: string): void => {
    lines.push(`${k.padEnd(10)} ${v}`);
  };
  row('layout', s.layout ? `${s.layout}${s.version ? ` (version ${s.version})` : ''}` : 'unknown');
  row('period', `${s.period.start ?? '?'} .. ${s.period.end ?? '?'}`);
  row('company', `${s.company.name ?? '?'}${s.company.cnpj ? ` (${s.company.cnpj})` : ''}`);
  row('encoding', s.encoding);
  row('lines', String(s.lines));
  row('bytes', String(s.bytes));
  row('signature', s.signature ? `PVA block at byte ${s.signature.offset}, ${s.signature.length} bytes` : 'none');
  if (s.invalidLines > 0) row('invalid', `${s.invalidLines} lines are not records`);
  const order = s.layout ? loadLayout(s.layout).blockIndex : new Map<string, number>();
  const rank = (code: string): number => order.get(loadBlock(s, code)) ?? order.size;
  const codes = Object.keys(s.registers).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  lines.push('', 'block register      lines');
  for (const code of codes) lines.push(`${loadBlock(s, code).padEnd(5)} ${code.padEnd(8)} ${String(s.registers[code]).padStart(10)}`);
  lines.push('', 'block      lines');
  const blocks = Object.keys(s.blocks).sort((a, b) => (order.get(a) ?? order.size) - (order.get(b) ?? order.size));
  for (const b of blocks) lines.push(`${b.padEnd(5)} ${String(s.blocks[b]).padStart(10)}`);
  return `${lines.join('\n')}\n`;
}

function loadBlock(s: SpedStats, code: string): string {
  return (s.layout ? loadLayout(s.layout).register(code)?.block : undefined) ?? code[0] ?? '?';
}
