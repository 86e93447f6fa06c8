/**
 * Records of `fiscal sped from-docs` as raw SPED fields (REG first, every field of the register at the file's
 * layout version): a maker per register that takes values by name, so the modules that fill them never count
 * positions.
 */
import type { Layout } from './layout.js';
import { formatSpedDate } from './record.js';

export class RecordMaker {
  private readonly cache = new Map<string, { names: Map<string, number>; size: number }>();
  constructor(readonly layout: Layout, readonly version: string) {}

  /** The record `code` with the given fields (by name; the others empty). */
  make(code: string, values: Readonly<Record<string, string | undefined>>): string[] {
    let e = this.cache.get(code);
    if (!e) {
      const defs = this.layout.fieldsFor(code, this.version);
      if (!defs) throw new Error(`from-docs: no register ${code} in ${this.layout.id} ${this.version}`);
      e = { names: new Map(defs.map((f, i) => [f.name, i] as const).reverse()), size: defs.length };
      this.cache.set(code, e);
    }
    const out = new Array<string>(e.size).fill('');
    out[0] = code;
    for (const name in values) {
      const i = e.names.get(name);
      if (i === undefined) throw new Error(`from-docs: no field ${code}.${name}`);
      out[i] = values[name] ?? '';
    }
    return out;
  }

  /** Whether the register has the field at this version (the layouts differ: 0200 CEST is EFD ICMS/IPI only). */
  has(code: string, name: string): boolean {
    this.make(code, {});
    return this.cache.get(code)!.names.has(name);
  }

  /** The position (0-based, REG = 0) of a field. */
  at(code: string, name: string): number {
    this.make(code, {});
    const i = this.cache.get(code)!.names.get(name);
    if (i === undefined) throw new Error(`from-docs: no field ${code}.${name}`);
    return i;
  }
}

/** An ISO date (or the date part of an ISO date-time) as DDMMAAAA; '' stays ''. */
export function spedDate(iso: string): string {
  return iso ? formatSpedDate(iso.slice(0, 10)) : '';
}
