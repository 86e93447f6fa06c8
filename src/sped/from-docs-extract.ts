/**
 * One parsed document → what the EFD ICMS/IPI books of it: a note (NF-e 55, NFC-e 65) with its C100, C170 and
 * C190 records, participant and items; a coupon (CF-e 59) with its C800 and C850 groups; or a cancellation
 * (event 110111/110112, CFeCanc) by the key it cancels; or a homologated range of unused numbers (inutilização,
 * from-docs-unused.ts). Documents outside the period or of another company are
 * findings, not entries. Pure: the same document always gives the same entries, whatever came before it.
 */
import type { ParsedNfe } from '../nfe/parse.js';
import { notesOf } from '../nfe/parse.js';
import { eventsOf } from '../nfe/csv.js';
import { eventStatus } from '../nfe/validate.js';
import { o, s, type Obj } from '../nfe/csv-fields.js';
import { extractCoupon } from './from-docs-coupon.js';
import { extractNote } from './from-docs-note.js';
import { extractUnused } from './from-docs-unused.js';
import { isInutKind } from '../nfe/types.js';
import { warn, type ExtractContext, type Extracted } from './from-docs-entries.js';

export { formatDocFinding } from './from-docs-entries.js';
export { FROM_DOCS_LAYOUTS } from './from-docs-entries.js';
export type { CouponEntry, DocFinding, DocSeverity, ExtractContext, Extracted, FromDocsLayout, ItemEntry, NoteEntry, UnusedEntry } from './from-docs-entries.js';

/** Everything the EFD books of one parsed document. */
export function extractDocument(parsed: ParsedNfe, ctx: ExtractContext): Extracted {
  const out: Extracted = { notes: [], coupons: [], unused: [], cancels: [], findings: [] };
  for (const f of parsed.findings) if (f.severity === 'error') out.findings.push({ code: f.code, severity: 'error', source: f.source, message: f.message });
  if (!parsed.doc || !parsed.kind) return out;
  const kind = parsed.kind;
  if (kind === 'CFe') {
    extractCoupon(parsed, ctx, out);
    return out;
  }
  if (kind === 'CFeCanc') {
    const inf = o(o((parsed.doc as Obj).CFeCanc).infCFe);
    if (s(o(inf.emit).CNPJ) !== ctx.company.cnpj) out.findings.push(warn('FROMDOCS_OTHER_COMPANY', parsed.source, `CF-e cancellation ${parsed.key ?? ''} is not of company ${ctx.company.cnpj}: not counted`));
    else for (const [key] of eventsOf(parsed)) out.cancels.push(key);
    return out;
  }
  if (kind === 'nfeProc' || kind === 'NFe' || kind === 'enviNFe') {
    const root = o((parsed.doc as Obj)[kind]);
    const prot = kind === 'nfeProc' ? o(o(root.protNFe).infProt) : {};
    const appended = kind === 'nfeProc' ? eventStatus(root).cancelled : false;
    for (const nfe of notesOf(parsed.doc)) extractNote(nfe, prot, appended, parsed.source, ctx, out);
    return out;
  }
  if (isInutKind(kind)) {
    extractUnused(parsed, kind, ctx, out);
    return out;
  }
  if (kind === 'resNFe') {
    out.findings.push(warn('FROMDOCS_UNSUPPORTED', parsed.source, `a resNFe (summary) has no items or taxes to book; give the full note ${parsed.key ?? ''}`));
    return out;
  }
  // events: cancellations (110111) and substitutions (110112) homologated; other events book nothing
  for (const [key, st] of eventsOf(parsed)) if (st.cancelled) out.cancels.push(key);
  return out;
}

