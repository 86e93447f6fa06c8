/** Input/output plumbing shared by every CLI command: `-` as stdin, `-o FILE` written atomically, progress. */
import { createWriteStream, promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import cliProgress from 'cli-progress';
import { ioError, SourceError } from '../errors.js';

export interface InputSource {
  /** Name used in findings: the path, or `-` for stdin. */
  readonly name: string;
  readonly stream: Readable;
  /** Size in bytes when known (regular files), for progress. */
  readonly size: number | null;
}

/** Opens a path (or `-` for stdin). Fails with a SourceError (exit 2) when it cannot be opened. */
export async function openInput(path: string, stdin: Readable = process.stdin): Promise<InputSource> {
  if (path === '-') return { name: '-', stream: stdin, size: null };
  let size: number | null = null;
  try {
    const st = await fsp.stat(path);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    size = st.isFile() ? st.size : null;
    const handle = await fsp.open(path, 'r');
    const stream = handle.createReadStream({ highWaterMark: 1 << 20 });
    return { name: path, stream, size };
  } catch (err) {
    throw ioError(err, path, 'open');
  }
}

export interface Output {
  readonly stream: Writable;
  /** Flushes and, for a file, renames the temporary file into place. */
  commit(): Promise<void>;
  /** Removes the temporary file (a failed run never leaves a half-written file). */
  abort(): Promise<void>;
}

/**
 * An output: stdout when `path` is undefined or `-`; a device, pipe or socket (`-o /dev/null`, a FIFO) written as
 * it is — a temporary file renamed over it would replace the device with a file; else a temporary file beside
 * `path`, renamed on commit.
 */
export async function openOutput(path: string | undefined, stdout: Writable = process.stdout): Promise<Output> {
  if (path === undefined || path === '-') {
    return {
      stream: stdout,
      async commit() {
        if ((stdout as { writableNeedDrain?: boolean }).writableNeedDrain) await once(stdout, 'drain');
      },
      async abort() {},
    };
  }
  const existing = await fsp.stat(path).catch(() => null);
  // a device, pipe or socket: written in place (there is nothing to make atomic)
  if (existing !== null && !existing.isFile() && !existing.isDirectory()) {
    const w = await openWriter(path, path, 'w');
    return { stream: w.stream, commit: () => w.close(), abort: async () => void w.stream.destroy() };
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const w = await openWriter(tmp, path, 'wx');
  return {
    stream: w.stream,
    async commit() {
      try {
        await w.close();
        await fsp.rename(tmp, path);
      } catch (err) {
        await fsp.rm(tmp, { force: true });
        throw err instanceof SourceError ? err : ioError(err, path, 'write');
      }
    },
    async abort() {
      w.stream.destroy();
      await fsp.rm(tmp, { force: true }).catch(() => {});
    },
  };
}

/** A write stream at `file`, open; `close()` ends it and throws the first write error (named by `path`). */
async function openWriter(file: string, path: string, flags: 'w' | 'wx'): Promise<{ stream: Writable; close(): Promise<void> }> {
  const stream = createWriteStream(file, { flags });
  try {
    await once(stream, 'open');
  } catch (err) {
    throw ioError(err, path, 'write');
  }
  let failure: unknown = null;
  stream.on('error', (err) => { failure = err; });
  return {
    stream,
    async close() {
      if (failure) throw ioError(failure, path, 'write');
      stream.end();
      await once(stream, 'close');
      if (failure) throw ioError(failure, path, 'write');
    },
  };
}

/** Writes a chunk, waiting for drain when the stream asks for it (backpressure). */
export async function writeChunk(stream: Writable, chunk: string | Uint8Array): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

export interface Progress {
  update(bytes: number): void;
  stop(): void;
}

/** A byte progress bar on stderr, only when stderr is a TTY and progress is not disabled. */
export function createProgress(total: number | null, enabled: boolean, label = 'reading'): Progress {
  const tty = (process.stderr as { isTTY?: boolean }).isTTY === true;
  if (!enabled || !tty || !total) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {percentage}% | {value_mb}/{total_mb} MB | {eta}s`, hideCursor: true, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  const mb = (n: number): string => (n / 1048576).toFixed(1);
  bar.start(total, 0, { value_mb: '0.0', total_mb: mb(total) });
  let last = 0;
  return {
    update(bytes: number) {
      if (bytes - last < 1 << 22 && bytes < total) return;
      last = bytes;
      bar.update(bytes, { value_mb: mb(bytes), total_mb: mb(total) });
    },
    stop() { bar.stop(); },
  };
}

/**
 * A document counter on stderr for batch commands (`N documents`), only when stderr is a TTY and progress is
 * not disabled; redrawn every 250 documents.
 */
export function createCountProgress(enabled: boolean, label = 'documents'): Progress {
  const tty = (process.stderr as { isTTY?: boolean }).isTTY === true;
  if (!enabled || !tty) return { update() {}, stop() {} };
  let shown = -1;
  let last = 0;
  return {
    update(count: number) {
      last = count;
      if (count - shown < 250) return;
      shown = count;
      process.stderr.write(`\r${label} ${count}`);
    },
    stop() {
      if (shown >= 0) process.stderr.write(`\r${label} ${last}\n`);
    },
  };
}

/** The streams a command writes its report to. */
export interface ReportStreams {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/**
 * Runs a command body with its report going to `-o FILE` (atomically: committed when the body returns, removed
 * when it throws) instead of stdout, and also instead of stderr when `findingsToo` (for commands whose report
 * is their findings). Without a path the streams are unchanged.
 */
export async function withReportOutput<T>(
  io: ReportStreams,
  path: string | undefined,
  findingsToo: boolean,
  body: (io: ReportStreams) => Promise<T>,
): Promise<T> {
  if (path === undefined) return body(io);
  const out = await openOutput(path, io.stdout);
  try {
    const result = await body({ stdin: io.stdin, stdout: out.stream, stderr: findingsToo ? out.stream : io.stderr });
    await out.commit();
    return result;
  } catch (err) {
    await out.abort();
    throw err;
  }
}
