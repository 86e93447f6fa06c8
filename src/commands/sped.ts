/**
 * The bodies of `fiscal sped validate | stats | to-jsonl | from-jsonl | fix-totals | to-csv`, one exported
 * function per command: the CLI action (src/cli/sped-*.ts) and the task type (`sped.<command>`,
 * src/tasks/types.ts) both call them. They read one input and write into the streams they are given; opening
 * the input and committing the output is the caller's.
 */
import type { Writable } from 'node:stream';
import { EXIT_FINDINGS, EXIT_OK, InvalidInputError, type ExitCode } from '../errors.js';
import { formatFinding, type SpedFinding } from '../sped/findings.js';
import { loadLayout, type LayoutId } from '../sped/layout.js';
import { spedStats, type SpedStats } from '../sped/stats.js';
import { spedFromJsonl, spedToJsonl } from '../sped/jsonl.js';
import { fixTotals } from '../sped/fix-totals.js';
import { spedToCsv } from '../sped/csv.js';
import { validateSped } from '../sped/validator.js';
import type { FiscalPool } from '../pool/pool.js';
import type { ResumableOptions, SpedCheckpoint } from '../sped/checkpoint.js';
import type { SpedLineEnd, SpedOutputEncoding } from '../sped/writer.js';
import { nameInput, type CommandInput, type CommandOutcome, type CommandStreams, type FindingCounts } from './types.js';

/** Findings printed at most by a conversion (the rest are counted). */
const MAX_PRINTED = 1000;

/** Prints findings one per line (the first MAX_PRINTED) and counts them by severity. */
class FindingPrinter {
  readonly counts: FindingCounts = { errors: 0, warnings: 0 };
  private printed = 0;
  private omitted = 0;
  constructor(private readonly file: string, private readonly messages: Writable) {}
  readonly add = (f: SpedFinding): void => {
    if (f.severity === 'error') this.counts.errors++;
    else this.counts.warnings++;
    if (this.printed >= MAX_PRINTED) {
      this.omitted++;
      return;
    }
    this.printed++;
    this.messages.write(`${formatFinding(this.file, f)}\n`);
  };
  close(): ExitCode {
    if (this.omitted > 0) this.messages.write(`${this.file}: … ${this.omitted} more findings not shown\n`);
    return this.counts.errors > 0 ? EXIT_FINDINGS : EXIT_OK;
  }
  outcome(counts: Record<string, number>): CommandOutcome {
    return { exitCode: this.close(), counts, findings: { ...this.counts } };
  }
  /** Continues the counts of an interrupted run (its findings before the checkpoint were printed then). */
  restore(counts: FindingCounts): void {
    this.counts.errors = counts.errors;
    this.counts.warnings = counts.warnings;
    this.printed = Math.min(MAX_PRINTED, counts.errors + counts.warnings);
    this.omitted = counts.errors + counts.warnings - this.printed;
  }
}

/**
 * A resumable run of to-jsonl, fix-totals or to-csv (the task runner's): the input read by its path, checkpoints
 * handed to `checkpoint` (which makes the output durable and records them), and the checkpoint to continue from.
 */
export interface ConversionResume {
  /** The input as a local file (the conversion reads it from the checkpoint's offset). */
  readonly path: string;
  readonly from: ConversionCheckpoint | null;
  readonly checkpoint: (cp: ConversionCheckpoint) => Promise<void>;
  /** Input bytes between checkpoints (default: the library's, 64 MiB). */
  readonly everyBytes?: number;
}

/** What a task records at a checkpoint: the conversion's checkpoint and the finding counts so far. */
export type ConversionCheckpoint = { sped: SpedCheckpoint; findings: FindingCounts };

/** The source and resumable options of a conversion, and the counts a resumed run reports as its own. */
function resumable(
  input: CommandInput,
  printer: FindingPrinter,
  resume: ConversionResume | undefined,
  signal: AbortSignal | undefined,
): { source: string | CommandInput['stream']; options: ResumableOptions; counts: Record<string, number> } {
  if (!resume) return { source: input.stream, options: {}, counts: {} };
  if (resume.from) printer.restore(resume.from.findings);
  return {
    source: resume.path,
    options: {
      ...(resume.everyBytes !== undefined ? { checkpointEveryBytes: resume.everyBytes } : {}),
      ...(resume.from ? { resumeFrom: resume.from.sped } : {}),
      onCheckpoint: (sped) => resume.checkpoint({ sped, findings: { ...printer.counts } }),
      // the input is read by its path: the caller's signal is the only way to stop it
      ...(signal ? { signal } : {}),
    },
    // where the run resumed: the manifest shows it did not start from zero (the other counts are a clean run's)
    counts: resume.from ? { resumedFromByte: resume.from.sped.inputOffset } : {},
  };
}

/** Runs a body, naming the input in an InvalidInputError's message. */
async function named<T>(input: CommandInput, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw nameInput(err, input.name);
  }
}

export interface SpedValidateCommandOptions {
  readonly json?: boolean;
  readonly maxErrors?: number;
  readonly layout?: LayoutId;
  /** More than 1 (or a pool of more) validates a local file in byte ranges on workers: the same result. */
  readonly threads?: number;
  readonly pool?: FiscalPool;
}

/** `sped validate`: the report (findings one per line and a summary line, or the JSON result) to `output`. */
export async function spedValidateCommand(input: CommandInput, streams: CommandStreams, o: SpedValidateCommandOptions): Promise<CommandOutcome> {
  const report = streams.output;
  const maxErrors = o.maxErrors ?? 1000;
  const threads = o.pool?.threads ?? o.threads ?? 1;
  const result = await validateSped(input.path !== undefined && threads > 1 ? input.path : input.stream, {
    maxErrors,
    ...(o.pool ? { pool: o.pool } : { threads }),
    ...(o.layout ? { layout: o.layout } : {}),
    ...(streams.onProgress ? { onProgress: streams.onProgress } : {}),
    ...(o.json ? {} : { onFinding: (f: SpedFinding) => void report.write(`${formatFinding(input.name, f)}\n`) }),
  });
  if (o.json) {
    report.write(`${JSON.stringify(result)}\n`);
  } else {
    const more = result.truncated ? ` (only the first ${maxErrors} listed)` : '';
    report.write(
      `${input.name}: ${result.valid ? 'valid' : 'INVALID'} — ${result.layout ?? 'unknown layout'} ${result.version ?? ''}, ${result.lines} lines, ${result.encoding}, ${result.errorCount} error(s), ${result.warningCount} warning(s)${more}${result.signature ? `, signed (${result.signature.length} bytes at ${result.signature.offset})` : ''}\n`,
    );
  }
  return {
    exitCode: result.valid ? EXIT_OK : EXIT_FINDINGS,
    counts: { lines: result.lines },
    findings: { errors: result.errorCount, warnings: result.warningCount },
  };
}

export interface SpedStatsCommandOptions {
  readonly json?: boolean;
  readonly layout?: LayoutId;
  /** More than 1 (or a pool of more) reads a local file in byte ranges on workers: the same summary. */
  readonly threads?: number;
  readonly pool?: FiscalPool;
}

/** The input a command that can cut a local file into ranges reads: its path on more than one thread, else its stream. */
function rangedSource(input: CommandInput, o: { threads?: number; pool?: FiscalPool }): { source: string | CommandInput['stream']; threads: { pool: FiscalPool } | { threads: number } } {
  const threads = o.pool?.threads ?? o.threads ?? 1;
  return {
    source: input.path !== undefined && threads > 1 ? input.path : input.stream,
    threads: o.pool ? { pool: o.pool } : { threads },
  };
}

/** `sped stats`: the summary (text, or JSON with `json`) to `output`, reader findings to `messages`. */
export async function spedStatsCommand(input: CommandInput, streams: CommandStreams, o: SpedStatsCommandOptions): Promise<CommandOutcome> {
  const printer = new FindingPrinter(input.name, streams.messages);
  const ranged = rangedSource(input, o);
  const { stats } = await named(input, () =>
    spedStats(ranged.source, { ...ranged.threads, ...(o.layout ? { layout: o.layout } : {}), onFinding: printer.add, ...(streams.onProgress ? { onProgress: streams.onProgress } : {}), maxFindings: 0 }),
  );
  streams.output.write(o.json ? `${JSON.stringify(stats, null, 2)}\n` : formatStats(stats));
  return printer.outcome({ lines: stats.lines, bytes: stats.bytes, invalidLines: stats.invalidLines });
}

export interface SpedToJsonlCommandOptions {
  readonly layout?: LayoutId;
  /** More than 1 (or a pool of more) converts a local file in byte ranges on workers: the same bytes. */
  readonly threads?: number;
  readonly pool?: FiscalPool;
}

/** `sped to-jsonl`: one JSON line per record to `output`; findings and notes (signature, encoding) to `messages`. */
export async function spedToJsonlCommand(input: CommandInput, streams: CommandStreams, o: SpedToJsonlCommandOptions, resume?: ConversionResume): Promise<CommandOutcome> {
  const printer = new FindingPrinter(input.name, streams.messages);
  const run = resumable(input, printer, resume, streams.signal);
  const ranged = rangedSource(input, o);
  const { info, lineEnd } = await named(input, () =>
    spedToJsonl(resume ? run.source : ranged.source, streams.output, { ...ranged.threads, ...(o.layout ? { layout: o.layout } : {}), onFinding: printer.add, ...(streams.onProgress ? { onProgress: streams.onProgress } : {}), ...run.options }),
  );
  const file = input.name;
  if (info.signature) {
    streams.messages.write(`${file}: note: the input carried a PVA signature block (${info.signature.length} bytes); JSON Lines do not carry it, so from-jsonl gives an unsigned file\n`);
  }
  // what from-jsonl needs to give this file back as it was (its defaults are the standard's)
  const keep = [info.encoding === 'utf-8' ? '--encoding utf-8' : '', lineEnd === 'lf' ? '--line-ends lf' : ''].filter(Boolean);
  if (keep.length > 0) {
    streams.messages.write(`${file}: note: the input is ${[info.encoding === 'utf-8' ? 'UTF-8' : '', lineEnd === 'lf' ? 'LF-terminated' : ''].filter(Boolean).join(' and ')}; from-jsonl ${keep.join(' ')} writes it back that way (default: Windows-1252, CRLF)\n`);
  }
  return printer.outcome({ lines: info.lines, records: info.records, ...run.counts });
}

export interface SpedFromJsonlCommandOptions {
  readonly layout?: LayoutId;
  readonly replace?: boolean;
  readonly encoding?: SpedOutputEncoding;
  readonly lineEnds?: SpedLineEnd;
}

/** `sped from-jsonl`: a SPED file to `output` (Windows-1252 and CRLF unless told). */
export async function spedFromJsonlCommand(input: CommandInput, streams: CommandStreams, o: SpedFromJsonlCommandOptions): Promise<CommandOutcome> {
  const summary = await named(input, () =>
    spedFromJsonl(input.stream, streams.output, {
      ...(o.layout ? { layout: o.layout } : {}),
      ...(o.replace ? { replace: true } : {}),
      outputEncoding: o.encoding ?? 'windows-1252',
      lineEnd: o.lineEnds ?? 'crlf',
      ...(streams.onProgress ? { onProgress: streams.onProgress } : {}),
    }),
  );
  if (summary.replaced > 0) streams.messages.write(`${input.name}: ${summary.replaced} values replaced (--replace)\n`);
  return { exitCode: EXIT_OK, counts: { lines: summary.lines, bytes: summary.bytes, replaced: summary.replaced }, findings: { errors: 0, warnings: 0 } };
}

export interface SpedFixTotalsCommandOptions {
  readonly layout?: LayoutId;
  readonly replace?: boolean;
  readonly encoding?: SpedOutputEncoding | 'keep';
  readonly lineEnds?: SpedLineEnd | 'keep';
  /** Refuse (SPED_FIX_DROPPED) when lines could not be read as records: the output replaces the input. */
  readonly inPlace?: boolean;
}

/** `sped fix-totals`: the file rewritten with regenerated totals to `output`; findings to `messages`. */
export async function spedFixTotalsCommand(input: CommandInput, streams: CommandStreams, o: SpedFixTotalsCommandOptions, resume?: ConversionResume): Promise<CommandOutcome> {
  const printer = new FindingPrinter(input.name, streams.messages);
  const file = input.name;
  const run = resumable(input, printer, resume, streams.signal);
  const result = await named(input, async () => {
    const r = await fixTotals(run.source, streams.output, {
      ...run.options,
      ...(o.layout ? { layout: o.layout } : {}),
      ...(o.replace ? { replace: true } : {}),
      outputEncoding: o.encoding ?? 'keep',
      lineEnd: o.lineEnds ?? 'keep',
      onFinding: printer.add,
      ...(streams.onProgress ? { onProgress: streams.onProgress } : {}),
    });
    if (o.inPlace && r.droppedLines > 0) {
      throw new InvalidInputError('SPED_FIX_DROPPED', `${file} not replaced: ${r.droppedLines} lines could not be read as records (see above); write to -o and compare`);
    }
    return r;
  });
  if (result.info.signature) {
    streams.messages.write(`${file}: note: the input carried a PVA signature block (${result.info.signature.length} bytes); the repaired file is not signed\n`);
  }
  if (result.summary.replaced > 0) streams.messages.write(`${file}: ${result.summary.replaced} values replaced (--replace)\n`);
  return printer.outcome({ lines: result.summary.lines, bytes: result.summary.bytes, droppedLines: result.droppedLines, replaced: result.summary.replaced, ...run.counts });
}

export interface SpedToCsvCommandOptions {
  readonly delimiter?: string;
  readonly decimalComma?: boolean;
  readonly bom?: boolean;
  readonly layout?: LayoutId;
  /** More than 1 (or a pool of more) converts a local file in byte ranges on workers: the same files. */
  readonly threads?: number;
  readonly pool?: FiscalPool;
}

/** `sped to-csv`: one CSV per register into `outDir` (the streams' output is not used); findings to `messages`. */
export async function spedToCsvCommand(input: CommandInput, outDir: string, streams: Omit<CommandStreams, 'output'>, o: SpedToCsvCommandOptions, resume?: ConversionResume): Promise<CommandOutcome> {
  const printer = new FindingPrinter(input.name, streams.messages);
  const run = resumable(input, printer, resume, streams.signal);
  const ranged = rangedSource(input, o);
  const result = await named(input, () =>
    spedToCsv(resume ? run.source : ranged.source, outDir, {
      ...ranged.threads,
      ...run.options,
      ...(o.layout ? { layout: o.layout } : {}),
      delimiter: o.delimiter ?? ',',
      ...(o.decimalComma ? { decimalComma: true } : {}),
      ...(o.bom ? { bom: true } : {}),
      onFinding: printer.add,
      ...(streams.onProgress ? { onProgress: streams.onProgress } : {}),
    }),
  );
  return printer.outcome({ lines: result.info.lines, records: result.info.records, files: result.files.length, rows: result.files.reduce((n, f) => n + f.rows, 0), ...run.counts });
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
