/**
 * A task's input and output locations: local paths, `file://` URLs and `http(s)://` URLs (undici).
 *
 * - Inputs are read once to get their SHA-256 (the key needs it before any work): a local file is hashed where it
 *   is; an HTTP input is a streamed GET into a temporary file beside the ledger's work directory, hashed as it
 *   comes (never held in memory).
 * - Local outputs are written under a temporary name beside the target, named from the task key
 *   (`.NAME.<16 hex>.partial`), fsynced, renamed over the target and the directory fsynced: a reader sees the old
 *   file, or none, or the whole new one. A directory output (sped.to-csv) is built as a partial directory and
 *   renamed the same way. The partial is kept when the process dies, so that a later attempt can resume it.
 * - HTTP outputs are a streamed PUT of the finished partial file (presigned object-store URLs work as they are).
 * - HTTP requests time out (headers and body) and are retried with exponential backoff on network errors only
 *   (connection refused or reset, a timeout, a body cut short); an HTTP status is an answer and is never retried
 *   (404 → TASK_INPUT, a refused PUT → TASK_OUTPUT).
 */
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { makeDir } from '../common/make-dir.js';
import { SourceError } from '../errors.js';
import { TaskError, sha256Hex } from './task.js';

export type TaskLocation =
  | { readonly kind: 'file'; readonly path: string; readonly display: string }
  | { readonly kind: 'http'; readonly url: string; readonly display: string };

/** A location from a task's `input` or `output`: a path, `file://…` or `http(s)://…`; another scheme is malformed. */
export function parseLocation(value: string, field: 'input' | 'output'): TaskLocation {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'file', path: value, display: value };
  if (scheme === 'file') {
    let path: string;
    try {
      path = fileURLToPath(value);
    } catch (err) {
      throw new TaskError('TASK_MALFORMED', `$.${field}: ${(err as Error).message}`);
    }
    return { kind: 'file', path, display: path };
  }
  if (scheme === 'http' || scheme === 'https') {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new TaskError('TASK_MALFORMED', `$.${field}: not a valid URL`);
    }
    // what messages and outputs may show: no user info, no query (a presigned URL's signature), no fragment
    return { kind: 'http', url: url.href, display: `${url.protocol}//${url.host}${url.pathname}` };
  }
  throw new TaskError('TASK_MALFORMED', `$.${field}: the scheme ${scheme}: is not supported (a path, file://, http:// or https://)`);
}

/** What names an output in the key: its absolute path, or its URL without user info, query or fragment. */
export function outputIdentity(loc: TaskLocation): string {
  return loc.kind === 'file' ? resolve(loc.path) : loc.display;
}

export interface HttpOptions {
  /** Headers and body inactivity timeout of each request, ms. Default 30 000. */
  readonly timeoutMs?: number;
  /** Attempts after the first on a network error. Default 3. */
  readonly retries?: number;
  /** The first backoff, doubled at each retry, ms. Default 200. */
  readonly backoffMs?: number;
  readonly signal?: AbortSignal;
}

const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** A failure worth another try: the network, not an answer. */
export function isNetworkError(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
    if (e instanceof Error && e.message === 'terminated') return true;
  }
  return false;
}

/** An HTTP answer that is not 2xx: never retried. */
class HttpStatusError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function withRetries<T>(opts: HttpOptions, attempt: () => Promise<T>): Promise<T> {
  const retries = opts.retries ?? 3;
  let wait = opts.backoffMs ?? 200;
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= retries || !isNetworkError(err) || opts.signal?.aborted) throw err;
      await sleep(wait, undefined, opts.signal ? { signal: opts.signal } : {});
      wait *= 2;
    }
  }
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code;
  return `${e?.message ?? String(err)}${code && !String(e?.message).includes(code) ? ` (${code})` : ''}`;
}

function hasher(): { transform: Transform; digest: () => { sha256: string; bytes: number } } {
  const hash = createHash('sha256');
  let bytes = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return { transform, digest: () => ({ sha256: hash.digest('hex'), bytes }) };
}

/** SHA-256 and size of a local file, streamed. */
export async function hashFile(path: string, signal?: AbortSignal): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** An input ready to read: a local file, its digest, and the name messages and outputs use. */
export interface FetchedInput {
  /** The local file to read. */
  readonly path: string;
  /** The input as the task gave it (an HTTP URL without its query). */
  readonly display: string;
  readonly sha256: string;
  readonly bytes: number;
  /** True when `path` is a temporary download (moved or removed by the runner). */
  readonly downloaded: boolean;
}

/** Fetches (HTTP) or hashes (local) an input. Any failure is TASK_INPUT. */
export async function fetchInput(loc: TaskLocation, workDir: string, opts: HttpOptions = {}): Promise<FetchedInput> {
  if (loc.kind === 'file') {
    try {
      const st = await fsp.stat(loc.path);
      if (!st.isFile()) throw new TaskError('TASK_INPUT', `cannot read ${loc.display}: ${st.isDirectory() ? 'is a directory (a task reads one file)' : 'not a regular file'}`);
      return { path: loc.path, display: loc.display, ...(await hashFile(loc.path, opts.signal)), downloaded: false };
    } catch (err) {
      if (err instanceof TaskError) throw err;
      throw new TaskError('TASK_INPUT', `cannot read ${loc.display}: ${ioReason(err)}`, { cause: err });
    }
  }
  try {
    await makeDir(workDir);
  } catch (err) {
    throw new TaskError('TASK_INPUT', `cannot download ${loc.display}: ${(err as Error).message}`);
  }
  const tmp = join(workDir, `.${randomBytes(8).toString('hex')}.download`);
  try {
    const digest = await withRetries(opts, async () => {
      const res = await request(loc.url, {
        method: 'GET',
        headersTimeout: opts.timeoutMs ?? 30_000,
        bodyTimeout: opts.timeoutMs ?? 30_000,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      if (res.statusCode < 200 || res.statusCode > 299) {
        res.body.resume();
        throw new HttpStatusError(res.statusCode, `GET ${loc.display} answered ${res.statusCode}`);
      }
      const h = hasher();
      await pipeline(res.body, h.transform, createWriteStream(tmp));
      const d = h.digest();
      const expected = Number(res.headers['content-length']);
      if (Number.isFinite(expected) && expected !== d.bytes) {
        throw Object.assign(new Error(`body cut short: ${d.bytes} of ${expected} bytes`), { code: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' });
      }
      return d;
    });
    return { path: tmp, display: loc.display, ...digest, downloaded: true };
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    if (err instanceof HttpStatusError) throw new TaskError('TASK_INPUT', err.message);
    throw new TaskError('TASK_INPUT', `cannot fetch ${loc.display}: ${reason(err)}`, { cause: err });
  }
}

function ioReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' ? 'no such file or directory'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'ENOTDIR' || code === 'EEXIST' ? 'a part of the path is not a directory'
    : code === 'EROFS' ? 'read-only file system'
    : code === 'ENOSPC' ? 'no space left on the device'
    : reason(err);
}

/** TASK_OUTPUT for a failed output operation. */
export function outputError(display: string, err: unknown): TaskError {
  if (err instanceof TaskError) return err;
  if (err instanceof SourceError) return new TaskError('TASK_OUTPUT', `cannot write ${display}: ${ioReason(err.cause)}`, { cause: err });
  return new TaskError('TASK_OUTPUT', `cannot write ${display}: ${ioReason(err)}`, { cause: err });
}

/** The partial output's name beside the target: `.NAME.<16 hex of the key's SHA-256>.partial`. */
export function partialPathFor(target: string, key: string): string {
  return join(dirname(target), `.${basename(target)}.${sha256Hex(key).slice(0, 16)}.partial`);
}

/** fsync of a file or directory by path. */
export async function syncPath(path: string): Promise<void> {
  const handle = await fsp.open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Renames a finished partial file over the target (fsync, rename, fsync of the directory). */
export async function commitFile(partial: string, target: string): Promise<void> {
  await syncPath(partial);
  await fsp.rename(partial, target);
  await syncPath(dirname(target));
}

/**
 * Renames a finished partial directory over the target: its files and itself fsynced, an existing target moved
 * aside first (a directory cannot be renamed over a non-empty one) and removed after.
 */
export async function commitDirectory(partial: string, target: string): Promise<void> {
  for (const name of await fsp.readdir(partial)) await syncPath(join(partial, name));
  await syncPath(partial);
  const old = `${partial}.old`;
  await fsp.rm(old, { recursive: true, force: true });
  let moved = false;
  try {
    await fsp.rename(target, old);
    moved = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fsp.rename(partial, target);
  await syncPath(dirname(target));
  if (moved) await fsp.rm(old, { recursive: true, force: true });
}

/** SHA-256 and size of a directory output: over `name NUL sha256 NUL bytes LF` of its files, sorted by name. */
export async function hashDirectory(dir: string): Promise<{ sha256: string; bytes: number; files: number }> {
  const names = (await fsp.readdir(dir)).sort();
  const listing = createHash('sha256');
  let bytes = 0;
  for (const name of names) {
    const f = await hashFile(join(dir, name));
    bytes += f.bytes;
    listing.update(`${name}\0${f.sha256}\0${f.bytes}\n`);
  }
  return { sha256: listing.digest('hex'), bytes, files: names.length };
}

/** A streamed PUT of a local file. A non-2xx answer or a network failure after the retries is TASK_OUTPUT. */
export async function putFile(path: string, url: string, display: string, opts: HttpOptions = {}): Promise<void> {
  try {
    const { size } = await fsp.stat(path);
    await withRetries(opts, async () => {
      const res = await request(url, {
        method: 'PUT',
        body: createReadStream(path),
        headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
        headersTimeout: opts.timeoutMs ?? 30_000,
        bodyTimeout: opts.timeoutMs ?? 30_000,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      await res.body.dump();
      if (res.statusCode < 200 || res.statusCode > 299) throw new HttpStatusError(res.statusCode, `PUT ${display} answered ${res.statusCode}`);
    });
  } catch (err) {
    if (err instanceof HttpStatusError) throw new TaskError('TASK_OUTPUT', err.message);
    throw new TaskError('TASK_OUTPUT', `cannot PUT ${display}: ${reason(err)}`, { cause: err });
  }
}
