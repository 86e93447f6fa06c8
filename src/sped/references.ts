/**
 * References to block 0: a field that names a code (COD_ITEM, COD_PART, UNID, …) must match the key of a target
 * record seen before it. Target keys are collected as their records arrive, on their bytes (code-set.ts); memory
 * grows with distinct codes. A rule with `match: "ignore-case"` (UNID → 0190 in EFD ICMS/IPI) compares letters
 * without case.
 */
import type { RecordFields } from './byte-path.js';
import { CodeSet } from './code-set.js';
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
      this.report('SPED_REF_MISSING', `${c.name} '${clip(v)}' has no ${c.target} record`, { line, register: reg, field: c.name, position: c.pos });
    }
  }
}
