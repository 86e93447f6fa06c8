/**
 * Structural validation of parsed NF-e documents — the project's own rules, each finding with the XML path of
 * the element concerned (`/nfeProc/NFe/infNFe/det[3]/prod/NCM`, 1-based positions):
 * required groups (NFE_MISSING), formats (NFE_FORMAT), key check digit (NFE_KEY_CHECK_DIGIT), key vs ide/emit
 * and protocol (NFE_KEY_MISMATCH), totals vs items (NFE_TOTALS_MISMATCH), cancelled notes (NFE_CANCELLED);
 * for an inutilização its range, Id and answer (inut.ts: NFE_INUT_MISMATCH, NFE_INUT_NOT_HOMOLOGATED);
 * for a CF-e SAT its key against ide/emit (src/coupons/cfe/validate.ts).
 * XSD validation is separate (schema-validate.ts).
 */
import { accessKeyCheckDigit, isValidCnpj, isValidCpf } from '../common/check-digits.js';
import { compareDecimals, isDecimal } from './decimal.js';
import { finding, type NfeFinding } from './findings.js';
import type { ParsedNfe } from './parse.js';
import { readInut } from './inut.js';
import { isInutKind } from './types.js';
import { computeTotals } from './totals.js';
import { validateCfe } from '../coupons/cfe/validate.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : isObj(v) && typeof v['#text'] === 'string' ? (v['#text'] as string) : undefined);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : isObj(v) ? [v] : []);

const KEY_SHAPE = /^[0-9]{6}[0-9A-Z]{12}[0-9]{26}$/;
const DATETIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d([+-]\d{2}:\d{2}|Z)?$/;
const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

class Ctx {
  readonly findings: NfeFinding[] = [];
  constructor(readonly source: string) {}
  add(code: NfeFinding['code'], path: string, message: string, severity: 'error' | 'warning' = 'error'): void {
    this.findings.push(finding(code, this.source, message, { path, severity }));
  }
  /** A required child: reports NFE_MISSING and returns undefined when absent. */
  need(parent: Obj, name: string, path: string): unknown {
    const v = parent[name];
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) {
      this.add('NFE_MISSING', `${path}/${name}`, `required element ${name} is missing`);
      return undefined;
    }
    return v;
  }
  format(parent: Obj, name: string, path: string, re: RegExp, what: string, required = false): void {
    const v = s(parent[name]);
    if (v === undefined) {
      if (required) this.need(parent, name, path);
      return;
    }
    if (!re.test(v)) this.add('NFE_FORMAT', `${path}/${name}`, `${name} ${JSON.stringify(v)} is not ${what}`);
  }
  decimal(parent: Obj, name: string, path: string): void {
    const v = s(parent[name]);
    if (v !== undefined && !isDecimal(v)) this.add('NFE_FORMAT', `${path}/${name}`, `${name} ${JSON.stringify(v)} is not a decimal number`);
  }
}

/** Validates one parsed document; returns the findings (the parse findings are not repeated). */
export function validateNfe(parsed: ParsedNfe): NfeFinding[] {
  const ctx = new Ctx(parsed.source);
  if (!parsed.doc || !parsed.kind) return ctx.findings;
  const root = (parsed.doc as Record<string, unknown>)[parsed.kind];
  if (!isObj(root)) return ctx.findings;
  const base = `/${[...parsed.wrappers, parsed.kind].join('/')}`;
  switch (parsed.kind) {
    case 'CFe':
    case 'CFeCanc':
      ctx.findings.push(...validateCfe(parsed.kind, root, base, parsed.source));
      break;
    case 'NFe':
      note(ctx, root, base, null);
      break;
    case 'nfeProc': {
      const nfe = ctx.need(root, 'NFe', base);
      const prot = isObj(root.protNFe) ? root.protNFe : undefined;
      if (!prot) ctx.add('NFE_MISSING', `${base}/protNFe`, 'nfeProc without protNFe');
      if (isObj(nfe)) note(ctx, nfe, `${base}/NFe`, prot ?? null);
      cancellation(ctx, root, base, parsed.key);
      break;
    }
    case 'enviNFe': {
      const notes = list(root.NFe);
      if (notes.length === 0) ctx.add('NFE_MISSING', `${base}/NFe`, 'enviNFe without NFe');
      if (notes.length > 50) ctx.add('NFE_FORMAT', `${base}/NFe`, `enviNFe holds ${notes.length} NFe, at most 50 are allowed`);
      notes.forEach((n, i) => note(ctx, n, `${base}/NFe[${i + 1}]`, null));
      break;
    }
    case 'procEventoNFe':
      if (isObj(ctx.need(root, 'evento', base))) event(ctx, root.evento as Obj, `${base}/evento`);
      ctx.need(root, 'retEvento', base);
      break;
    case 'envEvento':
      list(root.evento).forEach((e, i) => event(ctx, e, `${base}/evento[${i + 1}]`));
      if (list(root.evento).length === 0) ctx.add('NFE_MISSING', `${base}/evento`, 'envEvento without evento');
      break;
    case 'evento':
      event(ctx, root, base);
      break;
    case 'resNFe':
      key(ctx, s(root.chNFe), `${base}/chNFe`);
      break;
    default:
      if (isInutKind(parsed.kind)) for (const p of readInut(parsed.kind, root, base).problems) ctx.add(p.code, p.path, p.message, p.severity);
      break;
  }
  return ctx.findings;
}

function key(ctx: Ctx, value: string | undefined, path: string): boolean {
  if (value === undefined) {
    ctx.add('NFE_MISSING', path, 'access key is missing');
    return false;
  }
  if (!KEY_SHAPE.test(value)) {
    ctx.add('NFE_FORMAT', path, `access key ${JSON.stringify(value)} is not 44 characters (digits; CNPJ part may be alphanumeric)`);
    return false;
  }
  const dv = accessKeyCheckDigit(value.slice(0, 43));
  if (String(dv) !== value[43]) {
    ctx.add('NFE_KEY_CHECK_DIGIT', path, `access key check digit is ${value[43]}, the first 43 characters give ${dv}`);
    return false;
  }
  return true;
}

function note(ctx: Ctx, nfe: Obj, path: string, prot: Obj | null): void {
  const inf = ctx.need(nfe, 'infNFe', path);
  if (!isObj(inf)) return;
  const p = `${path}/infNFe`;
  const version = s(inf['@versao']);
  if (version !== '4.00' && version !== '3.10') ctx.add('NFE_FORMAT', `${p}/@versao`, `versao ${JSON.stringify(version ?? '')} is not 4.00 or 3.10`);
  const id = s(inf['@Id']);
  let k: string | undefined;
  if (id === undefined) ctx.add('NFE_MISSING', `${p}/@Id`, 'infNFe has no Id');
  else if (!id.startsWith('NFe')) ctx.add('NFE_FORMAT', `${p}/@Id`, `Id ${JSON.stringify(id)} does not start with NFe`);
  else if (key(ctx, id.slice(3), `${p}/@Id`)) k = id.slice(3);

  const ide = ctx.need(inf, 'ide', p);
  const emit = ctx.need(inf, 'emit', p);
  const dets = list(inf.det);
  if (dets.length === 0) ctx.need(inf, 'det', p);
  const total = ctx.need(inf, 'total', p);
  ctx.need(inf, 'transp', p);
  if (version === '4.00') ctx.need(inf, 'pag', p);

  if (isObj(ide)) {
    const ip = `${p}/ide`;
    for (const f of ['cUF', 'natOp', 'mod', 'serie', 'nNF', 'tpNF', 'cMunFG', 'tpImp', 'tpEmis', 'tpAmb', 'finNFe', 'procEmi', 'verProc']) ctx.need(ide, f, ip);
    ctx.format(ide, 'cUF', ip, /^\d{2}$/, 'a 2-digit UF code');
    ctx.format(ide, 'cNF', ip, /^\d{8}$/, '8 digits');
    ctx.format(ide, 'mod', ip, /^(55|65)$/, '55 or 65');
    ctx.format(ide, 'serie', ip, /^(0|[1-9]\d{0,2})$/, 'a series (0 to 999)');
    ctx.format(ide, 'nNF', ip, /^[1-9]\d{0,8}$/, 'a number (1 to 999999999)');
    ctx.format(ide, 'cDV', ip, /^\d$/, 'a digit');
    if (version === '4.00' || ide.dhEmi !== undefined) ctx.format(ide, 'dhEmi', ip, DATETIME, 'a date-time (AAAA-MM-DDThh:mm:ss-03:00)', version === '4.00');
    if (ide.dEmi !== undefined) ctx.format(ide, 'dEmi', ip, DATE, 'a date');
    ctx.format(ide, 'dhSaiEnt', ip, DATETIME, 'a date-time');
    if (s(ide.mod) === '65' && version === '4.00' && !isObj(nfe.infNFeSupl)) ctx.add('NFE_MISSING', `${path}/infNFeSupl`, 'NFC-e (mod 65) without infNFeSupl (QR code)');
  }
  if (isObj(emit)) {
    const ep = `${p}/emit`;
    doc(ctx, emit, ep, true);
    ctx.need(emit, 'xNome', ep);
    ctx.need(emit, 'CRT', ep);
    const end = ctx.need(emit, 'enderEmit', ep);
    if (isObj(end)) ctx.format(end, 'CEP', `${ep}/enderEmit`, /^\d{8}$/, '8 digits');
  }
  if (isObj(inf.dest)) {
    const dp = `${p}/dest`;
    doc(ctx, inf.dest, dp, false);
    if (isObj(inf.dest.enderDest)) ctx.format(inf.dest.enderDest, 'CEP', `${dp}/enderDest`, /^\d{8}$/, '8 digits');
  }
  dets.forEach((d, i) => item(ctx, d, `${p}/det[${i + 1}]`, i + 1));
  if (k && isObj(ide) && isObj(emit)) keyVsFields(ctx, k, ide, emit, p);
  if (isObj(total)) totals(ctx, inf, total, `${p}/total`, version === '4.00');
  if (prot && isObj(prot.infProt)) {
    const chNFe = s(prot.infProt.chNFe);
    const pp = `${path.replace(/\/NFe$/, '')}/protNFe/infProt/chNFe`;
    if (chNFe !== undefined && k !== undefined && chNFe !== k) ctx.add('NFE_KEY_MISMATCH', pp, `protocol is for key ${chNFe}, the note's key is ${k}`);
  }
  if (isObj(nfe.infNFeSupl) && k) {
    const qr = s(nfe.infNFeSupl.qrCode) ?? '';
    const m = /(?:chNFe=|p=)([0-9A-Z]{44})/.exec(qr);
    if (m && m[1] !== k) ctx.add('NFE_KEY_MISMATCH', `${path}/infNFeSupl/qrCode`, `QR code names key ${m[1]}, the note's key is ${k}`);
  }
}

function doc(ctx: Ctx, g: Obj, path: string, required: boolean): void {
  const cnpj = s(g.CNPJ);
  const cpf = s(g.CPF);
  if (cnpj !== undefined && cnpj !== '' && !isValidCnpj(cnpj)) ctx.add('NFE_FORMAT', `${path}/CNPJ`, `CNPJ ${cnpj} fails its check digits`);
  if (cpf !== undefined && cpf !== '' && !isValidCpf(cpf)) ctx.add('NFE_FORMAT', `${path}/CPF`, `CPF ${cpf} fails its check digits`);
  if (required && cnpj === undefined && cpf === undefined) ctx.add('NFE_MISSING', `${path}/CNPJ`, 'CNPJ or CPF is required');
}

function item(ctx: Ctx, det: Obj, path: string, n: number): void {
  const nItem = s(det['@nItem']);
  if (nItem !== String(n)) ctx.add('NFE_FORMAT', `${path}/@nItem`, `nItem ${JSON.stringify(nItem ?? '')} should be ${n}`);
  const prod = ctx.need(det, 'prod', path);
  const imp = ctx.need(det, 'imposto', path);
  if (isObj(prod)) {
    const pp = `${path}/prod`;
    for (const f of ['cProd', 'xProd', 'NCM', 'CFOP', 'uCom', 'qCom', 'vUnCom', 'vProd', 'uTrib', 'qTrib', 'vUnTrib', 'indTot']) ctx.need(prod, f, pp);
    // cEAN may be empty (no GTIN, before "SEM GTIN"), but the element is required
    for (const f of ['cEAN', 'cEANTrib']) if (prod[f] === undefined) ctx.add('NFE_MISSING', `${pp}/${f}`, `required element ${f} is missing`);
    ctx.format(prod, 'NCM', pp, /^(\d{2}|\d{8})$/, 'an NCM (8 digits, or 2 for a chapter)');
    ctx.format(prod, 'CFOP', pp, /^[1235-7]\d{3}$/, 'a CFOP (4 digits)');
    ctx.format(prod, 'cEAN', pp, /^(SEM GTIN|\d{8}|\d{12,14})?$/, 'a GTIN or SEM GTIN');
    for (const f of ['qCom', 'vUnCom', 'vProd', 'qTrib', 'vUnTrib', 'vDesc', 'vFrete', 'vSeg', 'vOutro']) ctx.decimal(prod, f, pp);
  }
  if (isObj(imp)) {
    const hasIcms = isObj(imp.ICMS);
    if (!hasIcms && !isObj(imp.ISSQN)) ctx.add('NFE_MISSING', `${path}/imposto/ICMS`, 'item without ICMS (or ISSQN)');
  }
}

function keyVsFields(ctx: Ctx, k: string, ide: Obj, emit: Obj, p: string): void {
  const dh = s(ide.dhEmi) ?? s(ide.dEmi) ?? '';
  const emitDoc = s(emit.CNPJ) ?? (s(emit.CPF) !== undefined ? `000${s(emit.CPF)}` : undefined);
  const checks: [string, string | undefined, string, string][] = [
    ['cUF', s(ide.cUF), k.slice(0, 2), `${p}/ide/cUF`],
    ['AAMM of dhEmi', dh.length >= 7 ? dh.slice(2, 4) + dh.slice(5, 7) : undefined, k.slice(2, 6), `${p}/ide/dhEmi`],
    ['emitter CNPJ/CPF', emitDoc?.padStart(14, '0'), k.slice(6, 20), `${p}/emit/${s(emit.CNPJ) !== undefined ? 'CNPJ' : 'CPF'}`],
    ['mod', s(ide.mod), k.slice(20, 22), `${p}/ide/mod`],
    ['serie', s(ide.serie)?.padStart(3, '0'), k.slice(22, 25), `${p}/ide/serie`],
    ['nNF', s(ide.nNF)?.padStart(9, '0'), k.slice(25, 34), `${p}/ide/nNF`],
    ['tpEmis', s(ide.tpEmis), k.slice(34, 35), `${p}/ide/tpEmis`],
    ['cNF', s(ide.cNF)?.padStart(8, '0'), k.slice(35, 43), `${p}/ide/cNF`],
    ['cDV', s(ide.cDV), k.slice(43, 44), `${p}/ide/cDV`],
  ];
  for (const [what, actual, inKey, path] of checks) {
    if (actual !== undefined && actual !== inKey) ctx.add('NFE_KEY_MISMATCH', path, `${what} is ${actual} but the key says ${inKey}`);
  }
}

const TOTAL_FIELDS = ['vBC', 'vICMS', 'vICMSDeson', 'vFCP', 'vBCST', 'vST', 'vFCPST', 'vProd', 'vFrete', 'vSeg', 'vDesc', 'vII', 'vIPI', 'vPIS', 'vCOFINS', 'vOutro', 'vNF'];

const FCP_FIELDS = new Set(['vFCP', 'vFCPST']);

function totals(ctx: Ctx, inf: Obj, total: Obj, path: string, v4: boolean): void {
  const given = total.ICMSTot;
  if (!isObj(given)) {
    ctx.need(total, 'ICMSTot', path);
    return;
  }
  let computed;
  try {
    computed = computeTotals(inf);
  } catch (e) {
    ctx.add('NFE_FORMAT', `${path}/ICMSTot`, `totals cannot be checked: ${(e as Error).message}`);
    return;
  }
  for (const f of TOTAL_FIELDS) {
    const g = s(given[f]);
    const c = computed.ICMSTot[f];
    if (g === undefined) {
      if (!v4 && FCP_FIELDS.has(f)) continue; // FCP totals arrived with 4.00
      ctx.add('NFE_MISSING', `${path}/ICMSTot/${f}`, `required element ${f} is missing`);
      continue;
    }
    if (!isDecimal(g)) {
      ctx.add('NFE_FORMAT', `${path}/ICMSTot/${f}`, `${f} ${JSON.stringify(g)} is not a decimal number`);
      continue;
    }
    if (c !== undefined && compareDecimals(g, c) !== 0) ctx.add('NFE_TOTALS_MISMATCH', `${path}/ICMSTot/${f}`, `${f} is ${g} but the items give ${c}`);
  }
  const ibs = total.IBSCBSTot;
  if (isObj(ibs) && computed.IBSCBSTot) {
    const pairs: [string, unknown, unknown][] = [
      ['vBCIBSCBS', ibs.vBCIBSCBS, computed.IBSCBSTot.vBCIBSCBS],
      ['gIBS/vIBS', isObj(ibs.gIBS) ? ibs.gIBS.vIBS : undefined, (computed.IBSCBSTot.gIBS as Obj).vIBS],
      ['gCBS/vCBS', isObj(ibs.gCBS) ? ibs.gCBS.vCBS : undefined, (computed.IBSCBSTot.gCBS as Obj).vCBS],
    ];
    for (const [f, g, c] of pairs) {
      const gs = s(g);
      if (gs !== undefined && isDecimal(gs) && typeof c === 'string' && compareDecimals(gs, c) !== 0) {
        ctx.add('NFE_TOTALS_MISMATCH', `${path}/IBSCBSTot/${f}`, `${f} is ${gs} but the items give ${c}`);
      }
    }
  }
}

function event(ctx: Ctx, ev: Obj, path: string): void {
  const inf = ctx.need(ev, 'infEvento', path);
  if (!isObj(inf)) return;
  const p = `${path}/infEvento`;
  key(ctx, s(inf.chNFe), `${p}/chNFe`);
  for (const f of ['cOrgao', 'tpAmb', 'dhEvento', 'tpEvento', 'nSeqEvento', 'detEvento']) ctx.need(inf, f, p);
  ctx.format(inf, 'tpEvento', p, /^\d{6}$/, 'a 6-digit event type');
  doc(ctx, inf, p, false);
}

/** An nfeProc with a homologated cancellation appended: the note is cancelled (a warning, so it never looks valid). */
function cancellation(ctx: Ctx, root: Obj, base: string, k: string | null): void {
  const status = eventStatus(root);
  if (status.cancelled) ctx.add('NFE_CANCELLED', base, `note ${k ?? ''} was cancelled (protocol ${status.cancellationProtocol ?? '?'})`.replace('  ', ' '), 'warning');
}

export interface EventStatus {
  cancelled: boolean;
  cancellationProtocol: string | null;
  cceCount: number;
}

/** Cancellation and CC-e events found in a document (an nfeProc with events appended, or an event document). */
export function eventStatus(root: Obj): EventStatus {
  const out: EventStatus = { cancelled: false, cancellationProtocol: null, cceCount: 0 };
  const consider = (tp: string | undefined, cStat: string | undefined, nProt: string | undefined): void => {
    const ok = cStat === undefined || cStat === '135' || cStat === '136' || cStat === '155';
    if (!ok) return;
    if (tp === '110111' || tp === '110112') {
      out.cancelled = true;
      out.cancellationProtocol = nProt ?? out.cancellationProtocol;
    } else if (tp === '110110') out.cceCount++;
  };
  for (const pe of list(root.procEventoNFe)) {
    const ev = isObj(pe.evento) && isObj(pe.evento.infEvento) ? pe.evento.infEvento : {};
    const ret = isObj(pe.retEvento) && isObj(pe.retEvento.infEvento) ? pe.retEvento.infEvento : {};
    consider(s(ev.tpEvento) ?? s(ret.tpEvento), s(ret.cStat), s(ret.nProt));
  }
  const standalone = isObj(root.evento) && isObj(root.retEvento);
  for (const re of standalone ? [] : list(root.retEvento)) {
    const inf = isObj(re.infEvento) ? re.infEvento : {};
    consider(s(inf.tpEvento), s(inf.cStat), s(inf.nProt));
  }
  if (standalone) {
    const ev = isObj((root.evento as Obj).infEvento) ? ((root.evento as Obj).infEvento as Obj) : {};
    const ret = isObj((root.retEvento as Obj).infEvento) ? ((root.retEvento as Obj).infEvento as Obj) : {};
    consider(s(ev.tpEvento), s(ret.cStat), s(ret.nProt));
  }
  return out;
}
