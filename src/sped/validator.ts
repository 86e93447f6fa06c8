/**
 * The SPED validator: structure (order, blocks, hierarchy, occurrence), fields (count, type, size, decimals,
 * required by direction, dates and period, check digits, allowed values), totals (X990, 9900, 9990, 9999),
 * references to block 0 and consistency warnings. It consumes raw records from SpedParser, keeps memory bounded
 * by the registers and distinct codes (never by the file), and never stops at the first finding.
 */
import { isValidAccessKey, isValidCnpj, isValidCpf } from '../common/check-digits.js';
import { Decimal } from '../common/decimal.js';
import { finding, type Severity, type SpedCode, type SpedFinding } from './findings.js';
import { ExactSum } from './exact-sum.js';
import { DocumentSums, groupKeyOfText, type SumGroup } from './doc-sums.js';
import { fastCheck, type FastCheck } from './field-checks.js';
import { isoToNumber, RecordFields, RegisterCheck, type PeriodWindow } from './byte-path.js';
import { compareVersions, type ApurationRule, type ConditionalRequired, type DocumentTotalsRule, type FieldDef, type ItemsVsAnalyticRule, type Layout, type LayoutId, type RegisterDef, type Requirement } from './layout.js';
import { feedParser, parserOptions, SpedParser, type SpedReadInfo, type SpedReadOptions, type SpedSource } from './reader.js';
import { parseSpedDate } from './record.js';
import type { SignatureBlock, SpedEncoding } from './scanner.js';

export interface ValidateOptions extends SpedReadOptions {
  /** Findings kept in the result (counts stay complete). Default 1000; 0 keeps all. */
  maxErrors?: number;
  /** Called for each finding as it is found (before truncation applies to the result list). */
  onFinding?: (f: SpedFinding) => void;
  /**
   * @internal False sends every line down the string path (decode, split, per-field string checks). The tests
   * compare both paths with it; the findings are the same either way.
   */
  bytePath?: boolean;
}

export interface ValidationResult {
  valid: boolean;
  layout: LayoutId | null;
  version: string | null;
  encoding: SpedEncoding;
  lines: number;
  signature: SignatureBlock | null;
  errorCount: number;
  warningCount: number;
  truncated: boolean;
  errors: SpedFinding[];
}

const REG_RE = /^[0-9A-Z]{4}$/;
const NUM_RE = /^\d+$/;
const DEC_RE = /^-?\d+(?:,(\d+))?$/;
const CNPJ_ROOT_RE = /^[0-9A-Z]{8}$/;

type Direction = 'in' | 'out' | null;

interface OpenRegister {
  code: string;
  line: number;
  direction: Direction;
  /** Children counts by register code (for max occurrence). */
  children: Map<string, number> | null;
}

interface FieldPlan {
  /** Requirement of each field (index = position - 1) with no direction, for entradas, for saídas. */
  req: Requirement[];
  reqIn: Requirement[];
  reqOut: Requirement[];
  /** True when the value certainly passes `checkValue` (no finding); false sends it to the full check. */
  fast: FastCheck[];
  conditions: { rule: ConditionalRequired; pos: number | undefined }[];
}

interface ConsistencyPlan {
  /** Rules where it is the analytic record: the document it belongs to and the (field, position) it adds. */
  documentTotals: { document: string; fields: (readonly [number, number | undefined])[] }[];
  itemsVsAnalytic: {
    document: string;
    isItem: boolean;
    keyParts: { name: string; pos: number | undefined; decimals: boolean }[];
    /** (slot of the analytic field the sum is kept under, position of the value in this register). */
    pairs: (readonly [number, number | undefined])[];
    /** The group key being read, as numbers and texts (see `groupKey`); reused, copied into a new group. */
    keys: Float64Array;
    texts: (string | null)[];
  }[];
  apuration: ApurationRule | null;
  apurationSource: boolean;
  /** Positions of the CFOP and the amount in an apuration source. */
  cfopPos: number | undefined;
  amountPos: number | undefined;
  /** A document's closing checks, resolved: each documentTotals rule with the positions of its fields. */
  totals: { rule: DocumentTotalsRule; whenPos: number | undefined; pairs: { docField: string; slot: number; pos: number | undefined }[] }[];
  /** Each itemsVsAnalytic rule of a document with its analytic fields' sum slots. */
  groupRules: { rule: ItemsVsAnalyticRule; pairs: { name: string; slot: number }[] }[];
  /** A document register's state, reused from one document to the next (null for other registers). */
  sums: DocumentSums | null;
}

/** Per register code: its count and the rules it takes part in, resolved once (one lookup per record). */
interface RegState {
  count: number;
  /** A reference target: the 0-based position of its key and the keys seen; -1 and null otherwise. */
  keyAt: number;
  keys: Set<string> | null;
  /** Its referencing fields, each with the target's key set. */
  refs: { at: number; pos: number; keys: Set<string>; target: string; name: string }[];
  /** 0-based position of the direction field (IND_OPER) when the register carries it, else -1. */
  dirAt: number;
  consistency: ConsistencyPlan | null;
  /** A line that counts as data of its block (`isDataLine`), and its role in the totals (`totalsRole`). */
  dataLine: boolean;
  totals: TotalsRole;
}

type TotalsRole = 'none' | 'opener' | 'closer' | '9900' | '9999';

/** True for a record that is not its block's opener or closer, 0000, 9900 or 9999: the block "has data". */
function isDataLine(reg: string, block: string): boolean {
  const isOpener = reg.endsWith('001') && reg[0] === block;
  const isCloser = reg.endsWith('990') && reg[0] === block;
  return !isOpener && !isCloser && reg !== '0000' && !(block === '9' && (reg === '9900' || reg === '9999'));
}

/** The part a register plays in the totals (X001 IND_MOV, X990, 9900, 9999). */
function totalsRole(reg: string, block: string): TotalsRole {
  if (isBlockRegister(reg, block, '001')) return 'opener';
  if (isBlockRegister(reg, block, '990')) return 'closer';
  return reg === '9900' ? '9900' : reg === '9999' ? '9999' : 'none';
}

/** Collects findings with a cap on the list and complete counts. */
class FindingSink {
  readonly list: SpedFinding[] = [];
  errors = 0;
  warnings = 0;
  truncated = false;
  constructor(private readonly max: number, private readonly listener?: (f: SpedFinding) => void) {}
  add(f: SpedFinding): void {
    if (f.severity === 'error') this.errors++;
    else this.warnings++;
    if (this.max === 0 || this.list.length < this.max) {
      this.list.push(f);
      this.listener?.(f);
    } else this.truncated = true;
  }
}

/**
 * Validates records pushed in file order. Use `validateSped()` for a whole source; use this class directly when
 * records come from elsewhere (a queue task, a range worker).
 */
export class SpedValidator {
  private readonly sink: FindingSink;
  private layout: Layout | null = null;
  private version: string | null = null;
  private versionChecked = false;
  private started = false;
  private notSped = false;
  private ended = false;
  private afterEndReported = false;
  private periodStart: string | null = null;
  private periodEnd: string | null = null;

  private records = 0;
  /** Register codes in the order first seen, with their counts and resolved rules. */
  private readonly regs = new Map<string, RegState>();
  /** Open registers by level: `stack[0..depth)` (entries past `depth` are stale, reused objects). */
  private readonly stack: (OpenRegister | undefined)[] = [];
  private depth = 0;
  private blockIdx = -1;
  private block: string | null = null;
  private blockLines = 0;
  private blockHasData = false;
  private blockIndMov: { value: string; line: number } | null = null;
  private readonly blocksSeen = new Set<string>();
  private readonly totals9900: { reg: string; qty: string; line: number }[] = [];
  private total9990: { qty: string; line: number } | null = null;
  private total9999: { qty: string; line: number } | null = null;
  private block9Lines = 0;

  private readonly refSets = new Map<string, Set<string>>();
  private readonly refChecks = new Map<string, { pos: number; target: string; name: string }[]>();
  private readonly refKeys = new Map<string, number>(); // target register → key position
  private readonly missingRefs = new Set<string>();

  /** The open document: its state, register and plan (`docDef`/`docPlan` are stale while `doc` is null). */
  private doc: DocumentSums | null = null;
  private docDef: RegisterDef | null = null;
  private docPlan: ConsistencyPlan | null = null;
  private readonly apurationSums = { debits: new ExactSum(), credits: new ExactSum() };
  private apurationMatch: ApurationMatch | null = null;
  /** Per field list (register + version): requirement by direction, fast checks, conditional rules. */
  private readonly fieldPlans = new Map<readonly FieldDef[], FieldPlan>();
  /** Per register: the consistency rules it takes part in, with field positions resolved. */
  private readonly consistencyPlans = new Map<string, ConsistencyPlan>();
  /** The record being applied, as the state logic reads it (string array or byte ranges). */
  private readonly view = new RecordFields();
  /** Byte path: compiled checks by the register's 4 bytes (null: always the string path), for `version`. */
  private readonly registerChecks = new Map<number, { check: RegisterCheck; st: RegState } | null>();
  private lastKey = 0;
  private lastEntry: { check: RegisterCheck; st: RegState } | null | undefined = undefined;
  /** The period as yyyymmdd numbers, for the byte path's date checks. */
  private readonly window: PeriodWindow = { start: 0, end: 0 };

  constructor(options: { maxErrors?: number; onFinding?: (f: SpedFinding) => void } = {}) {
    this.sink = new FindingSink(options.maxErrors ?? 1000, options.onFinding);
  }

  /** Reader findings (line format, encoding, blank lines) join the validator's. */
  readerFinding(f: SpedFinding): void {
    if (!this.started && (f.code === 'SPED_LINE_FORMAT' || f.code === 'SPED_LINE_TOO_LONG')) {
      // the first line is not a record: this is not a SPED file, and listing every line would drown the answer
      this.started = true;
      this.notSped = true;
      this.report('SPED_NOT_SPED', `the first line is not a pipe-delimited record (${f.message}): not a SPED file`, { line: f.line });
      return;
    }
    if (this.notSped) return;
    this.sink.add(f);
  }

  private report(code: SpedCode, message: string, at: Parameters<typeof finding>[2] = {}): void {
    this.sink.add(finding(code, message, at));
  }

  /** True when the input is not SPED at all and further records are pointless. */
  get aborted(): boolean {
    return this.notSped;
  }

  /** Feeds one record. `layout` and `version` are the parser's current detection. */
  record(fields: string[], line: number, layout: Layout | null, version: string | null): void {
    if (this.notSped) return;
    const reg = fields[0] ?? '';
    if (!this.started) {
      this.started = true;
      if (!REG_RE.test(reg)) {
        this.notSped = true;
        this.report('SPED_NOT_SPED', `the first record '${reg.slice(0, 20)}' is not a SPED register: not a SPED file`, { line });
        return;
      }
      if (reg !== '0000') this.report('SPED_BLOCK_ORDER', `the file must start with 0000, found ${reg}`, { line, register: reg });
      if (!layout) {
        this.notSped = true;
        this.report('SPED_NOT_SPED', 'cannot tell the layout from 0000 (EFD ICMS/IPI, EFD-Contribuições or ECD); give --layout', { line, register: reg });
        return;
      }
      this.setLayout(layout);
    }
    if (version !== this.version) {
      this.version = version;
      this.registerChecks.clear();
      this.lastEntry = undefined;
      this.lastKey = 0;
    }
    this.records++;
    const st = this.regState(reg);
    st.count++;
    if (this.ended) {
      if (!this.afterEndReported) {
        this.afterEndReported = true;
        this.report('SPED_AFTER_END', `record ${reg} after 9999: 9999 must be the last record`, { line, register: reg });
      }
      return;
    }
    const lay = this.layout!;
    const def = lay.register(reg);
    if (!def || (def.since && this.version !== null && compareVersions(this.version, def.since) < 0)) {
      this.report(
        'SPED_UNKNOWN_REGISTER',
        def ? `register ${reg} exists from version ${def.since} on; this file is ${this.version}` : `unknown register '${reg.slice(0, 20)}' for ${lay.name}`,
        { line, register: reg.slice(0, 20) },
      );
      this.countBlockLine(reg[0] ?? '', line, reg, isDataLine(reg, reg[0] ?? ''));
      return;
    }
    this.view.setArray(fields);
    this.apply(def, st, this.view, line, fields);
  }

  private regState(reg: string): RegState {
    let st = this.regs.get(reg);
    if (st === undefined) {
      const keyPos = this.refKeys.get(reg);
      const dir = this.layout!.data.direction;
      const def = this.layout!.register(reg);
      const dirPos = dir && def && dir.registers.includes(reg) ? this.positionOf(def, dir.field) : undefined;
      st = {
        count: 0,
        keyAt: keyPos === undefined ? -1 : keyPos - 1,
        keys: keyPos === undefined ? null : this.refSets.get(reg)!,
        refs: (this.refChecks.get(reg) ?? []).map((c) => ({ at: c.pos - 1, pos: c.pos, keys: this.refSets.get(c.target)!, target: c.target, name: c.name })),
        dirAt: dir && def && dir.registers.includes(reg) ? (dirPos === undefined ? Infinity : dirPos - 1) : -1,
        consistency: null,
        dataLine: def ? isDataLine(reg, def.block) : false,
        totals: def ? totalsRole(reg, def.block) : 'none',
      };
      this.regs.set(reg, st);
    }
    return st;
  }

  /**
   * The byte path: takes the line `buf[start..end)` when its fields are provably clean (see byte-path.ts) and
   * applies it exactly as `record` would, without decoding it or splitting it. Returns false, having changed
   * nothing, for any other line: the caller then decodes it and calls `record`, which produces the findings.
   * `version` and `encoding` are the parser's current detection.
   */
  recordBytes(buf: Buffer, start: number, end: number, line: number, version: string | null, encoding: SpedEncoding): boolean {
    if (!this.started || this.notSped || this.ended || version === null || version !== this.version) return false;
    if (end - start < 6 || buf[start] !== 124 || buf[start + 5] !== 124 || buf[end - 1] !== 124) return false;
    const key = (buf[start + 1]! << 24) | (buf[start + 2]! << 16) | (buf[start + 3]! << 8) | buf[start + 4]!;
    // consecutive lines mostly share their register (items, entries): the last one is kept at hand
    let entry = key === this.lastKey ? this.lastEntry : this.registerChecks.get(key);
    if (entry === undefined) {
      entry = this.registerCheck(buf.toString('latin1', start + 1, start + 5));
      this.registerChecks.set(key, entry);
    }
    this.lastKey = key;
    this.lastEntry = entry;
    if (entry === null) return false;
    const { check, st } = entry;
    const view = this.view;
    const count = check.scan(buf, start, end, encoding === 'utf-8', view);
    if (count < 0) return false;
    view.setBytes(buf, count, encoding);
    const def = check.def;
    // the direction as directionOf will set it: the register's own IND_OPER, else its parent's
    const direction = st.dirAt >= 0 ? this.directionValue(view.get(st.dirAt)) : def.level > 0 ? (this.openAt(def.level - 1)?.direction ?? null) : null;
    if (!check.clean(count, direction)) return false;
    this.records++;
    st.count++;
    this.apply(def, st, view, line, null);
    return true;
  }

  /** The byte checks of a register at the current version; null for registers the byte path never takes. */
  private registerCheck(reg: string): { check: RegisterCheck; st: RegState } | null {
    const lay = this.layout!;
    const def = lay.register(reg);
    if (!def || reg === '0000' || (def.since && compareVersions(this.version!, def.since) < 0)) return null;
    return { check: new RegisterCheck(def, lay.fieldsFor(reg, this.version) ?? def.fields, this.window), st: this.regState(reg) };
  }

  /** Everything `record` does for a known register once it is counted; `fields` (string path) adds the field checks. */
  private apply(def: RegisterDef, st: RegState, view: RecordFields, line: number, fields: string[] | null): void {
    this.structure(def, st, view, line);
    if (!this.versionChecked && this.version !== null) this.checkVersion(line);
    const direction = this.directionOf(def, st, view);
    if (fields !== null) this.fieldsOf(def, fields, line, direction);
    if (st.totals !== 'none') this.totalsOf(def, st.totals, view, line);
    this.references(st, def.code, view, line);
    this.consistency(def, st, view, line);
    if (def.code === '9999') this.ended = true;
  }

  private setLayout(layout: Layout): void {
    this.layout = layout;
    for (const rule of layout.data.references) {
      const keyPos = layout.register(rule.target)?.fields.find((f) => f.name === rule.key)?.pos;
      if (!keyPos) continue;
      this.refKeys.set(rule.target, keyPos);
      this.refSets.set(rule.target, new Set());
      for (const reg of layout.data.registers) {
        if (reg.code === rule.target) continue;
        if (rule.in && !rule.in.includes(reg.code)) continue;
        for (const f of reg.fields) {
          if (!rule.fields.includes(f.name)) continue;
          const list = this.refChecks.get(reg.code) ?? [];
          list.push({ pos: f.pos, target: rule.target, name: f.name });
          this.refChecks.set(reg.code, list);
        }
      }
    }
  }

  private checkVersion(line: number): void {
    const lay = this.layout!;
    const v = this.version!;
    this.versionChecked = true;
    const reg = lay.data.version.register;
    if (!lay.isKnownVersion(v)) {
      this.report('SPED_VERSION', `unknown ${lay.name} version '${v}'; validated against the newest layout`, { line, register: reg });
      return;
    }
    if (!lay.isValidated(v)) {
      this.report(
        'SPED_VERSION',
        `version ${v} is older than ${lay.data.validatedFrom}: its differences from the current layout are not modelled; findings may be inexact`,
        { line, register: reg, severity: 'warning' },
      );
    }
    const start = this.periodStart;
    const entry = lay.data.versions.find((x) => x.version === v);
    if (start && entry && (entry.from || entry.to)) {
      if ((entry.from && start < entry.from) || (entry.to && start > entry.to)) {
        const expected = lay.data.versions.find((x) => (!x.from || start >= x.from) && (!x.to || start <= x.to));
        this.report(
          'SPED_VERSION',
          `version ${v} is valid ${entry.from ?? '…'} to ${entry.to ?? '…'}, not for a period starting ${start}${expected ? ` (expected ${expected.version})` : ''}`,
          { line, register: reg },
        );
      }
    }
  }

  // ---- structure -------------------------------------------------------------------------------------------

  /** The open register at a level, if any. */
  private openAt(level: number): OpenRegister | undefined {
    return level < this.depth ? this.stack[level] : undefined;
  }

  private structure(def: RegisterDef, st: RegState, fields: RecordFields, line: number): void {
    const lay = this.layout!;
    const reg = def.code;
    // period (0000 arrives before anything needs it)
    if (reg === lay.data.period.register && this.periodStart === null) {
      const s = this.fieldValue(def, fields, lay.data.period.start);
      const e = this.fieldValue(def, fields, lay.data.period.end);
      this.periodStart = s ? parseSpedDate(s) : null;
      this.periodEnd = e ? parseSpedDate(e) : null;
      this.window.start = isoToNumber(this.periodStart);
      this.window.end = isoToNumber(this.periodEnd);
    }
    if (reg === '0000' && this.records > 1) {
      this.report('SPED_OCCURRENCE', '0000 must occur once, as the first record', { line, register: reg });
    }
    this.countBlockLine(def.block, line, reg, st.dataLine);

    // hierarchy: the nearest open register one level up must be the parent
    const level = def.level;
    if (level > 0) {
      const open = this.openAt(level - 1);
      if (def.parent && open?.code !== def.parent) {
        const parent = lay.register(def.parent);
        this.report(
          'SPED_HIERARCHY',
          `${reg} must follow its parent ${def.parent}${parent && parent.level > 1 ? ` (or a sibling under it)` : ''}${open ? `; the open level-${level - 1} register is ${open.code} (line ${open.line})` : ''}`,
          { line, register: reg },
        );
      } else if (open && def.occurrence.scope === 'parent' && def.occurrence.max !== null) {
        open.children ??= new Map();
        const n = (open.children.get(reg) ?? 0) + 1;
        open.children.set(reg, n);
        if (n > def.occurrence.max) {
          this.report('SPED_OCCURRENCE', `${reg} may occur at most ${def.occurrence.max} time(s) per ${def.parent} (line ${open.line})`, { line, register: reg });
        }
      }
    }
    if (def.occurrence.scope === 'file' && def.occurrence.max !== null) {
      const n = st.count;
      if (n === def.occurrence.max + 1) {
        this.report('SPED_OCCURRENCE', `${reg} may occur at most ${def.occurrence.max} time(s) in the file`, { line, register: reg });
      }
    }
    const parentDir = level > 0 ? (this.openAt(level - 1)?.direction ?? null) : null;
    // a level past the open depth leaves the levels below it not open
    for (let l = this.depth; l < level; l++) this.stack[l] = undefined;
    const top = this.stack[level];
    if (top === undefined) this.stack[level] = { code: reg, line, direction: parentDir, children: null };
    else {
      top.code = reg;
      top.line = line;
      top.direction = parentDir;
      top.children = null;
    }
    this.depth = level + 1;
  }

  /** Tracks block order, X001/X990 and line counts per block. */
  /** `dataLine`: `isDataLine(reg, block)`, which a known register has computed once in its RegState. */
  private countBlockLine(block: string, line: number, reg: string, dataLine: boolean): void {
    const lay = this.layout!;
    if (block !== this.block) {
      const idx = lay.blockIndex.get(block);
      if (idx === undefined) return; // unknown register letter: already reported
      if (idx < this.blockIdx) {
        this.report('SPED_BLOCK_ORDER', `block ${block} after block ${this.block}: blocks go in the order ${lay.data.blocks.map((b) => b.block).join(' ')}`, { line, register: reg });
      } else {
        if (this.block !== null) this.closeBlock(null);
        this.block = block;
        this.blockIdx = idx;
        this.blockLines = 0;
        this.blockHasData = false;
        this.blockIndMov = null;
        if (this.blocksSeen.has(block)) this.report('SPED_BLOCK_ORDER', `block ${block} appears twice`, { line, register: reg });
        this.blocksSeen.add(block);
        const opener = `${block}001`;
        if (reg !== opener && !(block === '0' && reg === '0000')) {
          this.report('SPED_BLOCK_ORDER', `block ${block} must open with ${opener}, found ${reg}`, { line, register: reg });
        }
      }
    }
    this.blockLines++;
    if (block === '9') this.block9Lines++;
    if (dataLine) this.blockHasData = true;
  }

  private closeBlock(closerLine: number | null): void {
    const block = this.block;
    if (block === null || block === '9') return;
    const ind = this.blockIndMov;
    if (ind) {
      if (ind.value === '0' && !this.blockHasData) {
        this.report('SPED_IND_MOV', `${block}001 says the block has data (IND_MOV 0) but it has none`, { line: ind.line, register: `${block}001`, field: 'IND_MOV', position: 2 });
      } else if (ind.value === '1' && this.blockHasData) {
        this.report('SPED_IND_MOV', `${block}001 says the block has no data (IND_MOV 1) but it has records`, { line: ind.line, register: `${block}001`, field: 'IND_MOV', position: 2 });
      }
    }
    if (closerLine === null) {
      this.report('SPED_BLOCK_ORDER', `block ${block} is not closed by ${block}990`, { line: null, register: `${block}990` });
    }
  }

  private directionOf(def: RegisterDef, st: RegState, fields: RecordFields): Direction {
    const open = this.stack[def.level]!;
    if (st.dirAt >= 0) open.direction = this.directionValue(fields.get(st.dirAt));
    return open.direction;
  }

  private directionValue(v: string | undefined): Direction {
    const dir = this.layout!.data.direction!;
    return v === dir.in ? 'in' : v === dir.out ? 'out' : null;
  }

  // ---- fields ----------------------------------------------------------------------------------------------

  private fieldsOf(def: RegisterDef, fields: string[], line: number, direction: Direction): void {
    const lay = this.layout!;
    const reg = def.code;
    const defs = lay.fieldsFor(reg, this.version) ?? def.fields;
    const count = fields.length;
    if (def.variableFields ? count < defs.length : count !== defs.length) {
      this.report(
        'SPED_FIELD_COUNT',
        `${reg} has ${count} fields; ${lay.name}${this.version ? ` ${this.version}` : ''} expects ${def.variableFields ? 'at least ' : ''}${defs.length}`,
        { line, register: reg },
      );
      return;
    }
    // direction: a register not used for entradas/saídas
    const regDef = defs[0];
    if (regDef && direction) {
      const req = direction === 'in' ? regDef.requiredIn : regDef.requiredOut;
      if (req === 'N') {
        this.report('SPED_DIRECTION', `${reg} is not used for ${direction === 'in' ? 'entradas (IND_OPER 0)' : 'saídas (IND_OPER 1)'}`, { line, register: reg });
      }
    }
    const plan = this.fieldPlan(def, defs);
    let relaxed: readonly string[] | null = null;
    for (const c of plan.conditions) {
      const v = c.pos === undefined ? undefined : fields[c.pos - 1];
      if (v !== undefined && c.rule.when.in.includes(v)) relaxed = c.rule.required;
    }
    const reqs = direction === 'in' ? plan.reqIn : direction === 'out' ? plan.reqOut : plan.req;
    const fast = plan.fast;
    for (let i = 1; i < defs.length; i++) {
      const value = fields[i]!;
      let req = reqs[i]!;
      if (value !== '' && req !== 'N') {
        // the common case: a compiled check that says "certainly fine", else the full check with its findings
        if (!fast[i]!(value)) this.checkValue(reg, defs[i]!, value, line);
        continue;
      }
      const f = defs[i]!;
      if (relaxed && req === 'O' && !relaxed.includes(f.name)) req = 'OC';
      if (value === '') {
        if (req === 'O') this.fieldFinding('SPED_FIELD_REQUIRED', `${f.name} is required`, reg, f, line);
        continue;
      }
      if (req === 'N') {
        this.fieldFinding('SPED_FIELD_FORBIDDEN', `${f.name} must be empty${f.requiredIn || f.requiredOut ? ` for ${direction === 'in' ? 'entradas' : 'saídas'}` : ''}`, reg, f, line);
        continue;
      }
      this.checkValue(reg, f, value, line);
    }
  }

  private fieldPlan(def: RegisterDef, defs: readonly FieldDef[]): FieldPlan {
    let plan = this.fieldPlans.get(defs);
    if (plan) return plan;
    const reqOf = (f: FieldDef, d: Direction): Requirement => (d === 'in' ? (f.requiredIn ?? f.required) : d === 'out' ? (f.requiredOut ?? f.required) : f.required);
    plan = {
      req: defs.map((f) => reqOf(f, null)),
      reqIn: defs.map((f) => reqOf(f, 'in')),
      reqOut: defs.map((f) => reqOf(f, 'out')),
      fast: defs.map(fastCheck),
      conditions: this.layout!.data.conditionalRequired
        .filter((c) => c.register === def.code)
        .map((rule) => ({ rule, pos: def.fields.find((f) => f.name === rule.when.field)?.pos })),
    };
    this.fieldPlans.set(defs, plan);
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
      if (f.period && this.periodStart && this.periodEnd) {
        const bad = f.period === 'within' ? iso < this.periodStart || iso > this.periodEnd : iso > this.periodEnd;
        if (bad) {
          this.fieldFinding(
            'SPED_DATE_OUT_OF_PERIOD',
            `${f.name} ${iso} is ${f.period === 'within' ? `outside the period ${this.periodStart}..${this.periodEnd}` : `after the end of the period ${this.periodEnd}`}`,
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

  // ---- totals ----------------------------------------------------------------------------------------------

  private totalsOf(def: RegisterDef, role: TotalsRole, fields: RecordFields, line: number): void {
    const reg = def.code;
    const block = def.block;
    if (role === 'opener') {
      this.blockIndMov = { value: fields.get(1) ?? '', line };
    } else if (role === 'closer') {
      const declared = fields.get(1) ?? '';
      if (block !== '9' && declared !== String(this.blockLines)) {
        this.report('SPED_TOTAL_BLOCK', `${reg} QTD_LIN_${block} is ${declared}; block ${block} has ${this.blockLines} lines`, { line, register: reg, field: `QTD_LIN_${block}`, position: 2 });
      }
      if (block !== '9') {
        this.closeBlock(line);
        this.block = null;
        this.blockIdx = this.layout!.blockIndex.get(block) ?? this.blockIdx;
        this.blocksClosed.add(block);
      } else {
        this.total9990 = { qty: declared, line };
      }
    } else if (role === '9900') {
      this.totals9900.push({ reg: fields.get(1) ?? '', qty: fields.get(2) ?? '', line });
    } else if (role === '9999') {
      this.total9999 = { qty: fields.get(1) ?? '', line };
    }
  }

  private readonly blocksClosed = new Set<string>();

  // ---- references ------------------------------------------------------------------------------------------

  private references(st: RegState, reg: string, fields: RecordFields, line: number): void {
    if (st.keyAt >= 0) {
      const v = fields.get(st.keyAt);
      if (v) st.keys!.add(v);
    }
    for (let i = 0; i < st.refs.length; i++) {
      const c = st.refs[i]!;
      if (fields.isEmptyOrIn(c.at, c.keys)) continue;
      const v = fields.get(c.at) ?? '';
      this.report('SPED_REF_MISSING', `${c.name} '${clip(v)}' has no ${c.target} record`, { line, register: reg, field: c.name, position: c.pos });
      this.missingRefs.add(`${c.target}:${v}`);
    }
  }

  // ---- consistency (warnings) ------------------------------------------------------------------------------

  private consistency(def: RegisterDef, st: RegState, fields: RecordFields, line: number): void {
    const reg = def.code;
    if (this.doc !== null && def.level <= this.doc.level) this.closeDocument();
    const plan = st.consistency ?? (st.consistency = this.consistencyPlan(def));
    if (plan.sums !== null) this.openDocument(def, plan, fields, line);
    const doc = this.doc;
    if (doc !== null) {
      const docReg = this.docDef!.code;
      for (let i = 0; i < plan.documentTotals.length; i++) {
        const r = plan.documentTotals[i]!;
        if (r.document !== docReg) continue;
        doc.analyticCount++;
        addSums(doc.analytic, r.fields, fields);
      }
      for (let i = 0; i < plan.itemsVsAnalytic.length; i++) {
        const r = plan.itemsVsAnalytic[i]!;
        if (r.document !== docReg) continue;
        // the group key's parts as numbers (no string for the usual codes and rates), texts where they cannot be
        const keys = r.keys;
        for (let k = 0; k < r.keyParts.length; k++) {
          const part = r.keyParts[k]!;
          let key = part.pos === undefined ? 0 : fields.groupKey(part.pos - 1, part.decimals);
          let text: string | null = null;
          if (key !== key) {
            text = this.groupPart(def, fields, part.name);
            key = groupKeyOfText(text, part.decimals);
            if (key === key) text = null;
          }
          keys[k] = key;
          r.texts[k] = text;
        }
        const groups = r.isItem ? doc.itemGroups : doc.analyticGroups;
        if (r.isItem) doc.itemCount++;
        addSums(groups.find(keys, r.texts) ?? groups.add(keys, r.texts), r.pairs, fields);
      }
    }
    const ap = plan.apuration;
    if (ap) {
      if (plan.apurationSource) {
        const at = plan.cfopPos === undefined ? -1 : plan.cfopPos - 1;
        const m = this.apurationMatch ?? (this.apurationMatch = apurationMatch(ap));
        // the CFOP as a number when it is digits (its number is then one-to-one with its text), else as text
        const key = at < 0 ? 0 : fields.groupKey(at, false);
        const excluded = key >= 0 ? m.excludeKeys.includes(key) : ap.excludeCfops.includes(fields.get(at) ?? '');
        if (!excluded) {
          const amount = plan.amountPos;
          const first = at < 0 ? -1 : fields.firstChar(at);
          const acc = m.debitChars.includes(first) ? this.apurationSums.debits : m.creditChars.includes(first) ? this.apurationSums.credits : null;
          if (acc !== null && amount !== undefined) fields.addTo(acc, amount - 1);
        }
      } else if (reg === ap.register && st.count === 1) {
        for (const [field, acc, what] of [[ap.debits, this.apurationSums.debits, 'debits'], [ap.credits, this.apurationSums.credits, 'credits']] as const) {
          const declared = this.decimalOf(def, fields, field);
          const sum = acc.toDecimal();
          if (!declared.equals(sum)) {
            this.report('SPED_CONSISTENCY', `${reg} ${field} is ${declared.format(',', 2)}; the ICMS ${what} of the analytic records (${ap.sources.slice(0, 4).join(', ')}, …) add up to ${sum.format(',', 2)}`, {
              line, register: reg, field, position: def.fields.find((f) => f.name === field)?.pos ?? null, severity: 'warning',
            });
          }
        }
      }
    }
  }

  /** The consistency rules a register takes part in, resolved once (positions from the register's fields). */
  private consistencyPlan(def: RegisterDef): ConsistencyPlan {
    const reg = def.code;
    let plan = this.consistencyPlans.get(reg);
    if (plan) return plan;
    const rules = this.layout!.data.consistency;
    const posOf = (name: string): number | undefined => def.fields.find((f) => f.name === name)?.pos;
    plan = {
      documentTotals: (rules.documentTotals ?? [])
        .filter((r) => r.analytic === reg)
        .map((r) => ({ document: r.document, fields: Object.values(r.pairs).map((name) => [this.slotOf(name), posOf(name)] as const) })),
      itemsVsAnalytic: (rules.itemsVsAnalytic ?? [])
        .filter((r) => r.item === reg || r.analytic === reg)
        .map((r) => {
          const isItem = r.item === reg;
          return {
            document: r.document,
            isItem,
            keyParts: Object.entries(r.groupBy).map(([itemField, analyticField]) => {
              const name = isItem ? itemField : analyticField;
              return { name, pos: posOf(name), decimals: def.fields.find((f) => f.name === name)?.decimals !== undefined };
            }),
            pairs: Object.entries(r.pairs).map(([itemField, analyticField]) => [this.slotOf(analyticField), posOf(isItem ? itemField : analyticField)] as const),
            keys: new Float64Array(Object.keys(r.groupBy).length),
            texts: Object.keys(r.groupBy).map(() => null),
          };
        }),
      apuration: rules.apuration ?? null,
      apurationSource: rules.apuration?.sources.includes(reg) ?? false,
      cfopPos: rules.apuration ? posOf(rules.apuration.cfop) : undefined,
      amountPos: rules.apuration ? posOf(rules.apuration.amount) : undefined,
      totals: (rules.documentTotals ?? [])
        .filter((r) => r.document === reg)
        .map((rule) => ({
          rule,
          whenPos: rule.when ? posOf(rule.when.field) : undefined,
          pairs: entriesOf(rule.pairs).map(([docField, analyticField]) => ({ docField, slot: this.slotOf(analyticField), pos: posOf(docField) })),
        })),
      groupRules: (rules.itemsVsAnalytic ?? [])
        .filter((r) => r.document === reg)
        .map((rule) => ({ rule, pairs: entriesOf(rule.pairs).map(([, name]) => ({ name, slot: this.slotOf(name) })) })),
      sums: null,
    };
    const opens = !!(rules.documentTotals?.some((r) => r.document === reg) || rules.itemsVsAnalytic?.some((r) => r.document === reg));
    if (opens) plan.sums = new DocumentSums();
    this.consistencyPlans.set(reg, plan);
    return plan;
  }

  /** A document register opens its (reused) state: its `when` values and declared totals read now, sums zeroed. */
  private openDocument(def: RegisterDef, plan: ConsistencyPlan, fields: RecordFields, line: number): void {
    const doc = plan.sums!;
    doc.reset(def.level, line);
    let j = 0;
    for (let i = 0; i < plan.totals.length; i++) {
      const t = plan.totals[i]!;
      doc.when[i] = t.whenPos === undefined ? undefined : fields.get(t.whenPos - 1);
      for (let k = 0; k < t.pairs.length; k++) {
        const declared = doc.declaredAt(j++);
        const pos = t.pairs[k]!.pos;
        if (pos !== undefined) fields.addTo(declared, pos - 1);
      }
    }
    this.doc = doc;
    this.docDef = def;
    this.docPlan = plan;
  }

  private closeDocument(): void {
    const doc = this.doc;
    if (doc === null) return;
    this.doc = null;
    const def = this.docDef!;
    const plan = this.docPlan!;
    const reg = def.code;
    let j = 0;
    for (let i = 0; i < plan.totals.length; i++) {
      const { rule: r, pairs } = plan.totals[i]!;
      const first = j;
      j += pairs.length;
      if (doc.analyticCount === 0) continue;
      if (r.when) {
        const v = doc.when[i];
        if (v === undefined || !r.when.in.includes(v)) continue;
      }
      for (let k = 0; k < pairs.length; k++) {
        const { docField, slot } = pairs[k]!;
        // a missing sum or declared value is zero, as Decimal.parse(...) ?? 0 reads it
        const acc = doc.analytic.sum(slot);
        const declared = doc.declared[first + k]!;
        if (acc.equals(declared)) continue;
        this.report('SPED_CONSISTENCY', `${reg} ${docField} is ${declared.toDecimal().format(',', 2)}; its ${r.analytic} records add up to ${acc.toDecimal().format(',', 2)}`, {
          line: doc.line, register: reg, field: docField, position: def.fields.find((f) => f.name === docField)?.pos ?? null, severity: 'warning',
        });
      }
    }
    for (const { rule: r, pairs } of plan.groupRules) {
      if (doc.itemCount === 0) continue;
      // every group of items, then every analytic group without items (each once), both sides' sums
      const items = doc.itemGroups;
      const analytic = doc.analyticGroups;
      for (let i = 0; i < items.count; i++) {
        const g = items.at(i);
        this.compareGroups(r, pairs, reg, doc.line, g, g, analytic.find(g.keys, g.texts));
      }
      for (let i = 0; i < analytic.count; i++) {
        const g = analytic.at(i);
        if (!items.find(g.keys, g.texts)) this.compareGroups(r, pairs, reg, doc.line, g, undefined, g);
      }
    }
  }

  private compareGroups(
    r: ItemsVsAnalyticRule, pairs: readonly { name: string; slot: number }[], reg: string, line: number, key: SumGroup,
    items: SumGroup | undefined, analytic: SumGroup | undefined,
  ): void {
    for (const { name: analyticField, slot } of pairs) {
      // a side without the group, or without the field, adds up to zero
      const sa = items?.sums[slot];
      const sb = analytic?.sums[slot];
      if (sa && sb && sa.equals(sb)) continue;
      const a = sa?.toDecimal() ?? Decimal.ZERO;
      const b = sb?.toDecimal() ?? Decimal.ZERO;
      if (!a.equals(b)) {
        this.report(
          'SPED_CONSISTENCY',
          `${r.item} items with ${Object.keys(r.groupBy).join('/')} ${key.label()} add up to ${analyticField} ${a.format(',', 2)}; ${r.analytic} says ${b.format(',', 2)}`,
          { line, register: reg, severity: 'warning' },
        );
      }
    }
  }

  /** The slot of an analytic field's name in `Sums` (one per distinct name). */
  private slotOf(name: string): number {
    let slot = this.sumSlots.get(name);
    if (slot === undefined) this.sumSlots.set(name, (slot = this.sumSlots.size));
    return slot;
  }

  private readonly sumSlots = new Map<string, number>();

  private groupPart(def: RegisterDef, fields: RecordFields, name: string): string {
    const v = this.fieldValue(def, fields, name) ?? '';
    const d = Decimal.parse(v, ',');
    return d && /,/.test(v) ? d.format(',', 2) : d && def.fields.find((f) => f.name === name)?.decimals !== undefined ? d.format(',', 2) : v;
  }

  private fieldValue(def: RegisterDef, fields: readonly string[] | RecordFields, name: string): string | undefined {
    const pos = this.positionOf(def, name);
    return pos === undefined ? undefined : fields instanceof RecordFields ? fields.get(pos - 1) : fields[pos - 1];
  }

  /** 1-based position of a field name in a register (its first occurrence, as `find` gives), cached. */
  private positionOf(def: RegisterDef, name: string): number | undefined {
    let positions = this.positions.get(def);
    if (!positions) this.positions.set(def, (positions = new Map()));
    let pos = positions.get(name);
    if (pos === undefined && !positions.has(name)) {
      pos = def.fields.find((f) => f.name === name)?.pos;
      positions.set(name, pos);
    }
    return pos;
  }

  /** Field positions by name, per register definition (first occurrence of a name, as `find` gives). */
  private readonly positions = new Map<RegisterDef, Map<string, number | undefined>>();

  private decimalOf(def: RegisterDef, fields: readonly string[] | RecordFields, name: string): Decimal {
    const v = this.fieldValue(def, fields, name);
    return (v && Decimal.parse(v, ',')) || Decimal.ZERO;
  }

  // ---- end of file -----------------------------------------------------------------------------------------

  /** Ends validation: file-level checks and the result. */
  finish(info: SpedReadInfo): ValidationResult {
    if (!this.started && !this.notSped) {
      this.notSped = true;
      this.report('SPED_EMPTY', info.bytes === 0 ? 'the file is empty' : 'the file has no records');
    }
    if (!this.notSped && this.layout) {
      if (this.doc) this.closeDocument();
      this.endOfFile(info);
    }
    return {
      valid: this.sink.errors === 0,
      layout: this.layout?.id ?? info.layout,
      version: this.version ?? info.version,
      encoding: info.encoding,
      lines: info.lines,
      signature: info.signature,
      errorCount: this.sink.errors,
      warningCount: this.sink.warnings,
      truncated: this.sink.truncated,
      errors: this.sink.list,
    };
  }

  private endOfFile(info: SpedReadInfo): void {
    const lay = this.layout!;
    if (!this.ended) {
      this.report('SPED_TRUNCATED', `the file ends without 9999 after ${info.lines} lines: truncated?`);
      if (this.block !== null && this.block !== '9') this.closeBlock(null);
    }
    for (const b of lay.blocksFor(this.version)) {
      if (!this.blocksSeen.has(b.block) && !b.optional) this.report('SPED_BLOCK_MISSING', `block ${b.block} is missing (${b.block}001 with IND_MOV 1 and ${b.block}990 when it has no data)`, { register: `${b.block}001` });
    }
    // 9900: one per register, with its count (9900, 9990 and 9999 lines included)
    const declared = new Map<string, number>();
    for (const t of this.totals9900) {
      if (declared.has(t.reg)) {
        this.report('SPED_TOTAL_9900', `9900 lists ${t.reg} twice`, { line: t.line, register: '9900', field: 'REG_BLC', position: 2 });
        continue;
      }
      declared.set(t.reg, t.line);
      const actual = this.regs.get(t.reg)?.count ?? 0;
      if (t.qty !== String(actual)) {
        this.report('SPED_TOTAL_9900', `9900 says ${t.reg} occurs ${t.qty} time(s); the file has ${actual}`, { line: t.line, register: '9900', field: 'QTD_REG_BLC', position: 3 });
      }
    }
    if (this.ended) {
      for (const [reg, { count: n }] of this.regs) {
        if (n > 0 && !declared.has(reg) && lay.register(reg)) {
          this.report('SPED_TOTAL_9900', `9900 has no line for ${reg} (${n} in the file)`, { line: this.total9990?.line ?? null, register: '9900' });
        }
      }
    }
    if (this.total9990 && this.total9990.qty !== String(this.block9Lines)) {
      this.report('SPED_TOTAL_9990', `9990 QTD_LIN_9 is ${this.total9990.qty}; block 9 has ${this.block9Lines} lines`, { line: this.total9990.line, register: '9990', field: 'QTD_LIN_9', position: 2 });
    }
    if (this.total9999 && this.total9999.qty !== String(this.records)) {
      this.report('SPED_TOTAL_9999', `9999 QTD_LIN is ${this.total9999.qty}; the file has ${this.records} lines`, { line: this.total9999.line, register: '9999', field: 'QTD_LIN', position: 2 });
    }
  }
}

const entriesCache = new WeakMap<object, readonly (readonly [string, string])[]>();

/** `Object.entries` of a layout rule's mapping, computed once per rule object. */
function entriesOf(map: Readonly<Record<string, string>>): readonly (readonly [string, string])[] {
  let e = entriesCache.get(map);
  if (!e) entriesCache.set(map, (e = Object.entries(map)));
  return e;
}

/** Adds each (slot, position) pair's field to the group's sum of the slot. */
function addSums(group: SumGroup, pairs: readonly (readonly [number, number | undefined])[], fields: RecordFields): void {
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    const sum = group.sum(pair[0]);
    const pos = pair[1];
    if (pos !== undefined) fields.addTo(sum, pos - 1);
  }
}

/** The apuration rule's CFOP lists as numbers and char codes (`groupKey` and `firstChar` of the CFOP field). */
interface ApurationMatch {
  /** `groupKey` of each excluded CFOP that is digits (NaN otherwise: those compare as text). */
  excludeKeys: number[];
  /** The one-character prefixes as char codes (`cfop[0] ?? ''`: '' is -1, as `firstChar` gives for an empty CFOP). */
  debitChars: number[];
  creditChars: number[];
}

function apurationMatch(ap: ApurationRule): ApurationMatch {
  const chars = (prefixes: readonly string[]): number[] => prefixes.filter((p) => p.length <= 1).map((p) => (p === '' ? -1 : p.charCodeAt(0)));
  return {
    excludeKeys: ap.excludeCfops.map((c) => {
      const k = groupKeyOfText(c, false);
      return k >= 0 ? k : NaN;
    }),
    debitChars: chars(ap.debitPrefixes),
    creditChars: chars(ap.creditPrefixes),
  };
}

/** `reg === block + suffix` without building the string. */
function isBlockRegister(reg: string, block: string, suffix: string): boolean {
  return reg.length === block.length + suffix.length && reg.startsWith(block) && reg.endsWith(suffix);
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/**
 * Validates a SPED file (path, stdin or any Readable) in one streaming pass.
 *
 *   const result = await validateSped('efd.txt', { maxErrors: 100 });
 *   if (!result.valid) for (const e of result.errors) console.log(e.line, e.code, e.message);
 */
export async function validateSped(source: SpedSource, options: ValidateOptions = {}): Promise<ValidationResult> {
  const validator = new SpedValidator({ maxErrors: options.maxErrors, onFinding: options.onFinding });
  const parser = new SpedParser(
    (fields, line) => {
      validator.record(fields, line, parser.layout, parser.info.version);
      if (validator.aborted) parser.scanner.done = true;
    },
    (f) => {
      validator.readerFinding(f);
      if (validator.aborted) parser.scanner.done = true;
    },
    parserOptions(options),
  );
  if (options.bytePath !== false) {
    const info = parser.info;
    const scanner = parser.scanner;
    parser.byteLine = (buf, start, end, line) => validator.recordBytes(buf, start, end, line, info.version, scanner.encoding);
  }
  await feedParser(parser, source, options);
  return validator.finish(parser.info);
}
