/** Field positions by name, per register definition, for the validator's parts that read fields by name. */
import type { RecordFields } from './byte-path.js';
import type { RegisterDef } from './layout.js';

export class FieldPositions {
  /** Per register definition: name → 1-based position (first occurrence of a name, as `find` gives). */
  private readonly positions = new Map<RegisterDef, Map<string, number | undefined>>();

  /** 1-based position of a field name in a register (its first occurrence), cached. */
  of(def: RegisterDef, name: string): number | undefined {
    let positions = this.positions.get(def);
    if (!positions) this.positions.set(def, (positions = new Map()));
    let pos = positions.get(name);
    if (pos === undefined && !positions.has(name)) {
      pos = def.fields.find((f) => f.name === name)?.pos;
      positions.set(name, pos);
    }
    return pos;
  }

  /** The value of a named field in a record, undefined when the register has no such field. */
  value(def: RegisterDef, fields: RecordFields, name: string): string | undefined {
    const pos = this.of(def, name);
    return pos === undefined ? undefined : fields.get(pos - 1);
  }
}
