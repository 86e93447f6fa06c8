/**
 * What from-docs takes of a document (from-docs-extract.ts makes them, from-docs-store.ts keeps them): note and
 * coupon entries, findings, and the context every extractor reads.
 */
import type { StoredGroup } from './from-docs-analytic.js';
import type { Company } from './from-docs-company.js';
import type { StoredPisCofins } from './from-docs-pis-cofins.js';
import type { RecordMaker } from './from-docs-records.js';

/** The file from-docs writes: the EFD ICMS/IPI (the default) or the EFD-Contribuições. */
export type FromDocsLayout = 'efd-icms-ipi' | 'efd-contribuicoes';
export const FROM_DOCS_LAYOUTS: readonly FromDocsLayout[] = ['efd-icms-ipi', 'efd-contribuicoes'];

export type DocSeverity = 'error' | 'warning';

/** A finding about one document (codes in docs/errors.md, "SPED from documents"). */
export interface DocFinding {
  readonly code: string;
  readonly severity: DocSeverity;
  readonly source: string;
  readonly message: string;
}

export function formatDocFinding(f: DocFinding): string {
  return `${f.source}:${f.severity === 'warning' ? ' warning:' : ''} ${f.message} [${f.code}]`;
}

/** An item of a received note, for 0200 (and 0220 when the note's unit is not the inventory unit). */
export interface ItemEntry {
  code: string;
  /** The 0200 record. */
  record: string[];
  /** The unit the C170 names and, when it is not UNID_INV, the factor to it (FAT_CONV). */
  unit: string;
  /** UNID_INV of the 0200 record. */
  inventoryUnit: string;
  factor: string | null;
}

export interface NoteEntry {
  key: string;
  source: string;
  /** The order of the C100s in the file. */
  sort: string;
  /** From the document itself: its protocol or appended events (a separate event may still cancel it). */
  status: 'regular' | 'cancelled' | 'denied';
  c100: string[];
  c170: string[][];
  /** ICMS groups (C190 of the EFD ICMS/IPI). */
  groups: StoredGroup[];
  /** EFD-Contribuições: PIS/COFINS groups of the items (C175 of an NFC-e; what the M block adds up). */
  pisCofins?: StoredPisCofins[];
  participant: { code: string; record: string[] } | null;
  items: ItemEntry[];
  /** A note of own issue: `model|serie|number`, what an unused number of the same numbering would be. */
  number?: string;
}

/** A homologated range of unused numbers of own issue (inutilização): one C100 COD_SIT 05 per number. */
export interface UnusedEntry {
  source: string;
  model: string;
  serie: string;
  first: number;
  last: number;
  /** ISO day of SEFAZ's dhRecbto, for the order. */
  isoDay: string;
  /** The C100 of each number, NUM_DOC at `numberAt` left to fill. */
  c100: string[];
  numberAt: number;
}

/** The numbering a C100 of own issue belongs to (`model|serie|number`, as written in the document). */
export const numberingKey = (model: string, serie: string, number: string | number): string => `${model}|${serie}|${number}`;

export interface CouponEntry {
  key: string;
  source: string;
  sat: string;
  /** DDMMAAAA. */
  day: string;
  /** ISO day, for the order. */
  isoDay: string;
  number: string;
  /** EFD ICMS/IPI: the C800 record and the ICMS groups (C850/C890); empty for the EFD-Contribuições, which books coupons per SAT and day. */
  c800: string[];
  groups: StoredGroup[];
  /** EFD-Contribuições: PIS/COFINS groups of the items (C870). */
  pisCofins?: StoredPisCofins[];
}

export interface Extracted {
  notes: NoteEntry[];
  coupons: CouponEntry[];
  unused: UnusedEntry[];
  /** Keys cancelled by this document (events, CFeCanc). */
  cancels: string[];
  findings: DocFinding[];
}

export interface ExtractContext {
  layout: FromDocsLayout;
  company: Company;
  period: { start: string; end: string };
  records: RecordMaker;
}

export const warn = (code: string, source: string, message: string): DocFinding => ({ code, severity: 'warning', source, message });
export const fail = (code: string, source: string, message: string): DocFinding => ({ code, severity: 'error', source, message });

/** Whether an ISO date (or date-time) falls in the period. */
export const inPeriod = (ctx: ExtractContext, iso: string): boolean => {
  const d = iso.slice(0, 10);
  return d >= ctx.period.start && d <= ctx.period.end;
};
