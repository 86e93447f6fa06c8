/**
 * What a byte range of a SPED file carries between threads (validate-ranges.ts): the state a range worker starts
 * from (`RangeStart`), what it hands back (`RangeResult`: its findings in order, the checks it could not make alone,
 * and the compact state it leaves), and what the merge keeps between ranges (`MergeState`).
 *
 * A worker numbers its lines from 1; lines it names in messages are tokens (`lineToken`) that the merge replaces
 * with file line numbers: a positive number is the range's own line, -1 - level the line of the register open at
 * that level when the range started (known to the merge only).
 */
import type { CodeSetData } from './code-set.js';
import type { ApurationCheck } from './consistency.js';
import type { Report, SpedFinding } from './findings.js';
import type { OpenState } from './hierarchy.js';
import type { Layout, LayoutId } from './layout.js';
import type { EncodingState, SignatureBlock } from './scanner.js';
import type { BlockRangeState, RunCheck } from './totals.js';

/** The file's state before a range, as every range worker assumes it (the merge checks the assumption). */
export interface RangeStart {
  layout: LayoutId;
  version: string;
  period: { start: string | null; end: string | null };
  /** Records before the first range. */
  records: number;
  /** Records per register before the first range, in the order first seen. */
  counts: [string, number][];
  /** The reference targets' keys before the first range (block 0). */
  sets: [string, CodeSetData][];
  encoding: EncodingState;
}

/** A check a range leaves to the merge, in its place among the range's findings. */
export type Deferred =
  /** Here the document open when the range started closes: the previous range's closing findings go here. */
  | { kind: 'tail'; level: number }
  /** A reference the range could not find: missing unless an earlier range added the key. */
  | { kind: 'ref'; target: string; key: string; finding: Parameters<Report> }
  | ({ kind: 'apuration' } & ApurationCheck)
  | RunCheck;

export type RangeEntry = SpedFinding | Deferred;

/** What a range worker hands back (lines numbered from 1 in the range). */
export interface RangeResult {
  entries: RangeEntry[];
  /** Findings past the cap (`maxErrors`), counted only. */
  droppedErrors: number;
  droppedWarnings: number;
  /** The closing findings of the document open at the range's end (made where the next record closes it). */
  tail: { level: number; findings: SpedFinding[] } | null;
  /** No record of the range closed the document open when it started (it had no record applied). */
  inheritedStillOpen: boolean;
  /** Level of the range's first applied record (null: none). */
  firstApplied: number | null;
  /** Level of the record limiting its children open at the range's end. */
  childrenOpen: number | null;
  lines: number;
  blankLines: number;
  records: number;
  /** Records per register in the range, in the order first seen. */
  counts: [string, number][];
  encoding: EncodingState;
  scannerEnded: boolean;
  signature: SignatureBlock | null;
  ended: boolean;
  afterEndReported: boolean;
  period: { start: string | null; end: string | null };
  open: OpenState[];
  blocks: BlockRangeState;
  /** Keys the range added to reference targets (canonical bytes). */
  keys: [string, Uint8Array[]][];
  /** The range's apuration sums (decimal text). */
  apuration: { debits: string; credits: string };
}

/** What the merge keeps between ranges. */
export interface MergeState {
  /** The closing findings of the document open at the end of the part merged so far, and its level. */
  tail: { level: number; findings: SpedFinding[] } | null;
  childrenOpen: number | null;
  encoding: EncodingState;
  scannerEnded: boolean;
}

/** A worker's assumption about the state before its range did not hold: the file is validated on one thread. */
export class RangeMismatch extends Error {}

/** A range worker's findings (capped at `max`, 0: all) and deferred checks (never dropped), in order. */
export class RangeCollector {
  readonly entries: RangeEntry[] = [];
  private kept = 0;
  droppedErrors = 0;
  droppedWarnings = 0;
  constructor(private readonly max: number) {}
  add(f: SpedFinding): void {
    if (this.max === 0 || this.kept < this.max) {
      this.entries.push(f);
      this.kept++;
    } else if (f.severity === 'error') this.droppedErrors++;
    else this.droppedWarnings++;
  }
  defer(item: Deferred): void {
    this.entries.push(item);
  }
}

/** A line number in a worker's message, for the merge to replace (`nonce`: per run, so no file text can forge one). */
export function lineToken(nonce: string, line: number): string {
  return `\u0000${nonce}${line}\u0000`;
}

/** The registers open above a record of `reg` in a well-formed file, level 0 first (0000 at level 0). */
export function openChain(layout: Layout, reg: string): string[] {
  const def = layout.register(reg)!;
  const chain: string[] = [];
  for (let p: string | null | undefined = def.parent; p && chain.length < def.level; p = layout.register(p)?.parent) chain.unshift(p);
  while (chain.length < def.level) chain.unshift('0000');
  return chain;
}

/** Registers whose checks read their count in the whole file (at most N in the file; the apuration register). */
export function isCountSensitive(layout: Layout, reg: string): boolean {
  const def = layout.register(reg);
  if (def === undefined) return false;
  return (def.occurrence.scope === 'file' && def.occurrence.max !== null) || layout.data.consistency.apuration?.register === reg;
}

export function sameEncoding(a: EncodingState, b: EncodingState): boolean {
  return a.encoding === b.encoding && a.decided === b.decided && a.utf8Errors === b.utf8Errors;
}
