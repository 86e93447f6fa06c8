/**
 * Document sources for NF-e/NFC-e XML: a file, a directory tree, a .zip archive, or concatenated documents on
 * stdin. Each document comes out with its ORIGINAL bytes (never re-encoded: the signature verifier needs them
 * as they were), its source name and the encoding its XML declaration gives, in input order.
 *
 * Reads run ahead of the consumer (read-ahead.ts): while one document is being parsed, the next few files or
 * zip entries are being read, at most `readAhead` of them and `readAheadBytes` bytes at a time, so memory stays
 * flat whatever the size of the batch and the CPU does not wait for the disk.
 *
 * Failures that concern one document (an oversized entry, a `../` entry name, an unreadable file inside a
 * directory) come out as `{ ok: false, finding }` items, at the document's place, and the batch goes on. A
 * source that cannot be opened at all (a missing path given on the command line) throws a SourceError (exit 2)
 * once every document before it has come out.
 */
import { close, closeSync, fstat, fstatSync, open, openSync, read, readSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { ioError, UsageError } from '../errors.js';
import { finding, type NfeFinding } from './findings.js';
import { readAhead, type Planned, type ReadGrant } from './read-ahead.js';
import { DocumentSplitter } from './split-documents.js';

/** Encodings NF-e documents come in. Other declared encodings are reported as `unsupported:<name>`. */
export type XmlEncoding = 'utf-8' | 'iso-8859-1' | 'windows-1252' | `unsupported:${string}`;

export interface XmlDocument {
  readonly ok: true;
  /** `path`, `archive.zip!dir/entry.xml`, or `-#3` (third document on stdin). */
  readonly source: string;
  /** The document's bytes exactly as stored (BOM included when present). */
  readonly bytes: Buffer;
  readonly encoding: XmlEncoding;
}

export interface XmlSourceFailure {
  readonly ok: false;
  readonly source: string;
  readonly finding: NfeFinding;
}

export type XmlSourceItem = XmlDocument | XmlSourceFailure;

/**
 * A file left for its reader to read (`deferFiles`): a pool worker reads it (readFileItemSync) instead of the
 * main thread, whose open, fstat, read and close round trips were what bounded a batch of many small files.
 */
export interface XmlDeferredFile {
  readonly ok: 'deferred';
  readonly source: string;
  /** The per-document byte cap to read it with. */
  readonly cap: number;
}

export interface ReadXmlOptions {
  /** Per-document byte cap (also the cap on a zip entry's uncompressed size). Default 64 MiB. */
  readonly maxDocumentBytes?: number;
  /** The stream read for the source `-`. Default process.stdin. */
  readonly stdin?: Readable;
  /** Documents read ahead of the consumer (files or zip entries in flight or waiting). Default 8; 1 reads one at a time. */
  readonly readAhead?: number;
  /**
   * Bytes those documents may hold together. Default 16 MiB. A document larger than this is still read (up to
   * `maxDocumentBytes`), alone, when its turn comes.
   */
  readonly readAheadBytes?: number;
  /**
   * Ends the reading early: once aborted no further document comes out, and a `next()` already waiting (for
   * stdin's next bytes, say) resolves done after the reads in flight have settled.
   */
  readonly signal?: AbortSignal;
}

export interface ReadXmlSourcesOptions extends ReadXmlOptions {
  /** Files (not zip entries, not stdin) come as XmlDeferredFile, unread. */
  readonly deferFiles?: boolean;
}

export const DEFAULT_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_READ_AHEAD = 8;
export const DEFAULT_READ_AHEAD_BYTES = 16 * 1024 * 1024;

interface Normalized {
  deferFiles: boolean;
  maxDocumentBytes: number;
  stdin: Readable;
  readAhead: number;
  readAheadBytes: number;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0) throw new UsageError(`${name} must be a positive integer, got ${String(v)}`, 'NFE_OPTION_INVALID');
  return v;
}

function normalize(options: ReadXmlSourcesOptions): Normalized {
  return {
    deferFiles: options.deferFiles === true,
    maxDocumentBytes: positive(options.maxDocumentBytes, DEFAULT_MAX_DOCUMENT_BYTES, 'maxDocumentBytes'),
    stdin: options.stdin ?? process.stdin,
    readAhead: positive(options.readAhead, DEFAULT_READ_AHEAD, 'readAhead'),
    readAheadBytes: positive(options.readAheadBytes, DEFAULT_READ_AHEAD_BYTES, 'readAheadBytes'),
  };
}

type Plan = AsyncGenerator<Planned<XmlSourceItem | XmlDeferredFile>, void, undefined>;

/**
 * Reads every document of the given sources, in order: for each source a file, every `.xml`/`.zip` file of a
 * directory tree (sorted by name, depth first), every `.xml` entry of a zip, or the documents on stdin (`-`).
 */
export function readXmlDocuments(sources: string | readonly string[] | AsyncIterable<string>, options: ReadXmlOptions = {}): AsyncGenerator<XmlSourceItem> {
  return readXmlSources(sources, { ...options, deferFiles: false }) as AsyncGenerator<XmlSourceItem>;
}

/** readXmlDocuments, with files left unread for a pool worker when `deferFiles` is set. */
export function readXmlSources(sources: string | readonly string[] | AsyncIterable<string>, options: ReadXmlSourcesOptions = {}): AsyncGenerator<XmlSourceItem | XmlDeferredFile> {
  const opts = normalize(options);
  const list = typeof sources === 'string' ? [sources] : Symbol.asyncIterator in sources ? sources : [...sources];
  return readAhead((signal) => planSources(list, opts, signal), { count: opts.readAhead, bytes: opts.readAheadBytes }, options.signal);
}

const ready = (item: XmlSourceItem): Planned<XmlSourceItem> => ({ ready: item, bytes: item.ok ? item.bytes.length : 0 });

async function* planSources(sources: readonly string[] | AsyncIterable<string>, opts: Normalized, signal: AbortSignal): Plan {
  for await (const src of sources) {
    if (signal.aborted) return;
    if (src === '-') {
      for await (const item of readConcatenated(opts.stdin, '-', opts.maxDocumentBytes, signal)) yield ready(item);
      continue;
    }
    let st;
    try {
      st = await fsp.stat(src);
    } catch (err) {
      throw ioError(err, src, 'open');
    }
    if (st.isDirectory()) yield* planDirectory(src, opts, signal);
    else yield* planPath(src, opts, signal);
  }
}

/** A file of a tree walk, or a directory of it that cannot be read. */
export type WalkedFile = { readonly path: string } | { readonly dir: string; readonly error: unknown };

/**
 * The files of a directory tree whose name `accept`s, sorted by name within each directory, depth first. Symbolic
 * links and other special files are skipped: a tree walk never follows links (no loops, no escapes).
 */
export async function* walkTree(dir: string, accept: (name: string) => boolean, signal?: AbortSignal): AsyncGenerator<WalkedFile> {
  let listing: Listing;
  try {
    listing = await listDirectory(dir, accept);
  } catch (error) {
    yield { dir, error };
    return;
  }
  // the two sorted lists merged: every name in order, a subdirectory walked where its name comes
  const { files, dirs } = listing;
  for (let f = 0, d = 0; f < files.length || d < dirs.length; ) {
    if (signal?.aborted) return;
    const file = f < files.length ? files.name(f) : null;
    if (file === null || (d < dirs.length && dirs[d]! < file)) yield* walkTree(join(dir, dirs[d++]!), accept, signal);
    else {
      f++;
      yield { path: join(dir, file) };
    }
  }
}

/** One directory's accepted files and its subdirectories, each sorted by name. */
interface Listing {
  files: PackedNames;
  dirs: string[];
}

/**
 * Lists one directory entry by entry, keeping only names, and packs the file names into one buffer: a folder of
 * half a million notes then holds about 15 bytes a file off the JavaScript heap while it is read, instead of a
 * string (or a Dirent) per file that the collector would carry, and size its heap by, for the whole run.
 */
async function listDirectory(dir: string, accept: (name: string) => boolean): Promise<Listing> {
  const files: string[] = [];
  const dirs: string[] = [];
  for await (const e of await fsp.opendir(dir, { bufferSize: 256 })) {
    if (e.isDirectory()) dirs.push(e.name);
    else if (e.isFile() && accept(e.name)) files.push(e.name);
  }
  // the default sort compares UTF-16 code units, as `<` does
  return { files: new PackedNames(files.sort()), dirs: dirs.sort() };
}

/** A list of names as UTF-8 bytes in one buffer, in the order given. */
class PackedNames {
  private readonly bytes: Buffer;
  /** Name i is bytes [ends[i - 1] (0 for the first), ends[i]). */
  private readonly ends: Int32Array;

  constructor(names: readonly string[]) {
    let total = 0;
    for (const n of names) total += Buffer.byteLength(n, 'utf8');
    this.bytes = Buffer.allocUnsafe(total);
    this.ends = new Int32Array(names.length);
    let at = 0;
    for (let i = 0; i < names.length; i++) {
      at += this.bytes.write(names[i]!, at, 'utf8');
      this.ends[i] = at;
    }
  }

  get length(): number {
    return this.ends.length;
  }

  name(i: number): string {
    return this.bytes.toString('utf8', i === 0 ? 0 : this.ends[i - 1]!, this.ends[i]!);
  }
}

/** What a walk for NF-e documents takes: `.xml` and `.zip` files. */
export const isXmlOrZipName = (name: string): boolean => /\.(xml|zip)$/i.test(name);

async function* planDirectory(dir: string, opts: Normalized, signal: AbortSignal): Plan {
  for await (const f of walkTree(dir, isXmlOrZipName, signal)) {
    if ('error' in f) yield ready(failure(f.dir, 'NFE_SOURCE_ERROR', ioError(f.error, f.dir, 'read').message));
    else yield* planPath(f.path, opts, signal);
  }
}

async function* planPath(path: string, opts: Normalized, signal: AbortSignal): Plan {
  if (/\.zip$/i.test(path)) yield* planZip(path, opts, signal);
  else if (opts.deferFiles) yield { ready: { ok: 'deferred', source: path, cap: opts.maxDocumentBytes }, bytes: 0 };
  else yield { start: (grant) => readFileItem(path, opts.maxDocumentBytes, grant) };
}

/**
 * One file: open, fstat (the cap and the memory reservation need the size first), read, close — callback fs,
 * one thread-pool round trip per step. The handle is closed before the promise settles.
 */
function readFileItem(path: string, cap: number, grant: ReadGrant): Promise<XmlSourceItem> {
  const failed = (err: unknown): XmlSourceItem => failure(path, 'NFE_SOURCE_ERROR', ioError(err, path, 'read').message);
  return new Promise((resolve) => {
    open(path, 'r', (err, fd) => {
      if (err) return resolve(failed(err));
      const finish = (item: XmlSourceItem): void => close(fd, () => resolve(item));
      fstat(fd, (err2, st) => {
        if (err2) return finish(failed(err2));
        // a regular file is read in one call of its size; anything else (a pipe given by name) to its end
        const regular = st.isFile();
        if (regular && st.size > cap) return finish(failure(path, 'NFE_TOO_LARGE', `document is ${st.size} bytes, over the cap of ${cap}`));
        void grant.reserve(regular ? st.size : cap).then((granted) => {
          if (!granted) return finish(failure(path, 'NFE_SOURCE_ERROR', 'read cancelled'));
          readAll(fd, regular ? st.size : 65536, regular, cap, (err3, bytes) => {
            if (err3) finish(failed(err3));
            else if (bytes === null) finish(failure(path, 'NFE_TOO_LARGE', `document is over the cap of ${cap} bytes`));
            else finish(doc(path, bytes));
          });
        });
      });
    });
  });
}

/** readFileItem without the thread-pool round trips, for a thread that may block (a pool worker). */
export function readFileItemSync(path: string, cap: number): XmlSourceItem {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return failure(path, 'NFE_SOURCE_ERROR', ioError(err, path, 'read').message);
  }
  try {
    const st = fstatSync(fd);
    if (st.isFile() && st.size > cap) return failure(path, 'NFE_TOO_LARGE', `document is ${st.size} bytes, over the cap of ${cap}`);
    let buf = Buffer.allocUnsafe(st.isFile() ? st.size : 65536);
    let filled = 0;
    for (;;) {
      if (filled === buf.length) {
        if (st.isFile()) break;
        if (buf.length >= cap + 1) return failure(path, 'NFE_TOO_LARGE', `document is over the cap of ${cap} bytes`);
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, cap + 1));
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const n = readSync(fd, buf, filled, buf.length - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    if (filled > cap) return failure(path, 'NFE_TOO_LARGE', `document is over the cap of ${cap} bytes`);
    return doc(path, filled === buf.length ? buf : buf.subarray(0, filled));
  } catch (err) {
    return failure(path, 'NFE_SOURCE_ERROR', ioError(err, path, 'read').message);
  } finally {
    closeSync(fd);
  }
}

/** Reads `fd` from its start: `size` bytes of a regular file, else chunk by chunk to the end (null past the cap). */
function readAll(fd: number, size: number, regular: boolean, cap: number, cb: (err: Error | null, bytes: Buffer | null) => void): void {
  let buf = Buffer.allocUnsafe(size);
  let filled = 0;
  const step = (): void => {
    if (regular && filled === buf.length) return cb(null, buf);
    if (!regular && filled === buf.length) {
      if (buf.length >= cap + 1) return cb(null, null);
      const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, cap + 1));
      buf.copy(bigger, 0, 0, filled);
      buf = bigger;
    }
    read(fd, buf, filled, buf.length - filled, filled, (err, n) => {
      if (err) return cb(err, null);
      if (n === 0) return cb(null, filled > cap ? null : buf.subarray(0, filled));
      filled += n;
      step();
    });
  };
  step();
}

function doc(source: string, bytes: Buffer): XmlDocument {
  return { ok: true, source, bytes, encoding: detectEncoding(bytes) };
}

function failure(source: string, code: NfeFinding['code'], message: string): XmlSourceFailure {
  return { ok: false, source, finding: finding(code, source, message) };
}

// ---------------------------------------------------------------------------------------------------------
// encoding

const DECL_ENCODING = /^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/;

/** The encoding of a document: BOM first, then the XML declaration, else UTF-8 (the XML default). */
export function detectEncoding(bytes: Uint8Array): XmlEncoding {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) return 'unsupported:utf-16';
  let start = 0;
  while (start < bytes.length && (bytes[start] === 0x20 || bytes[start] === 0x0a || bytes[start] === 0x0d || bytes[start] === 0x09)) start++;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.min(200, bytes.length - start)).toString('latin1');
  const m = DECL_ENCODING.exec(head);
  if (!m) return 'utf-8';
  const name = m[1]!.toLowerCase();
  if (name === 'utf-8' || name === 'utf8') return 'utf-8';
  if (name === 'iso-8859-1' || name === 'latin1' || name === 'iso8859-1' || name === 'latin-1') return 'iso-8859-1';
  if (name === 'windows-1252' || name === 'cp1252') return 'windows-1252';
  if (name === 'us-ascii' || name === 'ascii') return 'utf-8';
  return `unsupported:${name}`;
}

// ---------------------------------------------------------------------------------------------------------
// zip

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    // autoClose off: entries read ahead may still be opening their streams when the listing ends; the plan
    // closes the archive once the listing is over and no entry read is left (see planZip)
    yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) reject(err ?? new Error('cannot open zip'));
      else resolve(zip);
    });
  });
}

/** Why a zip entry name is refused (absolute, drive letter, `..` segment, NUL), or null when it is fine. */
export function zipEntryNameProblem(name: string): string | null {
  if (name.includes('\0')) return 'NUL character in the entry name';
  const n = name.replace(/\\/g, '/');
  if (n.startsWith('/') || /^[A-Za-z]:/.test(n)) return 'absolute entry name';
  if (n.split('/').includes('..')) return '`..` segment in the entry name';
  return null;
}

async function* planZip(path: string, opts: Normalized, signal: AbortSignal): Plan {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(path);
  } catch (err) {
    yield ready(failure(path, 'NFE_ZIP_ERROR', `cannot read zip archive: ${(err as Error).message}`));
    return;
  }
  // the archive stays open while its listing goes on or an entry read started from it has not settled
  let listing = true;
  let reading = 0;
  const closed = new Promise<void>((resolve) => {
    zip.once('close', () => resolve());
    // closing the file failed: nothing more will come
    zip.on('error', () => {
      if (!zip.isOpen) resolve();
    });
  });
  const closeWhenIdle = (): void => {
    if (!listing && reading === 0 && zip.isOpen) zip.close();
  };
  // one pending promise at a time: the next entry, the end, or an error; a stop ends the wait
  let settle: ((v: yauzl.Entry | null | Error) => void) | null = null;
  let queued: yauzl.Entry | null | Error | undefined;
  const deliver = (v: yauzl.Entry | null | Error): void => {
    if (settle) {
      const s = settle;
      settle = null;
      s(v);
    } else queued = v;
  };
  const onAbort = (): void => deliver(null);
  signal.addEventListener('abort', onAbort);
  zip.on('entry', (e: yauzl.Entry) => deliver(e));
  zip.on('end', () => deliver(null));
  zip.on('error', (err: Error) => deliver(err));
  const next = (): Promise<yauzl.Entry | null | Error> => {
    if (signal.aborted) return Promise.resolve(null);
    if (queued !== undefined) {
      const v = queued;
      queued = undefined;
      return Promise.resolve(v);
    }
    return new Promise((resolve) => {
      settle = resolve;
    });
  };
  try {
    zip.readEntry();
    for (;;) {
      const entry = await next();
      if (entry === null) return;
      if (entry instanceof Error) {
        yield ready(failure(path, 'NFE_ZIP_ERROR', `zip archive is damaged: ${entry.message}`));
        return;
      }
      const raw = entry.fileName as unknown as Buffer;
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false);
      const source = `${path}!${name}`;
      const problem = zipEntryNameProblem(name);
      if (problem) {
        yield ready(failure(source, 'NFE_ZIP_ENTRY_REFUSED', `zip entry refused: ${problem}`));
      } else if (name.endsWith('/') || !/\.xml$/i.test(name)) {
        // directories and non-XML entries are skipped
      } else if (entry.isEncrypted()) {
        yield ready(failure(source, 'NFE_ZIP_ENTRY_REFUSED', 'zip entry refused: encrypted'));
      } else if (entry.uncompressedSize > opts.maxDocumentBytes) {
        yield ready(failure(source, 'NFE_TOO_LARGE', `zip entry expands to ${entry.uncompressedSize} bytes, over the cap of ${opts.maxDocumentBytes}`));
      } else {
        yield {
          start: (grant) => {
            reading++;
            return readEntryItem(zip, entry, source, opts.maxDocumentBytes, grant).finally(() => {
              reading--;
              closeWhenIdle();
            });
          },
        };
      }
      zip.readEntry();
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    listing = false;
    closeWhenIdle();
    // the plan ends once the archive is closed: the last entry read still running closes it when it settles
    // (an entry read is never cut short, see readEntryItem), so the batch's end means no handle is left
    await closed;
  }
}

/** One zip entry, its memory reserved from the directory's size; what really comes out is counted (zip bombs). */
async function readEntryItem(zip: yauzl.ZipFile, entry: yauzl.Entry, source: string, cap: number, grant: ReadGrant): Promise<XmlSourceItem> {
  if (!(await grant.reserve(entry.uncompressedSize))) return failure(source, 'NFE_ZIP_ERROR', 'read cancelled');
  const r = await new Promise<Buffer | string>((resolve) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) {
        resolve(err?.message ?? 'no stream');
        return;
      }
      const parts: Buffer[] = [];
      let total = 0;
      // what the read gives once the stream has ended: its bytes, or why it stopped early
      let outcome: Buffer | string | null = null;
      // A stop never destroys the stream: destroying a yauzl entry stream while its next read waits in the
      // archive's read queue (another entry being read at the same time) crashes yauzl (fd-slicer reads from the
      // stream's released context). The stream runs to its end instead, its bytes dropped; that is bounded by
      // the entry's declared size (yauzl fails an entry that inflates to more: validateEntrySizes), itself under
      // the cap.
      const stop = (why: string): void => {
        if (outcome !== null) return;
        outcome = why;
        parts.length = 0;
        grant.signal.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => stop('read cancelled');
      grant.signal.addEventListener('abort', onAbort);
      stream.on('data', (b: Buffer) => {
        if (outcome !== null) return;
        total += b.length;
        // the declared size can lie: count what really comes out (zip-bomb defence)
        if (total > cap) {
          stop(`over the cap of ${cap} bytes`);
          return;
        }
        parts.push(b);
      });
      stream.on('error', (e: Error) => {
        stop(e.message);
        resolve(outcome!);
      });
      stream.on('end', () => {
        if (outcome === null) {
          outcome = Buffer.concat(parts, total);
          grant.signal.removeEventListener('abort', onAbort);
        }
        resolve(outcome);
      });
    });
  });
  if (typeof r !== 'string') return doc(source, r);
  return r.startsWith('over') ? failure(source, 'NFE_TOO_LARGE', `zip entry expands ${r}`) : failure(source, 'NFE_ZIP_ERROR', `zip entry cannot be read: ${r}`);
}

// ---------------------------------------------------------------------------------------------------------
// concatenated documents (stdin)

/** The chunks of a stream, ending early (without waiting for more bytes) once `signal` is aborted. */
async function* untilAborted(stream: Readable, signal: AbortSignal | undefined): AsyncGenerator<unknown> {
  if (!signal) {
    yield* stream;
    return;
  }
  const it = stream[Symbol.asyncIterator]();
  // one abort listener per wait, removed when the chunk comes: a Promise.race against one long-lived "aborted"
  // promise would add a reaction to it per chunk, each keeping its chunk alive until the end of the stream
  const next = (): Promise<IteratorResult<unknown> | null> =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return resolve(null);
      const onAbort = (): void => resolve(null);
      signal.addEventListener('abort', onAbort, { once: true });
      it.next().then(
        (r) => { signal.removeEventListener('abort', onAbort); resolve(r); },
        (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
      );
    });
  try {
    for (;;) {
      const r = await next();
      if (r === null || r.done) return;
      yield r.value as unknown;
    }
  } finally {
    void it.return?.();
  }
}

/** Where a stream of concatenated documents starts in its file, and who hears where each document ends. */
export interface ConcatenatedPosition {
  /** Documents before the stream's first byte: the first one read is `NAME#(ordinal + 1)` (default 0). */
  readonly ordinal?: number;
  /** The file offset of the stream's first byte (default 0). */
  readonly offset?: number;
  /** Called with the file offset just past each document, before it is yielded. */
  readonly onDocumentEnd?: (end: number) => void;
}

/**
 * The documents of a byte stream of concatenated XML documents, split where one ends and the next begins
 * (split-documents.ts): `NAME#1`, `NAME#2`… Each over `maxDocumentBytes` is an NFE_TOO_LARGE failure (its bytes
 * are not kept); a document unfinished at the end of the stream is yielded as it is (the parser reports it).
 */
export async function* readConcatenated(
  stream: Readable,
  name: string,
  maxDocumentBytes: number = DEFAULT_MAX_DOCUMENT_BYTES,
  signal?: AbortSignal,
  position: ConcatenatedPosition = {},
): AsyncGenerator<XmlSourceItem> {
  let ordinal = position.ordinal ?? 0;
  let base = position.offset ?? 0; // stream offset of the chunk's first byte
  let parts: Buffer[] = [];
  let size = 0;
  let oversized = false;
  const splitter = new DocumentSplitter();
  const pieces: number[] = [];

  const finish = (): XmlSourceItem => {
    ordinal++;
    const source = `${name}#${ordinal}`;
    const out: XmlSourceItem = oversized
      ? failure(source, 'NFE_TOO_LARGE', `document is ${size} bytes, over the cap of ${maxDocumentBytes}`)
      : doc(source, parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
    parts = [];
    size = 0;
    oversized = false;
    return out;
  };
  const keep = (chunk: Buffer, from: number, to: number): void => {
    size += to - from;
    if (oversized) return;
    if (size > maxDocumentBytes) {
      oversized = true;
      parts = [];
      return;
    }
    parts.push(chunk.subarray(from, to));
  };

  for await (const c of untilAborted(stream, signal)) {
    const chunk: Buffer = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    pieces.length = 0;
    splitter.scan(chunk, pieces);
    for (let p = 0; p < pieces.length; p += 3) {
      keep(chunk, pieces[p]!, pieces[p + 1]!);
      if (pieces[p + 2] === 1) {
        position.onDocumentEnd?.(base + pieces[p + 1]!);
        yield finish();
      }
    }
    base += chunk.length;
  }
  if (splitter.inDocument && size > 0) {
    position.onDocumentEnd?.(base);
    yield finish();
  }
}
