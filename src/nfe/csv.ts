/**
 * Spreadsheet rows from parsed NF-e documents: one row per note, or one per item. The column lists are fixed
 * (documented in docs/nfe.md) so that a spreadsheet built on them keeps working. A cancelled note says so in
 * `status` (never `authorized`).
 */
import type { ParsedNfe } from './parse.js';
import { notesOf } from './parse.js';
import { variantOf } from './totals.js';
import { pisCofinsCells, productCells } from './csv-fields.js';
import { eventStatus, type EventStatus } from './validate.js';
import { cfeCancellation, cfeDocumentRow, cfeItemRows } from '../coupons/cfe/csv.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const o = (v: unknown): Obj => (isObj(v) ? v : {});
const s = (v: unknown): string => (typeof v === 'string' ? v : isObj(v) && typeof v['#text'] === 'string' ? (v['#text'] as string) : '');
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : isObj(v) ? [v] : []);

/** Columns of `to-csv` (one row per note). Names ending in a `*` mark are decimal columns (see DECIMAL_COLUMNS). */
export const DOCUMENT_COLUMNS = [
  'source', 'key', 'version', 'model', 'series', 'number', 'issued_at', 'exit_at', 'operation', 'environment',
  'emitter_doc', 'emitter_name', 'emitter_uf', 'recipient_doc', 'recipient_name', 'recipient_uf',
  'cfops', 'items', 'v_prod', 'v_desc', 'v_frete', 'v_seg', 'v_outro', 'icms_bc', 'icms_value', 'icms_st_bc',
  'icms_st_value', 'fcp_value', 'ipi_value', 'ii_value', 'pis_value', 'cofins_value', 'ibscbs_bc', 'ibs_value',
  'cbs_value', 'v_nf', 'protocol', 'protocol_status', 'protocol_at', 'cancelled', 'cancellation_protocol',
  'cce_count', 'status',
] as const;

/** Columns of `to-csv --items` (one row per item). */
export const ITEM_COLUMNS = [
  'source', 'key', 'model', 'series', 'number', 'issued_at', 'emitter_doc', 'recipient_doc', 'item', 'product_code',
  'gtin', 'description', 'ncm', 'cest', 'cfop', 'unit', 'quantity', 'unit_price', 'v_prod', 'v_desc',
  'icms_group', 'origin', 'icms_cst', 'icms_bc', 'icms_rate', 'icms_value', 'icms_st_bc', 'icms_st_rate',
  'icms_st_value', 'fcp_value', 'ipi_cst', 'ipi_bc', 'ipi_rate', 'ipi_value', 'pis_cst', 'pis_bc', 'pis_rate',
  'pis_value', 'cofins_cst', 'cofins_bc', 'cofins_rate', 'cofins_value', 'ibscbs_cst', 'ibscbs_class',
  'ibscbs_bc', 'ibs_uf_rate', 'ibs_uf_value', 'ibs_mun_rate', 'ibs_mun_value', 'cbs_rate', 'cbs_value',
  'protocol_status', 'status',
] as const;

/** Columns holding decimal values (the ones `--decimal-comma` rewrites). */
export const DECIMAL_COLUMNS: ReadonlySet<string> = new Set([
  'v_prod', 'v_desc', 'v_frete', 'v_seg', 'v_outro', 'icms_bc', 'icms_value', 'icms_st_bc', 'icms_st_value', 'fcp_value',
  'ipi_value', 'ii_value', 'pis_value', 'cofins_value', 'ibscbs_bc', 'ibs_value', 'cbs_value', 'v_nf', 'quantity',
  'unit_price', 'icms_rate', 'icms_st_rate', 'ipi_bc', 'ipi_rate', 'pis_bc', 'pis_rate', 'cofins_bc', 'cofins_rate',
  'ibs_uf_rate', 'ibs_uf_value', 'ibs_mun_rate', 'ibs_mun_value', 'cbs_rate', 'cbs_value',
]);

export interface CsvFilter {
  /** Emission date from (inclusive), YYYY-MM-DD. */
  readonly from?: string;
  /** Emission date to (inclusive), YYYY-MM-DD. */
  readonly to?: string;
  /** Emitter or recipient CNPJ/CPF. */
  readonly cnpj?: string;
  /** 55, 65 or 59 (CF-e SAT). */
  readonly model?: string;
}

/** Events known from elsewhere in the batch, by note key (see the two-pass export in the CLI). */
export type EventIndex = ReadonlyMap<string, EventStatus>;

function noteStatus(cStat: string, ev: EventStatus): string {
  if (ev.cancelled) return 'cancelled';
  if (cStat === '100' || cStat === '150') return 'authorized';
  if (cStat === '110' || cStat === '301' || cStat === '302' || cStat === '303') return 'denied';
  if (cStat === '') return 'unprotocolled';
  return `rejected`;
}

function mergeStatus(a: EventStatus, b: EventStatus | undefined): EventStatus {
  if (!b) return a;
  return { cancelled: a.cancelled || b.cancelled, cancellationProtocol: a.cancellationProtocol ?? b.cancellationProtocol, cceCount: a.cceCount + b.cceCount };
}

interface NoteCtx {
  key: string;
  inf: Obj;
  ide: Obj;
  emit: Obj;
  dest: Obj;
  prot: Obj;
  ev: EventStatus;
  emitterDoc: string;
  recipientDoc: string;
  issued: string;
}

function* notes(parsed: ParsedNfe, filter: CsvFilter, events?: EventIndex): Generator<NoteCtx> {
  if (!parsed.doc || !parsed.kind) return;
  const root = o((parsed.doc as Obj)[parsed.kind]);
  const protRoot = parsed.kind === 'nfeProc' ? o(o(root.protNFe).infProt) : {};
  const inDoc = parsed.kind === 'nfeProc' ? eventStatus(root) : { cancelled: false, cancellationProtocol: null, cceCount: 0 };
  for (const nfe of notesOf(parsed.doc)) {
    const inf = o(nfe.infNFe);
    const ide = o(inf.ide);
    const emit = o(inf.emit);
    const dest = o(inf.dest);
    const key = s(inf['@Id']).replace(/^NFe/, '') || s(protRoot.chNFe);
    const issued = s(ide.dhEmi) || s(ide.dEmi);
    const emitterDoc = s(emit.CNPJ) || s(emit.CPF);
    const recipientDoc = s(dest.CNPJ) || s(dest.CPF) || s(dest.idEstrangeiro);
    const day = issued.slice(0, 10);
    if (filter.from && day < filter.from) continue;
    if (filter.to && day > filter.to) continue;
    if (filter.cnpj && emitterDoc !== filter.cnpj && recipientDoc !== filter.cnpj) continue;
    if (filter.model && s(ide.mod) !== filter.model) continue;
    yield { key, inf, ide, emit, dest, prot: protRoot, ev: mergeStatus(inDoc, events?.get(key)), emitterDoc, recipientDoc, issued };
  }
}

/**
 * One row per note of the document (several for an enviNFe; none for event documents or filtered-out notes);
 * one per CF-e SAT sale (src/coupons/cfe/csv.ts).
 */
export function* documentRows(parsed: ParsedNfe, filter: CsvFilter = {}, events?: EventIndex): Generator<string[]> {
  if (parsed.kind === 'CFe') {
    const row = cfeDocumentRow(parsed, filter, events);
    if (row) yield DOCUMENT_COLUMNS.map((c) => row[c] ?? '');
    return;
  }
  for (const n of notes(parsed, filter, events)) {
    const t = o(o(n.inf.total).ICMSTot);
    const ibs = o(o(n.inf.total).IBSCBSTot);
    const dets = list(n.inf.det);
    const cfops = [...new Set(dets.map((d) => s(o(d.prod).CFOP)).filter(Boolean))].join('|');
    const row: Record<(typeof DOCUMENT_COLUMNS)[number], string> = {
      source: parsed.source,
      key: n.key,
      version: s(n.inf['@versao']),
      model: s(n.ide.mod),
      series: s(n.ide.serie),
      number: s(n.ide.nNF),
      issued_at: n.issued,
      exit_at: s(n.ide.dhSaiEnt) || s(n.ide.dSaiEnt),
      operation: s(n.ide.tpNF),
      environment: s(n.ide.tpAmb),
      emitter_doc: n.emitterDoc,
      emitter_name: s(n.emit.xNome),
      emitter_uf: s(o(n.emit.enderEmit).UF),
      recipient_doc: n.recipientDoc,
      recipient_name: s(n.dest.xNome),
      recipient_uf: s(o(n.dest.enderDest).UF),
      cfops,
      items: String(dets.length),
      v_prod: s(t.vProd),
      v_desc: s(t.vDesc),
      v_frete: s(t.vFrete),
      v_seg: s(t.vSeg),
      v_outro: s(t.vOutro),
      icms_bc: s(t.vBC),
      icms_value: s(t.vICMS),
      icms_st_bc: s(t.vBCST),
      icms_st_value: s(t.vST),
      fcp_value: s(t.vFCP),
      ipi_value: s(t.vIPI),
      ii_value: s(t.vII),
      pis_value: s(t.vPIS),
      cofins_value: s(t.vCOFINS),
      ibscbs_bc: s(ibs.vBCIBSCBS),
      ibs_value: s(o(ibs.gIBS).vIBS),
      cbs_value: s(o(ibs.gCBS).vCBS),
      v_nf: s(t.vNF),
      protocol: s(n.prot.nProt),
      protocol_status: s(n.prot.cStat),
      protocol_at: s(n.prot.dhRecbto),
      cancelled: n.ev.cancelled ? 'yes' : 'no',
      cancellation_protocol: n.ev.cancellationProtocol ?? '',
      cce_count: String(n.ev.cceCount),
      status: noteStatus(s(n.prot.cStat), n.ev),
    };
    yield DOCUMENT_COLUMNS.map((c) => row[c]);
  }
}

/** One row per item of every note of the document (or of the CF-e SAT sale). */
export function* itemRows(parsed: ParsedNfe, filter: CsvFilter = {}, events?: EventIndex): Generator<string[]> {
  if (parsed.kind === 'CFe') {
    for (const row of cfeItemRows(parsed, filter, events)) yield ITEM_COLUMNS.map((c) => row[c] ?? '');
    return;
  }
  for (const n of notes(parsed, filter, events)) {
    for (const d of list(n.inf.det)) {
      const imp = o(d.imposto);
      const icmsV = variantOf(imp.ICMS);
      const icms = icmsV?.[1] ?? {};
      const ipi = o(o(imp.IPI).IPITrib);
      const ipiNt = o(o(imp.IPI).IPINT);
      const ibscbs = o(imp.IBSCBS);
      const g = o(ibscbs.gIBSCBS);
      const row: Record<(typeof ITEM_COLUMNS)[number], string> = {
        source: parsed.source,
        key: n.key,
        model: s(n.ide.mod),
        series: s(n.ide.serie),
        number: s(n.ide.nNF),
        issued_at: n.issued,
        emitter_doc: n.emitterDoc,
        recipient_doc: n.recipientDoc,
        ...productCells(d),
        icms_group: icmsV?.[0] ?? '',
        origin: s(icms.orig),
        icms_cst: s(icms.CST) || s(icms.CSOSN),
        icms_bc: s(icms.vBC),
        icms_rate: s(icms.pICMS),
        icms_value: s(icms.vICMS),
        icms_st_bc: s(icms.vBCST),
        icms_st_rate: s(icms.pICMSST),
        icms_st_value: s(icms.vICMSST),
        fcp_value: s(icms.vFCP),
        ipi_cst: s(ipi.CST) || s(ipiNt.CST),
        ipi_bc: s(ipi.vBC),
        ipi_rate: s(ipi.pIPI),
        ipi_value: s(ipi.vIPI),
        ...pisCofinsCells(imp),
        ibscbs_cst: s(ibscbs.CST),
        ibscbs_class: s(ibscbs.cClassTrib),
        ibscbs_bc: s(g.vBC),
        ibs_uf_rate: s(o(g.gIBSUF).pIBSUF),
        ibs_uf_value: s(o(g.gIBSUF).vIBSUF),
        ibs_mun_rate: s(o(g.gIBSMun).pIBSMun),
        ibs_mun_value: s(o(g.gIBSMun).vIBSMun),
        cbs_rate: s(o(g.gCBS).pCBS),
        cbs_value: s(o(g.gCBS).vCBS),
        protocol_status: s(n.prot.cStat),
        status: noteStatus(s(n.prot.cStat), n.ev),
      };
      yield ITEM_COLUMNS.map((c) => row[c]);
    }
  }
}

/** Cancellation/CC-e status carried by an event document (procEventoNFe, envEvento, evento) or a CFeCanc, by key. */
export function eventsOf(parsed: ParsedNfe): [string, EventStatus][] {
  if (parsed.kind === 'CFeCanc') {
    const c = cfeCancellation(parsed);
    return c ? [c] : [];
  }
  if (!parsed.doc || !parsed.kind || parsed.kind === 'NFe' || parsed.kind === 'enviNFe') return [];
  const root = o((parsed.doc as Obj)[parsed.kind]);
  if (parsed.kind === 'nfeProc') return [];
  if (parsed.kind === 'procEventoNFe') {
    const key = s(o(o(root.evento).infEvento).chNFe);
    return key ? [[key, eventStatus(root)]] : [];
  }
  if (parsed.kind === 'retEvento' || parsed.kind === 'retEnvEvento') {
    const rets = parsed.kind === 'retEvento' ? [root] : list(root.retEvento);
    return rets.flatMap((r) => {
      const key = s(o(r.infEvento).chNFe);
      return key ? [[key, eventStatus({ retEvento: [r] })] as [string, EventStatus]] : [];
    });
  }
  return [];
}
