/**
 * References to block 0: a field that names a code (COD_ITEM, COD_PART, UNID, …) must match the key of a target
 * record seen before it. Target keys are collected as their records arrive, on their bytes (code-set.ts); memory
 * grows with distinct codes. A rule with `match: "ignore-case"` (UNID → 0190 in EFD ICMS/IPI) compares letters
 * without case.
 */
import type { RecordFields } from './byte-path.js';
import { CodeSet, type CodeSetData } from './code-set.js';
import { clip } from './field-validation.js';
import type { Report } from './findings.js';
import type { Layout } from './layout.js';

/** A referencing field of a register: 0-based and 1-based position, the target's key set, target and field name. */
export interface RefCheck {
  at: number;
  pos: number;
  keys: CodeSet;
  target: string;
  name: string;
}

/** A register's part in the references, resolved once per register (kept on the validator's per-register state). */
export interface RegisterRefs {
  /** A reference target: the 0-based position of its key and the keys seen; -1 and null otherwise. */
  keyAt: number;
  keys: CodeSet | null;
  /** Its referencing fields, each with the target's key set. */
  refs: RefCheck[];
}

export class References {
  /** Target register → the keys seen. */
  private readonly sets = new Map<string, CodeSet>();
  /** Register → its referencing fields (1-based position, target, name). */
  private readonly checks = new Map<string, { pos: number; target: string; name: string }[]>();
  /** Target register → 1-based key position. */
  private readonly keyPos = new Map<string, number>();

  constructor(layout: Layout, private readonly report: Report) {
    for (const rule of layout.data.references) {
      const keyPos = layout.register(rule.target)?.fields.find((f) => f.name === rule.key)?.pos;
      if (!keyPos) continue;
      this.keyPos.set(rule.target, keyPos);
      this.sets.set(rule.target, new CodeSet(rule.match === 'ignore-case'));
      for (const reg of layout.data.registers) {
        if (reg.code === rule.target) continue;
        if (rule.in && !rule.in.includes(reg.code)) continue;
        for (const f of reg.fields) {
          if (!rule.fields.includes(f.name)) continue;
          const list = this.checks.get(reg.code) ?? [];
          list.push({ pos: f.pos, target: rule.target, name: f.name });
          this.checks.set(reg.code, list);
        }
      }
    }
  }

  /**
   * Range worker: a reference this range cannot resolve (its key is in neither the sets it started with nor the
   * keys it added before) goes to `defer`: the merge reports it unless an earlier range added the key.
   */
  defer: ((item: { target: string; key: string; finding: Parameters<Report> }) => void) | null = null;

  /** The target sets, as data (for a range worker to start with). */
  exportSets(): [string, CodeSetData][] {
    return [...this.sets].map(([target, set]) => [target, set.export()]);
  }

  /** Range worker: starts from the sets of the part of the file before the range. Call before `of`. */
  restoreSets(sets: readonly [string, CodeSetData][]): void {
    for (const [target, data] of sets) this.sets.set(target, CodeSet.restore(data));
  }

  /** Keys per target after the first `sizes[target]` (the keys a range added), as canonical bytes. */
  keysSince(sizes: ReadonlyMap<string, number>): [string, Uint8Array[]][] {
    const out: [string, Uint8Array[]][] = [];
    for (const [target, set] of this.sets) if (set.size > (sizes.get(target) ?? 0)) out.push([target, set.keysSince(sizes.get(target) ?? 0)]);
    return out;
  }

  /** Key counts per target. */
  sizes(): Map<string, number> {
    return new Map([...this.sets].map(([target, set]) => [target, set.size]));
  }

  /** Merge: keys a range added. */
  addKeys(keys: readonly [string, readonly Uint8Array[]][]): void {
    for (const [target, list] of keys) for (const k of list) this.sets.get(target)!.addCanonical(k);
  }

  /** Merge: whether `key` (text) is a key of `target` now. */
  hasKey(target: string, key: string): boolean {
    return this.sets.get(target)?.hasText(key) ?? false;
  }

  /** A register's part in the references, resolved (call once per register code). */
  of(reg: string): RegisterRefs {
    const keyPos = this.keyPos.get(reg);
    return {
      keyAt: keyPos === undefined ? -1 : keyPos - 1,
      keys: keyPos === undefined ? null : this.sets.get(reg)!,
      refs: (this.checks.get(reg) ?? []).map((c) => ({ at: c.pos - 1, pos: c.pos, keys: this.sets.get(c.target)!, target: c.target, name: c.name })),
    };
  }

  /** A record: its key joins its target set; each referencing field must be empty or a key already seen. */
  check(st: RegisterRefs, reg: string, fields: RecordFields, line: number): void {
    if (st.keyAt >= 0) fields.addKeyTo(st.keys!, st.keyAt);
    for (let i = 0; i < st.refs.length; i++) {
      const c = st.refs[i]!;
      if (fields.isEmptyOrIn(c.at, c.keys)) continue;
      const v = fields.get(c.at) ?? '';
      const missing: Parameters<Report> = ['SPED_REF_MISSING', `${c.name} '${clip(v)}' has no ${c.target} record`, { line, register: reg, field: c.name, position: c.pos }];
      if (this.defer !== null) this.defer({ target: c.target, key: v, finding: missing });
      else this.report(...missing);
    }
  }
}
