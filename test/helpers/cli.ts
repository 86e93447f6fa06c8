import { PassThrough, Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';

/** Runs the CLI in-process with fake streams: the exit code and everything written to stdout and stderr. */
export async function run(argv: string[], stdin: Buffer = Buffer.alloc(0)): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(argv, { stdin: Readable.from([stdin]), stdout, stderr });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}
