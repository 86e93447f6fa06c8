/**
 * SPED ⇄ JSON Lines. `spedToJsonl` writes one record per line, `{"line", "register", "fields"}` with the raw
 * strings keyed by layout name (`NAME#POS` for a repeated name, `#POS` beyond the layout). `spedFromJsonl`
 * reads such lines back through the writer: raw strings pass through, totals are regenerated (the 9900 list in
 * the order of the 9900 lines given). The output's encoding and line end are options: JSON Lines do not carry
 * the original's, so `spedToJsonl` returns them (`info.encoding`, `lineEnd`) for the caller to pass on.
 */
import type { Writable } from 'node:stream';
import { InvalidInputError } from '../errors.js';
import { Checkpoints, type ResumableOptions } from './checkpoint.js';
import { readChunks } from './chunks.js';
import { finding, type SpedFinding } from './findings.js';
import { LineEndWatch, waitDrain, type ConvertOptions } from './drain.js';
import { JsonlBytes } from './jsonl-bytes.js';
import { jsonlInRanges } from './jsonl-ranges.js';
import { rangedSize, type RangePlan } from './line-ranges.js';
import { withPool, type FiscalPool } from '../pool/pool.js';
import type { LayoutId } from './layout.js';
import { parserOptions, SpedParser, type ParserState, type SpedReadInfo, type SpedSource } from './reader.js';
import { SpedScanner } from './scanner.js';
import { SpedWriter, type SpedLineEnd, type SpedOutputEncoding, type SpedValue, type SpedWriteSummary } from './writer.js';

export interface SpedToJsonlResult {
  info: SpedReadInfo;
  /** The end of the input's first line (null for a range of a path, or an input without a line break). */
  lineEnd: SpedLineEnd | null;
  /** Reader findings passed to `onFinding`. */
  findingCount: number;
}

export interface SpedToJsonlOptions extends ConvertOptions, ResumableOptions {
  /**
   * More than 1 (or a pool of more) converts a file path of 8 MiB or more in byte ranges on worker threads: the same
   * bytes as one thread (line-ranges.ts). Default 1.
   */
  threads?: number;
  pool?: FiscalPool;
  /** @internal Bytes per range (default: the file over 8 × threads, 1 to 4 MiB); given, any size goes to ranges (tests). */
  rangeBytes?: number;
  /** @internal Told how the file was split (not called when it was read on one thread). */
  onPlan?: (plan: RangePlan) => void;
}

/** Input slices parsed at a time: output waits for the consumer after each one (bounded memory). */
const SLICE = 1 << 16;

/** What a resumed to-jsonl needs besides the offsets (checkpoint.ts). */
export type JsonlState = { parser: ParserState; lineEnd: SpedLineEnd | null; findingCount: number };

/**
 * One JSON object per record, in file order: `{"line", "register", "fields": {NAME: raw string}}` (see
 * jsonl-bytes.ts: written from the bytes, identical to JSON.stringify of SpedRecord.toObject()). Does not end
 * `output`. Resumable for a path input (`onCheckpoint`, `resumeFrom`: checkpoint.ts, docs/sped.md).
 */
export async function spedToJsonl(source: SpedSource, output: Writable, options: SpedToJsonlOptions = {}): Promise<SpedToJsonlResult> {
  const plan = await Checkpoints.open('sped.to-jsonl', source, options, {
    layout: options.layout ?? null,
    encoding: options.encoding ?? null,
    maxLineBytes: options.maxLineBytes ?? null,
  });
  const threads = options.pool?.threads ?? options.threads ?? 1;
  if (typeof source === 'string' && threads > 1 && options.start === undefined && options.end === undefined) {
    const size = await rangedSize(source, options.rangeBytes);
    if (size !== null) return withPool(options, (pool) => jsonlInRanges(source, size, output, options, plan, pool));
  }
  const resumed = plan?.state<JsonlState>() ?? null;
  let findingCount = resumed?.findingCount ?? 0;
  const onFinding = (f: SpedFinding): void => {
    findingCount++;
    options.onFinding?.(f);
  };
  let encoder: JsonlBytes | null = null;
  const parser = new SpedParser((fields, line) => encoder!.record(fields, line), onFinding, parserOptions(options));
  if (resumed) parser.restore(resumed.parser);
  encoder = new JsonlBytes(parser);
  const json = encoder;
  parser.byteLine = (buf, start, end, line) => json.line(buf, start, end, line);
  let outputBytes = plan?.from?.outputBytes ?? 0;
  const flush = async (): Promise<void> => {
    if (json.length === 0) return;
    const bytes = json.take();
    outputBytes += bytes.length;
    if (!output.write(bytes)) await waitDrain(output);
  };
  const lineEnd = new LineEndWatch();
  if (resumed) lineEnd.value = resumed.lineEnd;
  const fromStart = (options.start ?? 0) === 0;
  const readFrom = resumed ? resumed.parser.scanner.offset : parserOptions(options).baseOffset;
  for await (const chunk of readChunks(source, readFrom)) {
    if (fromStart) lineEnd.see(chunk);
    for (let at = 0; at < chunk.length && !parser.done; at += SLICE) {
      options.signal?.throwIfAborted();
      parser.push(chunk.subarray(at, Math.min(at + SLICE, chunk.length)));
      if (json.length >= 1 << 18) await flush();
      const state = plan?.dueState(parser) ?? null;
      if (plan !== null && state !== null) {
        await flush();
        await plan.take(state.scanner.offset, state.scanner.lines + 1, outputBytes, { parser: state, lineEnd: lineEnd.value, findingCount } satisfies JsonlState);
      }
    }
    options.onProgress?.(parser.info.bytes);
    if (parser.done) break;
  }
  parser.end();
  await flush();
  const info = parser.info;
  const problem =
    info.bytes === 0 ? finding('SPED_EMPTY', 'the file is empty')
    : info.records === 0 ? finding('SPED_NOT_SPED', 'no |REG|…| records: not a SPED file')
    : null;
  if (problem) onFinding(problem);
  return { info, lineEnd: lineEnd.value, findingCount };
}

export interface SpedFromJsonlOptions {
  /** Layout instead of detecting it from the 0000 record. */
  layout?: LayoutId;
  /** Replace what Windows-1252 cannot hold, `|` and line breaks instead of failing. */
  replace?: boolean;
  /** Output encoding (default 'windows-1252'); 'utf-8' gives a UTF-8 input back as it was. */
  outputEncoding?: SpedOutputEncoding;
  /** Line end (default 'crlf'); 'lf' gives an LF input back as it was. */
  lineEnd?: SpedLineEnd;
  /** Longest JSON line accepted in bytes (default 32 MiB). */
  maxLineBytes?: number;
  onProgress?: (bytes: number) => void;
}

/**
 * Writes a SPED file from JSON Lines. Stops at the first bad line with an InvalidInputError naming the JSONL
 * line (code SPED_JSONL_*, or the writer's SPED_WRITE_*). Does not end `output`.
 */
export async function spedFromJsonl(source: SpedSource, output: Writable, options: SpedFromJsonlOptions = {}): Promise<SpedWriteSummary> {
  const writer = new SpedWriter(output, { layout: options.layout, replace: options.replace, encoding: options.outputEncoding, lineEnd: options.lineEnd });
  let pending: { text: string; line: number }[] = [];
  let failure: InvalidInputError | null = null;
  const scanner = new SpedScanner({
    encoding: 'utf-8',
    maxLineBytes: options.maxLineBytes,
    onLine(buf, start, end, line) {
      const text = buf.toString('utf8', start, end);
      pending.push({ text: line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, line });
    },
    onFinding(f) {
      if (f.code === 'SPED_BLANK_LINE' || failure) return;
      const what = f.code === 'SPED_LINE_TOO_LONG' ? 'SPED_JSONL_TOO_LONG' : 'SPED_JSONL_ENCODING';
      failure = new InvalidInputError(what, `line ${f.line}: ${f.message}`, f.line);
    },
  });
  const drain = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    for (const { text, line } of batch) {
      if (failure) return;
      const { register, fields } = parseJsonLine(text, line);
      const p = writer.write(register, fields, { line, pad: false });
      if (p) await p;
    }
  };
  let lastReport = 0;
  for await (const chunk of readChunks(source)) {
    scanner.push(chunk);
    await drain();
    if (failure) throw failure;
    if (options.onProgress && scanner.bytes - lastReport >= 1 << 20) {
      lastReport = scanner.bytes;
      options.onProgress(scanner.bytes);
    }
  }
  scanner.end();
  await drain();
  if (failure) throw failure;
  if (scanner.bytes === 0) throw new InvalidInputError('SPED_JSONL_EMPTY', 'the input is empty: no records to write', null);
  return writer.finish();
}

/** Parses one JSONL line into a register and its fields; an InvalidInputError names the line and what is wrong. */
export function parseJsonLine(text: string, line: number): { register: string; fields: Record<string, SpedValue> } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError('SPED_JSONL_SYNTAX', `line ${line}: not valid JSON (${(err as Error).message})`, line);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError('SPED_JSONL_SHAPE', `line ${line}: expected an object {"register", "fields"}`, line);
  }
  const { register, fields } = value as { register?: unknown; fields?: unknown };
  if (typeof register !== 'string') {
    throw new InvalidInputError('SPED_JSONL_SHAPE', `line ${line}: "register" must be a string`, line);
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new InvalidInputError('SPED_JSONL_SHAPE', `line ${line}: "fields" must be an object of field name → string`, line);
  }
  const out: Record<string, SpedValue> = {};
  for (const [key, v] of Object.entries(fields)) {
    if (typeof v === 'string' || v === null) out[key] = v;
    else if (typeof v === 'number' && Number.isSafeInteger(v)) out[key] = v;
    else {
      throw new InvalidInputError(
        'SPED_JSONL_SHAPE',
        `line ${line}: ${register} field "${key}" must be a string (or null, or an integer); got ${JSON.stringify(v)} — decimals must be strings, never JSON floats`,
        line,
      );
    }
  }
  return { register, fields: out };
}
