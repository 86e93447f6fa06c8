/**
 * The body of `fiscal sped from-docs`: the CLI action (src/cli/sped-from-docs.ts) and the task type
 * `sped.from-docs` (src/tasks/types.ts) both call it. Findings go to `messages` one per line (the first 1000;
 * the rest are counted), then one summary line; the EFD file to `output`.
 */
import type { Readable } from 'node:stream';
import type { FiscalPool } from '../pool/pool.js';
import { EXIT_FINDINGS, EXIT_OK } from '../errors.js';
import { loadCompany, parseCompany, type Company } from '../sped/from-docs-company.js';
import { formatDocFinding, type DocFinding, type FromDocsLayout } from '../sped/from-docs-extract.js';
import { spedFromDocs, type FromDocsCheckpointOptions, type FromDocsSummary } from '../sped/from-docs.js';
import type { CommandOutcome, CommandStreams, FindingCounts } from './types.js';

const MAX_PRINTED = 1000;

export interface SpedFromDocsCommandOptions {
  /** The file to write: `efd-icms-ipi` (default) or `efd-contribuicoes`. */
  readonly layout?: FromDocsLayout;
  /** The company: a COMPANY.json path, or its value (a task carries it inline). */
  readonly company: string | Readonly<Record<string, unknown>>;
  /** `YYYY-MM`. */
  readonly period: string;
  readonly maxBytes?: number;
  readonly maxDepth?: number;
  /** Memory of the temporary store before it works from disk, in MiB (default 64). */
  readonly budgetMb?: number;
  readonly tempDir?: string;
  /** Worker threads the documents are parsed on (default: the available cores; 1 = this thread), or a pool to run on. */
  readonly threads?: number;
  readonly pool?: FiscalPool;
  /** Resumable runs (the `sped.from-docs` task; not a CLI flag): see FromDocsOptions.checkpoints. */
  readonly checkpoints?: FromDocsCheckpointOptions;
}

/** The summary line: what was booked and the apuration (ICMS, or PIS and COFINS). */
export function formatFromDocsSummary(s: FromDocsSummary, findings: FindingCounts): string {
  const c = s.contributions;
  const apuration = c
    ? `PIS due ${c.pis.due} (contribution ${c.pis.contribution}, credits used ${c.pis.creditsUsed}), COFINS due ${c.cofins.due} (contribution ${c.cofins.contribution}, credits used ${c.cofins.creditsUsed})`
    : s.apuration
      ? `ICMS debits ${s.apuration.debits}, credits ${s.apuration.credits}, due ${s.apuration.due}`
      : '';
  return (
    `from-docs: ${s.documents} documents; ${s.notes} C100 (${s.cancelledNotes} cancelled${s.unusedNumbers > 0 ? `, ${s.unusedNumbers} unused numbers` : ''}), ${s.coupons} CF-e (${s.cancelledCoupons} cancelled), ` +
    `${s.duplicates} duplicates; ${apuration}; ${s.lines} lines; ${findings.errors} errors, ${findings.warnings} warnings`
  );
}

export async function spedFromDocsCommand(
  src: { readonly sources: readonly string[]; readonly stdin?: Readable },
  streams: CommandStreams,
  o: SpedFromDocsCommandOptions,
): Promise<CommandOutcome> {
  const company: Company = typeof o.company === 'string' ? loadCompany(o.company) : parseCompany(o.company, 'options.company');
  let printed = 0;
  const onFinding = (f: DocFinding): void => {
    if (printed++ < MAX_PRINTED) streams.messages.write(`${formatDocFinding(f)}\n`);
  };
  const s = await spedFromDocs(src.sources, streams.output, {
    company, period: o.period, onFinding,
    ...(o.layout ? { layout: o.layout } : {}),
    ...(o.maxBytes ? { maxBytes: o.maxBytes } : {}),
    ...(o.pool ? { pool: o.pool } : o.threads ? { threads: o.threads } : {}),
    ...(o.maxDepth ? { maxDepth: o.maxDepth } : {}),
    ...(o.budgetMb ? { budgetBytes: o.budgetMb * 1024 * 1024 } : {}),
    ...(o.tempDir ? { tempDir: o.tempDir } : {}),
    ...(o.checkpoints ? { checkpoints: o.checkpoints } : {}),
    ...(src.stdin ? { stdin: src.stdin } : {}),
    ...(streams.signal ? { signal: streams.signal } : {}),
    ...(streams.onProgress ? { onProgress: streams.onProgress } : {}),
  });
  if (printed > MAX_PRINTED) streams.messages.write(`from-docs: … ${printed - MAX_PRINTED} more findings not shown\n`);
  streams.messages.write(`${formatFromDocsSummary(s, s.findings)}\n`);
  return {
    exitCode: s.findings.errors > 0 ? EXIT_FINDINGS : EXIT_OK,
    counts: { documents: s.documents, notes: s.notes, cancelledNotes: s.cancelledNotes, unusedNumbers: s.unusedNumbers, coupons: s.coupons, cancelledCoupons: s.cancelledCoupons, duplicates: s.duplicates, lines: s.lines, ...(s.resumedFromDocument > 0 ? { resumedFromDocument: s.resumedFromDocument } : {}) },
    findings: { ...s.findings },
  };
}
