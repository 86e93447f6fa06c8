/**
 * `fixTotals`: a file's own records through the writer, so X001 (IND_MOV), X990, the empty required blocks,
 * 9001, the 9900 list, 9990 and 9999 are regenerated — the 9900 list in the input's order when it had one. By
 * default the copy keeps the input's encoding (UTF-8 stays UTF-8; ASCII and Windows-1252 are Windows-1252) and the
 * end of its first line (CRLF or LF), so a file whose totals hold comes back byte for byte. Lines the reader
 * cannot take as records (no leading `|`, overlong) are dropped and reported; the PVA signature block is not
 * copied (a repaired file is no longer signed).
 */
import type { Writable } from 'node:stream';
import { Checkpoints, type ResumableOptions } from './checkpoint.js';
import { forEachRecord, LineEndWatch, type ConvertOptions } from './drain.js';
import type { ParserState, SpedParser, SpedReadInfo, SpedSource } from './reader.js';
import { SpedWriter, type SpedLineEnd, type SpedOutputEncoding, type SpedWriterState, type SpedWriteSummary } from './writer.js';

export interface FixTotalsOptions extends ConvertOptions, ResumableOptions {
  /** Replace what the output encoding cannot hold instead of failing. */
  replace?: boolean;
  /** Output encoding; 'keep' (default) writes UTF-8 for a UTF-8 input and Windows-1252 otherwise. */
  outputEncoding?: SpedOutputEncoding | 'keep';
  /** Line end; 'keep' (default) uses the input's first line end (CRLF when it has none). */
  lineEnd?: SpedLineEnd | 'keep';
}

export interface FixTotalsResult {
  info: SpedReadInfo;
  summary: SpedWriteSummary;
  /** Reader findings passed to `onFinding`. */
  findingCount: number;
  /** Input lines not written: not records (reader findings) — blank lines are counted apart. */
  droppedLines: number;
}

/** What a resumed fix-totals needs besides the offsets (checkpoint.ts). */
type FixTotalsState = {
  parser: ParserState;
  lineEnd: SpedLineEnd | null;
  writer: SpedWriterState | null;
  findingCount: number;
  droppedLines: number;
};

/**
 * Rewrites a SPED file with regenerated totals into `output`. Does not end `output`. Resumable for a path input
 * (`onCheckpoint`, `resumeFrom`: checkpoint.ts, docs/sped.md).
 */
export async function fixTotals(source: SpedSource, output: Writable, options: FixTotalsOptions = {}): Promise<FixTotalsResult> {
  const encoding = options.outputEncoding ?? 'keep';
  const lineEnd = options.lineEnd ?? 'keep';
  const plan = await Checkpoints.open('sped.fix-totals', source, options, {
    layout: options.layout ?? null,
    encoding: options.encoding ?? null,
    maxLineBytes: options.maxLineBytes ?? null,
    replace: options.replace ?? false,
    outputEncoding: encoding,
    lineEnd,
  });
  const resumed = plan?.state<FixTotalsState>() ?? null;
  // the input's first line end, noted as the bytes go by (not for a byte range of a path)
  const watch = new LineEndWatch();
  if (resumed) watch.value = resumed.lineEnd;
  const watching = lineEnd === 'keep' && (options.start ?? 0) === 0;
  // made at the first record, when the input's first line end has gone by
  let writer: SpedWriter | null = null;
  const writerFor = (): SpedWriter =>
    (writer ??= new SpedWriter(output, {
      layout: options.layout,
      replace: options.replace,
      encoding: encoding === 'keep' ? undefined : encoding,
      lineEnd: lineEnd === 'keep' ? (watching ? watch.value ?? undefined : undefined) : lineEnd,
    }));
  if (resumed?.writer) writerFor().restore(resumed.writer);
  let droppedLines = resumed?.droppedLines ?? 0;
  const findingsBefore = resumed?.findingCount ?? 0;
  let findingsNow = 0;
  const between = async (parser: SpedParser): Promise<void> => {
    const state = plan?.dueState(parser) ?? null;
    if (plan === null || state === null) return;
    const w: SpedWriter | null = writer;
    if (w !== null) await w.flushPending();
    await plan.take(state.scanner.offset, state.scanner.lines + 1, w?.bytesWritten ?? 0, {
      parser: state,
      lineEnd: watch.value,
      writer: w?.snapshot() ?? null,
      findingCount: findingsBefore + findingsNow,
      droppedLines,
    } satisfies FixTotalsState);
  };
  const { info, findingCount } = await forEachRecord(
    source,
    {
      ...options,
      onFinding(f) {
        findingsNow++;
        if (f.code === 'SPED_LINE_FORMAT' || f.code === 'SPED_LINE_TOO_LONG') droppedLines++;
        options.onFinding?.(f);
      },
    },
    (record, read) => {
      const w = writerFor();
      // the reader decides UTF-8 at the first non-ASCII line, before handing it out: every line before was ASCII
      if (encoding === 'keep' && read.encoding === 'utf-8' && w.encoding !== 'utf-8') w.encoding = 'utf-8';
      return w.writeFields(record.fields, record.line);
    },
    { from: resumed?.parser ?? null, see: watching ? (chunk) => watch.see(chunk) : undefined, between, signal: options.signal },
  );
  const summary = await writerFor().finish();
  return { info, summary, findingCount: findingsBefore + findingCount, droppedLines };
}
