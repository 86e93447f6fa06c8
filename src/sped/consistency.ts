/**
 * Consistency warnings: a document's declared totals against the sum of its analytic records (documentTotals),
 * its items against its analytic records per group (itemsVsAnalytic: CST/CFOP/rate), and the ICMS apuration
 * against the analytic records of the whole file. One document is open at a time; its state (doc-sums.ts) is
 * reused from one document to the next, and sums are exact (exact-sum.ts).
 */
import { Decimal } from '../common/decimal.js';
import type { RecordFields } from './byte-path.js';
import { DocumentSums, groupKeyOfText, type SumGroup } from './doc-sums.js';
import { ExactSum } from './exact-sum.js';
import type { Report } from './findings.js';
import type { ApurationRule, DocumentTotalsRule, ItemsVsAnalyticRule, Layout, RegisterDef } from './layout.js';
import type { FieldPositions } from './positions.js';

/** The consistency rules a register takes part in, with field positions resolved. */
export interface ConsistencyPlan {
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

/** An apuration check a range leaves to the merge: the declared totals and the range's own sums, as decimal text. */
export interface ApurationCheck {
  reg: string;
  line: number;
  declaredDebits: string;
  declaredCredits: string;
  debits: string;
  credits: string;
}

export class Consistency {
  /** The open document: its state, register and plan (`docDef`/`docPlan` are stale while `doc` is null). */
  private doc: DocumentSums | null = null;
  private docDef: RegisterDef | null = null;
  private docPlan: ConsistencyPlan | null = null;
  private readonly apurationSums = { debits: new ExactSum(), credits: new ExactSum() };
  private apurationMatch: ApurationMatch | null = null;
  /** Per register: the consistency rules it takes part in, with field positions resolved. */
  private readonly plans = new Map<string, ConsistencyPlan>();
  /** The slot of each analytic field's name in `Sums`. */
  private readonly sumSlots = new Map<string, number>();

  /** Merge: apuration sums of the ranges already merged (the exact sums hold this thread's own records). */
  private apurationMerged = { debits: Decimal.ZERO, credits: Decimal.ZERO };
  /**
   * Range worker: a document may be open from before the range (`continueDocument`): the first record that
   * closes it calls `onInherited` instead (the merge puts the previous range's closing findings there). Apuration
   * checks go to `deferApuration` (their sums include the ranges before).
   */
  private inheritedOpen = false;
  private onInherited: ((level: number) => void) | null = null;
  deferApuration: ((item: ApurationCheck) => void) | null = null;

  constructor(
    private readonly layout: Layout,
    private readonly positions: FieldPositions,
    private readonly report: Report,
  ) {}

  /** Range worker: a document may be open from before the range; `onInherited(level)` is called where it closes. */
  continueDocument(onInherited: (level: number) => void): void {
    this.inheritedOpen = true;
    this.onInherited = onInherited;
  }

  /** Range worker: whether the document from before the range is still open. */
  get inheritedStillOpen(): boolean {
    return this.inheritedOpen;
  }

  /** The level of the open document (null: none). */
  get openLevel(): number | null {
    return this.doc?.level ?? null;
  }

  /** The apuration sums so far (this thread's records and the ranges merged). */
  apurationTotals(): { debits: Decimal; credits: Decimal } {
    return {
      debits: this.apurationSums.debits.toDecimal().add(this.apurationMerged.debits),
      credits: this.apurationSums.credits.toDecimal().add(this.apurationMerged.credits),
    };
  }

  /** Merge: a range's apuration sums. */
  addApuration(debits: Decimal, credits: Decimal): void {
    this.apurationMerged = { debits: this.apurationMerged.debits.add(debits), credits: this.apurationMerged.credits.add(credits) };
  }

  /** Merge: a range's deferred apuration check, with the sums of the ranges before it added. */
  resolveApuration(item: ApurationCheck): void {
    const before = this.apurationTotals();
    this.checkApuration(item.reg, item.line, Decimal.from(item.declaredDebits), Decimal.from(item.declaredCredits), before.debits.add(Decimal.from(item.debits)), before.credits.add(Decimal.from(item.credits)));
  }

  private checkApuration(reg: string, line: number, declaredDebits: Decimal, declaredCredits: Decimal, debits: Decimal, credits: Decimal): void {
    const ap = this.layout.data.consistency.apuration!;
    const def = this.layout.register(reg)!;
    for (const [field, declared, sum, what] of [[ap.debits, declaredDebits, debits, 'debits'], [ap.credits, declaredCredits, credits, 'credits']] as const) {
      if (!declared.equals(sum)) {
        this.report('SPED_CONSISTENCY', `${reg} ${field} is ${declared.format(',', 2)}; the ICMS ${what} of the analytic records (${ap.sources.slice(0, 4).join(', ')}, …) add up to ${sum.format(',', 2)}`, {
          line, register: reg, field, position: def.fields.find((f) => f.name === field)?.pos ?? null, severity: 'warning',
        });
      }
    }
  }

  /**
   * A known register's record, with its plan (`planOf`, kept by the caller) and its count in the file so far:
   * closes the open document when the record is not under it, opens a document, adds to the sums.
   */
  record(def: RegisterDef, plan: ConsistencyPlan, count: number, fields: RecordFields, line: number): void {
    const reg = def.code;
    if (this.inheritedOpen) {
      this.inheritedOpen = false;
      this.onInherited!(def.level);
    }
    if (this.doc !== null && def.level <= this.doc.level) this.closeDocument();
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
      } else if (reg === ap.register && count === 1) {
        const declaredDebits = this.decimalOf(def, fields, ap.debits);
        const declaredCredits = this.decimalOf(def, fields, ap.credits);
        const sums = this.apurationTotals();
        if (this.deferApuration !== null) {
          this.deferApuration({
            reg, line, declaredDebits: declaredDebits.toString(), declaredCredits: declaredCredits.toString(), debits: sums.debits.toString(), credits: sums.credits.toString(),
          });
        } else this.checkApuration(reg, line, declaredDebits, declaredCredits, sums.debits, sums.credits);
      }
    }
  }

  /** The consistency rules a register takes part in, resolved once (positions from the register's fields). */
  planOf(def: RegisterDef): ConsistencyPlan {
    const reg = def.code;
    let plan = this.plans.get(reg);
    if (plan) return plan;
    const rules = this.layout.data.consistency;
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
    this.plans.set(reg, plan);
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

  private groupPart(def: RegisterDef, fields: RecordFields, name: string): string {
    const v = this.positions.value(def, fields, name) ?? '';
    const d = Decimal.parse(v, ',');
    return d && /,/.test(v) ? d.format(',', 2) : d && def.fields.find((f) => f.name === name)?.decimals !== undefined ? d.format(',', 2) : v;
  }

  private decimalOf(def: RegisterDef, fields: RecordFields, name: string): Decimal {
    const v = this.positions.value(def, fields, name);
    return (v && Decimal.parse(v, ',')) || Decimal.ZERO;
  }

  /** The end of the file: the open document, if any, is closed. */
  finish(): void {
    if (this.doc) this.closeDocument();
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

