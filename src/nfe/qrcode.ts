/**
 * NFC-e QR code (infNFeSupl/qrCode, parameter `p=`), versions 2 and 3.
 *
 * v2 (Manual do DANFE NFC-e e QR Code 5.0), hash = SHA-1 hex of the parameters followed by the CSC:
 *   online  (tpEmis ≠ 9): chave|2|tpAmb|cIdToken|hash          hash over `chave|2|tpAmb|cIdToken` + CSC
 *   offline (tpEmis = 9): chave|2|tpAmb|dd|vNF|digValHex|cIdToken|hash
 *                         dd = day of dhEmi, digValHex = hex of the DigestValue's base64 text
 * v3 (NT 2025.001, no CSC):
 *   online:  chave|3|tpAmb
 *   offline: chave|3|tpAmb|dd|vNF|tpIdDest|idDest|assinatura
 *            tpIdDest 1 CNPJ, 2 CPF, 3 idEstrangeiro (empty without a recipient); assinatura = base64 of an
 *            RSA-SHA1 signature, with the emitter's certificate, of the text before it (`chave|…|idDest`).
 *            The shapes come from the PL_010 schema's qrCode patterns; what exactly is signed in the offline
 *            form is our reading of the NT (see docs/signatures.md) and is not confirmed by an oracle.
 * The block is added after signing: it is outside the signed infNFe (between infNFe and Signature).
 */
import { X509Certificate, createHash, sign as rsaSign, verify as rsaVerify, timingSafeEqual, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { EXIT_FINDINGS, EXIT_USAGE, FiscalError } from '../errors.js';
import { DSIG_NS, pathText, signedUnits } from './dsig.js';
import { START, childByLocal, decodeXmlBytes, elementNamespace, localName, textOf, tokenize, type StartToken, type TokenDoc } from './xml-tokens.js';

export type QrVersion = 2 | 3;

export interface QrDocumentFields {
  readonly key: string;
  readonly cUF: string;
  readonly tpAmb: string;
  readonly tpEmis: string;
  readonly dhEmi: string;
  readonly vNF: string;
  /** DigestValue (base64) of the NFe's signature; needed for v2 offline. */
  readonly digVal: string | null;
  /** Recipient: CNPJ, CPF or idEstrangeiro, when present. */
  readonly dest: { readonly type: 1 | 2 | 3; readonly id: string } | null;
}

export class QrCodeError extends FiscalError {
  constructor(code: 'NFE_QRCODE_URL_UNKNOWN' | 'NFE_QRCODE_INPUT' | 'NFE_QRCODE_MISMATCH', message: string, exitCode: 1 | 2 = EXIT_USAGE) {
    super(code, message, exitCode);
  }
}

interface UrlEntry { uf: string; qrCode: Record<string, string>; urlChave: Record<string, string> }
const require = createRequire(import.meta.url);
const URLS = require('../../formats/nfe/qrcode-urls.json') as Record<string, UrlEntry | string>;

/** The QR code base URL (ending in `?p=`) and urlChave for a state and environment, from formats/nfe/qrcode-urls.json. */
export function qrCodeUrls(cUF: string, tpAmb: string): { qrCode: string | null; urlChave: string | null; uf: string | null } {
  const e = URLS[cUF];
  if (!e || typeof e === 'string') return { qrCode: null, urlChave: null, uf: null };
  return { qrCode: e.qrCode[tpAmb] ?? null, urlChave: e.urlChave[tpAmb] ?? null, uf: e.uf };
}

const sha1Hex = (s: string): string => createHash('sha1').update(s, 'utf8').digest('hex').toUpperCase();
const day = (dhEmi: string): string => dhEmi.slice(8, 10);
const tokenId = (cscId: string): string => String(Number.parseInt(cscId, 10));

export interface QrBuildOptions {
  readonly version?: QrVersion;
  /** Base URL ending in `?p=` (or without it; `?p=` is appended). Default: the table for the document's cUF. */
  readonly url?: string;
  /** v2: CSC id (cIdToken) and CSC. */
  readonly cscId?: string;
  readonly csc?: string;
  /** v3 offline: the emitter's private key. */
  readonly privateKey?: KeyObject;
}

function baseUrl(doc: QrDocumentFields, url: string | undefined): string {
  const u = url ?? qrCodeUrls(doc.cUF, doc.tpAmb).qrCode;
  if (!u) throw new QrCodeError('NFE_QRCODE_URL_UNKNOWN', `no QR code URL known for cUF ${doc.cUF} tpAmb ${doc.tpAmb}: give --url`);
  return /[?&]p=$/.test(u) ? u : `${u}${u.includes('?') ? '&' : '?'}p=`;
}

/** The `p=` parameter value for a document. */
export function qrCodeParameter(doc: QrDocumentFields, options: QrBuildOptions): string {
  const version = options.version ?? 2;
  const offline = doc.tpEmis === '9';
  if (version === 2) {
    if (!options.cscId || !options.csc) throw new QrCodeError('NFE_QRCODE_INPUT', 'QR code v2 needs the CSC id and the CSC');
    const id = tokenId(options.cscId);
    if (!offline) {
      const body = `${doc.key}|2|${doc.tpAmb}|${id}`;
      return `${body}|${sha1Hex(body + options.csc)}`;
    }
    if (!doc.digVal) throw new QrCodeError('NFE_QRCODE_INPUT', 'offline QR code v2 needs the signed document (DigestValue)');
    const digHex = Buffer.from(doc.digVal, 'utf8').toString('hex');
    const body = `${doc.key}|2|${doc.tpAmb}|${day(doc.dhEmi)}|${doc.vNF}|${digHex}|${id}`;
    return `${body}|${sha1Hex(body + options.csc)}`;
  }
  if (!offline) return `${doc.key}|3|${doc.tpAmb}`;
  if (!options.privateKey) throw new QrCodeError('NFE_QRCODE_INPUT', 'offline QR code v3 needs the emitter certificate (--pfx)');
  const body = `${doc.key}|3|${doc.tpAmb}|${day(doc.dhEmi)}|${doc.vNF}|${doc.dest?.type ?? ''}|${doc.dest?.id ?? ''}`;
  return `${body}|${rsaSign('sha1', Buffer.from(body, 'utf8'), options.privateKey).toString('base64')}`;
}

/** The full qrCode URL. */
export function buildQrCode(doc: QrDocumentFields, options: QrBuildOptions): string {
  return baseUrl(doc, options.url) + qrCodeParameter(doc, options);
}

export interface QrCheckFinding { readonly code: 'NFE_QRCODE_MISMATCH'; readonly message: string }

/**
 * Checks a qrCode URL against its document: the key, version, tpAmb, and the hash (v2, when the CSC is
 * given) or the signature (v3 offline, when the emitter's certificate/public key is given).
 */
export function checkQrCode(url: string, doc: QrDocumentFields, options: { csc?: string; publicKey?: KeyObject } = {}): QrCheckFinding[] {
  const out: QrCheckFinding[] = [];
  const bad = (message: string): void => { out.push({ code: 'NFE_QRCODE_MISMATCH', message }); };
  const m = /[?&]p=([^&]*)$/.exec(url);
  if (!m) {
    bad(/chNFe=/.test(url) ? 'QR code v1 (chNFe=…) is no longer accepted' : 'qrCode has no p= parameter');
    return out;
  }
  const parts = (m[1] as string).split('|');
  const [key, ver, tpAmb] = parts;
  if (key !== doc.key) bad(`qrCode names key ${key}, the document's key is ${doc.key}`);
  if (tpAmb !== doc.tpAmb) bad(`qrCode tpAmb ${tpAmb} is not the document's ${doc.tpAmb}`);
  const offline = doc.tpEmis === '9';
  if (ver === '2') {
    const expectedLen = offline ? 8 : 5;
    if (parts.length !== expectedLen) { bad(`qrCode v2 ${offline ? 'offline' : 'online'} has ${parts.length} fields, expected ${expectedLen}`); return out; }
    if (offline) {
      if (parts[3] !== day(doc.dhEmi)) bad(`qrCode day ${parts[3]} is not the day of dhEmi ${doc.dhEmi}`);
      if (parts[4] !== doc.vNF) bad(`qrCode vNF ${parts[4]} is not the document's ${doc.vNF}`);
      if (doc.digVal && parts[5]?.toLowerCase() !== Buffer.from(doc.digVal, 'utf8').toString('hex')) bad('qrCode digVal is not the hex of the signature\'s DigestValue');
    }
    if (options.csc !== undefined) {
      const body = parts.slice(0, -1).join('|');
      const hash = (parts[parts.length - 1] ?? '').toUpperCase();
      const want = sha1Hex(body + options.csc);
      if (hash.length !== want.length || !timingSafeEqual(Buffer.from(hash), Buffer.from(want))) bad('qrCode hash does not match the CSC');
    }
  } else if (ver === '3') {
    const expectedLen = offline ? 8 : 3;
    if (parts.length !== expectedLen) { bad(`qrCode v3 ${offline ? 'offline' : 'online'} has ${parts.length} fields, expected ${expectedLen}`); return out; }
    if (offline) {
      if (parts[3] !== day(doc.dhEmi)) bad(`qrCode day ${parts[3]} is not the day of dhEmi ${doc.dhEmi}`);
      if (parts[4] !== doc.vNF) bad(`qrCode vNF ${parts[4]} is not the document's ${doc.vNF}`);
      if (options.publicKey) {
        const body = parts.slice(0, -1).join('|');
        let ok = false;
        try { ok = rsaVerify('sha1', Buffer.from(body, 'utf8'), options.publicKey, Buffer.from(parts[7] ?? '', 'base64')); } catch { ok = false; }
        if (!ok) bad('qrCode v3 signature does not verify with the emitter certificate');
      }
    }
  } else {
    bad(`qrCode version ${ver} is not 2 or 3`);
  }
  return out;
}

/** Reads the fields a QR code needs from an NFC-e (NFe or nfeProc). */
export function qrFieldsFromXml(xml: string | Uint8Array): { doc: TokenDoc; fields: QrDocumentFields; nfe: number; infNFe: number } {
  const doc = tokenize(typeof xml === 'string' ? xml : decodeXmlBytes(xml));
  const unit = signedUnits(doc).find((u) => u.element === 'infNFe');
  if (!unit?.id) throw new QrCodeError('NFE_QRCODE_INPUT', 'no NFe/infNFe with an Id in the document', EXIT_FINDINGS);
  const g = (p: string[]): string => pathText(doc, unit.idx, p) ?? '';
  const sig = childByLocal(doc, unit.parent, 'Signature');
  let digVal: string | null = null;
  if (sig !== -1 && elementNamespace(doc, sig) === DSIG_NS) {
    const si = childByLocal(doc, sig, 'SignedInfo');
    const ref = si === -1 ? -1 : childByLocal(doc, si, 'Reference');
    const dv = ref === -1 ? -1 : childByLocal(doc, ref, 'DigestValue');
    if (dv !== -1) digVal = textOf(doc, dv).replace(/\s+/g, '');
  }
  const destCnpj = g(['dest', 'CNPJ']);
  const destCpf = g(['dest', 'CPF']);
  const destEst = g(['dest', 'idEstrangeiro']);
  const dest = destCnpj ? { type: 1 as const, id: destCnpj } : destCpf ? { type: 2 as const, id: destCpf } : destEst ? { type: 3 as const, id: destEst } : null;
  const fields: QrDocumentFields = {
    key: unit.id.replace(/^NFe/, ''), cUF: g(['ide', 'cUF']), tpAmb: g(['ide', 'tpAmb']), tpEmis: g(['ide', 'tpEmis']),
    dhEmi: g(['ide', 'dhEmi']), vNF: g(['total', 'ICMSTot', 'vNF']), digVal, dest,
  };
  return { doc, fields, nfe: unit.parent, infNFe: unit.idx };
}

const escXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Adds (or replaces) infNFeSupl with qrCode and urlChave, between infNFe and Signature. The signature is not
 * touched: infNFeSupl is outside the signed infNFe.
 */
export function addQrCodeToXml(xml: string | Uint8Array, options: QrBuildOptions & { urlChave?: string }): { xml: string; qrCode: string } {
  const { doc, fields, infNFe } = qrFieldsFromXml(xml);
  if (fields.tpEmis === '9' && (options.version ?? 2) === 2 && !fields.digVal) {
    throw new QrCodeError('NFE_QRCODE_INPUT', 'offline QR code v2 needs the signed document: sign first', EXIT_USAGE);
  }
  const qrCode = buildQrCode(fields, options);
  const urlChave = options.urlChave ?? qrCodeUrls(fields.cUF, fields.tpAmb).urlChave;
  if (!urlChave) throw new QrCodeError('NFE_QRCODE_URL_UNKNOWN', `no urlChave known for cUF ${fields.cUF} tpAmb ${fields.tpAmb}: give --url-chave`);
  const block = `<infNFeSupl><qrCode>${escXml(qrCode)}</qrCode><urlChave>${escXml(urlChave)}</urlChave></infNFeSupl>`;
  const infTok = doc.tokens[infNFe] as StartToken;
  const endOfInf = (doc.tokens[infTok.close] as { to: number }).to;
  // an existing infNFeSupl right after infNFe is replaced
  let cut = endOfInf;
  for (let i = infTok.close + 1; i < doc.tokens.length; i++) {
    const t = doc.tokens[i];
    if (!t) break;
    if (t.kind === START) {
      if (localName(t.name) === 'infNFeSupl') cut = (doc.tokens[t.close] as { to: number }).to;
      break;
    }
  }
  const text = doc.text.slice(0, endOfInf) + block + doc.text.slice(cut);
  return { xml: text, qrCode };
}

/** Public key of a base64 certificate (for checking v3 offline QR codes). */
export function publicKeyOfCertificate(b64: string): KeyObject {
  return new X509Certificate(Buffer.from(b64, 'base64')).publicKey;
}
