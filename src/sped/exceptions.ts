/**
 * The Guia Prático's per-register exceptions (layout.ts `DocumentException`, data in formats/sped/rules/), compiled
 * for one register's field list: which rules a record matches (a bit mask, from its `when` fields), and the field
 * requirements, allowed values and allowed children that the matching rules make together. Both validation paths
 * use it: the string path (field-validation.ts) and the byte path (byte-path.ts) get the same merged requirements,
 * and the children rule (`ChildRules`) runs once for both in the validator's shared state logic.
 */
import type { Report } from './findings.js';
import type { DocumentException, FieldDef, Layout, RegisterDef, Requirement } from './layout.js';

/** A rule with its `when` fields resolved to 0-based positions (index in the record, 0 = REG). */
export interface CompiledException {
  readonly rule: DocumentException;
  readonly when: readonly { readonly at: number; readonly values: readonly string[] }[];
}

/** What the rules of one match mask make of a register's fields. */
export interface MergedRules {
  /** Requirement of each field with no direction, for entradas, for saídas. */
  readonly req: readonly Requirement[];
  readonly reqIn: readonly Requirement[];
  readonly reqOut: readonly Requirement[];
  /** Per field, the rule that set its requirement (null: the layout's own). */
  readonly why: readonly (DocumentException | null)[];
  /** Per field, the values it may hold under the rules (null: no limit), and the rule that says so. */
  readonly values: readonly (readonly string[] | null)[];
  readonly valuesWhy: readonly (DocumentException | null)[];
  /** Direct children allowed (null: any) and forbidden, with the rule that limits them. */
  readonly allowedChildren: ReadonlySet<string> | null;
  readonly forbiddenChildren: ReadonlySet<string>;
  readonly childrenWhy: DocumentException | null;
}

/** The exceptions of `def`'s register, against its field list `defs` (a rule naming a field `defs` lacks never matches). */
export function compileExceptions(layout: Layout, def: RegisterDef, defs: readonly FieldDef[]): CompiledException[] {
  const out: CompiledException[] = [];
  for (const rule of layout.data.exceptions ?? []) {
    if (rule.register !== def.code) continue;
    const when = Object.entries(rule.when).map(([name, values]) => ({ at: defs.findIndex((f) => f.name === name), values }));
    if (when.some((w) => w.at < 1)) continue;
    out.push({ rule, when });
  }
  if (out.length > 31) throw new Error(`${def.code}: more than 31 exceptions`);
  return out;
}

/** Bit i set when the record (`get(i)` = field i as text) matches rule i. */
export function matchMask(list: readonly CompiledException[], get: (i: number) => string | undefined): number {
  let mask = 0;
  for (let r = 0; r < list.length; r++) {
    const when = list[r]!.when;
    let ok = true;
    for (let k = 0; k < when.length && ok; k++) {
      const v = get(when[k]!.at);
      ok = v !== undefined && when[k]!.values.includes(v);
    }
    if (ok) mask |= 1 << r;
  }
  return mask;
}

/** The merged rules of a mask over the layout's own requirements (`base*`), for a field list `defs`. */
export function mergeRules(
  list: readonly CompiledException[], mask: number, defs: readonly FieldDef[],
  base: { req: readonly Requirement[]; reqIn: readonly Requirement[]; reqOut: readonly Requirement[] },
): MergedRules {
  const n = defs.length;
  // per field: the override (null: none) and the rule behind it
  const over: (Requirement | null)[] = new Array<Requirement | null>(n).fill(null);
  const why: (DocumentException | null)[] = new Array<DocumentException | null>(n).fill(null);
  const values: (readonly string[] | null)[] = new Array<readonly string[] | null>(n).fill(null);
  const valuesWhy: (DocumentException | null)[] = new Array<DocumentException | null>(n).fill(null);
  let allowed = null as Set<string> | null;
  const forbidden = new Set<string>();
  let childrenWhy: DocumentException | null = null;
  const index = new Map(defs.map((f, i) => [f.name, i] as const));
  for (let r = 0; r < list.length; r++) {
    if ((mask & (1 << r)) === 0) continue;
    const rule = list[r]!.rule;
    const named = new Set<number>();
    const set = (names: readonly string[] | undefined, req: Requirement): void => {
      for (const name of names ?? []) {
        const i = index.get(name);
        if (i === undefined || i === 0) continue;
        over[i] = req;
        why[i] = rule;
        named.add(i);
      }
    };
    set(rule.required, 'O');
    set(rule.optional, 'OC');
    set(rule.empty, 'N');
    if (rule.others) {
      for (let i = 1; i < n; i++) {
        if (named.has(i)) continue;
        over[i] = rule.others === 'empty' ? 'N' : 'OC';
        why[i] = rule;
      }
    }
    for (const [name, vs] of Object.entries(rule.values ?? {})) {
      const i = index.get(name);
      if (i === undefined) continue;
      values[i] = vs;
      valuesWhy[i] = rule;
    }
    if (rule.children?.allowed) {
      const mine = new Set(rule.children.allowed);
      const before: ReadonlySet<string> | null = allowed;
      allowed = before === null ? mine : new Set([...before].filter((c) => mine.has(c)));
      childrenWhy = rule;
    }
    if (rule.children?.forbidden) {
      for (const c of rule.children.forbidden) forbidden.add(c);
      childrenWhy = rule;
    }
  }
  const apply = (reqs: readonly Requirement[]): Requirement[] => reqs.map((r, i) => over[i] ?? r);
  return {
    req: apply(base.req), reqIn: apply(base.reqIn), reqOut: apply(base.reqOut), why, values, valuesWhy,
    allowedChildren: allowed, forbiddenChildren: forbidden, childrenWhy,
  };
}

/** A register's exceptions with their merged rules, one per match mask seen (made once, kept). */
export class RegisterExceptions {
  private readonly merged: (MergedRules | undefined)[] = [];
  constructor(
    readonly list: readonly CompiledException[],
    private readonly defs: readonly FieldDef[],
    private readonly base: { req: readonly Requirement[]; reqIn: readonly Requirement[]; reqOut: readonly Requirement[] },
  ) {}

  /** The merged rules of a (non-zero) match mask. */
  rules(mask: number): MergedRules {
    let m = this.merged[mask];
    if (m === undefined) this.merged[mask] = m = mergeRules(this.list, mask, this.defs, this.base);
    return m;
  }
}

const compiled = new WeakMap<readonly FieldDef[], RegisterExceptions | null>();

/**
 * The exceptions of `def`'s register for its field list `defs` (null: none), compiled once and shared by the
 * string path, the byte path and the children rule, so that a match mask means the same rules everywhere.
 */
export function exceptionsOf(layout: Layout, def: RegisterDef, defs: readonly FieldDef[]): RegisterExceptions | null {
  let ex = compiled.get(defs);
  if (ex === undefined) {
    const list = compileExceptions(layout, def, defs);
    ex = list.length === 0 ? null : new RegisterExceptions(list, defs, baseRequirements(defs));
    compiled.set(defs, ex);
  }
  return ex;
}

/** The layout's own requirements of a field list, with no direction, for entradas, for saídas. */
export function baseRequirements(defs: readonly FieldDef[]): { req: Requirement[]; reqIn: Requirement[]; reqOut: Requirement[] } {
  return {
    req: defs.map((f) => f.required),
    reqIn: defs.map((f) => f.requiredIn ?? f.required),
    reqOut: defs.map((f) => f.requiredOut ?? f.required),
  };
}

/** "an NFC-e (COD_MOD 65) (Guia Prático EFD-ICMS/IPI 3.1.8 (31/10/2024), Registro C100, Exceção 9 …)", for messages. */
export function ruleText(rule: DocumentException): string {
  return `${rule.label} (${rule.source})`;
}

/**
 * The children rules: a record whose exceptions limit its direct children (cancelled documents have none, an
 * NFC-e only C185/C190/C195, …) is remembered while it is open; each direct child it may not have is reported.
 */
export class ChildRules {
  /** The open record whose children are limited, if any. */
  private open: { code: string; level: number; line: number; rules: MergedRules } | null = null;

  constructor(private readonly layout: Layout, private readonly report: Report, private readonly lineText: (line: number) => string = String) {}

  /** The level of the open record whose children are limited (null: none). */
  get openLevel(): number | null {
    return this.open?.level ?? null;
  }

  /** A record whose children are limited is open: every record goes through `record` until it closes. */
  get isOpen(): boolean {
    return this.open !== null;
  }

  /**
   * A known register's record (after its field checks), on either path, with the mask of the exceptions it
   * matches (`matchMask` of `exceptionsOf(…)`, as the path computed it).
   */
  record(def: RegisterDef, defs: readonly FieldDef[], mask: number, line: number): void {
    const open = this.open;
    if (open !== null) {
      if (def.level <= open.level) this.open = null;
      else {
        if (def.level === open.level + 1) this.checkChild(open, def, line);
        return;
      }
    }
    if (mask === 0) return;
    const rules = exceptionsOf(this.layout, def, defs)!.rules(mask);
    if (rules.allowedChildren !== null || rules.forbiddenChildren.size > 0) this.open = { code: def.code, level: def.level, line, rules };
  }

  private checkChild(open: { code: string; line: number; rules: MergedRules }, def: RegisterDef, line: number): void {
    const { allowedChildren: allowed, forbiddenChildren: forbidden, childrenWhy } = open.rules;
    if ((allowed === null || allowed.has(def.code)) && !forbidden.has(def.code)) return;
    const which = allowed !== null && allowed.size === 0 ? 'has no child records' : allowed !== null ? `has only ${[...allowed].join(', ')}` : `has no ${[...forbidden].join(', ')}`;
    this.report('SPED_CHILD_NOT_ALLOWED', `${def.code} under ${open.code} (line ${this.lineText(open.line)}): ${ruleText(childrenWhy!)} ${which}`, { line, register: def.code });
  }

}
