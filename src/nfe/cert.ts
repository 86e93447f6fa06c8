/**
 * A1 certificates: PKCS#12 (.pfx) loading and the facts a fiscal signature needs about a certificate.
 *
 * Node has no API that returns the private key of a PFX, so the file is opened with node-forge (it reads the
 * legacy RC2-40/3DES files most Brazilian CAs issue and the modern AES-256-CBC/PBKDF2 files of OpenSSL 3 and
 * Windows), then the key is converted once to a native KeyObject: signing runs on Node's crypto.
 *
 * The CNPJ comes from the subject CN (`NAME:CNPJ`, the ICP-Brasil convention) or, failing that, from the
 * ICP-Brasil otherName 2.16.76.1.3.3 of subjectAltName (2.16.76.1.3.1 holds a person's CPF).
 */
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import type Forge from 'node-forge';
import { EXIT_FINDINGS, EXIT_USAGE, FiscalError, type ExitCode } from '../errors.js';

export type CertErrorCode =
  | 'CERT_PASSWORD'
  | 'CERT_NO_KEY'
  | 'CERT_PFX_INVALID'
  | 'CERT_NOT_VALID'
  | 'CERT_CNPJ_MISMATCH';

export class CertificateError extends FiscalError {
  constructor(code: CertErrorCode, message: string, exitCode: ExitCode = EXIT_USAGE, options?: { cause?: unknown }) {
    super(code, message, exitCode, options);
  }
}

export interface CertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  /** The subject's common name. */
  readonly commonName: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** CNPJ from the CN (`NAME:CNPJ`) or otherName 2.16.76.1.3.3; null when the certificate carries none. */
  readonly cnpj: string | null;
  /** CPF from the CN (`NAME:CPF`) or otherName 2.16.76.1.3.1; null when absent. */
  readonly cpf: string | null;
  readonly fingerprint256: string;
}

/** What signing needs: the private key (native), the end-entity certificate, and facts about it. */
export interface SigningCredentials {
  readonly privateKey: KeyObject;
  readonly certificate: X509Certificate;
  /** Base64 of the certificate's DER, as it goes into X509Certificate. */
  readonly certificateBase64: string;
  readonly info: CertificateInfo;
}

const OID_SAN = '2.5.29.17';
const OID_ICP_CNPJ = '2.16.76.1.3.3';
const OID_ICP_PF = '2.16.76.1.3.1';

let forgeModule: typeof Forge | null = null;

/**
 * node-forge, loaded at first use: verifying needs it only for a certificate whose CN does not carry the CNPJ or
 * CPF, signing to open the PFX; loading it costs about 25 ms in every thread that imports this module.
 */
function forge(): typeof Forge {
  return (forgeModule ??= createRequire(import.meta.url)('node-forge') as typeof Forge);
}

function field(dn: string, key: string): string {
  for (const line of dn.split('\n')) if (line.startsWith(`${key}=`)) return line.slice(key.length + 1);
  return '';
}

/** otherName values of subjectAltName, by OID (value as a latin1 string of the inner string's bytes). */
function otherNames(der: Buffer): Map<string, string> {
  const f = forge();
  const out = new Map<string, string>();
  let cert: Forge.asn1.Asn1;
  try {
    cert = f.asn1.fromDer(f.util.createBuffer(der.toString('binary')));
  } catch {
    return out;
  }
  const tbs = (cert.value as Forge.asn1.Asn1[])[0];
  const tbsParts = (tbs?.value ?? []) as Forge.asn1.Asn1[];
  for (const part of tbsParts) {
    if (part.tagClass !== f.asn1.Class.CONTEXT_SPECIFIC || part.type !== 3) continue;
    const exts = ((part.value as Forge.asn1.Asn1[])[0]?.value ?? []) as Forge.asn1.Asn1[];
    for (const ext of exts) {
      const items = ext.value as Forge.asn1.Asn1[];
      const oid = items[0] ? f.asn1.derToOid(items[0].value as string) : '';
      if (oid !== OID_SAN) continue;
      const octets = items[items.length - 1];
      if (!octets || typeof octets.value !== 'string') continue;
      const names = f.asn1.fromDer(f.util.createBuffer(octets.value));
      for (const gn of names.value as Forge.asn1.Asn1[]) {
        if (gn.tagClass !== f.asn1.Class.CONTEXT_SPECIFIC || gn.type !== 0) continue;
        const [typeId, explicit] = gn.value as Forge.asn1.Asn1[];
        if (!typeId || !explicit) continue;
        const inner = (explicit.value as Forge.asn1.Asn1[])[0];
        const value = inner && typeof inner.value === 'string' ? inner.value : '';
        out.set(f.asn1.derToOid(typeId.value as string), value);
      }
    }
  }
  return out;
}

const infoCache = new Map<string, CertificateInfo>();

/** Facts about a certificate (DER, base64 DER, or a native X509Certificate). Cached by fingerprint. */
export function certificateInfo(cert: X509Certificate | Buffer | string): CertificateInfo {
  const x = cert instanceof X509Certificate ? cert : new X509Certificate(typeof cert === 'string' ? Buffer.from(cert, 'base64') : cert);
  const hit = infoCache.get(x.fingerprint256);
  if (hit) return hit;
  const cn = field(x.subject, 'CN');
  let cnpj: string | null = null;
  let cpf: string | null = null;
  const m = /:([0-9A-Z]{12}[0-9]{2}|[0-9]{11})\s*$/.exec(cn);
  if (m) {
    const v = m[1] as string;
    if (v.length === 14) cnpj = v; else cpf = v;
  }
  if (cnpj === null && cpf === null && x.subjectAltName?.includes('othername')) {
    const names = otherNames(x.raw);
    const c = names.get(OID_ICP_CNPJ)?.trim();
    if (c && /^[0-9A-Z]{12}[0-9]{2}$/.test(c)) cnpj = c;
    const pf = names.get(OID_ICP_PF);
    if (pf && /^[0-9]{19}/.test(pf)) cpf = pf.slice(8, 19);
  }
  const info: CertificateInfo = {
    subject: x.subject.split('\n').join(', '),
    issuer: x.issuer.split('\n').join(', '),
    commonName: cn,
    serialNumber: x.serialNumber,
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    cnpj,
    cpf,
    fingerprint256: x.fingerprint256,
  };
  if (infoCache.size > 1000) infoCache.clear();
  infoCache.set(x.fingerprint256, info);
  return info;
}

/** True when `at` lies within the certificate's validity period. */
export function isValidAt(info: CertificateInfo, at: Date): boolean {
  const t = at.getTime();
  return t >= info.notBefore.getTime() && t <= info.notAfter.getTime();
}

/**
 * Opens a PKCS#12 file. Throws CertificateError: CERT_PASSWORD (wrong password), CERT_NO_KEY (no private key,
 * or no certificate matching it), CERT_PFX_INVALID (not a PKCS#12 file / unsupported algorithm).
 */
export function loadCertificate(pfx: Uint8Array, password: string): SigningCredentials {
  const f = forge();
  let p12: Forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = f.asn1.fromDer(f.util.createBuffer(Buffer.from(pfx).toString('binary')));
    p12 = f.pkcs12.pkcs12FromAsn1(asn1, false, password);
  } catch (err) {
    const msg = (err as Error)?.message ?? String(err);
    if (/MAC could not be verified|password/i.test(msg)) {
      throw new CertificateError('CERT_PASSWORD', 'wrong certificate password (the PKCS#12 integrity check failed)');
    }
    throw new CertificateError('CERT_PFX_INVALID', `not a readable PKCS#12 file: ${msg}`, EXIT_USAGE, { cause: err });
  }
  const keyBags = [
    ...(p12.getBags({ bagType: f.pki.oids.pkcs8ShroudedKeyBag as string })[f.pki.oids.pkcs8ShroudedKeyBag as string] ?? []),
    ...(p12.getBags({ bagType: f.pki.oids.keyBag as string })[f.pki.oids.keyBag as string] ?? []),
  ];
  const keyBag = keyBags.find((b) => b.key);
  if (!keyBag?.key) throw new CertificateError('CERT_NO_KEY', 'the PKCS#12 file holds no private key');
  const privateKey = createPrivateKey(f.pki.privateKeyToPem(keyBag.key));
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const certBags = p12.getBags({ bagType: f.pki.oids.certBag as string })[f.pki.oids.certBag as string] ?? [];
  for (const bag of certBags) {
    if (!bag.cert) continue;
    const der = Buffer.from(f.asn1.toDer(f.pki.certificateToAsn1(bag.cert)).getBytes(), 'binary');
    const x = new X509Certificate(der);
    if (Buffer.compare(x.publicKey.export({ type: 'spki', format: 'der' }), spki) === 0) {
      return { privateKey, certificate: x, certificateBase64: der.toString('base64'), info: certificateInfo(x) };
    }
  }
  throw new CertificateError('CERT_NO_KEY', 'the PKCS#12 file holds no certificate for its private key');
}

/** CNPJ root: the first 8 characters (the company, without the branch and check digits). */
export function cnpjRoot(cnpj: string): string {
  return cnpj.slice(0, 8);
}

/**
 * Checks that a certificate may sign a document of `emitter` (CNPJ or CPF) dated `at`. Throws CertificateError
 * CERT_NOT_VALID or CERT_CNPJ_MISMATCH (exit 1: the document and the certificate disagree).
 */
export function assertCertificateFor(info: CertificateInfo, at: Date | null, emitter: { CNPJ?: string; CPF?: string }): void {
  if (at !== null && !isValidAt(info, at)) {
    throw new CertificateError('CERT_NOT_VALID',
      `certificate ${info.commonName} is valid from ${info.notBefore.toISOString()} to ${info.notAfter.toISOString()}, not at the document's date ${at.toISOString()}`,
      EXIT_FINDINGS);
  }
  if (emitter.CNPJ !== undefined) {
    if (info.cnpj === null) {
      throw new CertificateError('CERT_CNPJ_MISMATCH', `certificate ${info.commonName} carries no CNPJ; the emitter is CNPJ ${emitter.CNPJ}`, EXIT_FINDINGS);
    }
    if (cnpjRoot(info.cnpj) !== cnpjRoot(emitter.CNPJ)) {
      throw new CertificateError('CERT_CNPJ_MISMATCH',
        `certificate CNPJ ${info.cnpj} (root ${cnpjRoot(info.cnpj)}) is not the emitter's CNPJ ${emitter.CNPJ} (root ${cnpjRoot(emitter.CNPJ)})`,
        EXIT_FINDINGS);
    }
  } else if (emitter.CPF !== undefined && info.cpf !== emitter.CPF) {
    throw new CertificateError('CERT_CNPJ_MISMATCH', `certificate ${info.commonName} is not the emitter's CPF ${emitter.CPF}`, EXIT_FINDINGS);
  }
}
