/**
 * The SPED layout registry: formats/sped/<layout>.json loaded as data (registers, fields, versions, rules).
 * Nothing about a particular layout version is code: a new COD_VER is a change to the JSON only.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

export const LAYOUT_IDS = ['efd-icms-ipi', 'efd-contribuicoes', 'ecd'] as const;
export type LayoutId = (typeof LAYOUT_IDS)[number];

export type Requirement = 'O' | 'OC' | 'N';

export interface FieldDef {
  readonly pos: number;
  readonly name: string;
  readonly type: 'C' | 'N';
  readonly size?: number;
  readonly exact?: boolean;
  readonly decimals?: number;
  readonly required: Requirement;
  readonly requiredIn?: Requirement;
  readonly requiredOut?: Requirement;
  readonly format?: 'date' | 'period' | 'cnpj' | 'cpf' | 'cnpj-cpf' | 'cnpj-root' | 'access-key';
  readonly since?: string;
  readonly period?: 'within' | 'notAfterEnd';
  readonly values?: readonly string[];
  readonly note?: string;
}

export interface Occurrence {
  readonly scope: 'file' | 'parent';
  readonly min: number;
  readonly max: number | null;
}

export interface RegisterDef {
  readonly code: string;
  readonly block: string;
  readonly level: number;
  readonly parent: string | null;
  readonly occurrence: Occurrence;
  readonly name: string;
  readonly since?: string;
  readonly variableFields?: boolean;
  readonly fields: readonly FieldDef[];
  readonly legacyFields?: { readonly maxVersion: string; readonly fields: readonly FieldDef[] };
}

export interface BlockDef {
  readonly block: string;
  /** The block exists from this version on. */
  readonly since?: string;
  /** The block may be left out of a file. */
  readonly optional?: boolean;
}

/**
 * One of the Guia Prático's per-register exceptions (formats/sped/rules/<layout>.json, `exceptions`): when every
 * `when` field of a record holds one of its values, the record's field requirements change (`required` → O,
 * `optional` → OC, `empty` → N; `others` for the fields the rule does not name), some fields may hold only some
 * values, and its direct children may be limited. Rules are applied in file order, each over the previous, so the
 * later (more specific) ones win for the fields they name; children lists combine as the most restrictive.
 */
export interface DocumentException {
  readonly register: string;
  /** What the exception is about, with its article, for messages (e.g. "an NFC-e (COD_MOD 65)"). */
  readonly label: string;
  readonly when: Readonly<Record<string, readonly string[]>>;
  readonly required?: readonly string[];
  readonly optional?: readonly string[];
  readonly empty?: readonly string[];
  readonly others?: 'empty' | 'optional';
  /** Fields that may hold only these values. */
  readonly values?: Readonly<Record<string, readonly string[]>>;
  /** Direct children: only these registers (`allowed`, [] for none) or all but these (`forbidden`). */
  readonly children?: { readonly allowed?: readonly string[]; readonly forbidden?: readonly string[] };
  /** Guia Prático version and section the rule comes from. */
  readonly source: string;
}

export interface ReferenceRule {
  readonly fields: readonly string[];
  readonly target: string;
  readonly key: string;
  readonly in?: readonly string[];
  /** How a value matches a key: byte for byte (default), or letters without case (`ignore-case`). */
  readonly match?: 'exact' | 'ignore-case';
}

export interface DocumentTotalsRule {
  readonly document: string;
  readonly analytic: string;
  readonly when?: { readonly field: string; readonly in: readonly string[] };
  readonly pairs: Readonly<Record<string, string>>;
}

export interface ItemsVsAnalyticRule {
  readonly document: string;
  readonly item: string;
  readonly analytic: string;
  readonly groupBy: Readonly<Record<string, string>>;
  readonly pairs: Readonly<Record<string, string>>;
}

export interface ApurationRule {
  readonly register: string;
  readonly debits: string;
  readonly credits: string;
  readonly sources: readonly string[];
  readonly amount: string;
  readonly cfop: string;
  readonly debitPrefixes: readonly string[];
  readonly creditPrefixes: readonly string[];
  readonly excludeCfops: readonly string[];
}

export interface LayoutData {
  readonly layout: LayoutId;
  readonly name: string;
  readonly layoutVersion: string;
  readonly identify: { readonly register: string; readonly datesAt?: readonly number[]; readonly literal?: Readonly<Record<string, string>> };
  readonly version: { readonly register: string; readonly field: string; readonly pad?: number };
  readonly validatedFrom: string;
  readonly versions: readonly { readonly version: string; readonly from: string | null; readonly to: string | null }[];
  readonly period: { readonly register: string; readonly start: string; readonly end: string };
  readonly company: { readonly register: string; readonly name: string; readonly cnpj: string; readonly cpf?: string };
  readonly direction: { readonly field: string; readonly in: string; readonly out: string; readonly registers: readonly string[] } | null;
  readonly blocks: readonly BlockDef[];
  readonly exceptions: readonly DocumentException[];
  readonly references: readonly ReferenceRule[];
  readonly consistency: {
    readonly documentTotals?: readonly DocumentTotalsRule[];
    readonly itemsVsAnalytic?: readonly ItemsVsAnalyticRule[];
    readonly apuration?: ApurationRule;
  };
  readonly registers: readonly RegisterDef[];
}

/** Compares two layout versions ("014" < "020", "8.00" < "9.00"). */
export function compareVersions(a: string, b: string): number {
  return Number(a) - Number(b);
}

/** A loaded layout with fast lookups. */
export class Layout {
  readonly id: LayoutId;
  readonly data: LayoutData;
  readonly registers: ReadonlyMap<string, RegisterDef>;
  /** Position of each block in the file order. */
  readonly blockIndex: ReadonlyMap<string, number>;
  private readonly fieldCache = new Map<string, readonly FieldDef[]>();

  constructor(data: LayoutData) {
    this.id = data.layout;
    this.data = data;
    this.registers = new Map(data.registers.map((r) => [r.code, r]));
    this.blockIndex = new Map(data.blocks.map((b, i) => [b.block, i]));
  }

  get name(): string {
    return this.data.name;
  }

  register(code: string): RegisterDef | undefined {
    return this.registers.get(code);
  }

  /** Blocks the file must carry for a version (a block with `since` exists from that version on). */
  blocksFor(version: string | null): readonly BlockDef[] {
    return this.data.blocks.filter((b) => !b.since || version === null || compareVersions(version, b.since) >= 0);
  }

  /** The field list of a register for a version: fields appended later (`since`) are left out of older versions. */
  fieldsFor(code: string, version: string | null): readonly FieldDef[] | undefined {
    const key = `${code}@${version}`;
    const cached = this.fieldCache.get(key);
    if (cached) return cached;
    const reg = this.registers.get(code);
    if (!reg) return undefined;
    let fields = reg.fields;
    if (version !== null) {
      if (reg.legacyFields && compareVersions(version, reg.legacyFields.maxVersion) <= 0) fields = reg.legacyFields.fields;
      else fields = fields.filter((f) => !f.since || compareVersions(version, f.since) >= 0);
    }
    this.fieldCache.set(key, fields);
    return fields;
  }

  /** True when the version is one the registry models exactly. */
  isValidated(version: string): boolean {
    return compareVersions(version, this.data.validatedFrom) >= 0;
  }

  isKnownVersion(version: string): boolean {
    return this.data.versions.some((v) => v.version === version);
  }
}

const cache = new Map<LayoutId, Layout>();
const formatsDir = new URL('../../formats/sped/', import.meta.url);

/** Loads a layout by id (cached). */
export function loadLayout(id: LayoutId): Layout {
  let layout = cache.get(id);
  if (!layout) {
    if (!(LAYOUT_IDS as readonly string[]).includes(id)) {
      throw new UsageError(`unknown layout '${id}' (expected one of ${LAYOUT_IDS.join(', ')})`, 'SPED_LAYOUT_UNKNOWN');
    }
    const data = JSON.parse(readFileSync(new URL(`${id}.json`, formatsDir), 'utf8')) as LayoutData;
    layout = new Layout(data);
    cache.set(id, layout);
  }
  return layout;
}

export function isLayoutId(value: string): value is LayoutId {
  return (LAYOUT_IDS as readonly string[]).includes(value);
}

/**
 * Detects the layout from the raw fields of a 0000 record (fields[0] = '0000'), using each layout's
 * `identify` rule (a literal at a position, or positions that must hold ddmmaaaa dates).
 */
export function detectLayout(fields0000: readonly string[]): LayoutId | null {
  for (const id of LAYOUT_IDS) {
    const rule = loadLayout(id).data.identify;
    if (rule.literal && Object.entries(rule.literal).every(([pos, v]) => fields0000[Number(pos) - 1] === v)) return id;
    if (rule.datesAt && rule.datesAt.every((pos) => /^\d{8}$/.test(fields0000[pos - 1] ?? ''))) return id;
  }
  return null;
}
