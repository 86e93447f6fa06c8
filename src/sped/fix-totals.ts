/**
 * `fixTotals`: a file's own records through the writer, so X001 (IND_MOV), X990, the empty required blocks,
 * 9001, the 9900 list, 9990 and 9999 are regenerated. Lines the reader cannot take as records (no leading `|`,
 * overlong) are dropped and reported; the PVA signature block is not copied (a repaired file is no longer signed).
 */
import type { Writable } from 'node:stream';
import { forEachRecord, type ConvertOptions } from './drain.js';
import type { SpedReadInfo, SpedSource } from './reader.js';
import { SpedWriter, type SpedWriteSummary } from './writer.js';

export interface FixTotalsOptions extends ConvertOptions {
  /** Replace what Windows-1252 cannot hold instead of failing. */
  replace?: boolean;
}

export interface FixTotalsResult {
  info: SpedReadInfo;
  summary: SpedWriteSummary;
  /** Reader findings passed to `onFinding`. */
  findingCount: number;
  /** Input lines not written: not records (reader findings) — blank lines are counted apart. */
  droppedLines: number;
}

/** Rewrites a SPED file with regenerated totals into `output` (Windows-1252, CRLF). Does not end `output`. */
export async function fixTotals(source: SpedSource, output: Writable, options: FixTotalsOptions = {}): Promise<FixTotalsResult> {
  const writer = new SpedWriter(output, { layout: options.layout, replace: options.replace });
  let droppedLines = 0;
  const { info, findingCount } = await forEachRecord(
    source,
    {
      ...options,
      onFinding(f) {
        if (f.code === 'SPED_LINE_FORMAT' || f.code === 'SPED_LINE_TOO_LONG') droppedLines++;
        options.onFinding?.(f);
      },
    },
    (record) => writer.writeFields(record.fields, record.line),
  );
  const summary = await writer.finish();
  return { info, summary, findingCount, droppedLines };
}
