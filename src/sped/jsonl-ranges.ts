/**
 * `spedToJsonl` on several threads for a file path: the file cut at line starts into ranges converted by pool
 * workers (`sped.to-jsonl-range`) and written in file order, byte for byte the output of one thread
 * (line-ranges.ts). Checkpoints (a task's resumable run) are taken between two ranges, in the same format as one
 * thread's, so either can resume the other's.
 */
import type { Writable } from 'node:stream';
import type { FiscalPool } from '../pool/pool.js';
import type { Checkpoints } from './checkpoint.js';
import { LineEndWatch, waitDrain } from './drain.js';
import type { SpedFinding } from './findings.js';
import type { JsonlRangeResult } from './jsonl-range-job.js';
import type { JsonlState, SpedToJsonlOptions, SpedToJsonlResult } from './jsonl.js';
import { rangeRun, readInfo, runLineRanges, startAndGuess } from './line-ranges.js';
import type { ParserState } from './reader.js';

/** Range sizes: about eight ranges per thread, small enough that the JSON of the ranges in flight stays tens of MiB. */
const MIN_RANGE_BYTES = 1 << 20;
const MAX_RANGE_BYTES = 2 << 20;
export async function jsonlInRanges(
  path: string,
  size: number,
  output: Writable,
  options: SpedToJsonlOptions & { rangeBytes?: number },
  plan: Checkpoints | null,
  pool: FiscalPool,
): Promise<SpedToJsonlResult> {
  const resumed = plan?.state<JsonlState>() ?? null;
  let findingCount = resumed?.findingCount ?? 0;
  const onFinding = (f: SpedFinding): void => {
    findingCount++;
    options.onFinding?.(f);
  };
  const lineEnd = new LineEndWatch();
  if (resumed) lineEnd.value = resumed.lineEnd;
  const { from, guess } = resumed ? { from: resumed.parser, guess: resumed.parser } : await startAndGuess(path, size, options);
  let outputBytes = plan?.from?.outputBytes ?? 0;
  const { state, totals } = await runLineRanges<JsonlRangeResult>({
    ...rangeRun('sped.to-jsonl-range', pool, path, size, { from, guess }, options, MIN_RANGE_BYTES, MAX_RANGE_BYTES),
    ...(resumed ? {} : { see: (chunk: Buffer) => lineEnd.see(chunk) }),
    async emit(result, range, sums) {
      for (const f of result.findings) onFinding(f);
      if (result.bytes.length > 0) {
        const bytes = Buffer.from(result.bytes.buffer, result.bytes.byteOffset, result.bytes.byteLength);
        outputBytes += bytes.length;
        if (!output.write(bytes)) await waitDrain(output);
      }
      options.onProgress?.(range.end);
      if (plan !== null && result.resumable && !range.last && plan.due(range.end)) {
        const at = result.state;
        const parser: ParserState = { ...at, records: sums.records, scanner: { ...at.scanner, blankLines: sums.blankLines } };
        await plan.take(range.end, at.scanner.lines + 1, outputBytes, { parser, lineEnd: lineEnd.value, findingCount } satisfies JsonlState);
      }
    },
  });
  return {
    info: readInfo(state, totals, size),
    lineEnd: lineEnd.value,
    findingCount,
  };
}
