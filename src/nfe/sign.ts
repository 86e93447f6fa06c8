/**
 * XMLDSig enveloped signatures as SEFAZ requires them: inclusive C14N 1.0, RSA-SHA1 with a SHA-1 digest,
 * transforms enveloped-signature + C14N, `Reference URI="#<Id>"`, the Signature as the last child of the
 * unit's parent (right after infNFe, or after infNFeSupl when present), X509Data with the end-entity
 * certificate only. Each NFe of an enviNFe batch, each evento of an envEvento, and inutNFe are signed.
 *
 * The document is tokenised once; each digest is taken over the canonical form of the original text, and the
 * signatures are spliced into that text (no re-serialisation: what is not signed is left byte for byte).
 */
import { createHash, sign as rsaSign } from 'node:crypto';
import { C14N_10, canonicalize } from './c14n.js';
import { assertCertificateFor, type SigningCredentials } from './cert.js';
import {
  ALG_ENVELOPED, ALG_RSA_SHA1, ALG_RSA_SHA256, ALG_SHA1, ALG_SHA256, DSIG_NS,
  scopeAt, signedUnits, unitDate, unitEmitter,
} from './dsig.js';
import { EXIT_FINDINGS, FiscalError } from '../errors.js';
import { START, childByLocal, decodeXmlBytes, tokenize, type StartToken } from './xml-tokens.js';

export interface SignOptions {
  /** `rsa-sha1` (SEFAZ, default) or `rsa-sha256` (digest follows: SHA-1 or SHA-256). */
  readonly algorithm?: 'rsa-sha1' | 'rsa-sha256';
  /**
   * Check the certificate against each unit: valid at its date (dhEmi, dhEvento) and CNPJ root equal to the
   * emitter's. Default true.
   */
  readonly checkCertificate?: boolean;
  /**
   * `cfe`: sign the CF-e SAT infCFe instead (as a SAT device does; for test documents and emulators). Default
   * `nfe`: NF-e notes, events and inutNFe, never infCFe.
   */
  readonly units?: 'nfe' | 'cfe';
}

export class SignError extends FiscalError {
  constructor(code: 'NFE_NOTHING_TO_SIGN' | 'NFE_ALREADY_SIGNED' | 'NFE_MISSING_ID', message: string) {
    super(code, message, EXIT_FINDINGS);
  }
}

function signatureXml(uri: string, digest: string, sigAlg: string, digAlg: string, signedInfoValue: string, certB64: string): { signedInfo: string; full: string } {
  const signedInfo =
    `<SignedInfo><CanonicalizationMethod Algorithm="${C14N_10}"/><SignatureMethod Algorithm="${sigAlg}"/>` +
    `<Reference URI="${uri}"><Transforms><Transform Algorithm="${ALG_ENVELOPED}"/><Transform Algorithm="${C14N_10}"/></Transforms>` +
    `<DigestMethod Algorithm="${digAlg}"/><DigestValue>${digest}</DigestValue></Reference></SignedInfo>`;
  const full =
    `<Signature xmlns="${DSIG_NS}">${signedInfo}<SignatureValue>${signedInfoValue}</SignatureValue>` +
    `<KeyInfo><X509Data><X509Certificate>${certB64}</X509Certificate></X509Data></KeyInfo></Signature>`;
  return { signedInfo, full };
}

/**
 * Signs every unit of a document (NFe/infNFe, evento/infEvento, inutNFe/infInut) and returns the signed XML
 * (UTF-8 text; an ISO-8859-1 declaration is rewritten to UTF-8). Throws SignError, CertificateError,
 * XmlSyntaxError.
 */
export function signXml(xml: string | Uint8Array, credentials: SigningCredentials, options: SignOptions = {}): string {
  const text = typeof xml === 'string' ? xml : decodeXmlBytes(xml);
  const doc = tokenize(text);
  const units = signedUnits(doc).filter((u) => (u.element === 'infCFe') === (options.units === 'cfe'));
  if (units.length === 0) throw new SignError('NFE_NOTHING_TO_SIGN', 'no NFe/infNFe, evento/infEvento or inutNFe/infInut to sign');
  const sha256 = options.algorithm === 'rsa-sha256';
  const hash = sha256 ? 'sha256' : 'sha1';
  const sigAlg = sha256 ? ALG_RSA_SHA256 : ALG_RSA_SHA1;
  const digAlg = sha256 ? ALG_SHA256 : ALG_SHA1;
  const inserts: { at: number; xml: string }[] = [];

  for (const unit of units) {
    const label = `${unit.element}${unit.id ? ` ${unit.id}` : ''}`;
    if (!unit.id) throw new SignError('NFE_MISSING_ID', `${unit.element} has no Id attribute to reference`);
    if (childByLocal(doc, unit.parent, 'Signature') !== -1) throw new SignError('NFE_ALREADY_SIGNED', `${label} is already signed`);
    if (options.checkCertificate !== false) {
      assertCertificateFor(credentials.info, unitDate(doc, unit)?.date ?? null, unitEmitter(doc, unit));
    }
    const digest = createHash(hash).update(canonicalize(doc, unit.idx), 'utf8').digest('base64');
    const { signedInfo } = signatureXml(`#${unit.id}`, digest, sigAlg, digAlg, '', '');
    // canonicalise SignedInfo where it will live: inside <Signature xmlns=dsig>, inside the unit's parent
    const fragment = tokenize(`<Signature xmlns="${DSIG_NS}">${signedInfo}</Signature>`);
    const siC14n = canonicalize(fragment, 1, { context: scopeAt(doc, unit.parent) });
    const value = rsaSign(hash, Buffer.from(siC14n, 'utf8'), credentials.privateKey).toString('base64');
    const parent = doc.tokens[unit.parent] as StartToken;
    const end = doc.tokens[parent.close];
    if (!end || end.kind === START) throw new SignError('NFE_MISSING_ID', `${label}: parent element has no end tag`);
    inserts.push({ at: end.from, xml: signatureXml(`#${unit.id}`, digest, sigAlg, digAlg, value, credentials.certificateBase64).full });
  }

  let out = doc.text;
  for (const ins of inserts.sort((a, b) => b.at - a.at)) out = out.slice(0, ins.at) + ins.xml + out.slice(ins.at);
  if (doc.declEnd > 0 && doc.declaredEncoding !== null && doc.declaredEncoding !== 'utf-8' && doc.declaredEncoding !== 'utf8') {
    const decl = out.slice(0, doc.declEnd).replace(/encoding\s*=\s*["'][^"']+["']/, 'encoding="UTF-8"');
    out = decl + out.slice(doc.declEnd);
  }
  return out;
}
