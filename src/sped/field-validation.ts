/**
 * The string path's per-field checks: field count, direction (a register not used for entradas/saídas), required
 * and forbidden fields (by direction and conditional rules), type, size, decimals, dates and period, check digits
 * and allowed values. Only lines the byte path could not prove clean come here (see byte-path.ts), so these checks
 * are what produces every field finding.
 */
import { isValidAccessKey, isValidCnpj, isValidCpf } from '../common/check-digits.js';
import { fastCheck, type FastCheck } from './field-checks.js';
import type { Report, Severity, SpedCode } from './findings.js';
import type { Direction } from './hierarchy.js';
import { RegisterExceptions, baseRequirements, exceptionsOf, matchMask, ruleText } from './exceptions.js';
import type { DocumentException, FieldDef, Layout, RegisterDef, Requirement } from './layout.js';
import { parseSpedDate } from './record.js';

const NUM_RE = /^\d+$/;
const DEC_RE = /^-?\d+(?:,(\d+))?$/;
const CNPJ_ROOT_RE = /^[0-9A-Z]{8}$/;

/** The file's period as ISO dates, set from 0000 (null until then, or when 0000 has no valid date). */
export interface Period {
  start: string | null;
  end: string | null;
}

interface FieldPlan {
  /** Requirement of each field (index = position - 1) with no direction, for entradas, for saídas. */
  req: readonly Requirement[];
  reqIn: readonly Requirement[];
  reqOut: readonly Requirement[];
  /** True when the value certainly passes `checkValue` (no finding); false sends it to the full check. */
  fast: FastCheck[];
  /** The Guia's exceptions of the register (null: none). */
  exceptions: RegisterExceptions | null;
}

export class FieldChecker {
  /** Per field list (register + version): requirement by direction, fast checks, conditional rules. */
  private readonly plans = new Map<readonly FieldDef[], FieldPlan>();

  constructor(
    private readonly layout: Layout,
    private readonly period: Readonly<Period>,
    private readonly report: Report,
  ) {}

  /**
   * Checks a record's fields (`fields[0]` is REG) against the register's field list at `version`. Returns the
   * mask of the Guia's exceptions the record matches (0: none).
   */
  check(def: RegisterDef, fields: string[], line: number, direction: Direction, version: string | null): number {
    const lay = this.layout;
    const reg = def.code;
    const defs = lay.fieldsFor(reg, version) ?? def.fields;
    const plan = this.planOf(def, defs);
    const ex = plan.exceptions;
    const mask = ex === null ? 0 : matchMask(ex.list, (i) => fields[i]);
    const count = fields.length;
    if (def.variableFields ? count < defs.length : count !== defs.length) {
      this.report(
        'SPED_FIELD_COUNT',
        `${reg} has ${count} fields; ${lay.name}${version ? ` ${version}` : ''} expects ${def.variableFields ? 'at least ' : ''}${defs.length}`,
        { line, register: reg },
      );
      return mask;
    }
    // direction: a register not used for entradas/saídas
    const regDef = defs[0];
    if (regDef && direction) {
      const req = direction === 'in' ? regDef.requiredIn : regDef.requiredOut;
      if (req === 'N') {
        this.report('SPED_DIRECTION', `${reg} is not used for ${direction === 'in' ? 'entradas (IND_OPER 0)' : 'saídas (IND_OPER 1)'}`, { line, register: reg });
      }
    }
    let reqs = direction === 'in' ? plan.reqIn : direction === 'out' ? plan.reqOut : plan.req;
    // the Guia's exceptions the record matches (by its COD_SIT, COD_MOD, …): their requirements and values
    let why: readonly (DocumentException | null)[] | null = null;
    let values: readonly (readonly string[] | null)[] | null = null;
    let valuesWhy: readonly (DocumentException | null)[] | null = null;
    if (mask !== 0) {
      const m = ex!.rules(mask);
      reqs = direction === 'in' ? m.reqIn : direction === 'out' ? m.reqOut : m.req;
      why = m.why;
      values = m.values;
      valuesWhy = m.valuesWhy;
    }
    const fast = plan.fast;
    for (let i = 1; i < defs.length; i++) {
      const value = fields[i]!;
      const req = reqs[i]!;
      if (value !== '' && req !== 'N') {
        // the common case: a compiled check that says "certainly fine", else the full check with its findings
        if (!fast[i]!(value)) this.checkValue(reg, defs[i]!, value, line);
        if (values !== null) this.checkExceptionValue(reg, defs[i]!, value, values[i]!, valuesWhy![i]!, line);
        continue;
      }
      const f = defs[i]!;
      const rule = why?.[i] ?? null;
      if (value === '') {
        if (req === 'O') this.fieldFinding('SPED_FIELD_REQUIRED', `${f.name} is required${rule ? ` for ${ruleText(rule)}` : ''}`, reg, f, line);
        continue;
      }
      if (req === 'N') {
        const reason = rule ? ` for ${ruleText(rule)}` : f.requiredIn || f.requiredOut ? ` for ${direction === 'in' ? 'entradas' : 'saídas'}` : '';
        this.fieldFinding('SPED_FIELD_FORBIDDEN', `${f.name} must be empty${reason}`, reg, f, line);
        continue;
      }
      this.checkValue(reg, f, value, line);
    }
    return mask;
  }

  /** A value the field's own checks accept, against the values an exception allows (null: any). */
  private checkExceptionValue(reg: string, f: FieldDef, value: string, allowed: readonly string[] | null, rule: DocumentException | null, line: number): void {
    if (allowed === null || allowed.includes(value)) return;
    this.fieldFinding('SPED_FIELD_VALUE', `${f.name} '${clip(value)}' must be ${allowed.join(' or ')} for ${ruleText(rule!)}`, reg, f, line);
  }

  private planOf(def: RegisterDef, defs: readonly FieldDef[]): FieldPlan {
    let plan = this.plans.get(defs);
    if (plan) return plan;
    plan = { ...baseRequirements(defs), fast: defs.map(fastCheck), exceptions: exceptionsOf(this.layout, def, defs) };
    this.plans.set(defs, plan);
    return plan;
  }

  private fieldFinding(code: SpedCode, message: string, reg: string, f: FieldDef, line: number, severity: Severity = 'error'): void {
    this.report(code, message, { line, register: reg, field: f.name, position: f.pos, severity });
  }
  private checkValue(reg: string, f: FieldDef, value: string, line: number): void {
    const fmt = f.format;
    if (fmt === 'cnpj' || fmt === 'cpf' || fmt === 'cnpj-cpf' || fmt === 'access-key' || fmt === 'cnpj-root') {
      this.checkIdentifier(reg, f, value, line);
      return;
    }
    if (f.type === 'N') {
      if (f.decimals !== undefined) {
        const m = DEC_RE.exec(value);
        if (!m) {
          const hint = /^\d{1,3}(\.\d{3})+(,\d+)?$/.test(value) ? ': no thousands separator' : /^-?\d+\.\d+$/.test(value) ? ': the decimal separator is a comma' : '';
          this.fieldFinding(hint ? 'SPED_FIELD_DECIMALS' : 'SPED_FIELD_TYPE', `${f.name} '${clip(value)}' is not a number${hint}`, reg, f, line);
          return;
        }
        if (m[1] && m[1].length > f.decimals) {
          this.fieldFinding('SPED_FIELD_DECIMALS', `${f.name} '${clip(value)}' has ${m[1].length} decimals; at most ${f.decimals}`, reg, f, line);
          return;
        }
        if (f.size !== undefined) {
          const digits = value.length - (value[0] === '-' ? 1 : 0) - (m[1] ? 1 : 0);
          if (digits > f.size) this.fieldFinding('SPED_FIELD_SIZE', `${f.name} has ${digits} digits; at most ${f.size}`, reg, f, line);
        }
        return;
      }
      if (!NUM_RE.test(value)) {
        this.fieldFinding('SPED_FIELD_TYPE', `${f.name} '${clip(value)}' must be numeric`, reg, f, line);
        return;
      }
    }
    if (f.size !== undefined) {
      if (f.exact ? value.length !== f.size : value.length > f.size) {
        this.fieldFinding('SPED_FIELD_SIZE', `${f.name} has ${value.length} characters; ${f.exact ? 'exactly' : 'at most'} ${f.size}`, reg, f, line);
        return;
      }
    }
    if (fmt === 'date') {
      const iso = parseSpedDate(value);
      if (iso === null) {
        this.fieldFinding('SPED_DATE_INVALID', `${f.name} '${clip(value)}' is not a date (ddmmaaaa)`, reg, f, line);
        return;
      }
      if (f.period && this.period.start && this.period.end) {
        const bad = f.period === 'within' ? iso < this.period.start || iso > this.period.end : iso > this.period.end;
        if (bad) {
          this.fieldFinding(
            'SPED_DATE_OUT_OF_PERIOD',
            `${f.name} ${iso} is ${f.period === 'within' ? `outside the period ${this.period.start}..${this.period.end}` : `after the end of the period ${this.period.end}`}`,
            reg, f, line,
          );
        }
      }
    } else if (fmt === 'period') {
      const month = Number(value.slice(0, 2));
      if (month < 1 || month > 12) this.fieldFinding('SPED_DATE_INVALID', `${f.name} '${clip(value)}' is not a month (mmaaaa)`, reg, f, line);
    }
    if (f.values && !f.values.includes(value)) {
      this.fieldFinding('SPED_FIELD_VALUE', `${f.name} '${clip(value)}' is not one of ${f.values.join(', ')}`, reg, f, line);
    }
  }

  private checkIdentifier(reg: string, f: FieldDef, value: string, line: number): void {
    switch (f.format) {
      case 'cnpj':
        if (value.length !== 14) this.fieldFinding('SPED_FIELD_SIZE', `${f.name} has ${value.length} characters; a CNPJ has 14`, reg, f, line);
        else if (!isValidCnpj(value)) this.fieldFinding('SPED_CHECK_DIGIT', `${f.name} ${value} is not a valid CNPJ (check digits)`, reg, f, line);
        return;
      case 'cpf':
        if (value.length !== 11) this.fieldFinding('SPED_FIELD_SIZE', `${f.name} has ${value.length} characters; a CPF has 11`, reg, f, line);
        else if (!isValidCpf(value)) this.fieldFinding('SPED_CHECK_DIGIT', `${f.name} ${value} is not a valid CPF (check digits)`, reg, f, line);
        return;
      case 'cnpj-cpf':
        if (value.length === 14) {
          if (!isValidCnpj(value)) this.fieldFinding('SPED_CHECK_DIGIT', `${f.name} ${value} is not a valid CNPJ (check digits)`, reg, f, line);
        } else if (value.length === 11) {
          if (!isValidCpf(value)) this.fieldFinding('SPED_CHECK_DIGIT', `${f.name} ${value} is not a valid CPF (check digits)`, reg, f, line);
        } else this.fieldFinding('SPED_FIELD_SIZE', `${f.name} has ${value.length} characters; a CNPJ has 14, a CPF 11`, reg, f, line);
        return;
      case 'access-key':
        if (value.length !== 44) this.fieldFinding('SPED_FIELD_SIZE', `${f.name} has ${value.length} characters; an access key has 44`, reg, f, line);
        else if (!isValidAccessKey(value)) this.fieldFinding('SPED_CHECK_DIGIT', `${f.name} ${value} is not a valid access key (check digit)`, reg, f, line);
        return;
      case 'cnpj-root':
        if (!CNPJ_ROOT_RE.test(value)) this.fieldFinding('SPED_FIELD_TYPE', `${f.name} '${clip(value)}' is not a CNPJ root (8 characters)`, reg, f, line);
        return;
    }
  }
}

/** A value shortened for a message. */
export function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
