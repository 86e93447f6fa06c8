/**
 * The SPED validator: structure (order, blocks, hierarchy, occurrence), fields (count, type, size, decimals,
 * required by direction, dates and period, check digits, allowed values), totals (X990, 9900, 9990, 9999),
 * references to block 0 and consistency warnings. It consumes raw records from SpedParser, keeps memory bounded
 * by the registers and distinct codes (never by the file), and never stops at the first finding.
 *
 * This module orchestrates; each kind of check is its own part, given the layout and a `report` callback:
 * hierarchy.ts (open registers, direction), totals.ts (blocks and control totals), field-validation.ts (the string
 * path's per-field checks; byte-path.ts proves clean lines without them), references.ts, consistency.ts.
 */
import { Decimal } from '../common/decimal.js';
import type { FiscalPool } from '../pool/pool.js';
import { finding, type Report, type SpedFinding } from './findings.js';
import { isCountSensitive, lineToken, openChain, RangeCollector, RangeMismatch, sameEncoding, type MergeState, type RangeResult, type RangeStart } from './range-state.js';
import { isoToNumber, RecordFields, RegisterCheck, type PeriodWindow } from './byte-path.js';
import { ChildRules, exceptionsOf } from './exceptions.js';
import { Consistency, type ConsistencyPlan } from './consistency.js';
import { FieldChecker, type Period } from './field-validation.js';
import { Hierarchy } from './hierarchy.js';
import { compareVersions, type FieldDef, type Layout, type LayoutId, type RegisterDef } from './layout.js';
import { FieldPositions } from './positions.js';
import { feedParser, parserOptions, SpedParser, type SpedReadInfo, type SpedReadOptions, type SpedSource } from './reader.js';
import { References, type RegisterRefs } from './references.js';
import { parseSpedDate } from './record.js';
import type { EncodingState, SignatureBlock, SpedEncoding, SpedScanner } from './scanner.js';
import { BlockTotals, isDataLine, totalsRole, type TotalsRole } from './totals.js';

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
  /**
   * Threads for a path (default 1): more validate it in byte ranges on a pool's workers, with exactly the result
   * of one thread (validate-ranges.ts). Stdin and streams run on one thread.
   */
  threads?: number;
  /** A pool to run on (its thread count wins over `threads`). */
  pool?: FiscalPool;
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
  /**
   * Every finding kept (up to `maxErrors`), in the order found — errors and warnings alike: filter on
   * `severity` (`errorCount` and `warningCount` count them all, kept or not). See SpedFinding for the parts
   * that can be null.
   */
  errors: SpedFinding[];
}

const REG_RE = /^[0-9A-Z]{4}$/;

/** Per register code: its count and the rules it takes part in, resolved once (one lookup per record). */
interface RegState extends RegisterRefs {
  count: number;
  /** 0-based position of the direction field (IND_OPER) when the register carries it, else -1. */
  dirAt: number;
  consistency: ConsistencyPlan | null;
  /** A line that counts as data of its block (`isDataLine`), and its role in the totals (`totalsRole`). */
  dataLine: boolean;
  totals: TotalsRole;
  /** The Guia's exceptions of the register may limit its children (cancelled documents, NFC-e, …). */
  limitsChildren: boolean;
  /** Its fields at `defsVersion` (`Layout.fieldsFor`, resolved once per version: not a string key per record). */
  defs: readonly FieldDef[] | null;
  defsVersion: string | null;
}

/** The checks that need the layout, created when the first record tells it. */
interface Parts {
  hierarchy: Hierarchy;
  blocks: BlockTotals;
  fields: FieldChecker;
  references: References;
  consistency: Consistency;
  children: ChildRules;
}

/** Collects findings with a cap on the list and complete counts. */
class FindingSink {
  readonly list: SpedFinding[] = [];
  errors = 0;
  warnings = 0;
  truncated = false;
  constructor(private readonly max: number, private readonly listener?: (f: SpedFinding) => void) {}
  /** Findings counted but not listed (a range worker kept only the first `max`). */
  count(errors: number, warnings: number): void {
    this.errors += errors;
    this.warnings += warnings;
    if (errors + warnings > 0) this.truncated = true;
  }
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
  private readonly report: Report = (code, message, at) => this.emit(finding(code, message, at));
  /** Range worker: findings and deferred checks go here instead of the sink (see validate-ranges.ts). */
  private collector: RangeCollector | null = null;
  /** Findings redirected while a document's closing checks run for the merge (`closeTail`). */
  private captured: SpedFinding[] | null = null;
  /** The level of the first record applied (range worker: where the previous range's document closes). */
  private firstApplied: number | null = null;
  private layout: Layout | null = null;
  /** The checks, once the layout is known (null before the first record). */
  private parts: Parts | null = null;
  private version: string | null = null;
  private versionChecked = false;
  private started = false;
  private notSped = false;
  private ended = false;
  private afterEndReported = false;
  /** The period from 0000 as ISO dates (the field checks read it), and as yyyymmdd numbers for the byte path. */
  private readonly period: Period = { start: null, end: null };
  private readonly window: PeriodWindow = { start: 0, end: 0 };

  private records = 0;
  /** Register codes in the order first seen, with their counts and resolved rules. */
  private readonly regs = new Map<string, RegState>();
  private readonly positions = new FieldPositions();
  /** The record being applied, as the state logic reads it (string array or byte ranges). */
  private readonly view = new RecordFields();
  /** Byte path: compiled checks by the register's 4 bytes (null: always the string path), for `version`. */
  private readonly registerChecks = new Map<number, { check: RegisterCheck; st: RegState } | null>();
  private lastKey = 0;
  private lastEntry: { check: RegisterCheck; st: RegState } | null | undefined = undefined;

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
    this.emit(f);
  }

  private emit(f: SpedFinding): void {
    if (this.captured !== null) this.captured.push(f);
    else if (this.collector !== null) this.collector.add(f);
    else this.sink.add(f);
  }

  /** The level of the open record whose children are limited (null: none). */
  get childrenOpenLevel(): number | null {
    return this.parts?.children.openLevel ?? null;
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
      this.parts!.blocks.countLine(reg[0] ?? '', line, reg, isDataLine(reg, reg[0] ?? ''));
      return;
    }
    this.view.setArray(fields);
    this.apply(def, st, this.view, line, fields);
  }

  private regState(reg: string): RegState {
    let st = this.regs.get(reg);
    if (st === undefined) {
      const refs = this.parts!.references.of(reg);
      const dir = this.layout!.data.direction;
      const def = this.layout!.register(reg);
      const dirPos = dir && def && dir.registers.includes(reg) ? this.positions.of(def, dir.field) : undefined;
      st = {
        count: 0,
        keyAt: refs.keyAt,
        keys: refs.keys,
        refs: refs.refs,
        dirAt: dir && def && dir.registers.includes(reg) ? (dirPos === undefined ? Infinity : dirPos - 1) : -1,
        consistency: null,
        dataLine: def ? isDataLine(reg, def.block) : false,
        totals: def ? totalsRole(reg, def.block) : 'none',
        limitsChildren: this.layout!.data.exceptions.some((x) => x.register === reg && x.children !== undefined),
        defs: null,
        defsVersion: null,
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
    // the direction as Hierarchy.enter will set it: the register's own IND_OPER, else its parent's
    const h = this.parts!.hierarchy;
    const direction = st.dirAt >= 0 ? h.directionValue(view.get(st.dirAt)) : h.parentDirection(def.level);
    if (!check.clean(count, direction)) return false;
    this.records++;
    st.count++;
    this.apply(def, st, view, line, null, check.mask);
    return true;
  }

  /** The byte checks of a register at the current version; null for registers the byte path never takes. */
  private registerCheck(reg: string): { check: RegisterCheck; st: RegState } | null {
    const lay = this.layout!;
    const def = lay.register(reg);
    if (!def || reg === '0000' || (def.since && compareVersions(this.version!, def.since) < 0)) return null;
    const defs = lay.fieldsFor(reg, this.version) ?? def.fields;
    return { check: new RegisterCheck(def, defs, this.window, exceptionsOf(lay, def, defs)), st: this.regState(reg) };
  }

  /** Everything `record` does for a known register once it is counted; `fields` (string path) adds the field checks. */
  private apply(def: RegisterDef, st: RegState, view: RecordFields, line: number, fields: string[] | null, byteMask = 0): void {
    const p = this.parts!;
    const reg = def.code;
    this.firstApplied ??= def.level;
    // structure: the period (0000 arrives before anything needs it), 0000 once, the block's lines, the hierarchy
    if (this.period.start === null && reg === this.layout!.data.period.register) this.readPeriod(def, view);
    if (reg === '0000' && this.records > 1) {
      this.report('SPED_OCCURRENCE', '0000 must occur once, as the first record', { line, register: reg });
    }
    p.blocks.countLine(def.block, line, reg, st.dataLine);
    const direction = p.hierarchy.enter(def, st.count, line, st.dirAt, view);
    if (!this.versionChecked && this.version !== null) this.checkVersion(line);
    // the mask of the Guia's exceptions the record matches, as its path found it
    const mask = fields !== null ? p.fields.check(def, fields, line, direction, this.version) : byteMask;
    if (st.totals !== 'none') p.blocks.record(def, st.totals, view, line);
    p.references.check(st, reg, view, line);
    const plan = st.consistency ?? (st.consistency = p.consistency.planOf(def));
    p.consistency.record(def, plan, st.count, view, line);
    if (st.limitsChildren || p.children.isOpen) p.children.record(def, this.fieldsOf(st, def), mask, line);
    if (reg === '9999') this.ended = true;
  }

  /** The register's fields at the file's version. */
  private fieldsOf(st: RegState, def: RegisterDef): readonly FieldDef[] {
    if (st.defs === null || st.defsVersion !== this.version) {
      st.defs = this.layout!.fieldsFor(def.code, this.version) ?? def.fields;
      st.defsVersion = this.version;
    }
    return st.defs;
  }

  private setLayout(layout: Layout, lineText: (line: number) => string = String): void {
    this.layout = layout;
    const report = this.report;
    this.parts = {
      hierarchy: new Hierarchy(layout, report, lineText),
      blocks: new BlockTotals(layout, report, lineText),
      fields: new FieldChecker(layout, this.period, report),
      references: new References(layout, report),
      consistency: new Consistency(layout, this.positions, report),
      children: new ChildRules(layout, report, lineText),
    };
  }

  // ---- byte ranges on several threads (validate-ranges.ts): the worker's side, then the merge's ----

  /**
   * The state a range worker starts from, once this validator has taken the part of the file before the first
   * range; null when that part leaves the file not ready for ranges (no layout, version or period yet, not SPED,
   * already ended).
   */
  rangeStart(encoding: EncodingState): RangeStart | null {
    if (!this.started || this.notSped || this.ended || !this.versionChecked || this.version === null || this.period.start === null || !this.layout) return null;
    return {
      layout: this.layout.id, version: this.version, period: { ...this.period }, records: this.records,
      counts: [...this.regs].map(([reg, st]) => [reg, st.count]), sets: this.parts!.references.exportSets(), encoding,
    };
  }

  /** Range worker: a validator in the state `start` describes, for a range whose first record is a `cut` register. */
  static forRange(layout: Layout, start: RangeStart, cut: string, maxErrors: number, nonce: string): SpedValidator {
    const v = new SpedValidator({ maxErrors });
    const collector = new RangeCollector(maxErrors);
    v.collector = collector;
    v.started = true;
    v.setLayout(layout, (line) => lineToken(nonce, line));
    const p = v.parts!;
    p.references.restoreSets(start.sets);
    p.references.defer = (item) => collector.defer({ kind: 'ref', ...item });
    v.version = start.version;
    v.versionChecked = true;
    v.period.start = start.period.start;
    v.period.end = start.period.end;
    v.window.start = isoToNumber(v.period.start);
    v.window.end = isoToNumber(v.period.end);
    v.records = start.records;
    for (const [reg, n] of start.counts) v.regState(reg).count = n;
    const chain = openChain(layout, cut);
    p.hierarchy.seed(chain.map((code, level) => ({ code, line: -1 - level, direction: null })));
    p.blocks.continueRun(layout.register(cut)!.block, (item) => collector.defer(item));
    p.consistency.continueDocument((level) => collector.defer({ kind: 'tail', level }));
    p.consistency.deferApuration = (item) => collector.defer({ kind: 'apuration', ...item });
    return v;
  }

  /** Runs the closing checks of the open document now, and hands back their findings (null: no document open). */
  closeTail(): { level: number; findings: SpedFinding[] } | null {
    const level = this.parts?.consistency.openLevel ?? null;
    if (level === null) return null;
    this.captured = [];
    this.parts!.consistency.finish();
    const findings = this.captured;
    this.captured = null;
    return { level, findings };
  }

  /** Range worker: what the range leaves for the merge (lines as this worker numbered them, from 1). */
  rangeResult(start: RangeStart, info: SpedReadInfo, scanner: SpedScanner): RangeResult {
    const p = this.parts!;
    const startCounts = new Map(start.counts);
    const counts: [string, number][] = [];
    for (const [reg, st] of this.regs) {
      const delta = st.count - (startCounts.get(reg) ?? 0);
      if (delta > 0) counts.push([reg, delta]);
    }
    const inheritedStillOpen = p.consistency.inheritedStillOpen;
    const apuration = p.consistency.apurationTotals();
    const tail = this.closeTail();
    const c = this.collector!;
    return {
      entries: c.entries, droppedErrors: c.droppedErrors, droppedWarnings: c.droppedWarnings, tail, inheritedStillOpen,
      firstApplied: this.firstApplied, childrenOpen: p.children.openLevel,
      lines: info.lines, blankLines: info.blankLines, records: this.records - start.records, counts,
      encoding: scanner.encodingState(), scannerEnded: scanner.ended, signature: info.signature,
      ended: this.ended, afterEndReported: this.afterEndReported, period: { ...this.period },
      open: p.hierarchy.openRegisters(), blocks: p.blocks.rangeState(),
      keys: p.references.keysSince(new Map(start.sets.map(([target, set]) => [target, set.size]))),
      apuration: { debits: apuration.debits.toString(), credits: apuration.credits.toString() },
    };
  }

  /**
   * Merge: takes a range's result as if its records had come here, in file order. `merge` holds what the merge
   * tracks between ranges; `base` is the range's first line number. Throws RangeMismatch, having changed nothing,
   * when the range's worker assumed a state this one is not in: the caller then validates on one thread.
   */
  absorbRange(r: RangeResult, cut: string, start: RangeStart, merge: MergeState, base: number, nonce: string): void {
    const p = this.parts!;
    const lay = this.layout!;
    const mismatch = (why: string): never => {
      throw new RangeMismatch(why);
    };
    // the state the worker assumed, checked against the real one
    if (this.ended || this.notSped) mismatch('the file ended before the range');
    const chain = openChain(lay, cut);
    for (let l = 0; l < chain.length; l++) {
      const open = p.hierarchy.openState(l);
      if (open === null || open.code !== chain[l] || open.direction !== null) mismatch(`level ${l} is not ${chain[l]}`);
    }
    for (let l = 0; l < r.open.length; l++) {
      const e = r.open[l];
      if (e === null || e === undefined || e.line >= 0 || e.children === null) continue;
      const own = new Map(p.hierarchy.openState(l)?.children ?? []);
      if (e.children.some(([reg]) => (own.get(reg) ?? 0) > 0)) mismatch('children counted on both sides');
    }
    if (p.blocks.openBlock !== lay.register(cut)!.block) mismatch('not inside the block of the cut');
    if (r.firstApplied !== null) {
      if (merge.tail !== null && merge.tail.level < r.firstApplied) mismatch('the range continues a document');
      if (merge.childrenOpen !== null && r.firstApplied > merge.childrenOpen) mismatch('the range continues a limited record');
    }
    if (!sameEncoding(merge.encoding, start.encoding) || merge.scannerEnded) mismatch('the encoding changed before the range');
    const startCounts = new Map(start.counts);
    for (const [reg] of r.counts) {
      if (isCountSensitive(lay, reg) && (this.regs.get(reg)?.count ?? 0) !== (startCounts.get(reg) ?? 0)) mismatch(`${reg} counted before the range`);
    }
    if (r.period.start !== start.period.start || r.period.end !== start.period.end) mismatch('the period changed');

    // the range's findings in order, its deferred checks resolved against the state before it
    const absLine = (line: number): number => (line > 0 ? base + line - 1 : p.hierarchy.openState(-1 - line)!.line);
    const token = new RegExp(`\\u0000${nonce}(-?\\d+)\\u0000`, 'g');
    const place = (f: SpedFinding): SpedFinding => ({
      ...f,
      line: f.line === null ? null : base + f.line - 1,
      message: f.message.includes('\u0000') ? f.message.replace(token, (_, n: string) => String(absLine(Number(n)))) : f.message,
    });
    for (const e of r.entries) {
      if (!('kind' in e)) this.sink.add(place(e));
      else if (e.kind === 'tail') {
        for (const f of merge.tail?.findings ?? []) this.sink.add(f);
        merge.tail = null;
      } else if (e.kind === 'ref') {
        if (!p.references.hasKey(e.target, e.key)) this.sink.add(place(finding(...e.finding)));
      } else if (e.kind === 'apuration') p.consistency.resolveApuration({ ...e, line: base + e.line - 1 });
      else if (e.kind === 'closer') p.blocks.resolve({ ...e, line: base + e.line - 1 });
      else p.blocks.resolve({ ...e, indMov: e.indMov && { value: e.indMov.value, line: base + e.indMov.line - 1 }, closerLine: e.closerLine === null ? null : base + e.closerLine - 1 });
    }
    this.sink.count(r.droppedErrors, r.droppedWarnings);

    // the state after it
    const rel = (line: number): number => base + line - 1;
    p.hierarchy.continueWith(r.open.map((e) => (e === null || e === undefined || e.line < 0 ? e : { ...e, line: rel(e.line) })), (line) => line < 0);
    const b = r.blocks;
    p.blocks.continueWith({
      ...b, openLine: rel(b.openLine), indMov: b.indMov && { value: b.indMov.value, line: rel(b.indMov.line) },
      runs: b.runs.map((x) => ({ ...x, line: rel(x.line) })), totals9900: b.totals9900.map((x) => ({ ...x, line: rel(x.line) })),
      total9990: b.total9990 && { ...b.total9990, line: rel(b.total9990.line) }, total9999: b.total9999 && { ...b.total9999, line: rel(b.total9999.line) },
    });
    p.references.addKeys(r.keys);
    p.consistency.addApuration(Decimal.from(r.apuration.debits), Decimal.from(r.apuration.credits));
    for (const [reg, n] of r.counts) this.regState(reg).count += n;
    this.records += r.records;
    this.ended ||= r.ended;
    this.afterEndReported ||= r.afterEndReported;
    if (r.tail !== null) merge.tail = { level: r.tail.level, findings: r.tail.findings.map(place) };
    else if (!r.inheritedStillOpen) merge.tail = null;
    if (r.firstApplied !== null) merge.childrenOpen = r.childrenOpen;
    merge.encoding = r.encoding;
    merge.scannerEnded = r.scannerEnded;
  }

  /** Merge: the end of the file, after the last range (the open document's findings first, as `finish` has them). */
  finishRanges(merge: MergeState, info: SpedReadInfo): ValidationResult {
    for (const f of merge.tail?.findings ?? []) this.sink.add(f);
    merge.tail = null;
    return this.finish(info);
  }

  /** The file's period from its period register (0000). */
  private readPeriod(def: RegisterDef, fields: RecordFields): void {
    const period = this.layout!.data.period;
    const s = this.positions.value(def, fields, period.start);
    const e = this.positions.value(def, fields, period.end);
    this.period.start = s ? parseSpedDate(s) : null;
    this.period.end = e ? parseSpedDate(e) : null;
    this.window.start = isoToNumber(this.period.start);
    this.window.end = isoToNumber(this.period.end);
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
    const start = this.period.start;
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

  /** Ends validation: file-level checks and the result. */
  finish(info: SpedReadInfo): ValidationResult {
    if (!this.started && !this.notSped) {
      this.notSped = true;
      this.report('SPED_EMPTY', info.bytes === 0 ? 'the file is empty' : 'the file has no records');
    }
    if (!this.notSped && this.parts) {
      this.parts.consistency.finish();
      this.parts.blocks.endOfFile({ ended: this.ended, lines: info.lines, records: this.records, version: this.version, registers: this.regs });
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
}

/**
 * Validates a SPED file (path, stdin or any Readable) in one streaming pass.
 *
 *   const result = await validateSped('efd.txt', { maxErrors: 100 });
 *   if (!result.valid) for (const e of result.errors) console.log(e.line, e.code, e.message);
 *
 * With `threads` > 1 (or a `pool` of more than one thread) a path is validated in byte ranges on the pool's
 * workers (validate-ranges.ts), with exactly the result of one thread; stdin and streams always run on one thread.
 * Without either, one thread.
 */
export async function validateSped(source: SpedSource, options: ValidateOptions = {}): Promise<ValidationResult> {
  const threads = options.pool?.threads ?? options.threads ?? 1;
  if (typeof source !== 'string' || threads === 1 || options.bytePath === false || options.start !== undefined || options.end !== undefined) {
    return validateOneThread(source, options);
  }
  const { validateWithPool } = await import('./validate-ranges.js');
  return validateWithPool(source, options);
}

/** `validateSped` in this thread, whatever the options say of threads. */
export async function validateOneThread(source: SpedSource, options: ValidateOptions = {}): Promise<ValidationResult> {
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
