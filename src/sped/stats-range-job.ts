/**
 * The pool job `sped.stats-range`: the register counts of one byte range of a SPED file, from the reader state the
 * job is given (line-ranges.ts explains the cut and the merge).
 */
import { readChunksSync } from './chunks.js';
import type { SpedFinding } from './findings.js';
import type { LineRangeJob, LineRangeResult } from './line-ranges.js';
import { SpedScanner } from './scanner.js';
import { StatsScan } from './stats.js';

export interface StatsRangeResult extends LineRangeResult {
  /** Lines per register code in the range, in order of first appearance (every code: the merge applies the file's limit). */
  entries: [string, number][];
  invalidLines: number;
}

export async function statsRangeJob(job: LineRangeJob): Promise<StatsRangeResult> {
  const findings: SpedFinding[] = [];
  const report = (f: SpedFinding): void => void findings.push(f);
  const scan = new StatsScan(job.layout, report, { spill: true });
  scan.restore(job.state);
  const scanner: SpedScanner = new SpedScanner({
    maxLineBytes: job.maxLineBytes,
    onFinding: report,
    onLine: (buf, start, end, line) => scan.line(buf, start, end, line, scanner.encoding),
  });
  scanner.restore(job.state.scanner);
  for (const chunk of readChunksSync(job.path, job.start, job.end)) scanner.push(chunk);
  if (job.last) scanner.end();
  return {
    entries: scan.counter.entries(),
    invalidLines: scan.invalidLines,
    state: { scanner: scanner.current(), layout: scan.layout?.id ?? null, version: scan.version, records: 0, header: scan.header },
    resumable: scanner.snapshot() !== null,
    signature: scanner.signature,
    findings,
  };
}
