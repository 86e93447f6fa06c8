/** Buffer chunks from a path, stdin or any Readable/async iterable: the input side of stats and from-jsonl. */
import { promises as fsp } from 'node:fs';
import { ioError } from '../errors.js';
import type { SpedSource } from './reader.js';

/** Yields the source's bytes as Buffers (1 MiB reads for a path); a path that cannot be opened is a SourceError. */
export async function* readChunks(source: SpedSource): AsyncGenerator<Buffer> {
  if (typeof source !== 'string') {
    for await (const chunk of source) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    return;
  }
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(source, 'r');
  } catch (err) {
    throw ioError(err, source, 'open');
  }
  const stream = handle.createReadStream({ highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    throw ioError(err, source, 'read');
  } finally {
    stream.destroy();
  }
}
