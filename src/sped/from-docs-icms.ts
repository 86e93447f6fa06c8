/**
 * The EFD ICMS/IPI writer of `fiscal sped from-docs` (docs/from-docs.md): block 0 (0000, 0005, 0100 and the
 * tables), the C100s with C170/C190, the CF-e as C800/C850 or C860/C890, the apuration E100/E110/E116 from the
 * analytic records, 1010; the other blocks, X001/X990 and block 9 by the SPED writer.
 */
import type { Writable } from 'node:stream';
import { Decimal } from '../common/decimal.js';
import { AnalyticGroups, dec, loadGroup, money, moneyOf, storeGroup, type StoredGroup } from './from-docs-analytic.js';
import { spedDate, type RecordMaker } from './from-docs-records.js';
import { FROM_DOCS_RULES } from './from-docs-rules.js';
import type { FromDocsStore } from './from-docs-store.js';
import { keepOnly, putNotes, putTables, satDays, type Put, type WriteContext } from './from-docs-write.js';
import type { Layout } from './layout.js';
import { SpedWriter } from './writer.js';

/** What the EFD ICMS/IPI file holds: counts, the E110 apuration, the writer's summary. */
export interface IcmsWritten {
  notes: number;
  cancelledNotes: number;
  /** C100 COD_SIT 05 written, one per unused number. */
  unusedNumbers: number;
  coupons: number;
  cancelledCoupons: number;
  /** E110: debits, credits and the ICMS to pay ('.' decimals). */
  apuration: { debits: string; credits: string; due: string; creditToCarry: string };
  lines: number;
  bytes: number;
  registers: Record<string, number>;
  replaced: number;
}

/** The E110 sums: C190/C850/C890 VL_ICMS by the CFOP's first digit, as the layout's apuration rule reads them. */
class Apuration {
  debits = Decimal.ZERO;
  credits = Decimal.ZERO;
  constructor(private readonly layout: Layout) {}
  /** A group as stored (its VL_ICMS the only sum read: the others are only written). */
  add(g: StoredGroup): void {
    const rule = this.layout.data.consistency?.apuration;
    const cfop = g[1];
    if (!rule || rule.excludeCfops.includes(cfop)) return;
    if (rule.debitPrefixes.includes(cfop[0] ?? '')) this.debits = this.debits.add(dec(g[5]));
    else if (rule.creditPrefixes.includes(cfop[0] ?? '')) this.credits = this.credits.add(dec(g[5]));
  }
}

/** C190 of a note, C850 or C890 of coupons, from a group as stored (its sums as exact decimal texts). */
function analytic(records: RecordMaker, code: 'C190' | 'C850' | 'C890', g: StoredGroup): string[] {
  const base = { CST_ICMS: g[0], CFOP: g[1], ALIQ_ICMS: g[2], VL_OPR: moneyOf(g[3]), VL_BC_ICMS: moneyOf(g[4]), VL_ICMS: moneyOf(g[5]) };
  if (code !== 'C190') return records.make(code, base);
  return records.make(code, { ...base, VL_BC_ICMS_ST: moneyOf(g[6]), VL_ICMS_ST: moneyOf(g[7]), VL_RED_BC: moneyOf(g[8]), VL_IPI: moneyOf(g[9]) });
}

const C100_KEPT = ['IND_OPER', 'IND_EMIT', 'COD_MOD', 'SER', 'NUM_DOC', 'CHV_NFE'];

export async function writeIcmsIpi(store: FromDocsStore, output: Writable, w: WriteContext): Promise<IcmsWritten> {
  const { records, company: c, period } = w;
  // texts from documents may hold what a SPED field cannot ('|', line breaks, characters outside Windows-1252): replaced, counted
  const writer = new SpedWriter(output, { layout: 'efd-icms-ipi', version: w.version, replace: true });
  const put = async (fields: string[]): Promise<void> => {
    await writer.writeFields(fields);
  };
  await put(records.make('0000', {
    COD_VER: w.version, COD_FIN: c.purpose, DT_INI: spedDate(period.start), DT_FIN: spedDate(period.end), NOME: c.name, CNPJ: c.cnpj, UF: c.uf, IE: c.ie,
    COD_MUN: c.codMun, IM: c.im, SUFRAMA: c.suframa, IND_PERFIL: c.profile, IND_ATIV: c.activity,
  }));
  const a = c.address;
  await put(records.make('0005', { FANTASIA: a.fantasia, CEP: a.cep, END: a.end, NUM: a.num, COMPL: a.compl, BAIRRO: a.bairro, FONE: a.fone, EMAIL: a.email }));
  await put(accountantRecord(records, c));
  await putTables(store, records, put);

  const apuration = new Apuration(w.layout);
  const { notes, cancelledNotes, unusedNumbers } = await putNotes(store, records, put, C100_KEPT, async (note) => {
    for (const g of note.groups) {
      apuration.add(g);
      await put(analytic(records, 'C190', g));
    }
  });
  const { coupons, cancelledCoupons } = w.company.coupons === 'per-coupon'
    ? await perCoupon(store, records, apuration, put)
    : await perEquipmentDay(store, records, apuration, put);

  await put(records.make('E100', { DT_INI: spedDate(period.start), DT_FIN: spedDate(period.end) }));
  const previous = dec(c.previousCreditBalance);
  const balance = apuration.debits.sub(apuration.credits).sub(previous);
  const zero = Decimal.ZERO;
  const due = balance.compare(zero) > 0 ? balance : zero;
  const carry = balance.compare(zero) < 0 ? zero.sub(balance) : zero;
  await put(records.make('E110', {
    VL_TOT_DEBITOS: money(apuration.debits), VL_AJ_DEBITOS: '0,00', VL_TOT_AJ_DEBITOS: '0,00', VL_ESTORNOS_CRED: '0,00', VL_TOT_CREDITOS: money(apuration.credits),
    VL_AJ_CREDITOS: '0,00', VL_TOT_AJ_CREDITOS: '0,00', VL_ESTORNOS_DEB: '0,00', VL_SLD_CREDOR_ANT: money(previous), VL_SLD_APURADO: money(due), VL_TOT_DED: '0,00',
    VL_ICMS_RECOLHER: money(due), VL_SLD_CREDOR_TRANSPORTAR: money(carry), DEB_ESP: '0,00',
  }));
  if (!due.isZero() && c.icmsDue) {
    const [y, m] = period.start.split('-').map(Number) as [number, number];
    const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
    await put(records.make('E116', {
      COD_OR: FROM_DOCS_RULES.apuration.obligationCode, VL_OR: money(due), DT_VCTO: spedDate(`${next}-${String(c.icmsDue.day).padStart(2, '0')}`),
      COD_REC: c.icmsDue.revenueCode, MES_REF: `${period.start.slice(5, 7)}${period.start.slice(0, 4)}`,
    }));
  }
  const ind: Record<string, string> = {};
  for (const f of w.layout.fieldsFor('1010', w.version) ?? []) if (f.name !== 'REG') ind[f.name] = 'N';
  await put(records.make('1010', ind));
  const summary = await writer.finish();
  return {
    notes, cancelledNotes, unusedNumbers, coupons, cancelledCoupons,
    apuration: { debits: apuration.debits.format('.', 2), credits: apuration.credits.format('.', 2), due: due.format('.', 2), creditToCarry: carry.format('.', 2) },
    lines: summary.lines, bytes: summary.bytes, registers: Object.fromEntries(summary.registers), replaced: summary.replaced,
  };
}

/** 0100: the accountant (the same fields in both layouts). */
export function accountantRecord(records: RecordMaker, c: WriteContext['company']): string[] {
  const acc = c.accountant;
  return records.make('0100', {
    NOME: acc.name, CPF: acc.cpf, CRC: acc.crc, CNPJ: acc.cnpj, CEP: acc.cep, END: acc.end, NUM: acc.num, COMPL: acc.compl, BAIRRO: acc.bairro, FONE: acc.fone,
    EMAIL: acc.email, COD_MUN: acc.codMun,
  });
}

/** C800 per coupon (a cancelled one with only the fields the Guia keeps) and its C850 groups. */
async function perCoupon(store: FromDocsStore, records: RecordMaker, apuration: Apuration, put: Put): Promise<{ coupons: number; cancelledCoupons: number }> {
  let coupons = 0;
  let cancelledCoupons = 0;
  for (const { coupon, cancelled } of store.coupons()) {
    coupons++;
    if (cancelled) {
      cancelledCoupons++;
      await put(keepOnly(records, 'C800', coupon.c800, FROM_DOCS_RULES.coupons.cancelledFields.filter((f) => f !== 'COD_SIT'), '02'));
      continue;
    }
    await put(coupon.c800);
    for (const g of coupon.groups) {
      apuration.add(g);
      await put(analytic(records, 'C850', g));
    }
  }
  return { coupons, cancelledCoupons };
}

/** C860 per SAT equipment and day (first and last coupon number) and C890 groups of its coupons not cancelled. */
async function perEquipmentDay(store: FromDocsStore, records: RecordMaker, apuration: Apuration, put: Put): Promise<{ coupons: number; cancelledCoupons: number }> {
  const counts = { coupons: 0, cancelledCoupons: 0 };
  const days = satDays(store.coupons(), () => new AnalyticGroups(), (sums, c) => sums.addAll(c.groups.map(loadGroup)), counts);
  for (const d of days) {
    await put(records.make('C860', { COD_MOD: '59', NR_SAT: d.sat, DT_DOC: d.day, DOC_INI: d.first, DOC_FIM: d.last }));
    for (const g of d.sums.list().map(storeGroup)) {
      apuration.add(g);
      await put(analytic(records, 'C890', g));
    }
  }
  return counts;
}
