/**
 * `-o PATH` plumbing (src/cli/io.ts): a regular file is written beside and renamed into place; a device or a pipe
 * is written as it is — a rename over `/dev/null` would replace the device with a file.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openOutput, writeChunk } from '../../src/cli/io.js';
import { tempDir } from '../helpers/temp-dir.js';

t.test('a regular file: written whole on commit, nothing left on abort', async (t) => {
  const dir = tempDir('fiscal-io-');
  const path = join(dir, 'out.txt');
  const out = await openOutput(path);
  await writeChunk(out.stream, 'hello\n');
  t.notOk(existsSync(path), 'not there before the commit');
  await out.commit();
  t.equal(readFileSync(path, 'utf8'), 'hello\n');
  const failed = await openOutput(join(dir, 'never.txt'));
  await writeChunk(failed.stream, 'half');
  await failed.abort();
  t.same(readdirSync(dir), ['out.txt'], 'no temporary file and no half-written output');
});

t.test('/dev/null stays the device', { skip: existsSync('/dev/null') && statSync('/dev/null').isCharacterDevice() ? false : 'no /dev/null device' }, async (t) => {
  const out = await openOutput('/dev/null');
  await writeChunk(out.stream, 'x'.repeat(100_000));
  await out.commit();
  t.ok(statSync('/dev/null').isCharacterDevice(), 'still a character device');
  t.notOk(readdirSync('/dev').some((n) => n.startsWith(`.null.${process.pid}.`)), 'no temporary file in /dev');
});

t.test('a FIFO is written in place, its reader gets the bytes', async (t) => {
  const dir = tempDir('fiscal-io-fifo-');
  const fifo = join(dir, 'pipe');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    t.comment('mkfifo is not available: not run');
    return;
  }
  const reader = import('node:fs').then((fs) => new Promise<string>((resolve) => {
    let got = '';
    fs.createReadStream(fifo, 'utf8').on('data', (c) => (got += c)).on('end', () => resolve(got));
  }));
  const out = await openOutput(fifo);
  await writeChunk(out.stream, 'through the pipe\n');
  await out.commit();
  t.equal(await reader, 'through the pipe\n');
  t.ok(statSync(fifo).isFIFO(), 'still a FIFO');
});
