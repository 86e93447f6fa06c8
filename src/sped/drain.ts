/**
 * Shared plumbing of the conversions: records in file order with reader findings handed on as they appear
 * (never accumulated), the line end of a source noted as its bytes go by, and waiting for a stream's drain.
 */
import type { Writable } from 'node:stream';
import { readChunks, readChunksSync } from './chunks.js';
import type { SpedFinding } from './findings.js';
import { UsageError } from '../errors.js';
import { parserOptions, SpedParser, type ParserState, type SpedReadInfo, type SpedReadOptions, type SpedSource } from './reader.js';
import { SpedRecord } from './record.js';
import type { SpedLineEnd } from './writer.js';

export interface ConvertOptions extends SpedReadOptions {
  /** Receives each reader finding (line format, blank line, encoding, overlong line) as it is found. */
  onFinding?: (f: SpedFinding) => void;
}

/** Hooks of a record loop that can checkpoint and resume (checkpoint.ts). */
export interface RecordLoop {
  /** Continue from this parser state: the source (a path) is read from its offset. */
  from?: ParserState | null;
  /** Sees every chunk read, in order (e.g. a LineEndWatch). */
  see?: (chunk: Buffer) => void;
  /** Called when every record parsed so far was handed to `each` (and awaited): the parser sits between lines. */
  between?: (parser: SpedParser) => Promise<void> | void;
  /** Stops the loop (its reason thrown) between two slices once aborted. */
  signal?: AbortSignal;
  /** Read the source (a path) up to this offset only (a byte range ending at a line start). */
  until?: number;
  /** Read a path synchronously (a pool job: see `readChunksSync`). */
  readSync?: boolean;
}

/** Input slices parsed at a time before their records are handed out (the records waiting stay few). */
const SLICE = 1 << 16;

/**
 * Iterates the records of a source, passing reader findings to `onFinding` as they appear: in line order, each
 * before the record of its line or of a later line (whatever the slicing, so a resumed run reports as a clean one).
 */
export async function forEachRecord(
  source: SpedSource,
  options: ConvertOptions,
  each: (record: SpedRecord, info: SpedReadInfo) => Promise<void> | void,
  loop: RecordLoop = {},
): Promise<{ info: SpedReadInfo; findingCount: number; parser: SpedParser }> {
  const findings: SpedFinding[] = [];
  let batch: SpedRecord[] = [];
  const parserOpts = parserOptions(options);
  const parser = new SpedParser(
    (fields, line, offset) => batch.push(new SpedRecord(line, offset, fields, parser.defsFor(fields[0]!))),
    (f) => findings.push(f),
    parserOpts,
  );
  if (loop.from) parser.restore(loop.from);
  const info = parser.info;
  let findingCount = 0;
  let passed = 0;
  /** Passes the findings up to line `line` (all of them for Infinity). */
  const pass = (line: number): void => {
    while (passed < findings.length && (findings[passed]!.line ?? 0) <= line) {
      findingCount++;
      options.onFinding?.(findings[passed++]!);
    }
    if (passed === findings.length && passed > 0) {
      findings.length = 0;
      passed = 0;
    }
  };
  const drain = async (): Promise<void> => {
    const out = batch;
    batch = [];
    for (const record of out) {
      pass(record.line);
      const p = each(record, info);
      if (p) await p;
    }
    pass(Infinity);
  };
  if (typeof source !== 'string' && options.end !== undefined) {
    throw new UsageError('byte ranges (start/end) need a file path', 'SPED_RANGE_NEEDS_PATH');
  }
  const from = loop.from ? loop.from.scanner.offset : parserOpts.baseOffset;
  const chunks = loop.readSync && typeof source === 'string' ? readChunksSync(source, from, loop.until) : readChunks(source, from, loop.until);
  for await (const chunk of chunks) {
    loop.see?.(chunk);
    for (let at = 0; at < chunk.length && !parser.done; at += SLICE) {
      loop.signal?.throwIfAborted();
      parser.push(at === 0 && chunk.length <= SLICE ? chunk : chunk.subarray(at, at + SLICE));
      await drain();
      if (loop.between) {
        const p = loop.between(parser);
        if (p) await p;
      }
    }
    if (parser.done) break;
    options.onProgress?.(parser.info.bytes);
  }
  parser.end();
  await drain();
  return { info, findingCount, parser };
}

/** Notes the end of the first line of bytes seen in order: 'crlf', 'lf', or null before a line break. */
export class LineEndWatch {
  value: SpedLineEnd | null = null;
  private lastByte = -1;

  see(chunk: Buffer): void {
    if (this.value !== null || chunk.length === 0) return;
    const lf = chunk.indexOf(10);
    if (lf >= 0) this.value = (lf > 0 ? chunk[lf - 1] : this.lastByte) === 13 ? 'crlf' : 'lf';
    else this.lastByte = chunk[chunk.length - 1]!;
  }
}

/**
 * The source with the end of its first line noted as the bytes pass (`lineEnd()`: 'crlf', 'lf', or null before
 * a line break has passed). A byte range of a path is read as given and not watched (null).
 */
export function watchLineEnd(source: SpedSource, options: SpedReadOptions = {}): { source: SpedSource; lineEnd: () => SpedLineEnd | null } {
  if (typeof source === 'string' && (options.start ?? 0) > 0) return { source, lineEnd: () => null };
  const watch = new LineEndWatch();
  async function* watched(): AsyncGenerator<Buffer> {
    for await (const chunk of readChunks(source)) {
      watch.see(chunk);
      yield chunk;
    }
  }
  return { source: watched(), lineEnd: () => watch.value };
}

/** Waits for 'drain'; fails if the stream errors or closes first (a closed pipe must not hang the writer). */
export function waitDrain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onError = (err: Error): void => done(err);
    const onClose = (): void => done(Object.assign(new Error('output closed before the file was written'), { code: 'EPIPE' }));
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

