/**
 * Resumable conversions in tests: the three conversions behind one signature (a path in, bytes or a folder out),
 * and runs that "crash" after a chosen checkpoint (test/sped/resume.ts, test/helpers/resume-child.ts).
 */
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { SpedCheckpoint } from '../../src/sped/checkpoint.js';
import { spedToCsv, type SpedToCsvOptions } from '../../src/sped/csv.js';
import type { SpedFinding } from '../../src/sped/findings.js';
import { fixTotals, type FixTotalsOptions } from '../../src/sped/fix-totals.js';
import { spedToJsonl, type SpedToJsonlOptions } from '../../src/sped/jsonl.js';
import { syntheticFile } from './sped.js';

export const CONVERSIONS = ['sped.to-jsonl', 'sped.to-csv', 'sped.fix-totals'] as const;
export type Conversion = (typeof CONVERSIONS)[number];

export type ConvertAllOptions = SpedToJsonlOptions & SpedToCsvOptions & FixTotalsOptions;

/** What a run gives: its output bytes (stream conversions) and its result (summary). */
export interface RunResult {
  bytes: Buffer;
  result: unknown;
}

/**
 * Runs one conversion of `input`: to-jsonl and fix-totals into memory, to-csv into `outDir`. The bytes are what
 * was handed to the output, also when the run fails (they are in `error.bytes`).
 */
export async function convert(kind: Conversion, input: string, outDir: string, options: ConvertAllOptions): Promise<RunResult> {
  if (kind === 'sped.to-csv') return { bytes: Buffer.alloc(0), result: await spedToCsv(input, outDir, options) };
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  try {
    const result = kind === 'sped.to-jsonl' ? await spedToJsonl(input, out, options) : await fixTotals(input, out, options);
    return { bytes: Buffer.concat(chunks), result };
  } catch (err) {
    throw Object.assign(err as Error, { bytes: Buffer.concat(chunks) });
  }
}

/** The files of a to-csv output folder, name → bytes (a temporary folder left behind shows as its name). */
export function folderBytes(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  if (!existsSync(dir)) return files;
  for (const name of readdirSync(dir).sort()) files.set(name, name.startsWith('.') ? Buffer.from('(folder)') : readFileSync(join(dir, name)));
  return files;
}

/** Thrown from `onCheckpoint` to stop a run there, as a crash would. */
export class Crash extends Error {}

export interface CrashedRun {
  /** The checkpoint to resume from (the last one kept before the crash). */
  checkpoint: SpedCheckpoint | null;
  /** Output bytes handed over before the crash. */
  bytes: Buffer;
  findings: SpedFinding[];
  /** True when the run ended before it reached the crash point. */
  finished: boolean;
  result: unknown;
}

/**
 * Runs a conversion that keeps checkpoint number `keep` (1-based, counted in this run) and crashes at checkpoint
 * `crashAt` (> keep; Infinity: never): what is on the output then is more than the kept checkpoint covers.
 */
export async function crashingRun(
  kind: Conversion,
  input: string,
  outDir: string,
  options: ConvertAllOptions,
  keep: number,
  crashAt: number,
): Promise<CrashedRun> {
  const findings: SpedFinding[] = [];
  let seen = 0;
  let kept: SpedCheckpoint | null = null;
  try {
    const { bytes, result } = await convert(kind, input, outDir, {
      ...options,
      onFinding: (f) => findings.push(f),
      async onCheckpoint(cp) {
        seen++;
        // a checkpoint is plain JSON: what a ledger stores and gives back
        if (seen === keep) kept = JSON.parse(JSON.stringify(cp)) as SpedCheckpoint;
        if (seen >= crashAt) throw new Crash(`crash at checkpoint ${seen}`);
      },
    });
    return { checkpoint: kept, bytes, findings, finished: true, result };
  } catch (err) {
    if (!(err instanceof Crash)) throw err;
    return { checkpoint: kept, bytes: (err as Crash & { bytes?: Buffer }).bytes ?? Buffer.alloc(0), findings, finished: false, result: null };
  }
}

/** A big file made fast: a synthetic file whose block C is repeated up to `size` bytes (its totals are then wrong). */
export async function bigFile(path: string, size: number, seed = 42): Promise<void> {
  const base = await syntheticFile({ layout: 'efd-icms-ipi', profile: 'realistic', documents: 2000, seed, products: 400, participants: 90 });
  const from = base.indexOf('\r\n|C100|') + 2;
  const to = base.indexOf('\r\n|C990|') + 2;
  const body = base.subarray(from, to);
  const out = createWriteStream(path);
  out.write(base.subarray(0, from));
  for (let n = base.length; n < size; n += body.length) if (!out.write(body)) await once(out, 'drain');
  out.end(base.subarray(from));
  await once(out, 'finish');
}

/** Sets FISCAL_CHECKPOINT_BYTES for one test (restored at its teardown). */
export function checkpointBytesFor(t: { teardown(fn: () => void): void }, bytes: number): void {
  const saved = process.env.FISCAL_CHECKPOINT_BYTES;
  process.env.FISCAL_CHECKPOINT_BYTES = String(bytes);
  t.teardown(() => {
    if (saved === undefined) delete process.env.FISCAL_CHECKPOINT_BYTES;
    else process.env.FISCAL_CHECKPOINT_BYTES = saved;
  });
}
