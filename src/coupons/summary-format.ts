/**
 * The summary written out: a text table (the default), one JSON document (`--json`) or CSV rows (`--csv`).
 * Amounts are exact decimal strings with 2 places; rows come sorted by their dimension values.
 */
import { AMOUNTS, type GroupRow } from './aggregate.js';
import { formatCents } from './money.js';
import type { CouponSummary } from './summary.js';

/** Output column names of the amounts and counts, after the dimensions. */
export const SUMMARY_COLUMNS = ['coupons', 'items', 'gross', 'discount', 'icms_base', 'icms_value', 'pis', 'cofins', 'cancelled', 'cancelled_gross'] as const;

function cells(r: Omit<GroupRow, 'values'>): string[] {
  return [String(r.coupons), String(r.items), ...AMOUNTS.map((a) => formatCents(r[a])), String(r.cancelled), formatCents(r.cancelledGross)];
}

/** The summary as one JSON document (with a final newline). */
export function summaryJson(s: CouponSummary): string {
  const amounts = (r: Omit<GroupRow, 'values'>): Record<string, string | number> => {
    const c = cells(r);
    return Object.fromEntries(SUMMARY_COLUMNS.map((name, i) => [name, i < 2 || name === 'cancelled' ? Number(c[i]) : c[i]!]));
  };
  const t = s.totals;
  return `${JSON.stringify({
    by: s.by,
    rows: s.rows.map((r) => ({ ...Object.fromEntries(s.by.map((d, i) => [d, r.values[i] ?? ''])), ...amounts(r) })),
    totals: {
      ...amounts(t),
      duplicates: t.duplicates, duplicate_cancellations: t.duplicateCancellations, orphan_cancellations: t.orphanCancellations, read: t.read, not_counted: t.notCounted,
    },
    findings: s.findings,
  })}\n`;
}

const quote = (v: string, delimiter: string): string => (v.includes(delimiter) || /["\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The rows as CSV: a header, then one line per row (no totals line: sum the columns). */
export function summaryCsv(s: CouponSummary, delimiter = ',', decimalComma = false): string {
  const header = [...s.by, ...SUMMARY_COLUMNS];
  const lines = [header.join(delimiter)];
  for (const r of s.rows) {
    const c = cells(r).map((v) => (decimalComma ? v.replace('.', ',') : v));
    lines.push([...r.values, ...c].map((v) => quote(v, delimiter)).join(delimiter));
  }
  return `${lines.join('\n')}\n`;
}

/** The text table: the rows, a total line, and a line of counts. */
export function summaryText(s: CouponSummary): string {
  const header = [...s.by, ...SUMMARY_COLUMNS];
  const body = s.rows.map((r) => [...r.values, ...cells(r)]);
  const total = [...s.by.map((_, i) => (i === 0 ? 'total' : '')), ...cells(s.totals)];
  const all = [header, ...body, total];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const numeric = (i: number): boolean => i >= s.by.length;
  const fmt = (row: readonly string[]): string => row.map((v, i) => (numeric(i) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  const t = s.totals;
  return `${[fmt(header), ...body.map(fmt), fmt(total)].join('\n')}\n` +
    `${t.read} read: ${t.coupons} coupon(s) counted, ${t.cancelled} cancelled, ${t.duplicates} duplicate(s), ` +
    `${t.orphanCancellations} cancellation(s) without their sale, ${t.notCounted} not counted\n`;
}
