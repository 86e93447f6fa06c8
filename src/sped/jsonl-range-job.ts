/**
 * The pool job `sped.to-jsonl-range`: one byte range of a SPED file as JSON Lines, from the reader state the job
 * is given (line-ranges.ts explains the cut and the merge).
 */
import { ownedBytes, transferring } from '../pool/transfer.js';
import { readChunksSync } from './chunks.js';
import type { SpedFinding } from './findings.js';
import { JsonlBytes } from './jsonl-bytes.js';
import { rangeOutcome, readerShape, type LineRangeJob, type LineRangeResult } from './line-ranges.js';
import { parserOptions, SpedParser } from './reader.js';

/** Output bytes per input byte a range's buffer is first sized for. */
const JSONL_EXPANSION = 4.5;

export interface JsonlRangeResult extends LineRangeResult {
  /** The range's JSON Lines. */
  bytes: Uint8Array;
}

export async function jsonlRangeJob(job: LineRangeJob): Promise<JsonlRangeResult> {
  const findings: SpedFinding[] = [];
  let encoder: JsonlBytes | null = null;
  const parser = new SpedParser((fields, line) => encoder!.record(fields, line), (f) => findings.push(f), parserOptions(readerShape(job)));
  parser.restore(job.state);
  // sized for the range's whole output (JSON Lines run 3 to 5 times the SPED bytes), so it seldom grows
  encoder = new JsonlBytes(parser, Math.max(1 << 16, Math.ceil((job.end - job.start) * JSONL_EXPANSION)));
  const json = encoder;
  parser.byteLine = (buf, start, end, line) => json.line(buf, start, end, line);
  for (const chunk of readChunksSync(job.path, job.start, job.end)) parser.push(chunk);
  if (job.last) parser.end();
  const bytes = ownedBytes(json.detach());
  return transferring({ bytes, ...rangeOutcome(parser, findings) }, [bytes.buffer as ArrayBuffer]);
}
