/** `fiscal nfe to-jsonl | build | to-csv | validate` — thin wrappers over src/nfe. */
import { makeDir } from '../common/make-dir.js';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type ExitCode } from '../errors.js';
import { buildNfe } from '../nfe/build.js';
import { DECIMAL_COLUMNS, DOCUMENT_COLUMNS, ITEM_COLUMNS, documentRows, eventsOf, itemRows, type CsvFilter } from '../nfe/csv.js';
import { finding, formatFinding, type NfeFinding } from '../nfe/findings.js';
import { DuplicateKeyTracker, parseItem, parseNfe, readNfe, type ParsedNfe } from '../nfe/parse.js';
import { assertSchemaCheckCanRun, validateSchemas, type SchemaInput } from '../nfe/schema-validate.js';
import type { NfeDocument } from '../nfe/types.js';
import { cfeFacts, isCfeKind } from '../coupons/cfe/model.js';
import type { CfeDocument } from '../coupons/cfe/types.js';
import { readXmlDocuments } from '../nfe/source.js';
import type { EventStatus } from '../nfe/validate.js';
import { validateNfe } from '../nfe/validate.js';
import { createCountProgress, openInput, openOutput, withReportOutput, writeChunk } from './io.js';
import type { CommandContext } from './main.js';
import { addOptions, OPTIONS } from './options.js';

const SOURCES_HELP = 'files, directories, .zip archives, or - for stdin';

/**
 * Sources that hold no document at all (an empty folder, a folder of other files): said on stderr, exit 1 —
 * the sources could be read (else exit 2), but there is nothing to convert or check. NFE_NO_DOCUMENTS.
 */
export function noDocuments(stderr: Writable, sources: readonly string[]): ExitCode {
  stderr.write(`${sources.join(' ')}: no documents found (no .xml file or .zip entry, nothing on stdin) [NFE_NO_DOCUMENTS]\n`);
  return EXIT_FINDINGS;
}

/** The reading options every batch command takes (parsed by the option vocabulary, options.ts). */
interface ReadOpts {
  maxBytes?: number;
  maxDepth?: number;
  failFast?: boolean;
  progress: boolean;
}

function readOptions(o: ReadOpts, stdin: CommandContext['io']['stdin']): { maxDocumentBytes?: number; maxDepth?: number; stdin: CommandContext['io']['stdin'] } {
  return { ...(o.maxBytes ? { maxDocumentBytes: o.maxBytes } : {}), ...(o.maxDepth ? { maxDepth: o.maxDepth } : {}), stdin };
}

/** The batch commands' reading options: --max-bytes, --max-depth, --fail-fast, --no-progress. */
function withReadOptions(cmd: Command): Command {
  return addOptions(cmd, 'maxBytes', 'maxDepth', 'failFast', 'progress');
}

/** Prints findings on stderr; returns true when one of them is an error. */
function report(ctx: CommandContext, findings: readonly NfeFinding[]): boolean {
  let error = false;
  for (const f of findings) {
    ctx.io.stderr.write(`${formatFinding(f)}\n`);
    if (f.severity === 'error') error = true;
  }
  return error;
}

/**
 * Runs a batch of documents into one output (`-o FILE`, written atomically, or stdout): `begin` writes what comes
 * before the documents, `emit` what one parsed document gives; findings (with duplicate keys) go to stderr, and
 * `--fail-fast` stops after the first document with an error. Sources without any document: exit 1 with
 * NFE_NO_DOCUMENTS (see noDocuments). Returns the exit code.
 */
async function runBatch(
  ctx: CommandContext,
  sources: string[],
  o: ReadOpts & { output?: string },
  emit: (p: ParsedNfe, out: Writable) => Promise<void>,
  begin?: (out: Writable) => Promise<void>,
): Promise<ExitCode> {
  const opts = readOptions(o, ctx.io.stdin);
  const out = await openOutput(o.output, ctx.io.stdout);
  const dups = new DuplicateKeyTracker();
  const progress = createCountProgress(o.progress);
  let bad = false;
  let docs = 0;
  try {
    if (begin) await begin(out.stream);
    for await (const p of readNfe(sources, opts)) {
      progress.update(++docs);
      await emit(p, out.stream);
      if (report(ctx, [...p.findings, ...dups.check(p)])) {
        bad = true;
        if (o.failFast) break;
      }
    }
    progress.stop();
    await out.commit();
  } catch (e) {
    progress.stop();
    await out.abort();
    throw e;
  }
  if (docs === 0) return noDocuments(ctx.io.stderr, sources);
  return bad ? EXIT_FINDINGS : EXIT_OK;
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
      runBatch(ctx, sources, o, async (p, out) => {
        if (!p.doc) return;
        const line: Record<string, unknown> = { source: p.source, kind: p.kind, key: p.key };
        if (p.keys.length > 1) line.keys = p.keys;
        line.doc = p.doc;
        await writeChunk(out, `${JSON.stringify(line)}\n`);
      }),
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
    ctx.run(async () => {
      const opts = readOptions(o, ctx.io.stdin);
      for (const [name, v] of [['--from', o.from], ['--to', o.to]] as const) {
        if (v !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new UsageError(`${name} must be a date YYYY-MM-DD`);
      }
      if (o.model !== undefined && o.model !== '55' && o.model !== '65' && o.model !== '59') throw new UsageError('--model must be 55, 65 or 59');
      if (o.decimalComma && o.delimiter === ',') throw new UsageError('--decimal-comma needs another --delimiter (e.g. ";")');
      const filter: CsvFilter = { ...(o.from ? { from: o.from } : {}), ...(o.to ? { to: o.to } : {}), ...(o.cnpj ? { cnpj: o.cnpj } : {}), ...(o.model ? { model: o.model } : {}) };
      // first pass (not for stdin): the events stored apart from their notes, so a cancelled note says so
      const events = new Map<string, EventStatus>();
      if (!sources.includes('-')) {
        for await (const item of readXmlDocuments(sources, opts)) {
          if (!item.ok || !/<(?:\w+:)?(?:procEventoNFe|retEvento|retEnvEvento|CFeCanc)[\s>]/.test(item.bytes.subarray(0, 512).toString('latin1'))) continue;
          for (const [k, st] of eventsOf(parseNfe(item, opts))) {
            const prev = events.get(k);
            events.set(k, prev ? { cancelled: prev.cancelled || st.cancelled, cancellationProtocol: prev.cancellationProtocol ?? st.cancellationProtocol, cceCount: prev.cceCount + st.cceCount } : st);
          }
        }
      }
      const columns = o.items ? ITEM_COLUMNS : DOCUMENT_COLUMNS;
      const decimalIdx = columns.map((c) => DECIMAL_COLUMNS.has(c));
      const write = (out: Writable, rows: string[][]): Promise<void> => writeChunk(out, stringify(rows, { delimiter: o.delimiter }));
      return runBatch(
        ctx,
        sources,
        o,
        async (p, out) => {
          const rows: string[][] = [];
          for (const r of o.items ? itemRows(p, filter, events) : documentRows(p, filter, events)) {
            if (o.decimalComma) r.forEach((v, i) => (decimalIdx[i] ? (r[i] = v.replace('.', ',')) : undefined));
            rows.push(r);
          }
          if (rows.length) await write(out, rows);
        },
        async (out) => {
          if (o.bom) await writeChunk(out, '\ufeff');
          await write(out, [[...columns]]);
        },
      );
    }),
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
      return withReportOutput(ctx.io, o.output, true, (io) => validateBatch({ ...ctx, io }, sources, o));
    }),
  );
}

/** `fiscal nfe validate`: own rules per document, XSD validation per group of 200 documents (one xmllint per schema). */
async function validateBatch(ctx: CommandContext, sources: string[], o: ReadOpts & { schemas?: string[]; json?: boolean }): Promise<ExitCode> {
  const opts = readOptions(o, ctx.io.stdin);
  const dups = new DuplicateKeyTracker();
  const progress = createCountProgress(o.progress);
  let bad = false;
  let docs = 0;
  let withFindings = 0;
  let unchecked = 0;
  let batch: { parsed: ParsedNfe; findings: NfeFinding[]; schema: SchemaInput | null }[] = [];
  const flush = async (): Promise<boolean> => {
    const inputs = batch.flatMap((b) => (b.schema ? [b.schema] : []));
    const schemaFindings = o.schemas && inputs.length ? await validateSchemas(inputs, o.schemas) : new Map<string, NfeFinding[]>();
    let stop = false;
    for (const b of batch) {
      const schema = schemaFindings.get(b.parsed.source) ?? [];
      const all = [...b.findings, ...schema];
      if (o.schemas && (!b.schema || schema.some((f) => f.code === 'NFE_SCHEMA_UNAVAILABLE'))) unchecked++;
      if (all.length) withFindings++;
      if (o.json) for (const f of all) await writeChunk(ctx.io.stdout, `${JSON.stringify(f)}\n`);
      const err = o.json ? all.some((f) => f.severity === 'error') : report(ctx, all);
      if (err) {
        bad = true;
        if (o.failFast) stop = true;
      }
    }
    batch = [];
    return stop;
  };
  try {
    for await (const item of readXmlDocuments(sources, opts)) {
      progress.update(++docs);
      const p = parseItem(item, opts);
      const findings = [...p.findings, ...dups.check(p), ...validateNfe(p)];
      batch.push({ parsed: p, findings, schema: o.schemas && item.ok ? schemaInput(p, item.bytes) : null });
      if ((o.failFast && findings.some((f) => f.severity === 'error')) || batch.length >= 200) {
        if (await flush()) break;
      }
    }
    await flush();
  } finally {
    progress.stop();
  }
  if (docs === 0) return noDocuments(ctx.io.stderr, sources);
  if (!o.json) ctx.io.stderr.write(`${docs} document(s), ${withFindings} with findings${unchecked ? `, ${unchecked} not checked against a schema` : ''}\n`);
  return bad ? EXIT_FINDINGS : EXIT_OK;
}

/**
 * What xmllint validates for a parsed document: its original bytes, or for a wrapped one (SOAP) its inner
 * document rebuilt; a CF-e sale by its versaoDadosEnt. Null when the document could not be read.
 */
function schemaInput(p: ParsedNfe, bytes: Buffer): SchemaInput | null {
  if (!p.doc || !p.kind) return null;
  if (isCfeKind(p.kind)) return { source: p.source, kind: p.kind, version: cfeFacts(p.doc as CfeDocument).dataVersion, bytes };
  return { source: p.source, kind: p.kind, version: p.version, bytes: p.wrappers.length ? buildNfe(p.doc as NfeDocument).xml : bytes };
}
