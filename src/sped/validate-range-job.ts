/**
 * The pool job `sped.validate-range`: one byte range of a SPED file, validated from the state `from` describes
 * (validate-ranges.ts explains the split and the merge).
 */
import { loadLayout } from './layout.js';
import { readChunksSync } from './chunks.js';
import { parserOptions, SpedParser } from './reader.js';
import type { RangeResult, RangeStart } from './range-state.js';
import { SpedValidator } from './validator.js';

export interface ValidateRangeJob {
  path: string;
  /** Bytes [start, end): start is the first byte of a line holding a `cut` register. */
  start: number;
  end: number;
  cut: string;
  maxErrors: number;
  /** Marks line numbers in messages for the merge (range-state.ts `lineToken`). */
  nonce: string;
  from: RangeStart;
  maxLineBytes?: number;
}

export async function validateRangeJob(job: ValidateRangeJob): Promise<RangeResult> {
  const layout = loadLayout(job.from.layout);
  const validator = SpedValidator.forRange(layout, job.from, job.cut, job.maxErrors, job.nonce);
  const options = { start: job.start, end: job.end, layout: job.from.layout, firstLine: 1, maxLineBytes: job.maxLineBytes };
  const parser = new SpedParser(
    (fields, line) => validator.record(fields, line, parser.layout, parser.info.version),
    (f) => validator.readerFinding(f),
    parserOptions(options),
  );
  // the head's detections hold: 0000 was seen (a later one changes nothing) and the version is known
  parser.info.header = [];
  parser.info.version = job.from.version;
  parser.scanner.assumeEncoding(job.from.encoding);
  parser.byteLine = (buf, s, e, line) => validator.recordBytes(buf, s, e, line, parser.info.version, parser.scanner.encoding);
  // read synchronously: the worker runs this range to its end before the next one queued to it (readChunksSync)
  for (const chunk of readChunksSync(job.path, job.start > 0 ? job.start - 1 : 0)) {
    parser.push(chunk);
    if (parser.done) break;
  }
  parser.end();
  return validator.rangeResult(job.from, parser.info, parser.scanner);
}
