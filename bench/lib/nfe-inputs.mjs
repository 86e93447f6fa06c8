/**
 * How the baselines of bench/nfe.mjs read a batch, the plain way: a directory tree walked synchronously (sorted
 * by name, depth first, `.xml` files) and each file read with readFileSync; a `.zip` read entry after entry with
 * yauzl (the library the engine uses), one entry at a time. Calls `each(bytes)` for every document (or every
 * EVERY-th), in order.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import yauzl from 'yauzl';

function* walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile() && /\.xml$/i.test(e.name)) yield p;
  }
}

function readZip(path, each, every) {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true }, (err, zip) => {
      if (err) return reject(err);
      let n = 0;
      let seen = 0;
      zip.on('error', reject);
      zip.on('end', () => resolve(n));
      zip.on('entry', (entry) => {
        if (!/\.xml$/i.test(entry.fileName) || seen++ % every !== 0) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const parts = [];
          stream.on('data', (b) => parts.push(b));
          stream.on('error', reject);
          stream.on('end', () => {
            each(Buffer.concat(parts));
            n++;
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/**
 * @param {string} input a directory or a .zip
 * @param {(bytes: Buffer) => void} each
 * @param {number} [every] only every EVERY-th document (1, 1+EVERY, …), the others not even read
 * @returns {Promise<number>} documents given to `each`
 */
export async function forEachDocument(input, each, every = 1) {
  if (/\.zip$/i.test(input)) return readZip(input, each, every);
  let n = 0;
  let seen = 0;
  for (const p of walk(input)) {
    if (seen++ % every !== 0) continue;
    each(readFileSync(p));
    n++;
  }
  return n;
}
