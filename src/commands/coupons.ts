/**
 * The body of `fiscal coupons summary`: the CLI action (src/cli/coupons.ts) and the task type `coupons.summary`
 * (src/tasks/types.ts) both call it. Findings one per line on `messages`; the summary (text, JSON or CSV) on
 * `output`. Exit 0, or 1 when an error finding was reported or nothing was read (NFE_NO_DOCUMENTS).
 */
import type { Readable } from 'node:stream';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from '../errors.js';
import { isDimension, type Dimension } from '../coupons/aggregate.js';
import type { CouponCheckpointOptions } from '../coupons/checkpoint.js';
import { loadCsvMapping } from '../coupons/csv-mapping.js';
import { summarizeCoupons } from '../coupons/summary.js';
import { summaryCsv, summaryJson, summaryText } from '../coupons/summary-format.js';
import { formatCouponFinding } from '../coupons/types.js';
import { writeChunk } from '../nfe/batch.js';
import type { FiscalPool } from '../pool/pool.js';
import { noDocuments, poolOptions } from './nfe.js';
import type { CommandOutcome, CommandStreams } from './types.js';

export interface CouponsSummaryCommandOptions {
  readonly json?: boolean;
  readonly csv?: boolean;
  /** Comma-separated dimensions (`day,equipment,cfop`) or a list. */
  readonly by?: string | readonly string[];
  /** The CSV mapping file's path. */
  readonly mapping?: string;
  readonly asCsv?: boolean;
  readonly verify?: boolean;
  /** The duplicate detector's memory budget in MiB. */
  readonly keyMemory?: number;
  readonly maxBytes?: number;
  readonly maxDepth?: number;
  /** Worker threads (default: the cores; 1 = this thread). */
  readonly threads?: number;
  /** The runner's pool (a task on `fiscal run`/`fiscal worker`); wins over `threads`. */
  readonly pool?: FiscalPool;
  /** Checkpoints (a resumable task: src/tasks/types.ts); not a CLI flag. */
  readonly checkpoints?: CouponCheckpointOptions;
  /** CSV output only. */
  readonly delimiter?: string;
  readonly decimalComma?: boolean;
}

/** `--by` as dimensions; UsageError naming an unknown one. `''` groups nothing (one total row). */
export function parseDimensions(by: string | readonly string[]): Dimension[] {
  const names = (typeof by === 'string' ? by.split(',') : [...by]).map((d) => d.trim()).filter((d) => d !== '');
  const out: Dimension[] = [];
  for (const d of names) {
    if (!isDimension(d)) throw new UsageError(`--by: unknown dimension ${JSON.stringify(d)} (day, model, equipment, emitter, cst, cfop, rate)`, 'COUPON_OPTION');
    if (!out.includes(d)) out.push(d);
  }
  return out;
}

export async function couponsSummaryCommand(src: { sources: readonly string[]; stdin?: Readable }, streams: CommandStreams, o: CouponsSummaryCommandOptions): Promise<CommandOutcome> {
  if (o.json && o.csv) throw new UsageError('use either --json or --csv', 'COUPON_OPTION');
  const delimiter = o.delimiter ?? ',';
  if (o.decimalComma && delimiter === ',') throw new UsageError('--decimal-comma needs another --delimiter (e.g. ";")', 'COUPON_OPTION');
  const by = o.by === undefined ? undefined : parseDimensions(o.by);
  const mapping = o.mapping ? loadCsvMapping(o.mapping) : undefined;
  const s = await summarizeCoupons(src.sources, {
    ...(by ? { by } : {}),
    ...(mapping ? { mapping } : {}),
    ...(o.asCsv ? { asCsv: true } : {}),
    ...(o.verify ? { verify: true } : {}),
    ...(o.keyMemory ? { keyMemoryBytes: o.keyMemory * 1024 * 1024 } : {}),
    ...(o.maxBytes ? { maxBytes: o.maxBytes } : {}),
    ...(o.maxDepth ? { maxDepth: o.maxDepth } : {}),
    ...poolOptions(o),
    ...(o.checkpoints ? { checkpoints: o.checkpoints } : {}),
    ...(src.stdin ? { stdin: src.stdin } : {}),
    ...(streams.signal ? { signal: streams.signal } : {}),
    ...(streams.onProgress ? { onProgress: streams.onProgress } : {}),
    onFinding: (f) => streams.messages.write(`${formatCouponFinding(f)}\n`),
  });
  const t = s.totals;
  const counts = {
    read: t.read, coupons: t.coupons, cancelled: t.cancelled, duplicates: t.duplicates, orphanCancellations: t.orphanCancellations,
    notCounted: t.notCounted, rows: s.rows.length, spilledKeys: s.spilledKeys,
    ...(s.resumedFromItem > 0 ? { resumedFromItem: s.resumedFromItem } : {}),
  };
  if (t.read === 0) return { exitCode: noDocuments(streams.messages, src.sources), counts, findings: s.findings };
  await writeChunk(streams.output, o.json ? summaryJson(s) : o.csv ? summaryCsv(s, delimiter, o.decimalComma === true) : summaryText(s));
  return { exitCode: s.findings.errors > 0 ? EXIT_FINDINGS : EXIT_OK, counts, findings: s.findings };
}
