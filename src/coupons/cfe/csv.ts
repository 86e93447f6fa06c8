/**
 * CF-e SAT rows for `fiscal nfe to-csv`: a coupon fills the same fixed columns as a note (src/nfe/csv.ts), so
 * one spreadsheet holds a shop's NF-e, NFC-e and CF-e (model 59 tells them apart). The mapping, field by
 * field, is documented in docs/nfe.md; columns a CF-e has no field for stay empty. A CFeCanc gives no row: it
 * marks its sale cancelled (as an NF-e cancellation event does for its note).
 */
import type { CsvFilter, EventIndex } from '../../nfe/csv.js';
import type { ParsedNfe } from '../../nfe/parse.js';
import { list, o, pisCofinsCells, productCells, s, type Obj } from '../../nfe/csv-fields.js';
import { variantOf } from '../../nfe/totals.js';
import type { EventStatus } from '../../nfe/validate.js';

type Row = Record<string, string>;

/** `AAAAMMDD` + `HHMMSS` → `AAAA-MM-DDTHH:MM:SS` (the CF-e carries no time zone); as written when malformed. */
export function cfeDateTime(dEmi: string, hEmi: string): string {
  const d = /^(\d{4})(\d{2})(\d{2})$/.exec(dEmi);
  if (!d) return dEmi;
  const h = /^(\d{2})(\d{2})(\d{2})$/.exec(hEmi);
  return `${d[1]}-${d[2]}-${d[3]}${h ? `T${h[1]}:${h[2]}:${h[3]}` : ''}`;
}

interface Coupon {
  key: string;
  inf: Obj;
  ide: Obj;
  emit: Obj;
  dest: Obj;
  ev: EventStatus;
  recipientDoc: string;
  issued: string;
}

/** The sale of a parsed CFe document, when it passes the filter. */
function coupon(parsed: ParsedNfe, filter: CsvFilter, events?: EventIndex): Coupon | null {
  if (parsed.kind !== 'CFe' || !parsed.doc) return null;
  const inf = o(o((parsed.doc as Obj).CFe).infCFe);
  const ide = o(inf.ide);
  const emit = o(inf.emit);
  const dest = o(inf.dest);
  const key = parsed.key ?? '';
  const issued = cfeDateTime(s(ide.dEmi), s(ide.hEmi));
  const recipientDoc = s(dest.CNPJ) || s(dest.CPF);
  const day = issued.slice(0, 10);
  if (filter.from && day < filter.from) return null;
  if (filter.to && day > filter.to) return null;
  if (filter.cnpj && s(emit.CNPJ) !== filter.cnpj && recipientDoc !== filter.cnpj) return null;
  if (filter.model && s(ide.mod) !== filter.model) return null;
  const ev = events?.get(key) ?? { cancelled: false, cancellationProtocol: null, cceCount: 0 };
  return { key, inf, ide, emit, dest, ev, recipientDoc, issued };
}

/** A CF-e signed by the SAT is valid as issued: `authorized`, or `cancelled` when a CFeCanc names it. */
const statusOf = (c: Coupon): string => (c.ev.cancelled ? 'cancelled' : 'authorized');

/** The document row of a CFe (by column name), or null (not a CFe, or filtered out). */
export function cfeDocumentRow(parsed: ParsedNfe, filter: CsvFilter = {}, events?: EventIndex): Row | null {
  const c = coupon(parsed, filter, events);
  if (!c) return null;
  const t = o(o(c.inf.total).ICMSTot);
  const dets = list(c.inf.det);
  return {
    source: parsed.source,
    key: c.key,
    version: s(c.inf['@versao']),
    model: s(c.ide.mod),
    series: s(c.ide.nserieSAT),
    number: s(c.ide.nCFe),
    issued_at: c.issued,
    operation: '1',
    environment: s(c.ide.tpAmb),
    emitter_doc: s(c.emit.CNPJ),
    emitter_name: s(c.emit.xNome),
    recipient_doc: c.recipientDoc,
    recipient_name: s(c.dest.xNome),
    cfops: [...new Set(dets.map((d) => s(o(d.prod).CFOP)).filter(Boolean))].join('|'),
    items: String(dets.length),
    v_prod: s(t.vProd),
    v_desc: s(t.vDesc),
    v_outro: s(t.vOutro),
    icms_value: s(t.vICMS),
    pis_value: s(t.vPIS),
    cofins_value: s(t.vCOFINS),
    v_nf: s(o(c.inf.total).vCFe),
    cancelled: c.ev.cancelled ? 'yes' : 'no',
    cancellation_protocol: c.ev.cancellationProtocol ?? '',
    cce_count: '0',
    status: statusOf(c),
  };
}

/** The item rows of a CFe (by column name); none when it is not a CFe or is filtered out. */
export function* cfeItemRows(parsed: ParsedNfe, filter: CsvFilter = {}, events?: EventIndex): Generator<Row> {
  const c = coupon(parsed, filter, events);
  if (!c) return;
  for (const d of list(c.inf.det)) {
    const imp = o(d.imposto);
    const icmsV = variantOf(imp.ICMS);
    const icms = icmsV?.[1] ?? {};
    yield {
      source: parsed.source,
      key: c.key,
      model: s(c.ide.mod),
      series: s(c.ide.nserieSAT),
      number: s(c.ide.nCFe),
      issued_at: c.issued,
      emitter_doc: s(c.emit.CNPJ),
      recipient_doc: c.recipientDoc,
      ...productCells(d),
      icms_group: icmsV?.[0] ?? '',
      origin: s(icms.Orig),
      icms_cst: s(icms.CST) || s(icms.CSOSN),
      icms_rate: s(icms.pICMS),
      icms_value: s(icms.vICMS),
      ...pisCofinsCells(imp),
      status: statusOf(c),
    };
  }
}

/** A CFeCanc's effect on the export: its sale is cancelled; the cancellation's own key stands as its protocol. */
export function cfeCancellation(parsed: ParsedNfe): [string, EventStatus] | null {
  if (parsed.kind !== 'CFeCanc' || !parsed.doc) return null;
  const inf = o(o((parsed.doc as Obj).CFeCanc).infCFe);
  const cancels = s(inf['@chCanc']).replace(/^CFe/, '');
  return cancels ? [cancels, { cancelled: true, cancellationProtocol: parsed.key, cceCount: 0 }] : null;
}
