/**
 * `spedToJsonl` on several threads for a file path: the file cut at line starts into ranges converted by pool
 * workers (`sped.to-jsonl-range`) and written in file order, byte for byte the output of one thread
 * (line-ranges.ts). Checkpoints (a task's resumable run) are taken between two ranges, in the same format as one
 * thread's, so either can resume the other's.
 */
import { promises as fsp } from 'node:fs';
import type { Writable } from 'node:stream';
import { ioError } from '../errors.js';
import type { FiscalPool } from '../pool/pool.js';
import type { Checkpoints } from './checkpoint.js';
import { readChunks } from './chunks.js';
import { LineEndWatch, waitDrain } from './drain.js';
import type { SpedFinding } from './findings.js';
import type { JsonlRangeResult } from './jsonl-range-job.js';
import type { JsonlState, SpedToJsonlOptions, SpedToJsonlResult } from './jsonl.js';
import { MIN_PARALLEL_BYTES, readInfo, runLineRanges, type LineRangeJob, type LineRangeResult, type RangePlan, type RunLineRangesOptions } from './line-ranges.js';
import { parserOptions, SpedParser, type ParserState, type SpedReadOptions } from './reader.js';

/** Range sizes: about eight ranges per thread, small enough that the JSON of the ranges in flight stays tens of MiB. */
const MIN_RANGE_BYTES = 1 << 20;
const MAX_RANGE_BYTES = 2 << 20;
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

export async function jsonlInRanges(
  path: string,
  size: number,
  output: Writable,
  options: SpedToJsonlOptions & { rangeBytes?: number },
  plan: Checkpoints | null,
  pool: FiscalPool,
): Promise<SpedToJsonlResult> {
  const resumed = plan?.state<JsonlState>() ?? null;
  let findingCount = resumed?.findingCount ?? 0;
  const onFinding = (f: SpedFinding): void => {
    findingCount++;
    options.onFinding?.(f);
  };
  const lineEnd = new LineEndWatch();
  if (resumed) lineEnd.value = resumed.lineEnd;
  const { from, guess } = resumed ? { from: resumed.parser, guess: resumed.parser } : await startAndGuess(path, size, options);
  let outputBytes = plan?.from?.outputBytes ?? 0;
  const { state, totals } = await runLineRanges<JsonlRangeResult>({
    ...rangeRun('sped.to-jsonl-range', pool, path, size, { from, guess }, options, MIN_RANGE_BYTES, MAX_RANGE_BYTES),
    ...(resumed ? {} : { see: (chunk: Buffer) => lineEnd.see(chunk) }),
    async emit(result, range, sums) {
      for (const f of result.findings) onFinding(f);
      if (result.bytes.length > 0) {
        const bytes = Buffer.from(result.bytes.buffer, result.bytes.byteOffset, result.bytes.byteLength);
        outputBytes += bytes.length;
        if (!output.write(bytes)) await waitDrain(output);
      }
      options.onProgress?.(range.end);
      if (plan !== null && result.resumable && !range.last && plan.due(range.end)) {
        const at = result.state;
        const parser: ParserState = { ...at, records: sums.records, scanner: { ...at.scanner, blankLines: sums.blankLines } };
        await plan.take(range.end, at.scanner.lines + 1, outputBytes, { parser, lineEnd: lineEnd.value, findingCount } satisfies JsonlState);
      }
    },
  });
  return {
    info: readInfo(state, totals, size),
    lineEnd: lineEnd.value,
    findingCount,
  };
}
