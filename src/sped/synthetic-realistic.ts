/**
 * The `realistic` profile of the synthetic generator: files shaped like a retailer's, for benchmarks and tests
 * that need real cardinality. EFD ICMS/IPI: thousands of participants (0150) and tens of thousands of products
 * (0200) used with a Zipf-like skew, NF-e issued (C100/C190, no C170: the Guia's rule for NF-e of own issue) and
 * received (C100/C170/C190), a few cancelled numbers, energy bills (C500/C590), freight (D100/D190), the
 * apuration (E110), the inventory of every product (H005/H010) and stock (K200). EFD-Contribuições: the same
 * catalog, documents with their PIS/COFINS items. ECD: a chart of thousands of accounts, entries with skewed
 * account usage. Texts carry Portuguese accents (written as Windows-1252 by the writer). Streaming: nothing is
 * kept per document; what is kept per product, participant or account is derived from its index.
 *
 * Amounts are integer cents in JavaScript numbers (exact: every value and per-document sum stays far below
 * 2^53); the file-level sums (apuration, ledger balances) are bigints.
 */
import type { Layout } from './layout.js';
import { formatSpedDate } from './record.js';
import { accessKey, cnpj, cpf, type RecordFactory } from './synthetic-factory.js';
import {
  ITEM_NOTES, HISTORIES, INFO_TEXTS, NATURES, OBS_TEXTS, UNITS, ZipfPicker, accountName, chartOfAccounts, mix, participant,
  product, type Participant, type Product,
} from './synthetic-catalog.js';

export interface RealisticContext {
  layout: Layout;
  version: string;
  f: RecordFactory;
  rnd: () => number;
  seed: number;
  documents: number;
  /** Mean items per document. */
  items: number;
  products: number;
  participants: number;
  accounts: number;
  period: { start: string; end: string };
  /** The retailer profile: most documents are NFC-e (EFD ICMS/IPI). */
  retailer: boolean;
  /** A new generator of the same random sequence as `rnd` had at the start (for two-pass records). */
  replay: () => () => number;
}

/** Integer cents as a SPED amount: 1234 → '12,34'. */
export function cents(n: number): string {
  const neg = n < 0;
  const a = neg ? -n : n;
  const r = a % 100;
  return `${neg ? '-' : ''}${(a - r) / 100},${r < 10 ? '0' : ''}${r}`;
}

/** An integer count of 10^-decimals units with that many decimals: (1250, 3) → '1,250'. */
function fixed(n: number, decimals: number): string {
  const s = String(n).padStart(decimals + 1, '0');
  return `${s.slice(0, s.length - decimals)},${s.slice(s.length - decimals)}`;
}

const rate = (r: number): string => fixed(r, 2);

/** ICMS and partner data the documents need. */
function partnerFacts(p: Participant): { uf: string; inState: boolean } {
  const uf = p.municipality.slice(0, 2);
  return { uf, inState: uf === '35' };
}

/** Items per document: an exponential around the mean (at least 1, at most 990). */
function itemCount(rnd: () => number, mean: number): number {
  if (mean <= 1) return 1;
  return Math.min(990, 1 + Math.floor(-Math.log(1 - rnd()) * (mean - 1)));
}

function day(period: { start: string }, d: number): string {
  return formatSpedDate(`${period.start.slice(0, 8)}${String(d).padStart(2, '0')}`);
}

function daysIn(period: { start: string; end: string }): number {
  return Number(period.end.slice(8, 10));
}

/** The blank values of every field of a register (to fill only the fields a record carries). */
function blankOf(f: RecordFactory, code: string): Record<string, string> {
  return Object.fromEntries(f.fieldNames(code).slice(1).map((n) => [n, '']));
}

interface Line {
  p: Product;
  qty: string;
  value: number;
  cst: string;
  cfop: string;
  rate: number;
  base: number;
  icms: number;
  pis: number;
  cofins: number;
}

/** One C190 group of a document: CST, CFOP and rate with their sums. */
interface Group {
  cst: string;
  cfop: string;
  rate: number;
  opr: number;
  base: number;
  icms: number;
  red: number;
}

/** The products documents use, made once each (a few MB for tens of thousands: constant in the number of documents). */
class ProductCache {
  private readonly made: (Product | undefined)[] = [];
  constructor(private readonly seed: number) {}
  get(i: number): Product {
    return (this.made[i] ??= product(i, this.seed));
  }
}

/** A document's item lines (drawn from the catalog with the Zipf picker), taxed for its direction and partner. */
function drawLines(ctx: RealisticContext, picker: ZipfPicker, products: ProductCache, out: boolean, inState: boolean): Line[] {
  const n = itemCount(ctx.rnd, ctx.items);
  const lines: Line[] = [];
  for (let k = 0; k < n; k++) {
    const p = products.get(picker.pick(ctx.rnd));
    let qty: string;
    let value: number;
    if (p.byWeight) {
      const grams = 100 + Math.floor(ctx.rnd() * 4900);
      qty = fixed(grams * 100, 5);
      value = Math.max(1, Math.round((p.price * grams) / 1000));
    } else {
      const units = 1 + Math.floor(-Math.log(1 - ctx.rnd()) * (out ? 2 : 12));
      qty = fixed(units * 100000, 5);
      value = p.price * units;
    }
    const st = p.tax.cst === '060';
    const cfop = `${out ? (inState ? '5' : '6') : inState ? '1' : '2'}${st ? (out ? (inState ? '405' : '404') : '403') : '102'}`;
    const r = p.tax.rate === 0 ? 0 : inState ? p.tax.rate : 1200;
    const base = r === 0 ? 0 : Math.round((value * p.tax.basePct) / 100);
    const icms = Math.round((base * r) / 10000);
    lines.push({ p, qty, value, cst: p.tax.cst, cfop, rate: r, base, icms, pis: Math.round((value * 165) / 10000), cofins: Math.round((value * 760) / 10000) });
  }
  return lines;
}

/** The C190 groups of a document's lines (CST, CFOP, rate), in order of first appearance. */
function groupsOf(lines: readonly Line[]): Group[] {
  const groups: Group[] = [];
  for (const l of lines) {
    let g = groups.find((x) => x.cst === l.cst && x.cfop === l.cfop && x.rate === l.rate);
    if (!g) groups.push((g = { cst: l.cst, cfop: l.cfop, rate: l.rate, opr: 0, base: 0, icms: 0, red: 0 }));
    g.opr += l.value;
    g.base += l.base;
    g.icms += l.icms;
    if (l.cst === '020') g.red += l.value - l.base;
  }
  return groups;
}

const sum = (lines: readonly Line[], k: 'value' | 'base' | 'icms' | 'pis' | 'cofins'): number => lines.reduce((a, l) => a + l[k], 0);

/** A document of the EFDs' block C as drawn: direction, partner, number, key and item lines (null lines: cancelled). */
interface DrawnDocument {
  out: boolean;
  /** COD_MOD (55 NF-e, 65 NFC-e) and COD_SIT (00 regular, 02/03 cancelled, 04 denied, 05 unused number). */
  model: string;
  situation: string;
  /** Date of entry or exit (DT_E_S) and of issue (DT_DOC: a received note may be a few days older). */
  date: string;
  issued: string;
  number: number;
  serie: number;
  key: string;
  partner: Participant | null;
  lines: Line[] | null;
  /** A hash of the document, for its rare extras (C110, C195, DESCR_COMPL). */
  h: number;
}

/**
 * The NF-e of the EFDs' block C, drawn one by one: 52% issued by the company (customers), the rest received from
 * suppliers (the first quarter of the participants); 1% are cancelled numbers of own issue. Dates rise through
 * the month.
 */
class DocumentDraw {
  private readonly suppliers: number;
  private readonly pickSupplier: ZipfPicker;
  private readonly pickCustomer: ZipfPicker;
  private readonly pickProduct: ZipfPicker;
  private readonly products: ProductCache;
  private readonly days: number;
  private readonly yymm: string;
  private ownNumber = 0;

  constructor(private readonly ctx: RealisticContext, private readonly company: string) {
    this.suppliers = Math.max(1, Math.floor(ctx.participants / 4));
    this.pickSupplier = new ZipfPicker(this.suppliers);
    this.pickCustomer = new ZipfPicker(Math.max(1, ctx.participants - this.suppliers));
    this.pickProduct = new ZipfPicker(ctx.products);
    this.products = new ProductCache(ctx.seed);
    this.days = daysIn(ctx.period);
    const ini = formatSpedDate(ctx.period.start);
    this.yymm = ini.slice(6, 8) + ini.slice(2, 4);
  }

  /** A supplier (for C500, D100): its index and record. */
  supplier(): { j: number; p: Participant } {
    const j = this.pickSupplier.pick(this.ctx.rnd);
    return { j, p: participant(j, this.ctx.seed) };
  }

  /** The access key of a partner's document (the company's own CNPJ for a person, who issues none). */
  partnerKey(j: number, p: Participant, number: number, model: string, serie: number): string {
    return accessKey(p.municipality.slice(0, 2), this.yymm, p.company ? cnpj(100 + j) : this.company, number, model, serie);
  }

  next(d: number): DrawnDocument {
    const { ctx } = this;
    const { rnd, seed, period } = ctx;
    let r = rnd();
    const date = day(period, 1 + Math.floor((d * this.days) / ctx.documents));
    const h = mix(d, seed + 33);
    if (ctx.retailer) {
      // a retailer: 70% NFC-e of its checkouts, the rest NF-e as in the realistic profile
      if (r < 0.7) return this.nfce(r / 0.7, date, h);
      r = (r - 0.7) / 0.3;
    }
    const out = r < 0.52;
    if (out) this.ownNumber++;
    if (r < 0.01) {
      const n = this.ownNumber;
      return { out, model: '55', situation: '02', date, issued: date, number: n, serie: 1, key: accessKey('35', this.yymm, this.company, n), partner: null, lines: null, h };
    }
    const j = Math.min(ctx.participants - 1, out ? this.suppliers + this.pickCustomer.pick(rnd) : this.pickSupplier.pick(rnd));
    const partner = participant(j, seed);
    const lines = drawLines(ctx, this.pickProduct, this.products, out, partnerFacts(partner).inState);
    if (out) {
      const n = this.ownNumber;
      return { out, model: '55', situation: '00', date, issued: date, number: n, serie: 1, key: accessKey('35', this.yymm, this.company, n), partner, lines, h };
    }
    const number = 1 + (mix(d, seed + 30) % 999999);
    const serie = 1 + (mix(d, seed + 31) % 3);
    const issued = day(period, Math.max(1, Number(date.slice(0, 2)) - (mix(d, seed + 32) % 4)));
    return { out, model: '55', situation: '00', date, issued, number, serie, key: this.partnerKey(j, partner, number, '55', serie), partner, lines, h };
  }

  /** An NFC-e of one of three checkouts (series 1-3): 2% cancelled (02, 03); until 2022 also denied (04) and unused (05) numbers. */
  private nfce(r: number, date: string, h: number): DrawnDocument {
    const serie = 1 + (h % 3);
    const n = (this.nfceNumbers[serie] = (this.nfceNumbers[serie] ?? 0) + 1);
    const key = accessKey('35', this.yymm, this.company, n, '65', serie);
    const base = { out: true, model: '65', date, issued: date, number: n, serie, partner: null, h };
    if (r < 0.015) return { ...base, situation: '02', key, lines: null };
    if (r < 0.02) return { ...base, situation: '03', key, lines: null };
    // COD_SIT 04 and 05 exist until 31/12/2022 (Guia Prático EFD-ICMS/IPI 3.1.8, C100 campo 06)
    if (this.ctx.period.start < '2023-01-01') {
      if (r < 0.025) return { ...base, situation: '04', key, lines: null };
      if (r < 0.03) return { ...base, situation: '05', key: '', lines: null };
    }
    return { ...base, situation: '00', key, lines: drawLines(this.ctx, this.pickProduct, this.products, true, true) };
  }

  private readonly nfceNumbers: number[] = [];
}

/** Block 0's catalog records shared by both EFDs: 0150 (participants), 0190 (units), 0200 (products). */
function* catalog(ctx: RealisticContext, codPais: string, withCest: boolean): Generator<string[]> {
  const { f, seed } = ctx;
  for (let j = 0; j < ctx.participants; j++) {
    const p = participant(j, seed);
    const inSP = p.municipality.startsWith('35');
    yield f.make('0150', {
      COD_PART: p.code, NOME: p.name, COD_PAIS: codPais, CNPJ: p.company ? cnpj(100 + j) : '', CPF: p.company ? '' : cpf(j * 7919 + 13),
      IE: p.company && inSP ? String(100000000000 + (mix(j, seed + 12) % 900000000000)) : '', COD_MUN: p.municipality,
      END: p.street, NUM: p.number, BAIRRO: p.district,
    });
  }
  for (const [unit, descr] of UNITS) yield f.make('0190', { UNID: unit, DESCR: descr });
  for (let i = 0; i < ctx.products; i++) {
    const p = product(i, seed);
    const values: Record<string, string> = { COD_ITEM: p.code, DESCR_ITEM: p.description, COD_BARRA: p.barcode, UNID_INV: p.unit, TIPO_ITEM: '00', COD_NCM: p.ncm };
    if (withCest) values.ALIQ_ICMS = rate(p.tax.rate);
    yield f.make('0200', values);
  }
}

/** The EFD ICMS/IPI content records of the realistic profile. */
export function* realisticIcmsIpi(ctx: RealisticContext): Generator<string[]> {
  const { f, rnd, seed, period, version } = ctx;
  const ini = formatSpedDate(period.start);
  const fin = formatSpedDate(period.end);
  const company = cnpj(42);
  yield f.make('0000', { COD_VER: version, DT_INI: ini, DT_FIN: fin, NOME: 'SUPERMERCADO SÃO JOSÉ COMÉRCIO DE ALIMENTOS LTDA', CNPJ: company, UF: 'SP', IE: '110042490114', COD_MUN: '3550308', IND_PERFIL: 'A', IND_ATIV: '1' });
  yield f.make('0005', { FANTASIA: 'SUPERMERCADO SÃO JOSÉ', CEP: '01001000', END: 'AVENIDA DA CONCEIÇÃO', NUM: '1500', BAIRRO: 'JARDIM SÃO PAULO', EMAIL: 'fiscal@saojose.example' });
  yield f.make('0100', { NOME: 'JOÃO CONTÁBIL ASSESSORIA', CPF: '52998224725', CRC: 'SP123456', CNPJ: '', COD_MUN: '3550308', EMAIL: 'contato@contabil.example' });
  yield* catalog(ctx, '01058', true);
  for (const [code, descr] of NATURES) yield f.make('0400', { COD_NAT: code, DESCR_NAT: descr });
  for (let i = 0; i < INFO_TEXTS.length; i++) yield f.make('0450', { COD_INF: String(i + 1), TXT: INFO_TEXTS[i]! });
  for (let i = 0; i < OBS_TEXTS.length; i++) yield f.make('0460', { COD_OBS: `OB${i + 1}`, TXT: OBS_TEXTS[i]! });

  const docs = new DocumentDraw(ctx, company);
  const blankC100 = blankOf(f, 'C100');
  // the hot registers, filled by position (their constant fields are in the template)
  const c170 = f.positional('C170', ['NUM_ITEM', 'COD_ITEM', 'DESCR_COMPL', 'QTD', 'UNID', 'VL_ITEM', 'CST_ICMS', 'CFOP', 'VL_BC_ICMS', 'ALIQ_ICMS', 'VL_ICMS', 'VL_BC_PIS', 'VL_PIS', 'VL_BC_COFINS', 'VL_COFINS'], 'in', {
    VL_DESC: '0,00', IND_MOV: '0', VL_BC_ICMS_ST: '0,00', ALIQ_ST: '0,00', VL_ICMS_ST: '0,00', IND_APUR: '0', CST_PIS: '50', ALIQ_PIS: '1,6500', CST_COFINS: '50',
    ALIQ_COFINS: '7,6000', COD_CTA: '1.1.03.0001',
  });
  const c100Names = ['COD_PART', 'SER', 'NUM_DOC', 'CHV_NFE', 'DT_DOC', 'DT_E_S', 'VL_DOC', 'IND_PGTO', 'VL_MERC', 'VL_BC_ICMS', 'VL_ICMS', 'VL_PIS', 'VL_COFINS'];
  const c100Fixed = {
    COD_MOD: '55', COD_SIT: '00', VL_DESC: '0,00', VL_ABAT_NT: '0,00', VL_FRT: '0,00', VL_SEG: '0,00', VL_OUT_DA: '0,00', VL_BC_ICMS_ST: '0,00',
    VL_ICMS_ST: '0,00', VL_IPI: '0,00', VL_PIS_ST: '0,00', VL_COFINS_ST: '0,00',
  };
  const c100Out = f.positional('C100', c100Names, 'out', { ...c100Fixed, IND_OPER: '1', IND_EMIT: '0', IND_FRT: '0' });
  const c100In = f.positional('C100', c100Names, 'in', { ...c100Fixed, IND_OPER: '0', IND_EMIT: '1', IND_FRT: '1' });
  const c100Nfce = f.positional('C100', ['SER', 'NUM_DOC', 'CHV_NFE', 'DT_DOC', 'DT_E_S', 'VL_DOC', 'VL_MERC', 'VL_BC_ICMS', 'VL_ICMS'], 'out', {
    IND_OPER: '1', IND_EMIT: '0', COD_PART: '', COD_MOD: '65', COD_SIT: '00', IND_PGTO: '0', IND_FRT: '9', VL_DESC: '0,00', VL_ABAT_NT: '0,00', VL_FRT: '0,00',
    VL_SEG: '0,00', VL_OUT_DA: '0,00', VL_BC_ICMS_ST: '', VL_ICMS_ST: '', VL_IPI: '', VL_PIS: '', VL_COFINS: '', VL_PIS_ST: '', VL_COFINS_ST: '',
  });
  const c190Names = ['CST_ICMS', 'CFOP', 'ALIQ_ICMS', 'VL_OPR', 'VL_BC_ICMS', 'VL_ICMS', 'VL_RED_BC'];
  const c190Fixed = { VL_BC_ICMS_ST: '0,00', VL_ICMS_ST: '0,00', VL_IPI: '0,00' };
  const c190In = f.positional('C190', c190Names, 'in', c190Fixed);
  const c190Out = f.positional('C190', c190Names, 'out', c190Fixed);
  const days = daysIn(period);
  let debits = 0n;
  let credits = 0n;
  for (let d = 0; d < ctx.documents; d++) {
    const doc = docs.next(d);
    const { out, lines, h } = doc;
    if (lines === null) {
      // a cancelled, denied or unused number of own issue: only the fields the Guia asks for (C100 Exceção 1)
      yield f.make('C100', {
        ...blankC100, IND_OPER: '1', IND_EMIT: '0', COD_MOD: doc.model, COD_SIT: doc.situation, SER: String(doc.serie), NUM_DOC: String(doc.number), CHV_NFE: doc.key,
      }, 'out');
      continue;
    }
    const groups = groupsOf(lines);
    const total = sum(lines, 'value');
    const icms = sum(lines, 'icms');
    if (out) debits += BigInt(icms);
    else credits += BigInt(icms);
    if (doc.model === '65') {
      // an NFC-e: no participant, no ST/IPI/PIS/COFINS values, C190 only (C100 Exceção 9)
      yield c100Nfce([String(doc.serie), String(doc.number), doc.key, doc.date, doc.date, cents(total), cents(total), cents(sum(lines, 'base')), cents(icms)]);
      for (const g of groups) yield c190Out([g.cst, g.cfop, rate(g.rate), cents(g.opr), cents(g.base), cents(g.icms), cents(g.red)]);
      continue;
    }
    yield (out ? c100Out : c100In)([
      doc.partner!.code, String(doc.serie), String(doc.number), doc.key, doc.issued, doc.date, cents(total),
      rnd() < 0.7 ? '1' : '0', cents(total), cents(sum(lines, 'base')), cents(icms), cents(sum(lines, 'pis')), cents(sum(lines, 'cofins')),
    ]);
    if (h % 25 === 0) yield f.make('C110', { COD_INF: String(1 + (h % INFO_TEXTS.length)), TXT_COMPL: '' });
    if (!out) {
      for (let k = 0; k < lines.length; k++) {
        const l = lines[k]!;
        yield c170([
          String(k + 1), l.p.code, mix(k, h) % 5 === 0 ? ITEM_NOTES[h % ITEM_NOTES.length]! : '', l.qty, l.p.unit, cents(l.value), l.cst, l.cfop,
          cents(l.base), rate(l.rate), cents(l.icms), cents(l.value), cents(l.pis), cents(l.value), cents(l.cofins),
        ]);
      }
    }
    for (const g of groups) {
      yield (out ? c190Out : c190In)([g.cst, g.cfop, rate(g.rate), cents(g.opr), cents(g.base), cents(g.icms), cents(g.red)]);
    }
    if (!out && h % 97 === 1) yield f.make('C195', { COD_OBS: `OB${1 + (h % OBS_TEXTS.length)}`, TXT_COMPL: 'CONFERÊNCIA DE ESTOQUE NO RECEBIMENTO' });
  }
  // energy bills (C500/C590): one per 500 documents
  const bills = Math.max(1, Math.round(ctx.documents / 500));
  for (let b = 0; b < bills; b++) {
    const { p } = docs.supplier();
    const value = 50000 + Math.floor(rnd() * 2000000);
    const icms = Math.round((value * 1800) / 10000);
    credits += BigInt(icms);
    const dt = day(period, 1 + (b % days));
    yield f.make('C500', {
      IND_OPER: '0', IND_EMIT: '1', COD_PART: p.code, COD_MOD: '06', COD_SIT: '00', SER: '1', COD_CONS: '01', NUM_DOC: String(100000 + b), DT_DOC: dt, DT_E_S: dt,
      VL_DOC: cents(value), VL_DESC: '0,00', VL_FORN: cents(value), VL_SERV_NT: '0,00', VL_TERC: '0,00', VL_DA: '0,00', VL_BC_ICMS: cents(value), VL_ICMS: cents(icms),
      VL_BC_ICMS_ST: '0,00', VL_ICMS_ST: '0,00', VL_PIS: cents(Math.round((value * 165) / 10000)), VL_COFINS: cents(Math.round((value * 760) / 10000)), TPLIGACAO: '3',
    }, 'in');
    yield f.make('C590', { CST_ICMS: '000', CFOP: '1253', ALIQ_ICMS: '18,00', VL_OPR: cents(value), VL_BC_ICMS: cents(value), VL_ICMS: cents(icms), VL_BC_ICMS_ST: '0,00', VL_ICMS_ST: '0,00', VL_RED_BC: '0,00' }, 'in');
  }
  // freight (D100/D190, CT-e): one per 25 documents
  const freights = Math.max(1, Math.round(ctx.documents / 25));
  for (let t = 0; t < freights; t++) {
    const { j, p } = docs.supplier();
    const { inState } = partnerFacts(p);
    const value = 5000 + Math.floor(rnd() * 300000);
    const icms = Math.round((value * 1200) / 10000);
    credits += BigInt(icms);
    const dt = day(period, 1 + (t % days));
    const number = 1 + (mix(t, seed + 40) % 999999);
    yield f.make('D100', {
      IND_OPER: '0', IND_EMIT: '1', COD_PART: p.code, COD_MOD: '57', COD_SIT: '00', SER: '1', NUM_DOC: String(number), CHV_CTE: docs.partnerKey(j, p, number, '57', 1),
      DT_DOC: dt, DT_A_P: dt, TP_CT_E: '0', VL_DOC: cents(value), VL_DESC: '0,00', IND_FRT: '1', VL_SERV: cents(value), VL_BC_ICMS: cents(value), VL_ICMS: cents(icms),
      VL_NT: '0,00', COD_MUN_ORIG: p.municipality, COD_MUN_DEST: '3550308',
    }, 'in');
    yield f.make('D190', { CST_ICMS: '000', CFOP: inState ? '1352' : '2352', ALIQ_ICMS: '12,00', VL_OPR: cents(value), VL_BC_ICMS: cents(value), VL_ICMS: cents(icms), VL_RED_BC: '0,00' }, 'in');
  }
  yield f.make('E100', { DT_INI: ini, DT_FIN: fin });
  const balance = debits - credits;
  const pos = (v: bigint): string => cents(Number(v > 0n ? v : 0n));
  yield f.make('E110', {
    VL_TOT_DEBITOS: cents(Number(debits)), VL_AJ_DEBITOS: '0,00', VL_TOT_AJ_DEBITOS: '0,00', VL_ESTORNOS_CRED: '0,00', VL_TOT_CREDITOS: cents(Number(credits)),
    VL_AJ_CREDITOS: '0,00', VL_TOT_AJ_CREDITOS: '0,00', VL_ESTORNOS_DEB: '0,00', VL_SLD_CREDOR_ANT: '0,00', VL_SLD_APURADO: pos(balance), VL_TOT_DED: '0,00',
    VL_ICMS_RECOLHER: pos(balance), VL_SLD_CREDOR_TRANSPORTAR: pos(-balance), DEB_ESP: '0,00',
  });
  // the inventory of every product at the end of the previous year (H005 before its H010: two passes)
  const stock = (i: number, p: Product): { qty: string; unit: number; value: number } => {
    const h = mix(i, seed + 50);
    const cost = Math.max(1, Math.round((p.price * 7) / 10));
    if (p.byWeight) {
      const grams = 1000 + (h % 200000);
      return { qty: fixed(grams, 3), unit: cost, value: Math.round((cost * grams) / 1000) };
    }
    const units = 1 + (h % 400);
    return { qty: fixed(units * 1000, 3), unit: cost, value: cost * units };
  };
  let inventory = 0;
  for (let i = 0; i < ctx.products; i++) inventory += stock(i, product(i, seed)).value;
  const yearEnd = `3112${Number(period.start.slice(0, 4)) - 1}`;
  yield f.make('H005', { DT_INV: yearEnd, VL_INV: cents(inventory), MOT_INV: '01' });
  const h010 = f.positional('H010', ['COD_ITEM', 'UNID', 'QTD', 'VL_UNIT', 'VL_ITEM'], null, { IND_PROP: '0', COD_CTA: '1.1.03.0001' });
  for (let i = 0; i < ctx.products; i++) {
    const p = product(i, seed);
    const s = stock(i, p);
    yield h010([p.code, p.unit, s.qty, fixed(s.unit * 10000, 6), cents(s.value)]);
  }
  yield f.make('K100', { DT_INI: ini, DT_FIN: fin });
  for (let i = 0; i < ctx.products; i += 3) {
    const p = product(i, seed);
    yield f.make('K200', { DT_EST: fin, COD_ITEM: p.code, QTD: stock(i, p).qty, IND_EST: '0' });
  }
  yield f.make('1010', Object.fromEntries(f.fieldNames('1010').slice(1).map((x) => [x, 'N'])));
}

/** The EFD-Contribuições content records of the realistic profile. */
export function* realisticContribuicoes(ctx: RealisticContext): Generator<string[]> {
  const { f, period, version } = ctx;
  const ini = formatSpedDate(period.start);
  const fin = formatSpedDate(period.end);
  const company = cnpj(42);
  const name = 'SUPERMERCADO SÃO JOSÉ COMÉRCIO DE ALIMENTOS LTDA';
  yield f.make('0000', { COD_VER: version, TIPO_ESCRIT: '0', DT_INI: ini, DT_FIN: fin, NOME: name, CNPJ: company, UF: 'SP', COD_MUN: '3550308', IND_NAT_PJ: '00', IND_ATIV: '2' });
  yield f.make('0100', { NOME: 'JOÃO CONTÁBIL ASSESSORIA', CPF: '52998224725', CRC: 'SP123456', CNPJ: '', COD_MUN: '3550308' });
  yield f.make('0110', { COD_INC_TRIB: '1', IND_APRO_CRED: '1', COD_TIPO_CONT: '1', IND_REG_CUM: '' });
  yield f.make('0140', { COD_EST: 'MATRIZ', NOME: name, CNPJ: company, UF: 'SP', COD_MUN: '3550308' });
  yield* catalog(ctx, '01058', false);
  for (const [code, descr] of NATURES) yield f.make('0400', { COD_NAT: code, DESCR_NAT: descr });
  for (let i = 0; i < INFO_TEXTS.length; i++) yield f.make('0450', { COD_INF: String(i + 1), TXT: INFO_TEXTS[i]! });
  yield f.make('C010', { CNPJ: company, IND_ESCRI: '2' });
  const docs = new DocumentDraw(ctx, company);
  const blankC100 = blankOf(f, 'C100');
  for (let d = 0; d < ctx.documents; d++) {
    const doc = docs.next(d);
    const { out, lines, h } = doc;
    if (lines === null) {
      yield f.make('C100', { ...blankC100, IND_OPER: '1', IND_EMIT: '0', COD_MOD: '55', COD_SIT: '02', SER: '1', NUM_DOC: String(doc.number), CHV_NFE: doc.key });
      continue;
    }
    const total = sum(lines, 'value');
    yield f.make('C100', {
      IND_OPER: out ? '1' : '0', IND_EMIT: out ? '0' : '1', COD_PART: doc.partner!.code, COD_MOD: '55', COD_SIT: '00', SER: String(doc.serie), NUM_DOC: String(doc.number),
      CHV_NFE: doc.key, DT_DOC: doc.issued, DT_E_S: doc.date, VL_DOC: cents(total), IND_PGTO: '1', VL_DESC: '0,00', VL_MERC: cents(total), IND_FRT: out ? '0' : '1',
      VL_BC_ICMS: cents(sum(lines, 'base')), VL_ICMS: cents(sum(lines, 'icms')), VL_PIS: cents(sum(lines, 'pis')), VL_COFINS: cents(sum(lines, 'cofins')),
    });
    for (let k = 0; k < lines.length; k++) {
      const l = lines[k]!;
      yield f.make('C170', {
        NUM_ITEM: String(k + 1), COD_ITEM: l.p.code, DESCR_COMPL: mix(k, h) % 5 === 0 ? ITEM_NOTES[h % ITEM_NOTES.length]! : '', QTD: l.qty, UNID: l.p.unit,
        VL_ITEM: cents(l.value), VL_DESC: '0,00', IND_MOV: '0', CST_ICMS: l.cst, CFOP: l.cfop, VL_BC_ICMS: cents(l.base), ALIQ_ICMS: rate(l.rate), VL_ICMS: cents(l.icms),
        CST_PIS: out ? '01' : '50', VL_BC_PIS: cents(l.value), ALIQ_PIS: '1,6500', VL_PIS: cents(l.pis),
        CST_COFINS: out ? '01' : '50', VL_BC_COFINS: cents(l.value), ALIQ_COFINS: '7,6000', VL_COFINS: cents(l.cofins), COD_CTA: out ? '3.1.01.0001' : '1.1.03.0001',
      });
    }
  }
}

/** The ECD content records of the realistic profile: a chart of `accounts` analytic accounts, skewed entries. */
export function* realisticEcd(ctx: RealisticContext): Generator<string[]> {
  const { f, seed, period, version } = ctx;
  const ini = formatSpedDate(period.start);
  const fin = formatSpedDate(period.end);
  const company = cnpj(42);
  const name = 'SUPERMERCADO SÃO JOSÉ COMÉRCIO DE ALIMENTOS LTDA';
  yield f.make('0000', { LECD: 'LECD', DT_INI: ini, DT_FIN: fin, NOME: name, CNPJ: company, UF: 'SP', COD_MUN: '3550308' });
  yield f.make('I010', { IND_ESC: 'G', COD_VER_LC: version });
  yield f.make('I030', { DNRC_ABERT: 'TERMO DE ABERTURA', NUM_ORD: '1', NAT_LIVR: 'DIÁRIO GERAL', QTD_LIN: '0', NOME: name, CNPJ: company, DT_ARQ: ini, DESC_MUN: 'SÃO PAULO', DT_EX_SOCIAL: fin });
  // the chart: levels 1 and 2, level-3 groups, then the analytic accounts spread over the groups round-robin
  const { tops, groups } = chartOfAccounts();
  const accounts = Math.max(groups.length, ctx.accounts);
  const code = (k: number): string => `${groups[k % groups.length]!.code}.${String(Math.floor(k / groups.length) + 1).padStart(4, '0')}`;
  for (const top of tops) yield f.make('I050', { DT_ALT: ini, COD_NAT: top.nature, IND_CTA: 'S', NIVEL: String(top.level), COD_CTA: top.code, COD_CTA_SUP: top.parent ?? '', CTA: top.name });
  for (let g = 0; g < groups.length; g++) {
    const grp = groups[g]!;
    yield f.make('I050', { DT_ALT: ini, COD_NAT: grp.nature, IND_CTA: 'S', NIVEL: '3', COD_CTA: grp.code, COD_CTA_SUP: grp.parent, CTA: grp.name });
    for (let k = g; k < accounts; k += groups.length) {
      yield f.make('I050', { DT_ALT: ini, COD_NAT: grp.nature, IND_CTA: 'A', NIVEL: '4', COD_CTA: code(k), COD_CTA_SUP: grp.code, CTA: accountName(grp.name, k, seed) });
    }
  }
  for (let i = 0; i < HISTORIES.length; i++) yield f.make('I075', { COD_HIST: String(i + 1), DESCR_HIST: HISTORIES[i]! });
  // I155 (before the entries) needs each account's debits and credits: two passes over the same random sequence
  const picker = new ZipfPicker(accounts);
  const days = daysIn(period);
  const debit = new BigInt64Array(accounts);
  const credit = new BigInt64Array(accounts);
  const entry = (rnd: () => number): { total: number; parts: { k: number; v: number; dc: 'D' | 'C' }[]; hist: number } => {
    const total = 100 + Math.floor(Math.exp(rnd() * Math.log(100000)) * 50);
    const parts: { k: number; v: number; dc: 'D' | 'C' }[] = [];
    for (const dc of ['D', 'C'] as const) {
      const u = rnd();
      const n = u < 0.75 ? 1 : u < 0.93 ? 2 : 3;
      let left = total;
      for (let i = 0; i < n; i++) {
        const v = i === n - 1 ? left : Math.max(1, Math.floor(left * (0.2 + rnd() * 0.5)));
        left -= v;
        parts.push({ k: picker.pick(rnd), v, dc });
      }
    }
    return { total, parts, hist: Math.floor(rnd() * HISTORIES.length) };
  };
  const first = ctx.rnd;
  for (let d = 0; d < ctx.documents; d++) {
    for (const p of entry(first).parts) (p.dc === 'D' ? debit : credit)[p.k]! += BigInt(p.v);
  }
  yield f.make('I150', { DT_INI: ini, DT_FIN: fin });
  for (let g = 0; g < groups.length; g++) {
    for (let k = g; k < accounts; k += groups.length) {
      const net = debit[k]! - credit[k]!;
      yield f.make('I155', {
        COD_CTA: code(k), VL_SLD_INI: '0,00', IND_DC_INI: 'D', VL_DEB: cents(Number(debit[k]!)), VL_CRED: cents(Number(credit[k]!)),
        VL_SLD_FIN: cents(Number(net < 0n ? -net : net)), IND_DC_FIN: net < 0n ? 'C' : 'D',
      });
    }
  }
  const replay = ctx.replay();
  const i250 = f.positional('I250', ['COD_CTA', 'VL_DC', 'IND_DC', 'COD_HIST_PAD', 'HIST']);
  for (let d = 0; d < ctx.documents; d++) {
    const e = entry(replay);
    yield f.make('I200', { NUM_LCTO: String(d + 1), DT_LCTO: day(period, 1 + Math.floor((d * days) / ctx.documents)), VL_LCTO: cents(e.total), IND_LCTO: 'N', DT_LCTO_EXT: '' });
    const hist = `${HISTORIES[e.hist]!} ${1000 + (mix(d, seed + 60) % 90000)}`;
    for (const p of e.parts) yield i250([code(p.k), cents(p.v), p.dc, String(e.hist + 1), hist]);
  }
  yield f.make('J900', { DNRC_ENCER: 'TERMO DE ENCERRAMENTO', NUM_ORD: '1', NAT_LIVRO: 'DIÁRIO GERAL', NOME: name, QTD_LIN: '0', DT_INI_ESCR: ini, DT_FIN_ESCR: fin });
  yield f.make('J930', { IDENT_NOM: 'JOÃO CONTÁBIL ASSESSORIA', IDENT_CPF_CNPJ: '52998224725', IDENT_QUALIF: 'CONTADOR', COD_ASSIN: '900', IND_CRC: 'SP123456' });
}
