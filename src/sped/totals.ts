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

export class BlockTotals {
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

  constructor(
    private readonly layout: Layout,
    private readonly report: Report,
  ) {}

  /**
   * Tracks block order, X001 and line counts per block for every record, known register or not. `dataLine`:
   * `isDataLine(reg, block)`, which a known register has computed once.
   */
  countLine(block: string, line: number, reg: string, dataLine: boolean): void {
    const lay = this.layout;
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

  /** A record with a part in the totals (`role` is not 'none'): X001, X990, 9900 or 9999. */
  record(def: RegisterDef, role: TotalsRole, fields: RecordFields, line: number): void {
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
        this.blockIdx = this.layout.blockIndex.get(block) ?? this.blockIdx;
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
    for (const b of lay.blocksFor(file.version)) {
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
      const actual = file.registers.get(t.reg)?.count ?? 0;
      if (t.qty !== String(actual)) {
        this.report('SPED_TOTAL_9900', `9900 says ${t.reg} occurs ${t.qty} time(s); the file has ${actual}`, { line: t.line, register: '9900', field: 'QTD_REG_BLC', position: 3 });
      }
    }
    if (file.ended) {
      for (const [reg, { count: n }] of file.registers) {
        if (n > 0 && !declared.has(reg) && lay.register(reg)) {
          this.report('SPED_TOTAL_9900', `9900 has no line for ${reg} (${n} in the file)`, { line: this.total9990?.line ?? null, register: '9900' });
        }
      }
    }
    if (this.total9990 && this.total9990.qty !== String(this.block9Lines)) {
      this.report('SPED_TOTAL_9990', `9990 QTD_LIN_9 is ${this.total9990.qty}; block 9 has ${this.block9Lines} lines`, { line: this.total9990.line, register: '9990', field: 'QTD_LIN_9', position: 2 });
    }
    if (this.total9999 && this.total9999.qty !== String(file.records)) {
      this.report('SPED_TOTAL_9999', `9999 QTD_LIN is ${this.total9999.qty}; the file has ${file.records} lines`, { line: this.total9999.line, register: '9999', field: 'QTD_LIN', position: 2 });
    }
  }
}
