/** Test helpers: synthetic SPED files made by the project's own generator and writer, in memory or on disk. */
import { PassThrough } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { tempDir } from './temp-dir.js';
import { join } from 'node:path';
import { SpedWriter } from '../../src/sped/writer.js';
import { syntheticRecords, type SyntheticOptions } from '../../src/sped/synthetic.js';

/** A valid synthetic file as bytes (Windows-1252, CRLF). */
export async function syntheticFile(options: SyntheticOptions): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const w = new SpedWriter(out, { layout: options.layout });
  for (const rec of syntheticRecords(options)) await w.write(rec[0]!, rec.slice(1));
  await w.finish();
  out.end();
  return Buffer.concat(parts);
}

/** Everything `run` writes into a PassThrough, as one Buffer. */
export async function collect(run: (out: PassThrough) => Promise<unknown>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await run(out);
  return Buffer.concat(chunks);
}

/** The file's lines (without CRLF). */
export function linesOf(buf: Buffer): string[] {
  const text = buf.toString('latin1');
  const lines = text.split('\r\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function joinLines(lines: readonly string[]): Buffer {
  return Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'latin1');
}

/** 1-based number of the n-th line (0-based n) whose register is `reg`. */
export function lineOf(lines: readonly string[], reg: string, n = 0): number {
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.startsWith(`|${reg}|`) && seen++ === n) return i + 1;
  }
  throw new Error(`no ${reg} #${n}`);
}

/** Replaces field `pos` (1-based, REG = 1) of a line. */
export function setField(line: string, pos: number, value: string): string {
  const parts = line.split('|');
  parts[pos] = value;
  return parts.join('|');
}

export { tempDir };

export function writeTemp(name: string, data: Buffer | string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, data);
  return path;
}

/** The `shared` folder beside the repository, when present. */
export const SHARED = new URL('../../../shared/', import.meta.url);

/** Deterministic PRNG so a failure can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const VALUES = ['', '0', '1', 'X', '01', '55', '65', '02', '1,00', '-1', 'ZZZ', '31012026', '\xe7', '99999', '5102', 'NOPE'];
const REGISTERS = ['C100', 'C170', 'C190', 'C001', 'C990', 'D100', 'E110', '0200', 'ZZZZ', 'C500', '9999', 'I200', 'I250', 'I150', 'C010', '9900', 'H010'];

/**
 * One to five edits of whole lines or fields: values and registers replaced, lines removed, repeated or moved
 * (blocks and documents out of order), truncation, blank and garbage lines, odd bytes (accents, C1 controls), 9999
 * removed. For the tests that a file read in byte ranges gives one thread's result.
 */
export function mutateLines(lines: readonly string[], rnd: () => number): string[] {
  const out = [...lines];
  const edits = 1 + Math.floor(rnd() * 5);
  for (let k = 0; k < edits && out.length > 0; k++) {
    const li = Math.floor(rnd() * out.length);
    const kind = rnd();
    const f = out[li]!.split('|');
    if (kind < 0.35) {
      f[1 + Math.floor(rnd() * Math.max(1, f.length - 2))] = VALUES[Math.floor(rnd() * VALUES.length)]!;
      out[li] = f.join('|');
    } else if (kind < 0.45) {
      f[1] = REGISTERS[Math.floor(rnd() * REGISTERS.length)]!;
      out[li] = f.join('|');
    } else if (kind < 0.55) out.splice(li, 1);
    else if (kind < 0.62) out.splice(li, 0, out[Math.floor(rnd() * out.length)]!);
    else if (kind < 0.7) {
      // a run of lines moved elsewhere: blocks and documents out of order
      const moved = out.splice(li, 1 + Math.floor(rnd() * 30));
      out.splice(Math.floor(rnd() * out.length), 0, ...moved);
    } else if (kind < 0.75) out.length = li; // truncated
    else if (kind < 0.8) out.splice(li, 0, '');
    else if (kind < 0.85) out.splice(li, 0, 'not a record');
    else if (kind < 0.9) {
      const pos = Math.floor(rnd() * out[li]!.length);
      out[li] = out[li]!.slice(0, pos) + '|\xe9\x80,'[Math.floor(rnd() * 4)]! + out[li]!.slice(pos + 1);
    } else {
      const end = out.findIndex((l) => l.startsWith('|9999|'));
      if (end >= 0) out.splice(end, 1);
    }
  }
  return out;
}
