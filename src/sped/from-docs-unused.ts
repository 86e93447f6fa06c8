/**
 * An inutilização (procInutNFe, retInutNFe) → the unused numbers of the company's own numbering the EFD ICMS/IPI
 * books as C100 COD_SIT 05, one per number (formats/sped/from-docs/rules.json, `unusedNumbers`): only a range
 * SEFAZ homologated (cStat 102), of the company's CNPJ, received in the period and for a period when the Guia
 * still has the situation (up to 2022). Anything else is a finding, not an entry.
 */
import { o, type Obj } from '../nfe/csv-fields.js';
import { INUT_HOMOLOGATED, readInut } from '../nfe/inut.js';
import type { ParsedNfe } from '../nfe/parse.js';
import type { InutKind } from '../nfe/types.js';
import { fail, inPeriod, warn, type ExtractContext, type Extracted } from './from-docs-entries.js';
import { CONTRIB_RULES, FROM_DOCS_RULES } from './from-docs-rules.js';

export function extractUnused(parsed: ParsedNfe, kind: InutKind, ctx: ExtractContext, out: Extracted): void {
  const { source } = parsed;
  if (kind === 'inutNFe') {
    out.findings.push(warn('FROMDOCS_UNSUPPORTED', source, 'an inutilização request without SEFAZ\'s answer does not show it was homologated: not booked (give the procInutNFe)'));
    return;
  }
  const base = `/${[...parsed.wrappers, kind].join('/')}`;
  const { range, answer, problems } = readInut(kind, o((parsed.doc as Obj)[kind]), base);
  // a malformed inutilização: the validator's findings (as `fiscal nfe validate` gives them), nothing booked
  for (const p of problems) out.findings.push({ code: p.code, severity: p.severity, source, message: `${p.path}: ${p.message}` });
  if (problems.some((p) => p.severity === 'error') || !range || !answer || answer.cStat !== INUT_HOMOLOGATED) return;
  const what = `unused numbers ${range.first}–${range.last} of series ${range.serie} (model ${range.mod})`;
  if (range.cnpj !== ctx.company.cnpj) {
    out.findings.push(warn('FROMDOCS_OTHER_COMPANY', source, `${what} are of CNPJ ${range.cnpj}, not of company ${ctx.company.cnpj}: not counted`));
    return;
  }
  if (!inPeriod(ctx, answer.dhRecbto)) {
    out.findings.push(warn('FROMDOCS_OUT_OF_PERIOD', source, `${what} were voided on ${answer.dhRecbto.slice(0, 10)}, outside the period ${ctx.period.start} to ${ctx.period.end}: not counted`));
    return;
  }
  if (ctx.layout === 'efd-contribuicoes' && !CONTRIB_RULES.unusedNumbers.booked) {
    out.findings.push(warn('FROMDOCS_UNUSED_NOT_BOOKED', source, `${what}: the EFD-Contribuições does not book unused numbers (no PIS/COFINS)`));
    return;
  }
  if (ctx.period.start > FROM_DOCS_RULES.deniedUntil.lastDay) {
    out.findings.push(warn('FROMDOCS_UNUSED_NOT_BOOKED', source, `${what}: from 2023 an unused number is not booked (COD_SIT 05 discontinued)`));
    return;
  }
  const rules = FROM_DOCS_RULES.unusedNumbers;
  const count = range.last - range.first + 1;
  if (count > rules.maxNumbers) {
    out.findings.push(fail('FROMDOCS_UNUSED_TOO_MANY', source, `${what}: ${count} numbers, more than the ${rules.maxNumbers} one inutilização is taken to void; not booked`));
    return;
  }
  out.unused.push({
    source, model: range.mod, serie: range.serie, first: range.first, last: range.last, isoDay: answer.dhRecbto.slice(0, 10),
    c100: ctx.records.make('C100', { ...rules.c100, COD_MOD: range.mod, COD_SIT: '05', SER: range.serie }),
    numberAt: ctx.records.at('C100', 'NUM_DOC'),
  });
}
