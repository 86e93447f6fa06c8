/**
 * `spedStats` on several threads for a file path: the file cut at line starts into ranges counted by pool workers
 * (`sped.stats-range`) and merged in file order into exactly the summary of one thread (line-ranges.ts): the
 * register counts in order of first appearance, the file's limit of distinct codes applied in that order, the
 * findings in file order.
 */
import { withPool } from '../pool/pool.js';
import { loadLayout } from './layout.js';
import { rangedSize, rangeRun, runLineRanges, startAndGuess } from './line-ranges.js';
import type { SpedFinding } from './findings.js';
import type { StatsRangeResult } from './stats-range-job.js';
import { MAX_KEYS, type SpedStatsOptions, type StatsTally } from './stats.js';

/** Ranges of 4 to 32 MiB: a range's result is a few counts, so the ranges can be large. */
const MIN_RANGE_BYTES = 4 << 20;
const MAX_RANGE_BYTES = 32 << 20;

/** The merged tally (findings go to `report` in file order); null when the file is better read on one thread (small). */
export async function statsInRanges(path: string, options: SpedStatsOptions, report: (f: SpedFinding) => void): Promise<StatsTally | null> {
  const size = await rangedSize(path, options.rangeBytes);
  if (size === null) return null;
  const { from, guess } = await startAndGuess(path, size, options);
  const counts = new Map<string, number>();
  let overflow = 0;
  let invalidLines = 0;
  const { state, totals } = await withPool(options, (pool) =>
    runLineRanges<StatsRangeResult>({
      ...rangeRun('sped.stats-range', pool, path, size, { from, guess }, options, MIN_RANGE_BYTES, MAX_RANGE_BYTES),
      // its only line numbers are the findings': the planning pass need not read the file
      lineNumbers: 'rebased',
      emit(result, range) {
        for (const f of result.findings) report(f);
        for (const [code, n] of result.entries) {
          const had = counts.get(code);
          if (had !== undefined) counts.set(code, had + n);
          else if (counts.size < MAX_KEYS) counts.set(code, n);
          else overflow += n;
        }
        invalidLines += result.invalidLines;
        options.onProgress?.(range.end);
      },
    }),
  );
  const layoutId = options.layout ?? state.layout;
  return {
    layout: layoutId ? loadLayout(layoutId) : null,
    header: state.header,
    version: state.version,
    entries: [...counts],
    overflow,
    invalidLines,
    encoding: state.scanner.encoding,
    bytes: size,
    lines: state.scanner.lines,
    signature: totals.signature,
  };
}
