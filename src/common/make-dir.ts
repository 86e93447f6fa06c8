/**
 * `mkdir -p` that fails at once: Node's `mkdir(path, { recursive: true })` loops without end on a path under a
 * folder that refuses new entries with ENOENT (`/proc/nope`), so parents are made one at a time here, each
 * attempted once.
 */
import { promises as fsp } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ioError } from '../errors.js';

/** Creates `path` and its missing parents; an existing folder is fine. Fails with a SourceError (exit 2). */
export async function makeDir(path: string): Promise<void> {
  try {
    await makeDirs(resolve(path));
  } catch (err) {
    throw ioError(err, path, 'write');
  }
}

async function makeDirs(dir: string): Promise<void> {
  try {
    await fsp.mkdir(dir);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if ((await fsp.stat(dir)).isDirectory()) return;
      throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    }
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    await makeDirs(parent);
  }
  // the parent exists now: one more try, whose failure is final
  await fsp.mkdir(dir);
}
