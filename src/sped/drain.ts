/**
 * Shared plumbing of the conversions: records from `readSped` with reader findings handed on as they appear
 * (never accumulated), and waiting for a stream's drain.
 */
import type { Writable } from 'node:stream';
import type { SpedFinding } from './findings.js';
import { readSped, type SpedReadInfo, type SpedReadOptions, type SpedSource } from './reader.js';
import type { SpedRecord } from './record.js';

export interface ConvertOptions extends SpedReadOptions {
  /** Receives each reader finding (line format, blank line, encoding, overlong line) as it is found. */
  onFinding?: (f: SpedFinding) => void;
}

/** Iterates the records of a source, passing reader findings to `onFinding` as they appear. */
export async function forEachRecord(
  source: SpedSource,
  options: ConvertOptions,
  each: (record: SpedRecord) => Promise<void> | void,
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
    const p = each(record);
    if (p) await p;
  }
  pass();
  return { info, findingCount };
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

