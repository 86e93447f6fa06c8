/**
 * Findings: what the NF-e reader, validator and builder report about one document. A finding never stops a
 * batch; callers branch on `code` (stable, listed in docs/errors.md), never on `message`.
 */

export type NfeFindingCode =
  | 'NFE_DOCTYPE_REFUSED'
  | 'NFE_XML_MALFORMED'
  | 'NFE_XML_TOO_DEEP'
  | 'NFE_ENCODING_UNSUPPORTED'
  | 'NFE_UNKNOWN_ROOT'
  | 'NFE_TOO_LARGE'
  | 'NFE_ZIP_ENTRY_REFUSED'
  | 'NFE_ZIP_ERROR'
  | 'NFE_SOURCE_ERROR'
  | 'NFE_DUPLICATE_KEY'
  | 'NFE_MISSING'
  | 'NFE_FORMAT'
  | 'NFE_KEY_MISMATCH'
  | 'NFE_KEY_CHECK_DIGIT'
  | 'NFE_TOTALS_MISMATCH'
  | 'NFE_CANCELLED'
  | 'NFE_INUT_MISMATCH'
  | 'NFE_INUT_NOT_HOMOLOGATED'
  | 'NFE_SCHEMA'
  | 'NFE_SCHEMA_UNAVAILABLE'
  | 'NFE_NO_DOCUMENTS'
  | 'NFE_BUILD';

export type Severity = 'error' | 'warning';

export interface NfeFinding {
  readonly code: NfeFindingCode;
  readonly severity: Severity;
  /** Source name of the document: a path, `archive.zip!entry.xml`, or `-#3` for the third document on stdin. */
  readonly source: string;
  readonly message: string;
  /** XML path of the element concerned, e.g. `/nfeProc/NFe/infNFe/det[3]/prod/NCM` (1-based positions). */
  readonly path?: string;
  /** 1-based line and column in the document's text, when the finding comes from the XML text. */
  readonly line?: number;
  readonly column?: number;
}

export function finding(
  code: NfeFindingCode,
  source: string,
  message: string,
  extra: { path?: string; line?: number; column?: number; severity?: Severity } = {},
): NfeFinding {
  const f: { -readonly [K in keyof NfeFinding]: NfeFinding[K] } = { code, severity: extra.severity ?? 'error', source, message };
  if (extra.path !== undefined) f.path = extra.path;
  if (extra.line !== undefined) f.line = extra.line;
  if (extra.column !== undefined) f.column = extra.column;
  return f;
}

/** One line for stderr: `source: path: message [CODE]` (line:col when known). */
export function formatFinding(f: NfeFinding): string {
  const where = f.line !== undefined ? `:${f.line}${f.column !== undefined ? `:${f.column}` : ''}` : '';
  const path = f.path ? ` ${f.path}:` : '';
  const sev = f.severity === 'warning' ? ' warning:' : '';
  return `${f.source}${where}:${path}${sev} ${f.message} [${f.code}]`;
}
