/**
 * Shared plumbing of the conversions: records from `readSped` with reader findings handed on as they appear
 * (never accumulated), the line end of a source noted as its bytes go by, and waiting for a stream's drain.
 */
import type { Writable } from 'node:stream';
import { readChunks } from './chunks.js';
import type { SpedFinding } from './findings.js';
import { readSped, type SpedReadInfo, type SpedReadOptions, type SpedSource } from './reader.js';
import type { SpedRecord } from './record.js';
import type { SpedLineEnd } from './writer.js';

export interface ConvertOptions extends SpedReadOptions {
  /** Receives each reader finding (line format, blank line, encoding, overlong line) as it is found. */
  onFinding?: (f: SpedFinding) => void;
}

/** Iterates the records of a source, passing reader findings to `onFinding` as they appear. */
export async function forEachRecord(
  source: SpedSource,
  options: ConvertOptions,
  each: (record: SpedRecord, info: SpedReadInfo) => Promise<void> | void,
): Promise<{ info: SpedReadInfo; findingCount: number }> {
  const { records, info, findings } = readSped(source, options);
  let findingCount = 0;
  const pass = (): void => {
    if (findings.length === 0) return;
    for (const f of findings.splice(0)) {
      findingCount++;
      options.onFinding?.(f);
    }
  };
  for await (const record of records) {
    pass();
    const p = each(record, info);
    if (p) await p;
  }
  pass();
  return { info, findingCount };
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

