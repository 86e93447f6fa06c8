/**
 * Blocks and control totals: block order (each block once, opened by X001), IND_MOV against the block's data,
 * X990 line counts, and at the end of the file missing blocks, 9900 (one line per register with its count), 9990
 * and 9999.
 */
import type { RecordFields } from './byte-path.js';
import type { Report } from './findings.js';
import type { Layout, RegisterDef } from './layout.js';

/** The part a register plays in the totals (X001 IND_MOV, X990, 9900, 9999). */
export type TotalsRole = 'none' | 'opener' | 'closer' | '9900' | '9999';

/** True for a record that is not its block's opener or closer, 0000, 9900 or 9999: the block "has data". */
export function isDataLine(reg: string, block: string): boolean {
  const isOpener = reg.endsWith('001') && reg[0] === block;
  const isCloser = reg.endsWith('990') && reg[0] === block;
  return !isOpener && !isCloser && reg !== '0000' && !(block === '9' && (reg === '9900' || reg === '9999'));
}

/** The part a register plays in the totals. */
export function totalsRole(reg: string, block: string): TotalsRole {
  if (isBlockRegister(reg, block, '001')) return 'opener';
  if (isBlockRegister(reg, block, '990')) return 'closer';
  return reg === '9900' ? '9900' : reg === '9999' ? '9999' : 'none';
}

/** `reg === block + suffix` without building the string. */
function isBlockRegister(reg: string, block: string, suffix: string): boolean {
  return reg.length === block.length + suffix.length && reg.startsWith(block) && reg.endsWith(suffix);
}

/** What the end-of-file checks read from the validator. */
export interface FileCounts {
  /** True when 9999 was seen. */
  ended: boolean;
  /** Physical lines of the file (for the truncation message). */
  lines: number;
  /** Records counted (9999's QTD_LIN). */
  records: number;
  version: string | null;
  /** Records per register code, in the order first seen. */
  registers: ReadonlyMap<string, { readonly count: number }>;
}

/** A run of consecutive lines of one block: where it starts, for the order check at the end of the file. */
export interface BlockRun {
  block: string;
  /** Index of the block in the layout's order. */
  idx: number;
  line: number;
  register: string;
}

/** A check of a run begun before a range, left to the merge: its X990 count, or its closing (IND_MOV, not closed). */
export type RunCheck =
  | { kind: 'closer'; reg: string; block: string; declared: string; lines: number; line: number }
  | { kind: 'run'; block: string; hasData: boolean; indMov: { value: string; line: number } | null; closerLine: number | null };

/** What a range leaves of the block totals, for the merge (see `BlockTotals.continueWith`). */
export interface BlockRangeState {
  block: string | null;
  inheritedRun: boolean;
  openLine: number;
  lines: number;
  hasData: boolean;
  indMov: { value: string; line: number } | null;
  seen: string[];
  runs: BlockRun[];
  runsDropped: number;
  totals9900: { reg: string; qty: string; line: number }[];
  total9990: { qty: string; line: number } | null;
  total9999: { qty: string; line: number } | null;
  block9Lines: number;
}

/** Runs kept for the order check; a file with more block changes gets one finding that the rest went unchecked. */
const MAX_RUNS = 4096;

export class BlockTotals {
  /** The block of the open run (null before the first record and after an X990). */
  private block: string | null = null;
  private blockOpenLine = 0;
  private blockLines = 0;
  private blockHasData = false;
  private blockIndMov: { value: string; line: number } | null = null;
  private readonly blocksSeen = new Set<string>();
  /** Block runs in file order; judged at the end of the file, when the whole order is known. */
  private readonly runs: BlockRun[] = [];
  private runsDropped = 0;
  private readonly totals9900: { reg: string; qty: string; line: number }[] = [];
  private total9990: { qty: string; line: number } | null = null;
  private total9999: { qty: string; line: number } | null = null;
  private block9Lines = 0;

  /**
   * Range worker: the open run began before the range (its lines, data and IND_MOV so far are the merge's); its
   * checks are handed to `defer` instead of made. Set by `continueRun`, cleared when the run closes.
   */
  private inheritedRun = false;
  private defer: ((item: RunCheck) => void) | null = null;

  constructor(
    private readonly layout: Layout,
    private readonly report: Report,
    /** How a line number reads in a message (a range worker writes a token the merge replaces). */
    private readonly lineText: (line: number) => string = String,
  ) {}

  /** Range worker: the range starts inside a run of `block` begun before it; its checks go to `defer`. */
  continueRun(block: string, defer: (item: RunCheck) => void): void {
    this.block = block;
    this.inheritedRun = true;
    this.defer = defer;
  }

  /** The state a range leaves for the merge (lines as the worker numbered them). */
  rangeState(): BlockRangeState {
    return {
      block: this.block, inheritedRun: this.inheritedRun, openLine: this.blockOpenLine, lines: this.blockLines, hasData: this.blockHasData,
      indMov: this.blockIndMov, seen: [...this.blocksSeen], runs: this.runs, runsDropped: this.runsDropped, totals9900: this.totals9900,
      total9990: this.total9990, total9999: this.total9999, block9Lines: this.block9Lines,
    };
  }

  /** The block of the open run (null: none). */
  get openBlock(): string | null {
    return this.block;
  }

  /** Merge: a range's deferred check of the run it started in (this one's open run), with its lines absolute. */
  resolve(item: RunCheck): void {
    if (item.kind === 'closer') this.checkCloser(item.reg, item.block, item.declared, this.blockLines + item.lines, item.line);
    else this.checkRun(item.block, item.indMov ?? this.blockIndMov, this.blockHasData || item.hasData, item.closerLine);
  }

  /** Merge: the state after a range (`rangeState` of its worker, lines absolute). */
  continueWith(r: BlockRangeState): void {
    if (r.inheritedRun) {
      this.blockLines += r.lines;
      this.blockHasData ||= r.hasData;
      if (r.indMov !== null) this.blockIndMov = r.indMov;
    } else {
      this.block = r.block;
      this.blockOpenLine = r.openLine;
      this.blockLines = r.lines;
      this.blockHasData = r.hasData;
      this.blockIndMov = r.indMov;
    }
    for (const b of r.seen) this.blocksSeen.add(b);
    for (const run of r.runs) {
      if (this.runs.length < MAX_RUNS) this.runs.push(run);
      else this.runsDropped++;
    }
    this.runsDropped += r.runsDropped;
    this.totals9900.push(...r.totals9900);
    if (r.total9990 !== null) this.total9990 = r.total9990;
    if (r.total9999 !== null) this.total9999 = r.total9999;
    this.block9Lines += r.block9Lines;
  }

  /**
   * Tracks block runs, X001 and line counts per run for every record, known register or not. `dataLine`:
   * `isDataLine(reg, block)`, which a known register has computed once. Counts stay with the run a line is in,
   * wherever the run stands in the file: a block out of place is one order finding (at the end of the file), not
   * wrong counts.
   */
  countLine(block: string, line: number, reg: string, dataLine: boolean): void {
    if (block !== this.block) {
      const idx = this.layout.blockIndex.get(block);
      if (idx === undefined) return; // unknown register letter: already reported
      if (this.block !== null) this.closeBlock(null);
      this.block = block;
      this.blockOpenLine = line;
      this.blockLines = 0;
      this.blockHasData = false;
      this.blockIndMov = null;
      this.blocksSeen.add(block);
      if (this.runs.length < MAX_RUNS) this.runs.push({ block, idx, line, register: reg });
      else this.runsDropped++;
      const opener = `${block}001`;
      if (reg !== opener && !(block === '0' && reg === '0000')) {
        this.report('SPED_BLOCK_ORDER', `block ${block} must open with ${opener}, found ${reg}`, { line, register: reg });
      }
    }
    this.blockLines++;
    if (block === '9') this.block9Lines++;
    if (dataLine) this.blockHasData = true;
  }

  private closeBlock(closerLine: number | null): void {
    const block = this.block;
    if (block === null || block === '9') return;
    if (this.inheritedRun) {
      this.inheritedRun = false;
      this.defer!({ kind: 'run', block, hasData: this.blockHasData, indMov: this.blockIndMov, closerLine });
      return;
    }
    this.checkRun(block, this.blockIndMov, this.blockHasData, closerLine);
  }

  /** A run's closing checks: IND_MOV against its data, and its X990. */
  private checkRun(block: string, ind: { value: string; line: number } | null, hasData: boolean, closerLine: number | null): void {
    if (ind) {
      if (ind.value === '0' && !hasData) {
        this.report('SPED_IND_MOV', `${block}001 says the block has data (IND_MOV 0) but it has none`, { line: ind.line, register: `${block}001`, field: 'IND_MOV', position: 2 });
      } else if (ind.value === '1' && hasData) {
        this.report('SPED_IND_MOV', `${block}001 says the block has no data (IND_MOV 1) but it has records`, { line: ind.line, register: `${block}001`, field: 'IND_MOV', position: 2 });
      }
    }
    if (closerLine === null) {
      this.report('SPED_BLOCK_ORDER', `block ${block} (from line ${this.lineText(this.blockOpenLine)}) is not closed by ${block}990`, { line: null, register: `${block}990` });
    }
  }

  private checkCloser(reg: string, block: string, declared: string, lines: number, line: number): void {
    if (declared !== String(lines)) {
      this.report('SPED_TOTAL_BLOCK', `${reg} QTD_LIN_${block} is ${declared}; block ${block} has ${lines} lines`, { line, register: reg, field: `QTD_LIN_${block}`, position: 2 });
    }
  }

  /**
   * The order check, once every run is known. A block's later runs are each one finding ("again"). Of the first
   * runs, those in place are the longest sequence in the layout's block order (ties keep the later runs, so a
   * block moved earlier is the one named); each other one is one finding at its first line, naming the block
   * expected there.
   */
  private checkOrder(version: string | null): void {
    const firstLine = new Map<string, number>();
    const runs: BlockRun[] = [];
    for (const run of this.runs) {
      const first = firstLine.get(run.block);
      if (first === undefined) {
        firstLine.set(run.block, run.line);
        runs.push(run);
      } else {
        this.report('SPED_BLOCK_ORDER', `block ${run.block} again: it started at line ${first}, and each block appears once`, { line: run.line, register: run.register });
      }
    }
    const inPlace = longestInOrder(runs);
    const lay = this.layout;
    const order = lay.data.blocks.map((b) => b.block);
    const required = new Set(lay.blocksFor(version).filter((b) => !b.optional).map((b) => b.block));
    const placed = new Set(runs.filter((_, i) => inPlace[i]).map((r) => r.block));
    let lastPlaced = -1;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      if (inPlace[i]) {
        lastPlaced = run.idx;
        continue;
      }
      // the block expected here: the next one in the layout's order that the file has in place or must have
      let expected: string | undefined;
      for (let k = lastPlaced + 1; k < order.length && expected === undefined; k++) {
        if (placed.has(order[k]!) || required.has(order[k]!)) expected = order[k];
      }
      this.report(
        'SPED_BLOCK_ORDER',
        `block ${run.block} out of order${expected !== undefined ? `: block ${expected} was expected here` : ''} (blocks go in the order ${order.join(' ')})`,
        { line: run.line, register: run.register },
      );
    }
    if (this.runsDropped > 0) {
      this.report('SPED_BLOCK_ORDER', `the file changes block ${this.runs.length + this.runsDropped} times; only the first ${this.runs.length} were checked for order`);
    }
  }

  /** A record with a part in the totals (`role` is not 'none'): X001, X990, 9900 or 9999. */
  record(def: RegisterDef, role: TotalsRole, fields: RecordFields, line: number): void {
    const reg = def.code;
    const block = def.block;
    if (role === 'opener') {
      this.blockIndMov = { value: fields.get(1) ?? '', line };
    } else if (role === 'closer') {
      const declared = fields.get(1) ?? '';
      if (block !== '9') {
        if (this.inheritedRun) this.defer!({ kind: 'closer', reg, block, declared, lines: this.blockLines, line });
        else this.checkCloser(reg, block, declared, this.blockLines, line);
      }
      if (block !== '9') {
        this.closeBlock(line);
        this.block = null;
      } else {
        this.total9990 = { qty: declared, line };
      }
    } else if (role === '9900') {
      this.totals9900.push({ reg: fields.get(1) ?? '', qty: fields.get(2) ?? '', line });
    } else if (role === '9999') {
      this.total9999 = { qty: fields.get(1) ?? '', line };
    }
  }

  /** The end-of-file checks: an unclosed block, missing blocks, 9900, 9990 and 9999 against the counts. */
  endOfFile(file: FileCounts): void {
    const lay = this.layout;
    if (!file.ended) {
      this.report('SPED_TRUNCATED', `the file ends without 9999 after ${file.lines} lines: truncated?`);
      if (this.block !== null && this.block !== '9') this.closeBlock(null);
    }
    this.checkOrder(file.version);
    for (const b of lay.blocksFor(file.version)) {
      if (!this.blocksSeen.has(b.block) && !b.optional) this.report('SPED_BLOCK_MISSING', `block ${b.block} is missing (${b.block}001 with IND_MOV 1 and ${b.block}990 when it has no data)`, { register: `${b.block}001` });
    }
    // 9900: one per register, with its count (9900, 9990 and 9999 lines included)
    const declared = new Map<string, number>();
    for (const t of this.totals9900) {
      if (declared.has(t.reg)) {
        this.report('SPED_TOTAL_9900', `9900 lists '${t.reg}' twice`, { line: t.line, register: '9900', field: 'REG_BLC', position: 2 });
        continue;
      }
      declared.set(t.reg, t.line);
      const actual = file.registers.get(t.reg)?.count ?? 0;
      if (t.qty !== String(actual)) {
        this.report('SPED_TOTAL_9900', `9900 says '${t.reg}' occurs ${t.qty} time(s); the file has ${actual}`, { line: t.line, register: '9900', field: 'QTD_REG_BLC', position: 3 });
      }
    }
    if (file.ended) {
      for (const [reg, { count: n }] of file.registers) {
        if (n > 0 && !declared.has(reg) && lay.register(reg)) {
          this.report('SPED_TOTAL_9900', `9900 has no line for ${reg} (${n} in the file)`, { line: this.total9990?.line ?? null, register: '9900' });
        }
      }
    }
    if (this.total9990 === null && this.blocksSeen.has('9')) {
      const at = this.total9999?.line ?? null;
      this.report('SPED_TOTAL_9990', `block 9 is not closed by 9990 (block 9 has ${this.block9Lines} lines)`, { line: at, register: '9990' });
    }
    if (this.total9990 && this.total9990.qty !== String(this.block9Lines)) {
      this.report('SPED_TOTAL_9990', `9990 QTD_LIN_9 is ${this.total9990.qty}; block 9 has ${this.block9Lines} lines`, { line: this.total9990.line, register: '9990', field: 'QTD_LIN_9', position: 2 });
    }
    if (this.total9999 && this.total9999.qty !== String(file.records)) {
      this.report('SPED_TOTAL_9999', `9999 QTD_LIN is ${this.total9999.qty}; the file has ${file.records} lines`, { line: this.total9999.line, register: '9999', field: 'QTD_LIN', position: 2 });
    }
  }
}

/**
 * Which runs stay in place: a longest subsequence whose block indexes increase. Ties keep the later runs (a run
 * that came too early is the one left out). Quadratic in the runs, which are one per block in any real file.
 */
function longestInOrder(runs: readonly BlockRun[]): boolean[] {
  const n = runs.length;
  const len = new Array<number>(n).fill(1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) if (runs[j]!.idx < runs[i]!.idx && len[j]! + 1 > len[i]!) len[i] = len[j]! + 1;
  }
  const inPlace = new Array<boolean>(n).fill(false);
  let want = n === 0 ? 0 : Math.max(...len);
  let bound = Infinity;
  for (let i = n - 1; i >= 0 && want > 0; i--) {
    if (len[i] === want && runs[i]!.idx < bound) {
      inPlace[i] = true;
      bound = runs[i]!.idx;
      want--;
    }
  }
  return inPlace;
}
