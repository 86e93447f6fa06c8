/**
 * The sources of a coupon summary, read in order and expanded into units: a CSV export (a `.csv` path, any source
 * with `asCsv`, or a `.csv` file found in a directory tree), a plain file of concatenated XML documents (split
 * here, resumable at a byte offset), or anything readXmlDocuments reads (stdin, a zip, and the `.xml`/`.zip` files
 * of a directory tree, a run of them read together so its read-ahead overlaps the reads). Each unit carries the
 * number of the source it comes from (checkpoint positions name sources by number).
 */
import { createReadStream, promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { ioError } from '../errors.js';
import { readConcatenated, readXmlSources, walkTree, type ConcatenatedPosition, type WalkedFile, type XmlDeferredFile, type XmlSourceItem } from '../nfe/source.js';
import type { CouponPosition } from './checkpoint.js';
import { zipCsvEntries, type ZipCsvEntry } from './zip-csv.js';

export type SourceUnit =
  /** A CSV export: a file (`path`), or an entry of a zip (`path` is `archive.zip!entry.csv`, `zip` names both). */
  | { readonly kind: 'csv'; readonly index: number; readonly path: string; readonly zip?: { readonly archive: string; readonly entry: ZipCsvEntry } }
  | { readonly kind: 'plain'; readonly index: number; readonly path: string }
  | { readonly kind: 'xml'; readonly index: number; readonly sources: string | AsyncIterable<string> };

export const isCsvPath = (p: string): boolean => /\.csv$/i.test(p);
const isCouponFileName = (name: string): boolean => /\.(xml|zip|csv)$/i.test(name);

/** The units of the sources from source number `from.source` on (the ones before were read to their end). */
export async function* sourceUnits(list: readonly string[], o: { readonly asCsv: boolean; readonly from: CouponPosition; readonly signal?: AbortSignal }): AsyncGenerator<SourceUnit> {
  for (const [index, src] of list.entries()) {
    if (index < o.from.source) continue;
    if (o.asCsv || (src !== '-' && isCsvPath(src))) yield { kind: 'csv', index, path: src };
    else if (src !== '-' && (await statOf(src))?.isDirectory()) yield* directoryUnits(index, src, o.signal);
    else if (await isPlainFile(src)) yield { kind: 'plain', index, path: src };
    else {
      yield { kind: 'xml', index, sources: src }; // stdin, a zip, or what cannot be read (readXmlDocuments reports it)
      if (isZipPath(src)) yield* zipCsvUnits(index, src);
    }
  }
}

const isZipPath = (p: string): boolean => p !== '-' && /\.zip$/i.test(p);

/** The CSV entries of a zip, read after its XML entries (one reading of the archive for those). */
async function* zipCsvUnits(index: number, archive: string): AsyncGenerator<SourceUnit> {
  for (const entry of await zipCsvEntries(archive)) yield { kind: 'csv', index, path: `${archive}!${entry.name}`, zip: { archive, entry } };
}

/**
 * A directory tree: its CSV files one by one, the XML and zip files between them as one reading each; a zip that
 * holds CSV exports ends its reading, and its CSV entries follow it.
 */
async function* directoryUnits(index: number, dir: string, signal?: AbortSignal): AsyncGenerator<SourceUnit> {
  const walk = walkTree(dir, isCouponFileName, signal);
  let next = await walk.next();
  const isCsv = (f: WalkedFile): boolean => 'path' in f && isCsvPath(f.path);
  while (!next.done) {
    if (isCsv(next.value)) {
      yield { kind: 'csv', index, path: (next.value as { path: string }).path };
      next = await walk.next();
      continue;
    }
    // the files up to the next CSV one, or up to a zip with CSV entries included (an unreadable directory by its
    // name: readXmlDocuments reports it)
    let csvOfZip: SourceUnit[] = [];
    async function* run(): AsyncGenerator<string> {
      while (!next.done && !isCsv(next.value)) {
        const f = next.value;
        next = await walk.next();
        if (!('path' in f)) {
          yield f.dir;
          continue;
        }
        yield f.path;
        if (isZipPath(f.path)) {
          for await (const u of zipCsvUnits(index, f.path)) csvOfZip.push(u);
          if (csvOfZip.length > 0) return;
        }
      }
    }
    const sources = run();
    yield { kind: 'xml', index, sources };
    yield* csvOfZip;
    // a consumer that stopped early (a cancelled run) leaves the run unread: nothing more to walk then
    if (csvOfZip.length === 0 && !next.done && !isCsv(next.value)) return;
    csvOfZip = [];
  }
}

async function statOf(path: string): Promise<import('node:fs').Stats | null> {
  try {
    return await fsp.stat(path);
  } catch {
    return null;
  }
}

/** A regular file that is not a zip: read as a stream of concatenated documents (one or many). */
export async function isPlainFile(path: string): Promise<boolean> {
  if (path === '-' || /\.zip$/i.test(path)) return false;
  return (await statOf(path))?.isFile() ?? false; // what cannot be read: readXmlDocuments reports it (exit 2)
}

export interface XmlReadOptions {
  readonly maxBytes: number;
  readonly readAhead: number;
  readonly signal: AbortSignal;
  readonly stdin?: Readable;
  /** Files of trees and lists are left for the pool's job to read (readXmlSources' deferFiles). */
  readonly deferFiles: boolean;
}

/** Items read per source so far (checkpoint positions count a source's items whatever its units). */
export class SourceCounter {
  #index = -1;
  #items = 0;
  constructor(private readonly from: CouponPosition) {}
  /** The next item of source `index`: its number in the source, and whether it was read before the checkpoint. */
  next(index: number): { items: number; skip: boolean } {
    if (index !== this.#index) {
      this.#index = index;
      this.#items = 0;
    }
    this.#items++;
    return { items: this.#items, skip: index === this.from.source && this.#items <= this.from.items };
  }
  /** Source `index` starts at item `items` (a plain file resumed at its byte offset). */
  startAt(index: number, items: number): void {
    this.#index = index;
    this.#items = items;
  }
}

/**
 * The documents of a run of XML units, in order. For each item yielded, where the reading stands after it goes
 * to `positions`. From a checkpoint: its source continues after its last item — a plain file from the byte
 * offset, anything else by skipping the items already read (read again, not parsed).
 */
export async function* xmlItems(units: AsyncIterable<SourceUnit>, o: XmlReadOptions, from: CouponPosition, counter: SourceCounter, positions: CouponPosition[]): AsyncGenerator<XmlSourceItem | XmlDeferredFile> {
  for await (const u of units) {
    if (o.signal.aborted) return;
    if (u.kind === 'csv') throw new TypeError('a CSV unit in an XML run');
    if (u.kind === 'plain') {
      const ends: number[] = [];
      const resuming = from.source === u.index && from.offset !== null;
      const start = resuming ? { offset: from.offset!, ordinal: from.items } : { offset: 0, ordinal: 0 };
      if (resuming) counter.startAt(u.index, from.items);
      for await (const item of fileDocuments(u.path, o.maxBytes, o.signal, { ...start, onDocumentEnd: (end) => ends.push(end) })) {
        positions.push({ source: u.index, items: counter.next(u.index).items, offset: ends.shift()! });
        yield item;
      }
      continue;
    }
    for await (const item of readXmlSources(u.sources, { maxDocumentBytes: o.maxBytes, readAhead: o.readAhead, signal: o.signal, deferFiles: o.deferFiles, ...(o.stdin ? { stdin: o.stdin } : {}) })) {
      const n = counter.next(u.index);
      if (n.skip) continue; // read before the checkpoint
      positions.push({ source: u.index, items: n.items, offset: null });
      yield item;
    }
  }
}

/**
 * The documents of one file, split where one document ends and the next begins (a day's coupons appended to one
 * file): `FILE#1`, `FILE#2`… when there are several, `FILE` when it holds one.
 */
export async function* fileDocuments(path: string, cap: number, signal: AbortSignal | undefined, position: ConcatenatedPosition & { offset: number; ordinal: number }): AsyncGenerator<XmlSourceItem> {
  const stream = await openStream(path, position.offset);
  let first: XmlSourceItem | null = null;
  // past a checkpoint the documents keep their numbers (`FILE#n`), however many are left
  let n = position.ordinal > 0 ? 1 : 0;
  try {
    for await (const item of readConcatenated(stream, path, cap, signal, position)) {
      n++;
      if (n === 1) {
        first = item;
        continue;
      }
      if (n === 2 && first) yield first;
      yield item;
    }
  } finally {
    stream.destroy();
  }
  if (n === 1 && first) yield first.ok ? { ...first, source: path } : { ...first, source: path, finding: { ...first.finding, source: path } };
}

export async function openStream(path: string, start = 0): Promise<Readable> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20, start });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) => reject(ioError(err, path, 'open')));
  });
  return stream;
}
