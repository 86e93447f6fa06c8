/**
 * Deterministic synthetic SPED content for tests and benchmarks: valid records for each layout, generated from
 * the registry itself (every required field filled with a value of its type, size and format), with consistent
 * references and totals. Yields content records only: the writer adds X001/X990 and block 9.
 *
 * Three profiles: `simple` (the default here, what most fixtures and tests use: 20 participants, 50 products,
 * documents of a fixed number of items), `realistic` (synthetic-realistic.ts: a company's shape, thousands of
 * participants, tens of thousands of products used with a skew, accented texts, blocks C/D/E/H/K) and `retailer`
 * (the realistic shape where 70% of the EFD ICMS/IPI documents are NFC-e of three checkouts, some cancelled; the
 * other layouts are as realistic).
 */
import { loadLayout, type LayoutId } from './layout.js';
import { formatSpedDate } from './record.js';
import { mulberry32 } from '../common/prng.js';
import { RecordFactory, accessKey, cnpj, lastDay, money } from './synthetic-factory.js';
import { realisticContribuicoes, realisticEcd, realisticIcmsIpi } from './synthetic-realistic.js';

export const SYNTHETIC_PROFILES = ['simple', 'realistic', 'retailer'] as const;
export type SyntheticProfile = (typeof SYNTHETIC_PROFILES)[number];

/** Defaults of the realistic profile: a supermarket's catalog and partners. */
export const REALISTIC_DEFAULTS = { products: 30000, participants: 6000, accounts: 3000, itemsPerDocument: 6 } as const;

export interface SyntheticOptions {
  layout: LayoutId;
  /** Version to generate (default: the newest of the layout). */
  version?: string;
  /** Number of documents (C100 in EFD, I200 entries in ECD). */
  documents: number;
  /** Items per document (C170 / I250 pairs); the mean of a skewed count in the realistic profile. Default 3 (simple), 6 (realistic). */
  itemsPerDocument?: number;
  /** Seed of the deterministic generator. Default 1. */
  seed?: number;
  /** First day of the period (ISO). Default 2026-01-01; the period is that month. */
  periodStart?: string;
  /** The shape of the file (see the module comment). Default `simple`. */
  profile?: SyntheticProfile;
  /** Realistic profile: products in 0200 (default 30,000). */
  products?: number;
  /** Realistic profile: participants in 0150 (default 6,000). */
  participants?: number;
  /** Realistic profile, ECD: analytic accounts in the chart (default 3,000). */
  accounts?: number;
}

/** Content records of a valid file, in order (openers, closers and block 9 are the writer's job). */
export function* syntheticRecords(options: SyntheticOptions): Generator<string[]> {
  const layout = loadLayout(options.layout);
  const version = options.version ?? layout.data.versions[layout.data.versions.length - 1]!.version;
  const start = options.periodStart ?? '2026-01-01';
  const period = { start, end: lastDay(start) };
  const f = new RecordFactory(layout, version, period);
  const seed = options.seed ?? 1;
  const profile = options.profile ?? 'simple';
  if (profile === 'realistic' || profile === 'retailer') {
    const positive = (n: number | undefined, d: number, what: string): number => {
      const v = n ?? d;
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer (got ${v})`);
      return v;
    };
    const ctx = {
      layout, version, f, rnd: mulberry32(seed), replay: () => mulberry32(seed), seed, documents: options.documents, period, retailer: profile === 'retailer' && options.layout === 'efd-icms-ipi',
      items: positive(options.itemsPerDocument, REALISTIC_DEFAULTS.itemsPerDocument, 'itemsPerDocument'),
      products: positive(options.products, REALISTIC_DEFAULTS.products, 'products'),
      participants: positive(options.participants, REALISTIC_DEFAULTS.participants, 'participants'),
      accounts: positive(options.accounts, REALISTIC_DEFAULTS.accounts, 'accounts'),
    };
    if (options.layout === 'efd-icms-ipi') yield* realisticIcmsIpi(ctx);
    else if (options.layout === 'efd-contribuicoes') yield* realisticContribuicoes(ctx);
    else yield* realisticEcd(ctx);
    return;
  }
  yield* simpleRecords(options, layout, version, period, f);
}

/** The `simple` profile: few codes, documents of a fixed number of items. */
function* simpleRecords(options: SyntheticOptions, layout: ReturnType<typeof loadLayout>, version: string, period: { start: string; end: string }, f: RecordFactory): Generator<string[]> {
  const rnd = mulberry32(options.seed ?? 1);
  const items = options.itemsPerDocument ?? 3;
  const ini = formatSpedDate(period.start);
  const fin = formatSpedDate(period.end);
  const company = cnpj(42);
  const nParts = 20;
  const nItems = 50;
  if (options.layout === 'efd-icms-ipi') {
    yield f.make('0000', { COD_VER: version, DT_INI: ini, DT_FIN: fin, NOME: 'EMPRESA SINTETICA LTDA', CNPJ: company, UF: 'SP', IE: '110042490114', COD_MUN: '3550308', IND_PERFIL: 'A', IND_ATIV: '0' });
    yield f.make('0005', { FANTASIA: 'SINTETICA', CEP: '01001000', END: 'RUA DO EXEMPLO', BAIRRO: 'CENTRO' });
    yield f.make('0100', { NOME: 'CONTADOR EXEMPLO', CPF: '52998224725', CRC: 'SP123456', CNPJ: '', COD_MUN: '3550308' });
    for (let p = 1; p <= nParts; p++) yield f.make('0150', { COD_PART: `P${p}`, NOME: `PARTICIPANTE ${p}`, COD_PAIS: '1058', CNPJ: cnpj(p + 100), CPF: '', COD_MUN: '3550308' });
    yield f.make('0190', { UNID: 'UN', DESCR: 'UNIDADE' });
    for (let i = 1; i <= nItems; i++) yield f.make('0200', { COD_ITEM: `I${i}`, DESCR_ITEM: `ITEM ${i}`, UNID_INV: 'UN', TIPO_ITEM: '00', COD_NCM: '22071090' });
    let debits = 0n;
    let credits = 0n;
    for (let d = 1; d <= options.documents; d++) {
      const out = d % 2 === 0;
      const dir = out ? 'out' : 'in';
      const cfop = out ? '5102' : '1102';
      const rate = 18n;
      const values: bigint[] = [];
      for (let i = 0; i < items; i++) values.push(BigInt(100 + Math.floor(rnd() * 100000)));
      const total = values.reduce((a, b) => a + b, 0n);
      const icms = values.map((v) => (v * rate + 50n) / 100n);
      const icmsTotal = icms.reduce((a, b) => a + b, 0n);
      if (out) debits += icmsTotal;
      else credits += icmsTotal;
      const day = formatSpedDate(`${period.start.slice(0, 8)}${String(1 + (d % 28)).padStart(2, '0')}`);
      yield f.make('C100', {
        IND_OPER: out ? '1' : '0', IND_EMIT: out ? '0' : '1', COD_PART: `P${1 + (d % nParts)}`, COD_MOD: '55', COD_SIT: '00', SER: '1',
        NUM_DOC: String(d), CHV_NFE: accessKey('35', ini.slice(6, 8) + ini.slice(2, 4), out ? company : cnpj(101 + (d % nParts)), d),
        DT_DOC: day, DT_E_S: day, VL_DOC: money(total), IND_PGTO: '0', VL_MERC: money(total), IND_FRT: '9',
        VL_BC_ICMS: money(total), VL_ICMS: money(icmsTotal), VL_BC_ICMS_ST: '0,00', VL_ICMS_ST: '0,00', VL_IPI: '0,00',
      }, dir);
      for (let i = 0; i < items; i++) {
        yield f.make('C170', {
          NUM_ITEM: String(i + 1), COD_ITEM: `I${1 + ((d + i) % nItems)}`, QTD: '1,00000', UNID: 'UN', VL_ITEM: money(values[i]!), IND_MOV: '0',
          CST_ICMS: '000', CFOP: cfop, VL_BC_ICMS: money(values[i]!), ALIQ_ICMS: '18,00', VL_ICMS: money(icms[i]!),
        }, dir);
      }
      yield f.make('C190', {
        CST_ICMS: '000', CFOP: cfop, ALIQ_ICMS: '18,00', VL_OPR: money(total), VL_BC_ICMS: money(total), VL_ICMS: money(icmsTotal),
        VL_BC_ICMS_ST: '0,00', VL_ICMS_ST: '0,00', VL_RED_BC: '0,00', VL_IPI: '0,00',
      }, dir);
    }
    yield f.make('E100', { DT_INI: ini, DT_FIN: fin });
    const balance = debits - credits;
    yield f.make('E110', {
      VL_TOT_DEBITOS: money(debits), VL_AJ_DEBITOS: '0,00', VL_TOT_AJ_DEBITOS: '0,00', VL_ESTORNOS_CRED: '0,00', VL_TOT_CREDITOS: money(credits),
      VL_AJ_CREDITOS: '0,00', VL_TOT_AJ_CREDITOS: '0,00', VL_ESTORNOS_DEB: '0,00', VL_SLD_CREDOR_ANT: '0,00',
      VL_SLD_APURADO: money(balance > 0n ? balance : 0n), VL_TOT_DED: '0,00', VL_ICMS_RECOLHER: money(balance > 0n ? balance : 0n),
      VL_SLD_CREDOR_TRANSPORTAR: money(balance < 0n ? -balance : 0n), DEB_ESP: '0,00',
    });
    yield f.make('1010', Object.fromEntries((layout.fieldsFor('1010', version) ?? []).slice(1).map((x) => [x.name, 'N'])));
    return;
  }
  if (options.layout === 'efd-contribuicoes') {
    yield f.make('0000', { COD_VER: version, TIPO_ESCRIT: '0', DT_INI: ini, DT_FIN: fin, NOME: 'EMPRESA SINTETICA LTDA', CNPJ: company, UF: 'SP', COD_MUN: '3550308', IND_NAT_PJ: '00', IND_ATIV: '2' });
    yield f.make('0100', { NOME: 'CONTADOR EXEMPLO', CPF: '52998224725', CRC: 'SP123456', CNPJ: '', COD_MUN: '3550308' });
    yield f.make('0110', { COD_INC_TRIB: '1', IND_APRO_CRED: '1', COD_TIPO_CONT: '1', IND_REG_CUM: '' });
    yield f.make('0140', { COD_EST: 'E1', NOME: 'EMPRESA SINTETICA LTDA', CNPJ: company, UF: 'SP', COD_MUN: '3550308' });
    for (let p = 1; p <= nParts; p++) yield f.make('0150', { COD_PART: `P${p}`, NOME: `PARTICIPANTE ${p}`, COD_PAIS: '01058', CNPJ: cnpj(p + 100), CPF: '', COD_MUN: '3550308' });
    yield f.make('0190', { UNID: 'UN', DESCR: 'UNIDADE' });
    for (let i = 1; i <= nItems; i++) yield f.make('0200', { COD_ITEM: `I${i}`, DESCR_ITEM: `ITEM ${i}`, UNID_INV: 'UN', TIPO_ITEM: '00' });
    yield f.make('C010', { CNPJ: company, IND_ESCRI: '2' });
    for (let d = 1; d <= options.documents; d++) {
      const out = d % 2 === 0;
      const values: bigint[] = [];
      for (let i = 0; i < items; i++) values.push(BigInt(100 + Math.floor(rnd() * 100000)));
      const total = values.reduce((a, b) => a + b, 0n);
      const day = formatSpedDate(`${period.start.slice(0, 8)}${String(1 + (d % 28)).padStart(2, '0')}`);
      yield f.make('C100', {
        IND_OPER: out ? '1' : '0', IND_EMIT: out ? '0' : '1', COD_PART: `P${1 + (d % nParts)}`, COD_MOD: '55', COD_SIT: '00', SER: '1', NUM_DOC: String(d),
        CHV_NFE: accessKey('35', ini.slice(6, 8) + ini.slice(2, 4), out ? company : cnpj(101 + (d % nParts)), d), DT_DOC: day, DT_E_S: day,
        VL_DOC: money(total), IND_PGTO: '0', VL_MERC: money(total), IND_FRT: '9',
      });
      for (let i = 0; i < items; i++) {
        yield f.make('C170', { NUM_ITEM: String(i + 1), COD_ITEM: `I${1 + ((d + i) % nItems)}`, QTD: '1,00000', UNID: 'UN', VL_ITEM: money(values[i]!), CFOP: out ? '5102' : '1102' });
      }
    }
    return;
  }
  // ECD: a chart of accounts, balanced journal entries, a balance sheet and the signatories
  yield f.make('0000', { LECD: 'LECD', DT_INI: ini, DT_FIN: fin, NOME: 'EMPRESA SINTETICA LTDA', CNPJ: company, UF: 'SP', COD_MUN: '3550308' });
  yield f.make('I010', { IND_ESC: 'G', COD_VER_LC: version });
  yield f.make('I030', { DNRC_ABERT: 'TERMO DE ABERTURA', NUM_ORD: '1', NAT_LIVR: 'DIARIO GERAL', QTD_LIN: '0', NOME: 'EMPRESA SINTETICA LTDA', CNPJ: company, DT_ARQ: ini, DESC_MUN: 'SAO PAULO', DT_EX_SOCIAL: fin });
  yield f.make('I050', { DT_ALT: ini, COD_NAT: '01', IND_CTA: 'S', NIVEL: '1', COD_CTA: '1', COD_CTA_SUP: '', CTA: 'ATIVO' });
  yield f.make('I050', { DT_ALT: ini, COD_NAT: '01', IND_CTA: 'A', NIVEL: '2', COD_CTA: '1.1', COD_CTA_SUP: '1', CTA: 'CAIXA' });
  yield f.make('I050', { DT_ALT: ini, COD_NAT: '04', IND_CTA: 'A', NIVEL: '2', COD_CTA: '3.1', COD_CTA_SUP: '1', CTA: 'RECEITAS' });
  // I155 (before the entries) needs their sum: two passes over the same random sequence keep memory constant
  const entryValue = (r: () => number): bigint => BigInt(100 + Math.floor(r() * 100000));
  let sum = 0n;
  for (let d = 1; d <= options.documents; d++) sum += entryValue(rnd);
  const replay = mulberry32(options.seed ?? 1);
  yield f.make('I150', { DT_INI: ini, DT_FIN: fin });
  yield f.make('I155', { COD_CTA: '1.1', VL_SLD_INI: '0,00', IND_DC_INI: 'D', VL_DEB: money(sum), VL_CRED: '0,00', VL_SLD_FIN: money(sum), IND_DC_FIN: 'D' });
  yield f.make('I155', { COD_CTA: '3.1', VL_SLD_INI: '0,00', IND_DC_INI: 'C', VL_DEB: '0,00', VL_CRED: money(sum), VL_SLD_FIN: money(sum), IND_DC_FIN: 'C' });
  for (let d = 1; d <= options.documents; d++) {
    const day = formatSpedDate(`${period.start.slice(0, 8)}${String(1 + (d % 28)).padStart(2, '0')}`);
    const v = money(entryValue(replay));
    yield f.make('I200', { NUM_LCTO: String(d), DT_LCTO: day, VL_LCTO: v, IND_LCTO: 'N', DT_LCTO_EXT: '' });
    yield f.make('I250', { COD_CTA: '1.1', VL_DC: v, IND_DC: 'D', HIST: `VENDA ${d}` });
    yield f.make('I250', { COD_CTA: '3.1', VL_DC: v, IND_DC: 'C', HIST: `VENDA ${d}` });
  }
  yield f.make('J900', { DNRC_ENCER: 'TERMO DE ENCERRAMENTO', NUM_ORD: '1', NAT_LIVRO: 'DIARIO GERAL', NOME: 'EMPRESA SINTETICA LTDA', QTD_LIN: '0', DT_INI_ESCR: ini, DT_FIN_ESCR: fin });
  yield f.make('J930', { IDENT_NOM: 'CONTADOR EXEMPLO', IDENT_CPF_CNPJ: '52998224725', IDENT_QUALIF: 'CONTADOR', COD_ASSIN: '900', IND_CRC: 'SP123456' });
}
