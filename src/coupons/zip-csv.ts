/**
 * CSV exports inside a zip: the POS export of a day is often sent zipped beside (or without) its XML. The
 * listing names the `.csv` entries in the archive's order; each is then read as a stream of its own archive
 * handle, so one CSV export of any size never sits in memory and no other entry read shares the handle.
 * Entry names the NF-e reader refuses (absolute, `..`, NUL) are left out here: the XML reading of the same
 * zip reports them.
 */
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { ioError } from '../errors.js';
import { zipEntryNameProblem } from '../nfe/source.js';

export interface ZipCsvEntry {
  /** The entry's name in the archive (decoded as the zip says: UTF-8 flag, else CP437). */
  readonly name: string;
  /** The entry is encrypted: it cannot be read. */
  readonly encrypted: boolean;
}

const isCsvEntry = (name: string): boolean => !name.endsWith('/') && /\.csv$/i.test(name) && zipEntryNameProblem(name) === null;

function open(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) reject(ioError(err ?? new Error('cannot open zip'), path, 'open'));
      else resolve(zip);
    });
  });
}

const entryName = (e: yauzl.Entry): string => yauzl.getFileNameLowLevel(e.generalPurposeBitFlag, e.fileName as unknown as Buffer, e.extraFields, false);

/** Walks the central directory until `stop` returns true for an entry (or the listing ends); the archive stays open. */
function walkEntries(zip: yauzl.ZipFile, stop: (e: yauzl.Entry, name: string) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const onEntry = (e: yauzl.Entry): void => {
      if (stop(e, entryName(e))) finish();
      else zip.readEntry();
    };
    const finish = (): void => {
      zip.off('entry', onEntry);
      resolve();
    };
    zip.on('entry', onEntry);
    zip.once('end', finish);
    zip.once('error', reject);
    zip.readEntry();
  });
}

/**
 * The CSV entries of a zip, in the archive's order; [] for an archive that cannot be read as a zip (the XML
 * reading of the same source reports it).
 */
export async function zipCsvEntries(path: string): Promise<ZipCsvEntry[]> {
  let zip: yauzl.ZipFile;
  try {
    zip = await open(path);
  } catch {
    return [];
  }
  const found: ZipCsvEntry[] = [];
  try {
    await walkEntries(zip, (e, name) => {
      if (isCsvEntry(name)) found.push({ name, encrypted: e.isEncrypted() });
      return false;
    });
  } catch {
    // a damaged directory: the entries listed before the damage are read, the XML reading reports the damage
  } finally {
    zip.close();
  }
  return found;
}

/** A stream of one entry's uncompressed bytes; the archive closes when the stream ends, fails or is destroyed. */
export async function openZipEntry(path: string, name: string): Promise<Readable> {
  const zip = await open(path);
  let entry: yauzl.Entry | null = null;
  try {
    await walkEntries(zip, (e, n) => {
      if (n !== name) return false;
      entry = e;
      return true;
    });
  } catch (err) {
    zip.close();
    throw ioError(err as Error, `${path}!${name}`, 'read');
  }
  const found = entry as yauzl.Entry | null;
  if (!found) {
    zip.close();
    throw ioError(new Error('no such entry'), `${path}!${name}`, 'open');
  }
  return new Promise((resolve, reject) => {
    zip.openReadStream(found, (err, stream) => {
      if (err || !stream) {
        zip.close();
        reject(ioError(err ?? new Error('no stream'), `${path}!${name}`, 'read'));
        return;
      }
      stream.once('close', () => zip.close());
      resolve(stream);
    });
  });
}
