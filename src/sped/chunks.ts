/** Buffer chunks from a path, stdin or any Readable/async iterable: the input side of every SPED reader. */
import { promises as fsp } from 'node:fs';
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
