/**
 * The open registers by level: each record must follow its parent (or a sibling under it), may occur a limited
 * number of times per parent, and inherits the direction (entradas/saídas, IND_OPER) of the open register above it.
 */
import type { RecordFields } from './byte-path.js';
import type { Report } from './findings.js';
import type { Layout, RegisterDef } from './layout.js';

export type Direction = 'in' | 'out' | null;

interface OpenRegister {
  code: string;
  line: number;
  direction: Direction;
  /** Children counts by register code (for max occurrence). */
  children: Map<string, number> | null;
}

/** An open register as data (a range's state for the merge); null for a level with none open. */
export type OpenState = { code: string; line: number; direction: Direction; children: [string, number][] | null } | null;

export class Hierarchy {
  /** Open registers by level: `stack[0..depth)` (entries past `depth` are stale, reused objects). */
  private readonly stack: (OpenRegister | undefined)[] = [];
  private depth = 0;

  constructor(
    private readonly layout: Layout,
    private readonly report: Report,
    /** How a line number reads in a message (a range worker writes a token the merge replaces). */
    private readonly lineText: (line: number) => string = String,
  ) {}

  /** Range worker: the open registers a range starts under (levels 0..n-1), assumed; see validate-ranges.ts. */
  seed(levels: readonly { code: string; line: number; direction: Direction }[]): void {
    for (let l = 0; l < levels.length; l++) this.stack[l] = { ...levels[l]!, children: null };
    this.depth = levels.length;
  }

  /** The open registers, outermost first, with their children counts. */
  openRegisters(): OpenState[] {
    const out: OpenState[] = [];
    for (let l = 0; l < this.depth; l++) {
      const e = this.stack[l];
      out.push(e === undefined ? null : { code: e.code, line: e.line, direction: e.direction, children: e.children === null ? null : [...e.children] });
    }
    return out;
  }

  /**
   * Merge: the open registers after a range (`openRegisters` of its worker, lines already made absolute): a level
   * the range never entered (`inherited(line)`) stays this one's, with the range's children counts added.
   */
  continueWith(levels: readonly OpenState[], inherited: (line: number) => boolean): void {
    const next: (OpenRegister | undefined)[] = [];
    for (let l = 0; l < levels.length; l++) {
      const e = levels[l];
      if (e === null || e === undefined) {
        next.push(undefined);
        continue;
      }
      if (inherited(e.line)) {
        const own = this.openAt(l)!;
        for (const [reg, n] of e.children ?? []) (own.children ??= new Map()).set(reg, (own.children.get(reg) ?? 0) + n);
        next.push(own);
      } else next.push({ code: e.code, line: e.line, direction: e.direction, children: e.children === null ? null : new Map(e.children) });
    }
    for (let l = 0; l < next.length; l++) this.stack[l] = next[l];
    this.depth = next.length;
  }

  /** Merge: the open register at a level (null when none). */
  openState(level: number): OpenState {
    const e = this.openAt(level);
    return e === undefined ? null : { code: e.code, line: e.line, direction: e.direction, children: e.children === null ? null : [...e.children] };
  }

  /** The open register at a level, if any. */
  private openAt(level: number): OpenRegister | undefined {
    return level < this.depth ? this.stack[level] : undefined;
  }

  /**
   * A known register's record: its parent and occurrence checks (`count` is its count in the file, this record
   * included), then it becomes the open register of its level, closing the levels below. Returns its direction:
   * its own IND_OPER (at 0-based `dirAt`, -1 when it has none), which its children then inherit, else its parent's.
   */
  enter(def: RegisterDef, count: number, line: number, dirAt: number, fields: RecordFields): Direction {
    const reg = def.code;
    // hierarchy: the nearest open register one level up must be the parent
    const level = def.level;
    if (level > 0) {
      const open = this.openAt(level - 1);
      if (def.parent && open?.code !== def.parent) {
        const parent = this.layout.register(def.parent);
        this.report(
          'SPED_HIERARCHY',
          `${reg} must follow its parent ${def.parent}${parent && parent.level > 1 ? ` (or a sibling under it)` : ''}${open ? `; the open level-${level - 1} register is ${open.code} (line ${this.lineText(open.line)})` : ''}`,
          { line, register: reg },
        );
      } else if (open && def.occurrence.scope === 'parent' && def.occurrence.max !== null) {
        open.children ??= new Map();
        const n = (open.children.get(reg) ?? 0) + 1;
        open.children.set(reg, n);
        if (n > def.occurrence.max) {
          this.report('SPED_OCCURRENCE', `${reg} may occur at most ${def.occurrence.max} time(s) per ${def.parent} (line ${this.lineText(open.line)})`, { line, register: reg });
        }
      }
    }
    if (def.occurrence.scope === 'file' && def.occurrence.max !== null) {
      if (count === def.occurrence.max + 1) {
        this.report('SPED_OCCURRENCE', `${reg} may occur at most ${def.occurrence.max} time(s) in the file`, { line, register: reg });
      }
    }
    const direction = dirAt >= 0 ? this.directionValue(fields.get(dirAt)) : level > 0 ? (this.openAt(level - 1)?.direction ?? null) : null;
    // a level past the open depth leaves the levels below it not open
    for (let l = this.depth; l < level; l++) this.stack[l] = undefined;
    const top = this.stack[level];
    if (top === undefined) this.stack[level] = { code: reg, line, direction, children: null };
    else {
      top.code = reg;
      top.line = line;
      top.direction = direction;
      top.children = null;
    }
    this.depth = level + 1;
    return direction;
  }

  /** The direction a register at `level` inherits: its open parent's (null at level 0 or without a parent). */
  parentDirection(level: number): Direction {
    return level > 0 ? (this.openAt(level - 1)?.direction ?? null) : null;
  }

  /** The direction an IND_OPER value gives. */
  directionValue(v: string | undefined): Direction {
    const dir = this.layout.data.direction!;
    return v === dir.in ? 'in' : v === dir.out ? 'out' : null;
  }
}
