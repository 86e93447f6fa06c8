/** Findings: what the reader and the validator report about a SPED file. Codes are stable (docs/errors.md). */

export const SPED_CODES = [
  'SPED_NOT_SPED', 'SPED_EMPTY', 'SPED_LINE_FORMAT', 'SPED_LINE_TOO_LONG', 'SPED_BLANK_LINE', 'SPED_UNKNOWN_REGISTER',
  'SPED_FIELD_COUNT', 'SPED_FIELD_TYPE', 'SPED_FIELD_SIZE', 'SPED_FIELD_DECIMALS', 'SPED_FIELD_REQUIRED',
  'SPED_FIELD_FORBIDDEN', 'SPED_FIELD_VALUE', 'SPED_DATE_INVALID', 'SPED_DATE_OUT_OF_PERIOD', 'SPED_CHECK_DIGIT',
  'SPED_HIERARCHY', 'SPED_OCCURRENCE', 'SPED_BLOCK_ORDER', 'SPED_BLOCK_MISSING', 'SPED_IND_MOV', 'SPED_TOTAL_BLOCK',
  'SPED_TOTAL_9900', 'SPED_TOTAL_9990', 'SPED_TOTAL_9999', 'SPED_REF_MISSING', 'SPED_VERSION', 'SPED_ENCODING',
  'SPED_CONSISTENCY', 'SPED_TRUNCATED', 'SPED_AFTER_END', 'SPED_DIRECTION',
  'SPED_CHILD_NOT_ALLOWED',
] as const;

export type SpedCode = (typeof SPED_CODES)[number];
export type Severity = 'error' | 'warning';

/**
 * One finding. Which parts can be null: `line` for a file-level finding (SPED_TRUNCATED, SPED_BLOCK_MISSING, a
 * 9900 total the file lacks, SPED_EMPTY); `register` when the finding is not about one register (reader findings
 * on a line that is not a record — SPED_LINE_FORMAT, SPED_BLANK_LINE, SPED_ENCODING — and most file-level
 * ones); `field` and `position` together, when it is not about one field. `code`, `severity` and `message` are
 * always set, and `message` reads on its own (it never shows a missing value). `formatFinding` prints one as the
 * CLI does.
 */
export interface SpedFinding {
  /** Physical line number (1-based), or null for a file-level finding. */
  readonly line: number | null;
  /** The register the finding is about, or null (see above). */
  readonly register: string | null;
  /** The field's layout name, or null when the finding is not about one field. */
  readonly field: string | null;
  /** Field position in the register (REG is 1), or null exactly when `field` is. */
  readonly position: number | null;
  readonly code: SpedCode;
  /** 'error' makes a file invalid; 'warning' does not (an encoding that is not the standard's, consistency). */
  readonly severity: Severity;
  readonly message: string;
}

/** Where a finding is, and its severity (default error); omitted parts are null. */
export interface FindingAt {
  line?: number | null;
  register?: string | null;
  field?: string | null;
  position?: number | null;
  severity?: Severity;
}

/** How the validator's parts hand a finding to the validator's sink. */
export type Report = (code: SpedCode, message: string, at?: FindingAt) => void;

export function finding(code: SpedCode, message: string, at: FindingAt = {}): SpedFinding {
  return {
    line: at.line ?? null,
    register: at.register ?? null,
    field: at.field ?? null,
    position: at.position ?? null,
    code,
    severity: at.severity ?? 'error',
    message,
  };
}

/** `FILE:LINE: REG FIELD#POS: CODE message` (file-level: `FILE: CODE message`). */
export function formatFinding(file: string, f: SpedFinding): string {
  if (f.line === null) return `${file}: ${f.code} ${f.message}`;
  const where = f.register ? ` ${f.register}${f.field ? ` ${f.field}#${f.position}` : ''}:` : '';
  return `${file}:${f.line}:${where} ${f.code} ${f.message}`;
}
