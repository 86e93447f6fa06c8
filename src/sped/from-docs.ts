/**
 * `fiscal sped from-docs`: an EFD ICMS/IPI for one month built from the NF-e, NFC-e and CF-e SAT documents a
 * company issued and received (docs/from-docs.md).
 *
 *   const company = loadCompany('company.json');
 *   const summary = await spedFromDocs(['notes/', 'coupons.zip'], out, { company, period: '2026-03' });
 *
 * Documents are read once (files, folders, zips, stdin: src/nfe/source.ts), each turned into its entries
 * (from-docs-extract.ts) and stored on disk (from-docs-store.ts), deduplicated by access key; then the file is
 * written in the layout's order from the store, the totals and block 9 by the SPED writer. Memory is flat in
 * the number of documents; the output is the same bytes whatever the order of the input.
 */
import type { Writable } from 'node:stream';
import { Decimal } from '../common/decimal.js';
import { runPooledDocuments } from '../nfe/batch-pool.js';
import type { NfeBatchOptions } from '../nfe/batch.js';
import { AnalyticGroups, dec, loadGroup, money, type AnalyticGroup } from './from-docs-analytic.js';
import { periodDays, type Company } from './from-docs-company.js';
import type { DocFinding, Extracted } from './from-docs-extract.js';
import { RecordMaker, spedDate } from './from-docs-records.js';
import { FROM_DOCS_RULES } from './from-docs-rules.js';
import { FromDocsStore, type StoredCoupon } from './from-docs-store.js';
import { loadLayout, type Layout } from './layout.js';
import { SpedWriter } from './writer.js';

/** The reading options (maxBytes, maxDepth, stdin), the pool (threads, pool) and cancellation (signal) of the NF-e batches. */
export interface FromDocsOptions extends Pick<NfeBatchOptions, 'maxBytes' | 'maxDepth' | 'stdin' | 'signal' | 'threads' | 'pool'> {
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
}

export interface FromDocsSummary {
  documents: number;
  /** C100s written (regular, cancelled and denied). */
  notes: number;
  cancelledNotes: number;
  coupons: number;
  cancelledCoupons: number;
  duplicates: number;
  findings: { errors: number; warnings: number };
  /** E110: debits, credits and the ICMS to pay ('.' decimals). */
  apuration: { debits: string; credits: string; due: string; creditToCarry: string };
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

/** Writes the EFD ICMS/IPI of `options.period` built from the documents of `sources`; see the module comment. */
export async function spedFromDocs(sources: string | readonly string[], output: Writable, options: FromDocsOptions): Promise<FromDocsSummary> {
  const period = periodDays(options.period);
  const layout = loadLayout('efd-icms-ipi');
  const version = versionFor(layout, period.start);
  const records = new RecordMaker(layout, version);
  const { company } = options;
  const findings = { errors: 0, warnings: 0 };
  const report = (f: DocFinding): void => {
    findings[f.severity === 'error' ? 'errors' : 'warnings']++;
    options.onFinding?.(f);
  };
  const store = new FromDocsStore({ ...(options.tempDir ? { tempDir: options.tempDir } : {}), ...(options.budgetBytes ? { budgetBytes: options.budgetBytes } : {}) });
  try {
    let duplicates = 0;
    const counter = { documents: 0, stopped: false };
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
      for (const k of got.cancels) store.addCancel(k);
    };
    // parse and extract on the pool's workers (in input order); store here
    const { onFinding: _f, onProgress, company: _c, period: _p, tempDir: _t, budgetBytes: _b, ...batch } = options;
    await runPooledDocuments<Extracted>({
      sources,
      options: { ...batch, ...(onProgress ? { onProgress } : {}) },
      job: 'sped.from-docs-extract',
      payload: { company, period, version, ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}) },
      counter,
      emit: async (got) => {
        take(got);
        return false;
      },
    });
    const documents = counter.documents;
    store.seal();
    const written = await writeFile(store, output, { layout, version, records, company, period });
    return { documents, duplicates, findings, ...written };
  } finally {
    store.close();
  }
}

interface WriteContext {
  layout: Layout;
  version: string;
  records: RecordMaker;
  company: Company;
  period: { start: string; end: string };
}

/** The E110 sums: C190/C850/C890 VL_ICMS by the CFOP's first digit, as the layout's apuration rule reads them. */
class Apuration {
  debits = Decimal.ZERO;
  credits = Decimal.ZERO;
  constructor(private readonly layout: Layout) {}
  add(g: AnalyticGroup): void {
    const rule = this.layout.data.consistency?.apuration;
    if (!rule || rule.excludeCfops.includes(g.cfop)) return;
    if (rule.debitPrefixes.includes(g.cfop[0] ?? '')) this.debits = this.debits.add(g.icms);
    else if (rule.creditPrefixes.includes(g.cfop[0] ?? '')) this.credits = this.credits.add(g.icms);
  }
}

/** C190 of a note, C850 or C890 of coupons. */
function analytic(records: RecordMaker, code: 'C190' | 'C850' | 'C890', g: AnalyticGroup): string[] {
  const base = { CST_ICMS: g.cst, CFOP: g.cfop, ALIQ_ICMS: g.rate, VL_OPR: money(g.opr), VL_BC_ICMS: money(g.bc), VL_ICMS: money(g.icms) };
  if (code !== 'C190') return records.make(code, base);
  return records.make(code, { ...base, VL_BC_ICMS_ST: money(g.bcSt), VL_ICMS_ST: money(g.icmsSt), VL_RED_BC: money(g.redBc), VL_IPI: money(g.ipi) });
}

/** A record with only the named fields of another kept (a cancelled or denied document), the situation set. */
function keepOnly(records: RecordMaker, code: string, full: readonly string[], keep: readonly string[], situation: string): string[] {
  const out = records.make(code, { COD_SIT: situation });
  for (const name of keep) {
    const i = records.at(code, name);
    out[i] = full[i]!;
  }
  return out;
}

const C100_KEPT = ['IND_OPER', 'IND_EMIT', 'COD_MOD', 'SER', 'NUM_DOC', 'CHV_NFE'];

async function writeFile(store: FromDocsStore, output: Writable, w: WriteContext): Promise<Omit<FromDocsSummary, 'documents' | 'duplicates' | 'findings'>> {
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
  const acc = c.accountant;
  await put(records.make('0100', {
    NOME: acc.name, CPF: acc.cpf, CRC: acc.crc, CNPJ: acc.cnpj, CEP: acc.cep, END: acc.end, NUM: acc.num, COMPL: acc.compl, BAIRRO: acc.bairro, FONE: acc.fone,
    EMAIL: acc.email, COD_MUN: acc.codMun,
  }));
  for (const p of store.participants()) await put(p);
  for (const u of store.units()) await put(records.make('0190', { UNID: u, DESCR: u }));
  for (const it of store.items()) {
    await put(it.record);
    for (const [unit, factor] of it.conversions) await put(records.make('0220', { UNID_CONV: unit, FAT_CONV: factor }));
  }

  const apuration = new Apuration(w.layout);
  let notes = 0;
  let cancelledNotes = 0;
  for (const { note, cancelledByEvent } of store.notes()) {
    notes++;
    const cancelled = cancelledByEvent || note.status === 'cancelled';
    if (cancelled || note.status === 'denied') {
      if (cancelled) cancelledNotes++;
      await put(keepOnly(records, 'C100', note.c100, C100_KEPT, cancelled ? '02' : '04'));
      continue;
    }
    await put(note.c100);
    for (const item of note.c170) await put(item);
    for (const s of note.groups) {
      const g = loadGroup(s);
      apuration.add(g);
      await put(analytic(records, 'C190', g));
    }
  }
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
    notes, cancelledNotes, coupons, cancelledCoupons,
    apuration: { debits: apuration.debits.format('.', 2), credits: apuration.credits.format('.', 2), due: due.format('.', 2), creditToCarry: carry.format('.', 2) },
    lines: summary.lines, bytes: summary.bytes, registers: Object.fromEntries(summary.registers), replaced: summary.replaced,
  };
}

type Put = (fields: string[]) => Promise<void>;

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
    for (const s of coupon.groups) {
      const g = loadGroup(s);
      apuration.add(g);
      await put(analytic(records, 'C850', g));
    }
  }
  return { coupons, cancelledCoupons };
}

/** C860 per SAT equipment and day (first and last coupon number) and C890 groups of its coupons not cancelled. */
async function perEquipmentDay(store: FromDocsStore, records: RecordMaker, apuration: Apuration, put: Put): Promise<{ coupons: number; cancelledCoupons: number }> {
  let coupons = 0;
  let cancelledCoupons = 0;
  let open: { sat: string; day: string; first: string; last: string; groups: AnalyticGroups } | null = null;
  const close = async (): Promise<void> => {
    if (!open) return;
    await put(records.make('C860', { COD_MOD: '59', NR_SAT: open.sat, DT_DOC: open.day, DOC_INI: open.first, DOC_FIM: open.last }));
    for (const g of open.groups.list()) {
      apuration.add(g);
      await put(analytic(records, 'C890', g));
    }
  };
  for (const { coupon, cancelled } of store.coupons()) {
    coupons++;
    const c: StoredCoupon = coupon;
    if (!open || open.sat !== c.sat || open.day !== c.day) {
      await close();
      open = { sat: c.sat, day: c.day, first: c.number, last: c.number, groups: new AnalyticGroups() };
    }
    open.last = c.number;
    if (cancelled) {
      cancelledCoupons++;
      continue;
    }
    open.groups.addAll(c.groups.map(loadGroup));
  }
  await close();
  return { coupons, cancelledCoupons };
}

