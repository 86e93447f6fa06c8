/**
 * Document sources for NF-e/NFC-e XML: a file, a directory tree, a .zip archive, or concatenated documents on
 * stdin. Each document comes out with its ORIGINAL bytes (never re-encoded: the signature verifier needs them
 * as they were), its source name and the encoding its XML declaration gives. One document at a time: memory
 * stays flat whatever the size of the batch.
 *
 * Failures that concern one document (an oversized entry, a `../` entry name, an unreadable file inside a
 * directory) come out as `{ ok: false, finding }` items and the batch goes on. A source that cannot be opened
 * at all (a missing path given on the command line) throws a SourceError (exit 2).
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { ioError, UsageError } from '../errors.js';
import { finding, type NfeFinding } from './findings.js';

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

export interface ReadXmlOptions {
  /** Per-document byte cap (also the cap on a zip entry's uncompressed size). Default 64 MiB. */
  readonly maxDocumentBytes?: number;
  /** The stream read for the source `-`. Default process.stdin. */
  readonly stdin?: Readable;
}

export const DEFAULT_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

interface Normalized {
  maxDocumentBytes: number;
  stdin: Readable;
}

function normalize(options: ReadXmlOptions): Normalized {
  const max = options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  if (!Number.isSafeInteger(max) || max <= 0) {
    throw new UsageError(`maxDocumentBytes must be a positive integer, got ${String(max)}`, 'NFE_OPTION_INVALID');
  }
  return { maxDocumentBytes: max, stdin: options.stdin ?? process.stdin };
}

/**
 * Reads every document of the given sources, in order: for each source a file, every `.xml`/`.zip` file of a
 * directory tree (sorted by name, depth first), every `.xml` entry of a zip, or the documents on stdin (`-`).
 */
export async function* readXmlDocuments(
  sources: string | readonly string[],
  options: ReadXmlOptions = {},
): AsyncGenerator<XmlSourceItem> {
  const opts = normalize(options);
  for (const src of typeof sources === 'string' ? [sources] : sources) {
    if (src === '-') {
      yield* readConcatenated(opts.stdin, '-', opts.maxDocumentBytes);
      continue;
    }
    let st;
    try {
      st = await fsp.stat(src);
    } catch (err) {
      throw ioError(err, src, 'open');
    }
    if (st.isDirectory()) yield* readDirectory(src, opts);
    else yield* readPath(src, st.size, opts);
  }
}

async function* readDirectory(dir: string, opts: Normalized): AsyncGenerator<XmlSourceItem> {
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (err) {
    yield failure(dir, 'NFE_SOURCE_ERROR', ioError(err, dir, 'read').message);
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      yield* readDirectory(p, opts);
    } else if (e.isFile() && /\.(xml|zip)$/i.test(e.name)) {
      let size: number;
      try {
        size = (await fsp.stat(p)).size;
      } catch (err) {
        yield failure(p, 'NFE_SOURCE_ERROR', ioError(err, p, 'read').message);
        continue;
      }
      yield* readPath(p, size, opts);
    }
    // symbolic links and other files are skipped: a tree walk never follows links (no loops, no escapes)
  }
}

async function* readPath(path: string, size: number, opts: Normalized): AsyncGenerator<XmlSourceItem> {
  if (/\.zip$/i.test(path)) {
    yield* readZip(path, opts);
    return;
  }
  if (size > opts.maxDocumentBytes) {
    yield failure(path, 'NFE_TOO_LARGE', `document is ${size} bytes, over the cap of ${opts.maxDocumentBytes}`);
    return;
  }
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(path);
  } catch (err) {
    yield failure(path, 'NFE_SOURCE_ERROR', ioError(err, path, 'read').message);
    return;
  }
  yield doc(path, bytes);
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
    yauzl.open(path, { lazyEntries: true, autoClose: true, decodeStrings: false, validateEntrySizes: true }, (err, zip) => {
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

async function* readZip(path: string, opts: Normalized): AsyncGenerator<XmlSourceItem> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(path);
  } catch (err) {
    yield failure(path, 'NFE_ZIP_ERROR', `cannot read zip archive: ${(err as Error).message}`);
    return;
  }
  // one pending promise at a time: the next entry, the end, or an error
  let settle: ((v: yauzl.Entry | null | Error) => void) | null = null;
  let queued: yauzl.Entry | null | Error | undefined;
  const deliver = (v: yauzl.Entry | null | Error): void => {
    if (settle) {
      const s = settle;
      settle = null;
      s(v);
    } else queued = v;
  };
  zip.on('entry', (e: yauzl.Entry) => deliver(e));
  zip.on('end', () => deliver(null));
  zip.on('error', (err: Error) => deliver(err));
  const next = (): Promise<yauzl.Entry | null | Error> => {
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
        yield failure(path, 'NFE_ZIP_ERROR', `zip archive is damaged: ${entry.message}`);
        return;
      }
      const raw = entry.fileName as unknown as Buffer;
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false);
      const source = `${path}!${name}`;
      const problem = zipEntryNameProblem(name);
      if (problem) {
        yield failure(source, 'NFE_ZIP_ENTRY_REFUSED', `zip entry refused: ${problem}`);
      } else if (name.endsWith('/') || !/\.xml$/i.test(name)) {
        // directories and non-XML entries are skipped
      } else if (entry.isEncrypted()) {
        yield failure(source, 'NFE_ZIP_ENTRY_REFUSED', 'zip entry refused: encrypted');
      } else if (entry.uncompressedSize > opts.maxDocumentBytes) {
        yield failure(source, 'NFE_TOO_LARGE', `zip entry expands to ${entry.uncompressedSize} bytes, over the cap of ${opts.maxDocumentBytes}`);
      } else {
        const r = await readEntry(zip, entry, opts.maxDocumentBytes);
        if (typeof r === 'string') yield failure(source, r.startsWith('over') ? 'NFE_TOO_LARGE' : 'NFE_ZIP_ERROR', r.startsWith('over') ? `zip entry expands ${r}` : `zip entry cannot be read: ${r}`);
        else yield doc(source, r);
      }
      zip.readEntry();
    }
  } finally {
    if (zip.isOpen) zip.close();
  }
}

function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, cap: number): Promise<Buffer | string> {
  return new Promise((resolve) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) {
        resolve(err?.message ?? 'no stream');
        return;
      }
      const parts: Buffer[] = [];
      let total = 0;
      let done = false;
      stream.on('data', (b: Buffer) => {
        if (done) return;
        total += b.length;
        // the declared size can lie: count what really comes out (zip-bomb defence)
        if (total > cap) {
          done = true;
          stream.destroy();
          resolve(`over the cap of ${cap} bytes`);
          return;
        }
        parts.push(b);
      });
      stream.on('error', (e: Error) => {
        if (!done) {
          done = true;
          resolve(e.message);
        }
      });
      stream.on('end', () => {
        if (!done) {
          done = true;
          resolve(Buffer.concat(parts, total));
        }
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// concatenated documents (stdin)

const enum S {
  Text,
  Lt,
  StartTag,
  StartTagQuote,
  EndTag,
  Pi,
  Bang,
  BangDash,
  Comment,
  Cdata,
  Decl,
  DeclQuote,
}

/**
 * Splits a byte stream of concatenated XML documents on document boundaries: a document is an optional BOM
 * and prolog (declaration, comments, DOCTYPE — the parser refuses the last) followed by one root element.
 * Works on bytes (the markup characters are ASCII in every supported encoding), one pass, chunk by chunk.
 */
export async function* readConcatenated(stream: Readable, name: string, maxDocumentBytes: number = DEFAULT_MAX_DOCUMENT_BYTES): AsyncGenerator<XmlSourceItem> {
  let ordinal = 0;
  let state = S.Text;
  let depth = 0;
  let inDoc = false;
  let rootSeen = false;
  let quote = 0;
  let prev = 0; // previous byte (for ?>, /> and -->)
  let prev2 = 0;
  let declDepth = 0;
  let parts: Buffer[] = [];
  let size = 0;
  let oversized = false;

  const finish = (): XmlSourceItem => {
    ordinal++;
    const source = `${name}#${ordinal}`;
    const out: XmlSourceItem = oversized
      ? failure(source, 'NFE_TOO_LARGE', `document is ${size} bytes, over the cap of ${maxDocumentBytes}`)
      : doc(source, Buffer.concat(parts, size));
    parts = [];
    size = 0;
    oversized = false;
    inDoc = false;
    rootSeen = false;
    depth = 0;
    return out;
  };
  const keep = (chunk: Buffer, from: number, to: number): void => {
    if (to <= from) return;
    size += to - from;
    if (oversized) return;
    if (size > maxDocumentBytes) {
      oversized = true;
      parts = [];
      return;
    }
    parts.push(chunk.subarray(from, to));
  };

  for await (const c of stream) {
    const chunk: Buffer = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    let docFrom = inDoc ? 0 : -1;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const b = chunk[i]!;
      switch (state) {
        case S.Text:
          if (!inDoc) {
            if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
            inDoc = true;
            docFrom = i;
          }
          if (b === 0x3c) state = S.Lt;
          break;
        case S.Lt:
          if (b === 0x2f) state = S.EndTag;
          else if (b === 0x3f) state = S.Pi;
          else if (b === 0x21) state = S.Bang;
          else state = S.StartTag;
          break;
        case S.StartTag:
          if (b === 0x22 || b === 0x27) {
            quote = b;
            state = S.StartTagQuote;
          } else if (b === 0x3e) {
            state = S.Text;
            rootSeen = true;
            if (prev !== 0x2f) depth++;
            else if (depth === 0) {
              keep(chunk, docFrom, i + 1);
              yield finish();
              docFrom = -1;
            }
          }
          break;
        case S.StartTagQuote:
          if (b === quote) state = S.StartTag;
          break;
        case S.EndTag:
          if (b === 0x3e) {
            state = S.Text;
            depth--;
            if (depth <= 0) {
              keep(chunk, docFrom, i + 1);
              yield finish();
              docFrom = -1;
            }
          }
          break;
        case S.Pi:
          if (b === 0x3e && prev === 0x3f) state = S.Text;
          break;
        case S.Bang:
          if (b === 0x2d) state = S.BangDash;
          else if (b === 0x5b) state = S.Cdata;
          else {
            state = S.Decl;
            declDepth = 0;
          }
          break;
        case S.BangDash:
          state = b === 0x2d ? S.Comment : S.Decl;
          // reset so that `<!--` cannot be read as the end `-->`
          prev2 = 0;
          prev = 0;
          continue;
        case S.Comment:
          if (b === 0x3e && prev === 0x2d && prev2 === 0x2d) state = S.Text;
          break;
        case S.Cdata:
          if (b === 0x3e && prev === 0x5d && prev2 === 0x5d) state = S.Text;
          break;
        case S.Decl:
          if (b === 0x22 || b === 0x27) {
            quote = b;
            state = S.DeclQuote;
          } else if (b === 0x5b) declDepth++;
          else if (b === 0x5d) declDepth--;
          else if (b === 0x3e && declDepth <= 0) state = S.Text;
          break;
        case S.DeclQuote:
          if (b === quote) state = S.Decl;
          break;
      }
      prev2 = prev;
      prev = b;
    }
    if (inDoc && docFrom >= 0) keep(chunk, docFrom, n);
  }
  if (inDoc && size > 0) yield finish();
}
