/**
 * One SPED file converted on several threads, with exactly the bytes of one thread: for the conversions whose
 * output at a line depends on the reader's state there (to-jsonl, stats) and, for to-csv, on a little more that
 * the conversion checks itself (`extra`, `fits`). The reader's state is small — the byte offset and number of the
 * line, the encoding decision, whether |9999| was seen, the layout, version and 0000 record — so a range can start
 * at any line start (or at the lines `cutAt` accepts), not only at the records a validator can cut at.
 *
 * The main thread reads the file once, counting line breaks, and cuts it into ranges of about `rangeBytes` at
 * line starts: the number of each range's first line is then known, not guessed. The rest of a range's start
 * state is a guess (the layout, version, 0000 and encoding of the latest merged state, at first those of a peek
 * at the file's head), and each range runs in a pool worker from its guessed state. The merge takes the results
 * in file order and checks the guess against the state the previous range really ended in; a range whose guess
 * was wrong (the encoding decided by a line after the head, a |9999| before the last range) runs again from the
 * real state before anything of it is written, and later ranges are guessed from the real state. A range that
 * ends where no run can resume (inside the PVA signature block) is run again from its start to the end of the
 * file. So the output is one thread's whatever the file holds; only the speed depends on the guesses.
 */
import { promises as fsp } from 'node:fs';
import { ioError } from '../errors.js';
import { mapInOrder, type FiscalPool } from '../pool/pool.js';
import { readChunks } from './chunks.js';
import type { SpedFinding } from './findings.js';
import type { LayoutId } from './layout.js';
import { parserOptions, SpedParser, type ParserState, type SpedReadInfo, type SpedReadOptions } from './reader.js';
import type { SignatureBlock, SpedEncoding } from './scanner.js';

/** Files smaller than this are converted on one thread (a worker costs more than it saves), unless a range size is given. */
export const MIN_PARALLEL_BYTES = 8 << 20;

/** A byte range starting at a line start. */
export interface LineRange {
  start: number;
  end: number;
  /** Lines before `start` (its line is number `lines + 1`). */
  lines: number;
  /** The range runs to the end of the file (its last line may lack a line break). */
  last: boolean;
}

/** What a range job is given: a range of `path` and the state to start it from. */
export interface LineRangeJob extends LineRange {
  path: string;
  /** The start state; its record and blank line counts are 0 (the job counts its own). */
  state: ParserState;
  layout?: LayoutId;
  encoding?: SpedEncoding;
  maxLineBytes?: number;
}

/** What every range job hands back, besides its own output. */
export interface LineRangeResult {
  /** The state after the range's last line (records and blank lines: the range's own). */
  state: ParserState;
  /** A run can continue from `state` (false inside the signature block or an overlong line). */
  resumable: boolean;
  signature: SignatureBlock | null;
  /** The range's findings, in order, with file line numbers. */
  findings: SpedFinding[];
}

/** Counts of the part merged so far (the ranges' own counts summed). */
export interface RangeTotals {
  records: number;
  blankLines: number;
  signature: SignatureBlock | null;
}

export interface RunLineRangesOptions<R extends LineRangeResult> {
  pool: FiscalPool;
  /** The pool job (jobs.ts) that runs one range: a LineRangeJob in, R out. */
  job: string;
  path: string;
  size: number;
  rangeBytes: number;
  /** The true state at the first range's start (a fresh reader's, or a checkpoint's). */
  from: ParserState;
  /** The first guess for the later ranges' layout, version, 0000 and encoding (a peek at the head). */
  guess: ParserState;
  /** What every job is given besides its range and state. */
  jobOptions: Pick<LineRangeJob, 'layout' | 'encoding' | 'maxLineBytes'>;
  /** Each chunk the planning pass reads, in file order (e.g. a LineEndWatch). */
  see?: (chunk: Buffer) => void;
  /** A range's result, in file order, once checked: write its output here. `totals` include it. */
  emit: (result: R, range: LineRange, totals: RangeTotals) => Promise<void> | void;
  signal?: AbortSignal;
  /**
   * 'counted' (default): the planning pass reads the whole file counting line breaks, so each range starts from its
   * true line number (output that carries line numbers: to-jsonl). 'rebased': the planning pass reads only around
   * the cuts, every range counts its lines from 0, and the merge adds the lines before it to its findings and end
   * state (output whose only line numbers are the findings': stats).
   */
  lineNumbers?: 'counted' | 'rebased';
  /**
   * Conversions with state beyond the reader's (to-csv: its tables and the records open above a line): what a job
   * is given besides its range and reader state — the guess when `guessed` (at dispatch), the real state otherwise
   * (a range run again at the merge).
   */
  extra?: (guessed: boolean) => Record<string, unknown>;
  /** Whether a result made from a guess (given `extra`) holds in the merged state; false runs the range again. */
  fits?: (result: R, extra: Record<string, unknown>) => boolean;
  /** Whether a line start (bytes from `buf[i]`, at least 6 of them) may begin a range; default: any line. */
  cutAt?: (buf: Buffer, i: number) => boolean;
  /** Told at the end: the ranges merged, and how many ran again because their guessed start was wrong. */
  onPlan?: (plan: RangePlan) => void;
}

export interface RangePlan {
  ranges: number;
  reruns: number;
}

/** Runs the ranges (see the module comment) and returns the final state and totals. */
export async function runLineRanges<R extends LineRangeResult>(o: RunLineRangesOptions<R>): Promise<{ state: ParserState; totals: RangeTotals }> {
  let actual = o.from;
  let guess = o.guess;
  const totals: RangeTotals = { records: o.from.records, blankLines: o.from.scanner.blankLines, signature: null };
  let finished = false;
  const plan: RangePlan = { ranges: 0, reruns: 0 };
  const pending = new Map<number, { range: LineRange; assumed: ParserState; extra: Record<string, unknown> }>();
  const rebased = o.lineNumbers === 'rebased';
  const run = (range: LineRange, state: ParserState, extra: Record<string, unknown>): Promise<R> =>
    o.pool.run<R>(o.job, { ...extra, ...o.jobOptions, ...range, path: o.path, state: withoutCounts(state, rebased) } satisfies LineRangeJob, { signal: o.signal });
  const ranges = rebased
    ? cutRanges(o.path, o.from.scanner.offset, o.size, o.rangeBytes, () => finished)
    : lineRanges(o.path, o.from.scanner.offset, o.from.scanner.lines, o.size, o.rangeBytes, o.see, () => finished, o.cutAt);
  await mapInOrder(
    ranges,
    (range, i) => {
      o.signal?.throwIfAborted();
      const assumed = i === 0 ? o.from : guessAt(guess, range);
      const extra = o.extra?.(true) ?? {};
      pending.set(i, { range, assumed, extra });
      return run(range, assumed, extra);
    },
    async (first, i) => {
      const { range, assumed, extra } = pending.get(i)!;
      pending.delete(i);
      if (finished) return;
      let result = first;
      let done = range;
      plan.ranges++;
      if (!sameStart(assumed, actual, rebased) || (o.fits !== undefined && !o.fits(result, extra))) {
        plan.reruns++;
        result = await run(range, actual, o.extra?.(false) ?? {});
      }
      if (!result.resumable && !range.last) {
        // the signature block (or an unfinished line) started in this range: the rest of the file is one range
        plan.reruns++;
        done = { ...range, end: o.size, last: true };
        result = await run(done, actual, o.extra?.(false) ?? {});
      }
      if (rebased) rebase(result, actual.scanner.lines);
      totals.records += result.state.records;
      totals.blankLines += result.state.scanner.blankLines;
      if (result.signature !== null) totals.signature = result.signature;
      await o.emit(result, done, totals);
      actual = result.state;
      guess = actual;
      if (done.last) finished = true;
    },
    o.pool.threads * 2,
  );
  o.onPlan?.(plan);
  return { state: { ...actual, records: totals.records, scanner: { ...actual.scanner, blankLines: totals.blankLines } }, totals };
}

/** The reader's summary of a file converted in ranges (what one thread's `parser.info` holds at the end). */
export function readInfo(state: ParserState, totals: RangeTotals, size: number): SpedReadInfo {
  return {
    layout: state.layout,
    version: state.version,
    encoding: state.scanner.encoding,
    bytes: size,
    lines: state.scanner.lines,
    records: totals.records,
    blankLines: totals.blankLines,
    signature: totals.signature,
    header: state.header,
  };
}

/** The state a job is given: no records or blank lines counted yet (nor lines, when they are rebased). */
function withoutCounts(state: ParserState, rebased: boolean): ParserState {
  return { ...state, records: 0, scanner: { ...state.scanner, blankLines: 0, ...(rebased ? { lines: 0 } : {}) } };
}

/** A range counted from line 0, moved to its place: `before` lines precede it. */
function rebase(result: LineRangeResult, before: number): void {
  if (before === 0) return;
  result.findings = result.findings.map((f) => (f.line === null ? f : { ...f, line: f.line + before }));
  result.state = { ...result.state, scanner: { ...result.state.scanner, lines: result.state.scanner.lines + before } };
}

/** The guessed state at a range's start: its offset and line number are known; the rest is the guess's. */
function guessAt(guess: ParserState, range: LineRange): ParserState {
  return { ...guess, records: 0, scanner: { ...guess.scanner, offset: range.start, lines: range.lines, blankLines: 0 } };
}

/** A scanner reports invalid UTF-8 for its first 100 such lines only: past 100 the count changes nothing. */
const UTF8_REPORTED = 100;

/** Whether two start states give the same output (record and blank line counts aside: they are summed). */
export function sameStart(a: ParserState, b: ParserState, rebased = false): boolean {
  const s = a.scanner;
  const t = b.scanner;
  return (
    s.offset === t.offset && (rebased || s.lines === t.lines) && s.encoding === t.encoding && s.encodingDecided === t.encodingDecided && s.ended === t.ended &&
    Math.min(s.utf8Errors, UTF8_REPORTED) === Math.min(t.utf8Errors, UTF8_REPORTED) &&
    a.layout === b.layout && a.version === b.version && JSON.stringify(a.header) === JSON.stringify(b.header)
  );
}

const PLAN_READ = 1 << 20;

/**
 * The ranges of a file from `from` (a line start with `linesBefore` lines before it): each ends at the first line
 * start at or after `rangeBytes` past its start (that `cutAt` accepts, when given); the last runs to `size`. Reads the
 * file once, counting line breaks.
 * `stop()` ends the planning early (the merge needs no more ranges).
 */
export async function* lineRanges(
  path: string,
  from: number,
  linesBefore: number,
  size: number,
  rangeBytes: number,
  see?: (chunk: Buffer) => void,
  stop?: () => boolean,
  cutAt?: (buf: Buffer, i: number) => boolean,
): AsyncGenerator<LineRange> {
  const handle = await openFile(path);
  const step = Math.max(1, Math.floor(rangeBytes));
  try {
    const buf = Buffer.allocUnsafe(PLAN_READ);
    let start = from;
    let startLines = linesBefore;
    let lines = linesBefore;
    let target = start + step;
    let pos = from;
    while (pos < size && !stop?.()) {
      const bytesRead = await readAt(handle, path, buf, Math.min(buf.length, size - pos), pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      see?.(chunk);
      let i = 0;
      for (;;) {
        // the range ends after the first line break at or after target - 1
        const limit = target - 1 - pos;
        if (limit >= bytesRead) {
          lines += countLineBreaks(chunk, i, bytesRead);
          break;
        }
        const at = Math.max(i, limit);
        lines += countLineBreaks(chunk, i, at);
        const nl = chunk.indexOf(10, at);
        if (nl < 0) break;
        lines++;
        const end = pos + nl + 1;
        if (end >= size) break;
        if (cutAt !== undefined && !(nl + 7 <= bytesRead && cutAt(chunk, nl + 1))) {
          // not a line a range may begin at (or too near the end of the read to tell): try the next one
          target = end + 1;
          i = nl + 1;
          continue;
        }
        yield { start, end, lines: startLines, last: false };
        start = end;
        startLines = lines;
        target = end + step;
        i = nl + 1;
      }
      pos += bytesRead;
    }
    if (!stop?.()) yield { start, end: size, lines: startLines, last: true };
  } finally {
    await handle.close();
  }
}

/**
 * The ranges of a file from `from` without counting lines (every range's `lines` is 0): each ends at the first line
 * start at or after `rangeBytes` past its start, found by reading around that point only.
 */
export async function* cutRanges(path: string, from: number, size: number, rangeBytes: number, stop?: () => boolean): AsyncGenerator<LineRange> {
  const handle = await openFile(path);
  const step = Math.max(1, Math.floor(rangeBytes));
  const window = Buffer.allocUnsafe(1 << 16);
  try {
    let start = from;
    while (!stop?.()) {
      // the first line break at or after start + step - 1
      let end = size;
      for (let pos = start + step - 1; pos < size; ) {
        const bytesRead = await readAt(handle, path, window, Math.min(window.length, size - pos), pos);
        if (bytesRead === 0) break;
        const nl = window.subarray(0, bytesRead).indexOf(10);
        if (nl >= 0) {
          end = Math.min(size, pos + nl + 1);
          break;
        }
        pos += bytesRead;
      }
      const last = end >= size;
      yield { start, end: last ? size : end, lines: 0, last };
      if (last) return;
      start = end;
    }
  } finally {
    await handle.close();
  }
}

async function openFile(path: string): Promise<fsp.FileHandle> {
  try {
    return await fsp.open(path, 'r');
  } catch (err) {
    throw ioError(err, path, 'open');
  }
}

async function readAt(handle: fsp.FileHandle, path: string, buf: Buffer, length: number, pos: number): Promise<number> {
  try {
    return (await handle.read(buf, 0, length, pos)).bytesRead;
  } catch (err) {
    throw ioError(err, path, 'read');
  }
}

function countLineBreaks(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(10, from); i >= 0 && i < to; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** The head read to guess the later ranges' layout, version and encoding. */
const PEEK_BYTES = 1 << 20;

/** The size of `path` when it is worth converting in ranges, else null (one thread). */
export async function rangedSize(path: string, rangeBytes: number | undefined): Promise<number | null> {
  let size: number;
  try {
    size = (await fsp.stat(path)).size;
  } catch (err) {
    throw ioError(err, path, 'open');
  }
  if (size === 0 || (rangeBytes === undefined && size < MIN_PARALLEL_BYTES)) return null;
  return size;
}

/** A fresh reader's state, and a guess for the state past the head (its layout, version, 0000 and encoding). */
export async function startAndGuess(path: string, size: number, options: SpedReadOptions): Promise<{ from: ParserState; guess: ParserState }> {
  const parser = new SpedParser(() => {}, () => {}, parserOptions(readerShape(options)));
  const from = parser.snapshot()!;
  for await (const chunk of readChunks(path, 0, Math.min(size, PEEK_BYTES))) parser.push(chunk);
  const head = parser.snapshot() ?? from;
  // a |9999| in the head ends a small file: the ranges after it are run again from the real state either way
  return { from, guess: { ...head, scanner: { ...head.scanner, ended: false } } };
}

/** The options every range's reader is built with. */
export function readerShape(options: SpedReadOptions): Pick<LineRangeJob, 'layout' | 'encoding' | 'maxLineBytes'> {
  return {
    ...(options.layout !== undefined ? { layout: options.layout } : {}),
    ...(options.encoding !== undefined ? { encoding: options.encoding } : {}),
    ...(options.maxLineBytes !== undefined ? { maxLineBytes: options.maxLineBytes } : {}),
  };
}

export function defaultRangeBytes(size: number, threads: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.ceil(size / (threads * 8))));
}

/** What every conversion in ranges gives `runLineRanges` (range sizes between `min` and `max` unless told). */
export function rangeRun(
  job: string,
  pool: FiscalPool,
  path: string,
  size: number,
  start: { from: ParserState; guess: ParserState },
  options: SpedReadOptions & { rangeBytes?: number; signal?: AbortSignal; onPlan?: (plan: RangePlan) => void },
  min: number,
  max: number,
): Pick<RunLineRangesOptions<LineRangeResult>, 'pool' | 'job' | 'path' | 'size' | 'rangeBytes' | 'from' | 'guess' | 'jobOptions' | 'signal' | 'onPlan'> {
  return {
    pool,
    job,
    path,
    size,
    rangeBytes: options.rangeBytes ?? defaultRangeBytes(size, pool.threads, min, max),
    ...start,
    jobOptions: readerShape(options),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onPlan ? { onPlan: options.onPlan } : {}),
  };
}

/** The state a parser ends a range in, and whether a run can go on from it. */
export function rangeOutcome(parser: SpedParser, findings: SpedFinding[]): LineRangeResult {
  const { layout, version, records, header, signature } = parser.info;
  return {
    state: { scanner: parser.scanner.current(), layout, version, records, header: header === null ? null : [...header] },
    resumable: parser.scanner.snapshot() !== null,
    signature,
    findings,
  };
}
