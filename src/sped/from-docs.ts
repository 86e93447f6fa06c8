/**
 * `fiscal sped from-docs`: the EFD ICMS/IPI (default) or the EFD-Contribuições of one month built from the
 * NF-e, NFC-e and CF-e SAT documents a company issued and received (docs/from-docs.md,
 * docs/from-docs-contribuicoes.md).
 *
 *   const company = loadCompany('company.json');
 *   const summary = await spedFromDocs(['notes/', 'coupons.zip'], out, { company, period: '2026-03' });
 *   await spedFromDocs(['notes/', 'coupons.zip'], out2, { company, period: '2026-03', layout: 'efd-contribuicoes' });
 *
 * Documents are read once (files, folders, zips, stdin: src/nfe/source.ts), each turned into its entries for
 * the layout (from-docs-extract.ts) and stored on disk (from-docs-store.ts), deduplicated by access key; then
 * the file is written in the layout's order from the store (from-docs-icms.ts, from-docs-contrib.ts), the totals
 * and block 9 by the SPED writer. Memory is flat in the number of documents; the output is the same bytes
 * whatever the order of the input.
 */
import type { Writable } from 'node:stream';
import { runPooledDocuments } from '../nfe/batch-pool.js';
import type { NfeBatchOptions } from '../nfe/batch.js';
import { UsageError } from '../errors.js';
import { periodDays, type Company } from './from-docs-company.js';
import type { ContributionSummary } from './from-docs-contrib-m.js';
import { writeContribuicoes } from './from-docs-contrib.js';
import { FROM_DOCS_LAYOUTS, type DocFinding, type Extracted, type FromDocsLayout } from './from-docs-extract.js';
import { writeIcmsIpi } from './from-docs-icms.js';
import { RecordMaker } from './from-docs-records.js';
import { FromDocsStore } from './from-docs-store.js';
import { loadLayout, type Layout } from './layout.js';

/** The reading options (maxBytes, maxDepth, stdin), the pool (threads, pool) and cancellation (signal) of the NF-e batches. */
export interface FromDocsOptions extends Pick<NfeBatchOptions, 'maxBytes' | 'maxDepth' | 'stdin' | 'signal' | 'threads' | 'pool'> {
  /** The file to write: `efd-icms-ipi` (default) or `efd-contribuicoes`. */
  layout?: FromDocsLayout;
  company: Company;
  /** `YYYY-MM`. */
  period: string;
  /** Where the temporary database goes (default the system's temporary folder). */
  tempDir?: string;
  /** Memory the temporary database may hold before it works from disk (default 64 MiB). */
  budgetBytes?: number;
  /** Called for every finding (documents outside the period, of another company, duplicated, unreadable, …). */
  onFinding?: (f: DocFinding) => void;
  /** Documents read so far. */
  onProgress?: (documents: number) => void;
  /**
   * Checkpoints (a resumable run, the `sped.from-docs` task): the store in a durable file, committed with the
   * run's state every so many documents and once all are read; with `resume`, the run continues from the file's
   * last checkpoint. Findings reported before that checkpoint are not reported again (their counts are kept).
   */
  checkpoints?: FromDocsCheckpointOptions;
}

export interface FromDocsCheckpointOptions {
  /** The durable store's file: new (a first attempt) or a snapshot of an earlier attempt's (to resume). */
  readonly path: string;
  /** Continue from the file's last checkpoint when it has one (else from the start). */
  readonly resume: boolean;
  /** Documents between two checkpoints (default 50,000). */
  readonly every?: number;
  /** Called after each checkpoint is in the file (fsynced): the caller records it. */
  readonly onCheckpoint: (at: { readonly documents: number; readonly loaded: boolean }) => Promise<void>;
}

/** Documents between two checkpoints unless told otherwise. */
export const DEFAULT_FROM_DOCS_CHECKPOINT_EVERY = 50_000;
const CHECKPOINT_VERSION = 1;

/** What a checkpoint holds beside the store's entries: the documents read (in input order), the counters. */
interface FromDocsCheckpointState {
  readonly version: typeof CHECKPOINT_VERSION;
  readonly documents: number;
  readonly duplicates: number;
  readonly findings: { readonly errors: number; readonly warnings: number };
  /** Every document was read: what is left is writing the file from the store. */
  readonly loaded: boolean;
}

function parseCheckpointState(text: string | null): FromDocsCheckpointState | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Partial<FromDocsCheckpointState>;
    if (v.version !== CHECKPOINT_VERSION || typeof v.documents !== 'number' || typeof v.duplicates !== 'number' || !v.findings || typeof v.loaded !== 'boolean') return null;
    return v as FromDocsCheckpointState;
  } catch {
    return null;
  }
}

export interface FromDocsSummary {
  documents: number;
  /** With `checkpoints.resume`: the documents the run did not read again (0 otherwise). */
  resumedFromDocument: number;
  /** C100s written (regular, cancelled, denied and unused numbers). */
  notes: number;
  cancelledNotes: number;
  /** C100 COD_SIT 05 written, one per unused number of a homologated inutilização. */
  unusedNumbers: number;
  coupons: number;
  cancelledCoupons: number;
  duplicates: number;
  findings: { errors: number; warnings: number };
  layout: FromDocsLayout;
  /** EFD ICMS/IPI: E110 debits, credits and the ICMS to pay ('.' decimals). */
  apuration?: { debits: string; credits: string; due: string; creditToCarry: string };
  /** EFD-Contribuições: the PIS and COFINS of block M ('.' decimals). */
  contributions?: { pis: ContributionSummary; cofins: ContributionSummary };
  lines: number;
  bytes: number;
  registers: Record<string, number>;
  /** Field values changed to fit the SPED ('|' → '/', line breaks → space, characters outside Windows-1252 → '?'). */
  replaced: number;
}

/** The layout version (COD_VER) in force on the period's first day. */
export function versionFor(layout: Layout, start: string): string {
  const v = layout.data.versions.find((x) => (x.from ?? '') <= start && (x.to === null || start <= x.to));
  if (!v) throw new RangeError(`no ${layout.id} layout version covers ${start}`);
  return v.version;
}

/** Writes the EFD ICMS/IPI (or, `options.layout`, the EFD-Contribuições) of `options.period` built from the documents of `sources`; see the module comment. */
export async function spedFromDocs(sources: string | readonly string[], output: Writable, options: FromDocsOptions): Promise<FromDocsSummary> {
  const period = periodDays(options.period);
  const layoutId = options.layout ?? 'efd-icms-ipi';
  if (!FROM_DOCS_LAYOUTS.includes(layoutId)) throw new UsageError(`from-docs writes ${FROM_DOCS_LAYOUTS.join(' or ')} (got '${String(layoutId)}')`, 'FROMDOCS_LAYOUT');
  const layout = loadLayout(layoutId);
  const version = versionFor(layout, period.start);
  const records = new RecordMaker(layout, version);
  const { company } = options;
  if (layoutId === 'efd-contribuicoes' && company.purpose === '1' && !company.contribuicoes.previousReceipt) {
    throw new UsageError('company: $.contribuicoes.previousReceipt: a substitute EFD-Contribuições (purpose 1) names the receipt of the file it replaces', 'FROMDOCS_COMPANY');
  }
  const cps = options.checkpoints;
  const store = new FromDocsStore({ ...(options.tempDir ? { tempDir: options.tempDir } : {}), ...(options.budgetBytes ? { budgetBytes: options.budgetBytes } : {}), ...(cps ? { path: cps.path } : {}) });
  try {
    const from = cps?.resume ? parseCheckpointState(store.checkpoint()) : null;
    const findings = { ...(from?.findings ?? { errors: 0, warnings: 0 }) };
    const report = (f: DocFinding): void => {
      findings[f.severity === 'error' ? 'errors' : 'warnings']++;
      options.onFinding?.(f);
    };
    let duplicates = from?.duplicates ?? 0;
    const skipped = from?.documents ?? 0;
    const counter = { documents: 0, stopped: false };
    const checkpoint = async (loaded: boolean): Promise<void> => {
      const state: FromDocsCheckpointState = { version: CHECKPOINT_VERSION, documents: skipped + counter.documents, duplicates, findings: { ...findings }, loaded };
      store.commit(JSON.stringify(state));
      await cps!.onCheckpoint({ documents: state.documents, loaded });
    };
    const take = (got: Extracted): void => {
      for (const f of got.findings) report(f);
      for (const n of got.notes) {
        const r = store.addNote(n);
        if (r.duplicate) {
          duplicates++;
          report({ code: 'FROMDOCS_DUPLICATE', severity: 'warning', source: n.source, message: `note ${n.key} already read from ${r.first}: counted once` });
        }
      }
      for (const c of got.coupons) {
        const r = store.addCoupon(c);
        if (r.duplicate) {
          duplicates++;
          report({ code: 'FROMDOCS_DUPLICATE', severity: 'warning', source: c.source, message: `CF-e ${c.key} already read from ${r.first}: counted once` });
        }
      }
      for (const u of got.unused) {
        const r = store.addUnused(u);
        if (r.duplicates > 0) {
          duplicates += r.duplicates;
          report({ code: 'FROMDOCS_DUPLICATE', severity: 'warning', source: u.source, message: `${r.duplicates} of the unused numbers ${u.first}–${u.last} of series ${u.serie} (model ${u.model}) already read from ${r.first ?? '?'}: counted once` });
        }
      }
      for (const k of got.cancels) store.addCancel(k);
    };
    if (!from?.loaded) {
      // parse and extract on the pool's workers (in input order); store here
      const { onFinding: _f, onProgress, company: _c, period: _p, tempDir: _t, budgetBytes: _b, layout: _l, checkpoints: _k, ...batch } = options;
      const every = cps?.every ?? DEFAULT_FROM_DOCS_CHECKPOINT_EVERY;
      let last = 0;
      await runPooledDocuments<Extracted>({
        sources,
        // resumed: the documents before the checkpoint are passed over (read again, not parsed)
        skip: skipped,
        options: { ...batch, ...(onProgress ? { onProgress: (n: number) => onProgress(skipped + n) } : {}) },
        job: 'sped.from-docs-extract',
        payload: { layout: layoutId, company, period, version, ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}) },
        counter,
        emit: async (got) => {
          take(got);
          if (cps && counter.documents - last >= every) {
            last = counter.documents;
            await checkpoint(false);
          }
          return false;
        },
      });
      if (cps) await checkpoint(true);
    }
    const documents = skipped + counter.documents;
    store.seal();
    for (const c of store.conflicts()) {
      const [model, serie, number] = c.number.split('|');
      report({ code: 'FROMDOCS_UNUSED_CONFLICT', severity: 'warning', source: c.unusedSource, message: `number ${number} of series ${serie} (model ${model}) is voided here but note ${c.noteKey} (${c.noteSource}) was issued with it: the note is booked, the unused number is not` });
    }
    const context = { layout, version, records, company, period };
    const written = layoutId === 'efd-contribuicoes' ? await writeContribuicoes(store, output, context) : await writeIcmsIpi(store, output, context);
    return { documents, resumedFromDocument: skipped, duplicates, findings, layout: layoutId, ...written };
  } finally {
    store.close();
  }
}
