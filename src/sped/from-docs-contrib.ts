/**
 * The EFD-Contribuições writer of `fiscal sped from-docs --layout efd-contribuicoes`
 * (docs/from-docs-contribuicoes.md): block 0 (0000, 0100, 0110, 0140 with the tables), block C (C010 of the
 * company's establishment; NF-e as C100 + C170, NFC-e as C100 + C175, CF-e as C860 + C870 per SAT equipment
 * and day), block M from what block C booked (from-docs-contrib-m.ts); blocks A, D, F, I, P and 1 present and
 * empty, X001/X990 and block 9 by the SPED writer. The records per model come from
 * formats/sped/from-docs/contribuicoes.json.
 */
import type { Writable } from 'node:stream';
import { money } from './from-docs-analytic.js';
import { ContribApuration, type ContributionSummary } from './from-docs-contrib-m.js';
import { accountantRecord } from './from-docs-icms.js';
import { loadPisCofins, PisCofinsGroups, type PisCofinsGroup } from './from-docs-pis-cofins.js';
import { spedDate, type RecordMaker } from './from-docs-records.js';
import { CONTRIB_RULES } from './from-docs-rules.js';
import type { FromDocsStore } from './from-docs-store.js';
import { putNotes, putTables, satDays, type WriteContext } from './from-docs-write.js';
import { SpedWriter } from './writer.js';

/** What the EFD-Contribuições file holds: counts, the contributions, the writer's summary. */
export interface ContribWritten {
  notes: number;
  cancelledNotes: number;
  /** C100 COD_SIT 05 written, one per unused number. */
  unusedNumbers: number;
  coupons: number;
  cancelledCoupons: number;
  contributions: { pis: ContributionSummary; cofins: ContributionSummary };
  lines: number;
  bytes: number;
  registers: Record<string, number>;
  replaced: number;
}

/** The PIS/COFINS fields of C175 and C870 (C870 also names the item: left empty, optional). */
function pisCofinsFields(g: PisCofinsGroup): Record<string, string> {
  return {
    CFOP: g.cfop, VL_DESC: money(g.desc), CST_PIS: g.cstPis, VL_BC_PIS: money(g.bcPis), ALIQ_PIS: g.ratePis.format(',', 4), VL_PIS: money(g.pis),
    CST_COFINS: g.cstCofins, VL_BC_COFINS: money(g.bcCofins), ALIQ_COFINS: g.rateCofins.format(',', 4), VL_COFINS: money(g.cofins),
  };
}

const c175 = (records: RecordMaker, g: PisCofinsGroup): string[] => records.make('C175', { ...pisCofinsFields(g), VL_OPR: money(g.item) });
const c870 = (records: RecordMaker, g: PisCofinsGroup): string[] => records.make('C870', { ...pisCofinsFields(g), VL_ITEM: money(g.item) });

/** Block 0 before the tables: 0000, 0100 (accountant), 0110 (regime), 0140 (the establishment). */
function opening(w: WriteContext): string[][] {
  const { records, company: c, period } = w;
  const x = c.contribuicoes;
  const nc = x.regime === 'non-cumulative';
  return [
    records.make('0000', {
      COD_VER: w.version, TIPO_ESCRIT: c.purpose, IND_SIT_ESP: x.specialSituation, NUM_REC_ANTERIOR: c.purpose === '1' ? x.previousReceipt : '',
      DT_INI: spedDate(period.start), DT_FIN: spedDate(period.end), NOME: c.name, CNPJ: c.cnpj, UF: c.uf, COD_MUN: c.codMun, SUFRAMA: c.suframa,
      IND_NAT_PJ: x.natureza, IND_ATIV: x.activity,
    }),
    accountantRecord(records, c),
    records.make('0110', {
      COD_INC_TRIB: CONTRIB_RULES.regimeCodes[x.regime], IND_APRO_CRED: nc ? x.creditAppropriation : '', COD_TIPO_CONT: nc ? x.contributionType : '',
      IND_REG_CUM: nc ? '' : CONTRIB_RULES.regimeCodes.detailedCumulative,
    }),
    records.make('0140', { COD_EST: x.establishment, NOME: c.name, CNPJ: c.cnpj, UF: c.uf, IE: c.ie, COD_MUN: c.codMun, IM: c.im, SUFRAMA: c.suframa }),
  ];
}

export async function writeContribuicoes(store: FromDocsStore, output: Writable, w: WriteContext): Promise<ContribWritten> {
  const { records, company: c } = w;
  // texts from documents may hold what a SPED field cannot ('|', line breaks, characters outside Windows-1252): replaced, counted
  const writer = new SpedWriter(output, { layout: 'efd-contribuicoes', version: w.version, replace: true });
  const put = async (fields: string[]): Promise<void> => {
    await writer.writeFields(fields);
  };
  for (const r of opening(w)) await put(r);
  await putTables(store, records, put);

  await put(records.make('C010', { CNPJ: c.cnpj, IND_ESCRI: CONTRIB_RULES.records.establishmentBookkeeping }));
  const apuration = new ContribApuration(c.contribuicoes.regime);
  const { notes, cancelledNotes, unusedNumbers } = await putNotes(store, records, put, CONTRIB_RULES.cancelled.c100Fields, async (note) => {
    const exit = note.c100[records.at('C100', 'IND_OPER')] === '1';
    const nfce = note.c100[records.at('C100', 'COD_MOD')] === '65';
    for (const s of note.pisCofins ?? []) {
      const g = loadPisCofins(s);
      apuration.add(g, exit);
      if (nfce) await put(c175(records, g));
    }
  });
  const counts = { coupons: 0, cancelledCoupons: 0 };
  const days = satDays(store.coupons(), () => new PisCofinsGroups(), (sums, coupon) => sums.addAll((coupon.pisCofins ?? []).map(loadPisCofins)), counts);
  for (const d of days) {
    await put(records.make('C860', { COD_MOD: '59', NR_SAT: d.sat, DT_DOC: d.day, DOC_INI: d.first, DOC_FIM: d.last }));
    for (const g of d.sums.list()) {
      apuration.add(g, true);
      await put(c870(records, g));
    }
  }
  const m = apuration.records(records);
  for (const r of m.lines) await put(r);
  const summary = await writer.finish();
  return {
    notes, cancelledNotes, unusedNumbers, ...counts, contributions: m.summary,
    lines: summary.lines, bytes: summary.bytes, registers: Object.fromEntries(summary.registers), replaced: summary.replaced,
  };
}
