/**
 * Signature verification of NF-e/NFC-e (infNFe), events (infEvento), inutilização (infInut) and CF-e SAT
 * (infCFe) on the document's original text: every digest is recomputed over the canonical form (C14N 1.0) of
 * the referenced element as it stands in the bytes received, so a document re-indented after signing fails.
 *
 * For an nfeProc also: protNFe's chNFe equals the key, digVal equals the DigestValue, cStat is an
 * authorisation (100, 150). Optionally the certificate chain is checked against trusted CA certificates.
 */
import { X509Certificate, createHash, createPublicKey, verify as rsaVerify, type KeyObject } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { C14N_10, C14N_10_COMMENTS, canonicalize } from './c14n.js';
import { certificateInfo, isValidAt, type CertificateInfo } from './cert.js';
import { ALG_ENVELOPED, DIGESTS, DSIG_NS, SIGNATURES, pathText, scopeAt, signedUnits, unitDate } from './dsig.js';
import {
  START, XmlSyntaxError, attr, childByLocal, children, decodeXmlBytes, elementNamespace, localName, textOf, tokenize,
  type StartToken, type TokenDoc, type XmlToken,
} from './xml-tokens.js';

export type VerifyCode =
  | 'NFE_XML_MALFORMED'
  | 'NFE_DOCTYPE_REFUSED'
  | 'NFE_XML_TOO_DEEP'
  | 'NFE_UNSIGNED'
  | 'NFE_REFERENCE_MISMATCH'
  | 'NFE_SIGNATURE_UNSUPPORTED'
  | 'NFE_DIGEST_MISMATCH'
  | 'NFE_SIGNATURE_INVALID'
  | 'NFE_KEY_MISMATCH'
  | 'NFE_DIGVAL_MISMATCH'
  | 'NFE_NOT_AUTHORIZED'
  | 'CERT_NOT_VALID'
  | 'CERT_UNTRUSTED';

export interface VerifyFinding {
  readonly code: VerifyCode;
  readonly message: string;
  /** Where: the signed element, e.g. `infNFe NFe3515…`, or `protNFe`. */
  readonly where?: string;
}

export interface CertificateReport extends CertificateInfo {
  /** Whether the certificate was valid at the document's date (null when the document has no date). */
  readonly validAtDocumentDate: boolean | null;
  /** Chain result when a trust store was given: true trusted, false not; null when not checked. */
  readonly trusted: boolean | null;
}

export interface SignatureReport {
  /** Element referenced (infNFe, infEvento, …) and its Id. */
  readonly element: string;
  readonly id: string;
  readonly signatureAlgorithm: string;
  readonly digestValue: string;
  readonly digestOk: boolean;
  readonly signatureOk: boolean;
  readonly documentDate: string | null;
  readonly certificate: CertificateReport | null;
}

export interface ProtocolReport {
  readonly chNFe: string;
  readonly cStat: string;
  readonly xMotivo: string;
  readonly nProt: string;
  readonly digVal: string;
}

export interface VerifyReport {
  /** True when there are no findings. */
  readonly ok: boolean;
  /** Local name of the root element ('' when the XML could not be read). */
  readonly root: string;
  /** Access key of the first infNFe / infCFe (from its Id), when present. */
  readonly key: string | null;
  readonly signatures: readonly SignatureReport[];
  readonly protocol: ProtocolReport | null;
  readonly findings: readonly VerifyFinding[];
}

export interface TrustStore {
  readonly anchors: readonly X509Certificate[];
}

export interface VerifyOptions {
  /** CA certificates for chain validation (see loadTrustStore). Without it the chain is not judged. */
  readonly trust?: TrustStore;
  /** Maximum element nesting (default 64, as for every reader). */
  readonly maxDepth?: number;
}

/** Loads every certificate (PEM, possibly several per file, or DER) found in a directory (not recursive). */
export function loadTrustStore(dir: string): TrustStore {
  const anchors: X509Certificate[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (!statSync(p).isFile()) continue;
    const bytes = readFileSync(p);
    const pem = bytes.toString('latin1');
    if (pem.includes('-----BEGIN CERTIFICATE-----')) {
      for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)) {
        try { anchors.push(new X509Certificate(m[0])); } catch { /* not a certificate: skip */ }
      }
    } else {
      try { anchors.push(new X509Certificate(bytes)); } catch { /* not a certificate: skip */ }
    }
  }
  return { anchors };
}

const keyCache = new Map<string, { x509: X509Certificate; key: KeyObject }>();

function certFromBase64(b64: string): { x509: X509Certificate; key: KeyObject } {
  const hit = keyCache.get(b64);
  if (hit) return hit;
  const x509 = new X509Certificate(Buffer.from(b64, 'base64'));
  const entry = { x509, key: createPublicKey(x509.publicKey.export({ type: 'spki', format: 'pem' })) };
  if (keyCache.size > 1000) keyCache.clear();
  keyCache.set(b64, entry);
  return entry;
}

/** True when `leaf` chains (through anchors and intermediates in the store) to a self-signed anchor. */
function chainTrusted(leaf: X509Certificate, store: TrustStore): boolean {
  let cur = leaf;
  for (let depth = 0; depth < 10; depth++) {
    if (store.anchors.some((a) => a.fingerprint256 === cur.fingerprint256)) return true;
    const issuer = store.anchors.find((a) => cur.checkIssued(a) && cur.verify(a.publicKey));
    if (!issuer) return false;
    if (issuer.fingerprint256 === cur.fingerprint256) return true;
    cur = issuer;
  }
  return false;
}

const b64clean = (s: string): string => s.replace(/\s+/g, '');

/** Verifies the signatures of one document. Never throws for bad input: problems are findings. */
export function verifyXml(xml: string | Uint8Array, options: VerifyOptions = {}): VerifyReport {
  const findings: VerifyFinding[] = [];
  let doc: TokenDoc;
  try {
    doc = tokenize(typeof xml === 'string' ? xml : decodeXmlBytes(xml), options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {});
  } catch (err) {
    if (err instanceof XmlSyntaxError) {
      return { ok: false, root: '', key: null, signatures: [], protocol: null, findings: [{ code: err.code, message: err.message }] };
    }
    throw err;
  }
  const toks = doc.tokens;
  const rootName = localName((toks[doc.root] as StartToken).name);
  const units = signedUnits(doc);
  const keyUnit = units.find((u) => u.element === 'infNFe' || u.element === 'infCFe');
  const key = keyUnit?.id ? keyUnit.id.replace(/^(NFe|CFe)/, '') : null;

  // Ids in the document (Id is the only ID-typed attribute of these schemas)
  const ids = new Map<string, number[]>();
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as XmlToken;
    if (t.kind !== START) continue;
    const id = attr(t, 'Id');
    if (id !== undefined) {
      const l = ids.get(id);
      if (l) l.push(i); else ids.set(id, [i]);
    }
  }

  // Signature elements (not nested in another Signature)
  const sigs: number[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as XmlToken;
    if (t.kind === START && localName(t.name) === 'Signature' && elementNamespace(doc, i) === DSIG_NS) {
      sigs.push(i);
      i = t.close;
    }
  }

  const reports: SignatureReport[] = [];
  const covered = new Set<number>();
  const nfeDigest = new Map<number, string>(); // infNFe idx → DigestValue

  for (const s of sigs) {
    const sig = toks[s] as StartToken;
    const siIdx = childByLocal(doc, s, 'SignedInfo');
    const where = `Signature in ${sig.parent === -1 ? 'document' : localName((toks[sig.parent] as StartToken).name)}`;
    if (siIdx === -1) { findings.push({ code: 'NFE_SIGNATURE_INVALID', message: 'Signature without SignedInfo', where }); continue; }
    const cmIdx = childByLocal(doc, siIdx, 'CanonicalizationMethod');
    const cm = cmIdx === -1 ? undefined : attr(toks[cmIdx] as StartToken, 'Algorithm');
    const smIdx = childByLocal(doc, siIdx, 'SignatureMethod');
    const sm = smIdx === -1 ? '' : attr(toks[smIdx] as StartToken, 'Algorithm') ?? '';
    const sigHash = SIGNATURES[sm];
    if ((cm !== C14N_10 && cm !== C14N_10_COMMENTS) || !sigHash) {
      findings.push({ code: 'NFE_SIGNATURE_UNSUPPORTED', message: `unsupported canonicalization ${cm ?? '(none)'} or signature method ${sm || '(none)'}`, where });
      continue;
    }
    // certificate
    const certIdx = (() => {
      const ki = childByLocal(doc, s, 'KeyInfo');
      const xd = ki === -1 ? -1 : childByLocal(doc, ki, 'X509Data');
      return xd === -1 ? -1 : childByLocal(doc, xd, 'X509Certificate');
    })();
    let cert: { x509: X509Certificate; key: KeyObject } | null = null;
    if (certIdx !== -1) {
      try { cert = certFromBase64(b64clean(textOf(doc, certIdx))); } catch { cert = null; }
    }
    // signature value over the canonical SignedInfo (in its own context: inherited namespaces apply)
    const svIdx = childByLocal(doc, s, 'SignatureValue');
    let signatureOk = false;
    if (cert && svIdx !== -1) {
      const si = canonicalize(doc, siIdx, { withComments: cm === C14N_10_COMMENTS });
      try {
        signatureOk = rsaVerify(sigHash, Buffer.from(si, 'utf8'), cert.key, Buffer.from(b64clean(textOf(doc, svIdx)), 'base64'));
      } catch { signatureOk = false; }
    }

    const refs = children(doc, siIdx).filter((c) => localName((toks[c] as StartToken).name) === 'Reference');
    if (refs.length === 0) findings.push({ code: 'NFE_REFERENCE_MISMATCH', message: 'SignedInfo has no Reference', where });
    let firstReport: { element: string; id: string; digestValue: string; digestOk: boolean; target: number } | null = null;
    for (const r of refs) {
      const uri = attr(toks[r] as StartToken, 'URI') ?? '';
      const id = uri.startsWith('#') ? uri.slice(1) : '';
      const targets = id ? ids.get(id) ?? [] : [];
      if (targets.length !== 1) {
        findings.push({
          code: 'NFE_REFERENCE_MISMATCH',
          message: targets.length === 0 ? `Reference URI "${uri}" matches no element Id` : `Reference URI "${uri}" matches ${targets.length} elements`,
          where,
        });
        continue;
      }
      const target = targets[0] as number;
      const tgt = toks[target] as StartToken;
      // the referenced element must be the Signature's sibling or ancestor (no signature wrapping)
      let related = tgt.parent === sig.parent;
      for (let p = sig.parent; !related && p !== -1; p = (toks[p] as StartToken).parent) related = p === target;
      if (!related) {
        findings.push({ code: 'NFE_REFERENCE_MISMATCH', message: `Reference URI "${uri}" names an element that is neither the Signature's sibling nor its ancestor`, where });
        continue;
      }
      const trIdx = childByLocal(doc, r, 'Transforms');
      let supported = true;
      if (trIdx !== -1) {
        for (const tr of children(doc, trIdx)) {
          const alg = attr(toks[tr] as StartToken, 'Algorithm');
          if (alg !== ALG_ENVELOPED && alg !== C14N_10 && alg !== C14N_10_COMMENTS) supported = false;
        }
      }
      const dmIdx = childByLocal(doc, r, 'DigestMethod');
      const digHash = DIGESTS[dmIdx === -1 ? '' : attr(toks[dmIdx] as StartToken, 'Algorithm') ?? ''];
      if (!supported || !digHash) {
        findings.push({ code: 'NFE_SIGNATURE_UNSUPPORTED', message: `unsupported transform or digest method in Reference ${uri}`, where });
        continue;
      }
      const dvIdx = childByLocal(doc, r, 'DigestValue');
      const digestValue = dvIdx === -1 ? '' : b64clean(textOf(doc, dvIdx));
      // a bare-name reference (URI="#id") selects the subtree without comments (XMLDSig 4.3.3.3), so even a
      // #WithComments transform has no comments to keep
      const c14n = canonicalize(doc, target, { exclude: s > target && s < tgt.close ? s : -1 });
      const computed = createHash(digHash).update(c14n, 'utf8').digest('base64');
      const digestOk = computed === digestValue;
      covered.add(target);
      const elName = localName(tgt.name);
      if (!digestOk) {
        findings.push({ code: 'NFE_DIGEST_MISMATCH', message: `digest of ${elName} ${id} is ${computed}, the signature says ${digestValue || '(empty)'}: the element changed after signing`, where: `${elName} ${id}` });
      }
      if (elName === 'infNFe') nfeDigest.set(target, digestValue);
      firstReport ??= { element: elName, id, digestValue, digestOk, target };
    }
    if (!cert) findings.push({ code: 'NFE_SIGNATURE_INVALID', message: 'no readable X509Certificate in KeyInfo', where });
    else if (!signatureOk) findings.push({ code: 'NFE_SIGNATURE_INVALID', message: 'SignatureValue does not verify with the certificate\'s public key', where });

    let certReport: CertificateReport | null = null;
    let documentDate: string | null = null;
    if (cert) {
      const info = certificateInfo(cert.x509);
      const unit = firstReport ? units.find((u) => u.idx === firstReport?.target) : undefined;
      const date = unit ? unitDate(doc, unit) : null;
      documentDate = date?.text ?? null;
      const valid = date ? isValidAt(info, date.date) : null;
      const trusted = options.trust ? chainTrusted(cert.x509, options.trust) : null;
      certReport = { ...info, validAtDocumentDate: valid, trusted };
      const w = firstReport ? `${firstReport.element} ${firstReport.id}` : where;
      if (valid === false) {
        findings.push({ code: 'CERT_NOT_VALID', message: `certificate ${info.commonName} (valid ${info.notBefore.toISOString()} to ${info.notAfter.toISOString()}) was not valid at ${date?.text}`, where: w });
      }
      if (trusted === false) {
        findings.push({ code: 'CERT_UNTRUSTED', message: `certificate ${info.commonName} (issuer ${info.issuer}) does not chain to a trusted CA`, where: w });
      }
    }
    if (firstReport) {
      reports.push({
        element: firstReport.element, id: firstReport.id, signatureAlgorithm: sm, digestValue: firstReport.digestValue,
        digestOk: firstReport.digestOk, signatureOk, documentDate, certificate: certReport,
      });
    }
  }

  // every unit must be covered by a signature; a unit with a sibling Signature that fails to reference it
  // already has a REFERENCE finding
  for (const u of units) {
    if (covered.has(u.idx)) continue;
    const hasSigSibling = sigs.some((s) => (toks[s] as StartToken).parent === u.parent);
    if (!hasSigSibling) findings.push({ code: 'NFE_UNSIGNED', message: `${u.element}${u.id ? ` ${u.id}` : ''} is not signed`, where: u.element });
  }
  if (units.length === 0 && sigs.length === 0) {
    findings.push({ code: 'NFE_UNSIGNED', message: `no signed element (infNFe, infEvento, infInut, infCFe) and no Signature in <${rootName}>` });
  }

  const protocol = checkProtocol(doc, units, nfeDigest, findings);
  return { ok: findings.length === 0, root: rootName, key, signatures: reports, protocol, findings };
}

/** nfeProc: protNFe/infProt against the NFe it authorises. */
function checkProtocol(doc: TokenDoc, units: ReturnType<typeof signedUnits>, nfeDigest: Map<number, string>, findings: VerifyFinding[]): ProtocolReport | null {
  const toks = doc.tokens;
  if (localName((toks[doc.root] as StartToken).name) !== 'nfeProc') return null;
  const prot = childByLocal(doc, doc.root, 'protNFe');
  const nfeUnit = units.find((u) => u.element === 'infNFe');
  if (prot === -1) {
    findings.push({ code: 'NFE_NOT_AUTHORIZED', message: 'nfeProc without protNFe', where: 'protNFe' });
    return null;
  }
  const infProt = childByLocal(doc, prot, 'infProt');
  const get = (n: string): string => (infProt === -1 ? '' : pathText(doc, infProt, [n]) ?? '');
  const p: ProtocolReport = { chNFe: get('chNFe'), cStat: get('cStat'), xMotivo: get('xMotivo'), nProt: get('nProt'), digVal: get('digVal') };
  const key = nfeUnit?.id?.replace(/^NFe/, '') ?? '';
  if (p.chNFe !== key) findings.push({ code: 'NFE_KEY_MISMATCH', message: `protNFe chNFe ${p.chNFe || '(empty)'} is not the document's key ${key || '(none)'}`, where: 'protNFe/infProt/chNFe' });
  if (p.cStat !== '100' && p.cStat !== '150') {
    findings.push({ code: 'NFE_NOT_AUTHORIZED', message: `protNFe cStat ${p.cStat || '(empty)'} ${p.xMotivo} is not an authorisation (100, 150)`, where: 'protNFe/infProt/cStat' });
  }
  const dv = nfeUnit ? nfeDigest.get(nfeUnit.idx) : undefined;
  if (dv !== undefined && b64clean(p.digVal) !== dv) {
    findings.push({ code: 'NFE_DIGVAL_MISMATCH', message: `protNFe digVal ${p.digVal || '(empty)'} is not the NFe's DigestValue ${dv}`, where: 'protNFe/infProt/digVal' });
  }
  return p;
}
