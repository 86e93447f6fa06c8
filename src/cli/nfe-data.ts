/** `fiscal nfe to-jsonl | build | to-csv | validate` — thin wrappers over src/nfe. */
import { makeDir } from '../common/make-dir.js';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type ExitCode } from '../errors.js';
import { buildNfe } from '../nfe/build.js';
import { finding, formatFinding as formatNfeFinding, type NfeFinding } from '../nfe/findings.js';
import { isCfeKind } from '../coupons/cfe/model.js';
import { assertSchemaCheckCanRun } from '../nfe/schema-validate.js';
import { nfeToCsvCommand, nfeToJsonlCommand, nfeValidateCommand, type NfeCommandSources } from '../commands/nfe.js';
import type { CommandOutcome, CommandStreams } from '../commands/types.js';
import { createCountProgress, openInput, openOutput, withReportOutput, writeChunk } from './io.js';
import type { CommandContext } from './main.js';
import { addOptions, OPTIONS } from './options.js';

const SOURCES_HELP = 'files, directories, .zip archives, or - for stdin';

export { noDocuments } from '../commands/nfe.js';

/** The reading options every batch command takes (parsed by the option vocabulary, options.ts). */
interface ReadOpts {
  maxBytes?: number;
  maxDepth?: number;
  failFast?: boolean;
  progress: boolean;
  threads?: number;
}

/** The batch commands' reading options: --max-bytes, --max-depth, --fail-fast, --no-progress, --threads. */
function withReadOptions(cmd: Command): Command {
  return addOptions(cmd, 'maxBytes', 'maxDepth', 'failFast', 'progress', 'threads');
}

/** Prints findings on stderr; returns true when one of them is an error. */
function report(ctx: CommandContext, findings: readonly NfeFinding[]): boolean {
  let error = false;
  for (const f of findings) {
    ctx.io.stderr.write(`${formatNfeFinding(f)}\n`);
    if (f.severity === 'error') error = true;
  }
  return error;
}

/**
 * Runs a conversion into one output (`-o FILE`, written atomically, or stdout); findings go to stderr. Returns
 * the exit code: 1 with NFE_NO_DOCUMENTS when there was no document, 1 on an error finding, else 0.
 */
async function runConversion(
  ctx: CommandContext,
  sources: string[],
  o: ReadOpts & { output?: string },
  convert: (src: NfeCommandSources, streams: CommandStreams) => Promise<CommandOutcome>,
): Promise<ExitCode> {
  const out = await openOutput(o.output, ctx.io.stdout);
  const progress = createCountProgress(o.progress);
  let outcome: CommandOutcome;
  try {
    outcome = await convert({ sources, stdin: ctx.io.stdin }, { output: out.stream, messages: ctx.io.stderr, onProgress: (n) => progress.update(n) });
    progress.stop();
    await out.commit();
  } catch (e) {
    progress.stop();
    await out.abort();
    throw e;
  }
  return outcome.exitCode;
}

export function registerNfeDataCommands(nfe: Command, ctx: CommandContext): void {
  withReadOptions(
    addOptions(
      nfe
        .command('to-jsonl')
        .description('one JSON line per document (NF-e, NFC-e, events, CF-e SAT): {"source","kind","key","doc"}')
        .argument('<sources...>', SOURCES_HELP),
      'output',
    ),
  ).action(async (sources: string[], o: ReadOpts & { output?: string }) =>
    ctx.run(() =>
      runConversion(ctx, sources, o, (src, streams) => nfeToJsonlCommand(src, streams, o)),
    ),
  );

  nfe
    .command('build')
    .description('build XML from to-jsonl lines or a JSON document (one document to -o or stdout; several: --out-dir DIR, as DIR/<key>-nfe.xml)')
    .argument('<input>', 'JSON or JSON-lines file, or - for stdin')
    .addOption(OPTIONS.output())
    .addOption(OPTIONS.outDir())
    .option('--compute-totals', 'recompute ICMSTot (and IBSCBSTot) from the items')
    .action(async (input: string, o: { output?: string; outDir?: string; computeTotals?: boolean }) =>
      ctx.run(async () => {
        if (o.output && o.outDir) throw new UsageError('use either -o or --out-dir');
        if (o.outDir) await makeDir(o.outDir);
        const src = await openInput(input, ctx.io.stdin);
        const rl = createInterface({ input: src.stream, crlfDelay: Infinity });
        let bad = false;
        let pending = '';
        let ordinal = 0;
        let single: string | null = null;
        const emit = async (json: unknown): Promise<void> => {
          ordinal++;
          const rec = json as Record<string, unknown>;
          const isLine = rec && typeof rec === 'object' && 'doc' in rec && 'kind' in rec;
          const source = isLine && typeof rec.source === 'string' ? rec.source : `${src.name}#${ordinal}`;
          const doc = (isLine ? rec.doc : rec) as Record<string, unknown>;
          const root = doc && typeof doc === 'object' ? Object.keys(doc)[0] : undefined;
          if (root !== undefined && isCfeKind(root)) {
            // a CF-e is issued and signed by the SAT device; rebuilding it would not give back its signed bytes
            bad = report(ctx, [finding('NFE_BUILD', source, `a ${root} (CF-e SAT) is not built: the SAT device issues and signs it`)]) || bad;
            return;
          }
          const built = buildNfe(doc, { computeTotals: o.computeTotals === true }, source);
          if (report(ctx, built.findings)) bad = true;
          if (!built.xml) return;
          if (o.outDir) {
            const kind = Object.keys(doc)[0] ?? 'doc';
            const name = `${built.key ?? `document-${ordinal}`}-${kind === 'NFe' || kind === 'nfeProc' || kind === 'enviNFe' ? 'nfe' : kind}.xml`;
            const out = await openOutput(join(o.outDir, name), ctx.io.stdout);
            await writeChunk(out.stream, built.xml);
            await out.commit();
          } else if (single === null) single = built.xml;
          else throw new UsageError('the input holds several documents: write them with --out-dir DIR');
        };
        for await (const line of rl) {
          pending = pending ? `${pending}\n${line}` : line;
          if (!pending.trim()) {
            pending = '';
            continue;
          }
          let json: unknown;
          try {
            json = JSON.parse(pending);
          } catch {
            continue; // a document spread over several lines: read on
          }
          pending = '';
          await emit(json);
        }
        if (pending.trim()) throw new UsageError(`${src.name}: input is not JSON or JSON lines`, 'NFE_BUILD_INPUT');
        if (single !== null) {
          const out = await openOutput(o.output, ctx.io.stdout);
          await writeChunk(out.stream, single);
          await out.commit();
        }
        return bad ? EXIT_FINDINGS : EXIT_OK;
      }),
    );

  withReadOptions(
    addOptions(
      nfe
        .command('to-csv')
        .description('one CSV row per note or CF-e (or per item with --items); columns in docs/nfe.md')
        .argument('<sources...>', SOURCES_HELP)
        .option('--items', 'one row per item'),
      'output', 'delimiter', 'decimalComma', 'bom',
    )
      .option('--from <date>', 'emission date from (YYYY-MM-DD)')
      .option('--to <date>', 'emission date to (YYYY-MM-DD)')
      .option('--cnpj <doc>', 'emitter or recipient CNPJ/CPF')
      .option('--model <mod>', '55 (NF-e), 65 (NFC-e) or 59 (CF-e SAT)'),
  ).action(async (sources: string[], o: ReadOpts & { output?: string; items?: boolean; delimiter: string; decimalComma?: boolean; bom?: boolean; from?: string; to?: string; cnpj?: string; model?: string }) =>
    ctx.run(() => runConversion(ctx, sources, o, (src, streams) => nfeToCsvCommand(src, streams, o))),
  );

  withReadOptions(
    addOptions(
      nfe
        .command('validate')
        .description('structural rules, and XSD validation with --schemas DIR (xmllint); findings on stderr')
        .argument('<sources...>', SOURCES_HELP),
      'schemas', 'json', 'output',
    ),
  ).action(async (sources: string[], o: ReadOpts & { schemas?: string[]; json?: boolean; output?: string }) =>
    ctx.run(async () => {
      // a schema check that cannot run stops here, before any document is read (exit 2)
      if (o.schemas) assertSchemaCheckCanRun(o.schemas);
      return withReportOutput(ctx.io, o.output, true, async (io) => {
        const progress = createCountProgress(o.progress);
        try {
          const outcome = await nfeValidateCommand({ sources, stdin: io.stdin }, { output: io.stdout, messages: io.stderr, onProgress: (n) => progress.update(n) }, o);
          return outcome.exitCode;
        } finally {
          progress.stop();
        }
      });
    }),
  );
}
