/** Buffer chunks from a path, stdin or any Readable/async iterable: the input side of every SPED reader. */
import { closeSync, openSync, promises as fsp, readSync } from 'node:fs';
import { ioError, UsageError } from '../errors.js';
import type { SpedSource } from './reader.js';

/**
 * Yields the source's bytes as Buffers (1 MiB reads for a path, from byte `start` when given, up to byte `end`
 * exclusive when given); a path that cannot be opened or read is a SourceError. Only a path can start elsewhere
 * than at its first byte or stop before its last.
 */
export async function* readChunks(source: SpedSource, start = 0, end?: number): AsyncGenerator<Buffer> {
  if (typeof source !== 'string') {
    if (start !== 0 || end !== undefined) throw new UsageError('byte ranges (start/end) need a file path', 'SPED_RANGE_NEEDS_PATH');
    for await (const chunk of source) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    return;
  }
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(source, 'r');
  } catch (err) {
    throw ioError(err, source, 'open');
  }
  if (end !== undefined && end <= start) {
    await handle.close();
    return;
  }
  const stream = handle.createReadStream({ start, ...(end !== undefined ? { end: end - 1 } : {}), highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    throw ioError(err, source, 'read');
  } finally {
    stream.destroy();
  }
}

/**
 * `readChunks` for a path, synchronously: for a pool job, whose worker has nothing else to do meanwhile. A job that
 * never waits on I/O runs to its end before the worker takes the next one queued to it, instead of interleaving
 * with it (two ranges half as fast each, and the last ones unbalanced across the workers).
 */
export function* readChunksSync(path: string, start = 0, end?: number): Generator<Buffer> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw ioError(err, path, 'open');
  }
  try {
    for (let pos = start; end === undefined || pos < end; ) {
      const want = end === undefined ? 1 << 20 : Math.min(1 << 20, end - pos);
      const buf = Buffer.allocUnsafe(want);
      let n: number;
      try {
        n = readSync(fd, buf, 0, want, pos);
      } catch (err) {
        throw ioError(err, path, 'read');
      }
      if (n === 0) return;
      pos += n;
      yield n === want ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}
