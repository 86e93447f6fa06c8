/**
 * A small JSON Schema checker for the schemas this project publishes (formats/tasks/*.schema.json): the keywords
 * they use — type, enum, const, properties, required, additionalProperties, items, minimum, minLength,
 * maxLength, pattern, not, oneOf, allOf, if/then and local `$ref`s (#/$defs/…) — with errors that name the JSON
 * path of the value (`$.options.maxErrors`). A keyword it does not know is an error in the schema, not ignored.
 */
import type { JsonValue } from './ledger.js';

export type JsonSchema = { readonly [keyword: string]: JsonValue };

export interface SchemaProblem {
  /** The JSON path of the offending value: `$`, `$.options.maxErrors`, `$.options.schemas[1]`. */
  readonly path: string;
  readonly message: string;
}

const KNOWN = new Set([
  '$schema', '$id', '$defs', 'title', 'description', 'default', 'x-output',
  'type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'items', 'minimum', 'minLength',
  'maxLength', 'pattern', 'not', 'oneOf', 'allOf', 'if', 'then', '$ref',
]);

function typeOf(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function isObject(v: JsonValue | undefined): v is { [key: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function equal(a: JsonValue, b: JsonValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** Checks `value` against `schema` (whose `$ref`s resolve in `root`); returns the problems, first found first. */
export function checkSchema(value: JsonValue, schema: JsonSchema, root: JsonSchema = schema, path = '$'): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const add = (message: string, at = path): void => void problems.push({ path: at, message });
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`json-schema: keyword ${k} is not supported (at ${path})`);
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const m = /^#\/\$defs\/(.+)$/.exec(ref);
    const target = m && isObject(root.$defs) ? root.$defs[m[1]!] : undefined;
    if (!isObject(target)) throw new Error(`json-schema: cannot resolve ${ref}`);
    problems.push(...checkSchema(value, target, root, path));
  }
  const t = schema.type;
  if (t !== undefined) {
    const types = Array.isArray(t) ? t : [t];
    const actual = typeOf(value);
    const ok = types.some((x) => x === actual || (x === 'number' && actual === 'integer'));
    if (!ok) {
      add(`expected ${types.map((x) => (x === 'integer' ? 'a whole number' : x === 'array' || x === 'object' ? `an ${x}` : `a ${x}`)).join(' or ')}, got ${actual === 'integer' || actual === 'number' ? `${actual === 'integer' ? 'a whole number' : 'a number'} (${String(value)})` : actual === 'string' ? `a string` : actual}`);
      return problems;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => equal(e, value))) {
    add(`expected one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(value)}`);
  }
  if (schema.const !== undefined && !equal(schema.const, value)) add(`expected ${JSON.stringify(schema.const)}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) add(`expected at least ${schema.minimum}, got ${value}`);
  }
  if (typeof value === 'string') {
    const n = [...value].length;
    if (typeof schema.minLength === 'number' && n < schema.minLength) add(schema.minLength === 1 ? 'must not be empty' : `expected at least ${schema.minLength} characters`);
    if (typeof schema.maxLength === 'number' && n > schema.maxLength) add(`expected at most ${schema.maxLength} characters, got ${n}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) add(`does not match ${schema.pattern}`);
  }
  if (Array.isArray(value) && isObject(schema.items)) {
    value.forEach((v, i) => problems.push(...checkSchema(v, schema.items as JsonSchema, root, child(path, i))));
  }
  if (isObject(value)) {
    const props = isObject(schema.properties) ? schema.properties : {};
    if (Array.isArray(schema.required)) {
      for (const r of schema.required) if (typeof r === 'string' && !(r in value)) add(`${r} is required`, child(path, r));
    }
    for (const [k, v] of Object.entries(value)) {
      const p = props[k];
      if (isObject(p)) problems.push(...checkSchema(v, p, root, child(path, k)));
      else if (schema.additionalProperties === false) {
        const allowed = Object.keys(props);
        add(`unknown ${path.endsWith('.options') ? 'option' : 'property'}${allowed.length ? ` (known: ${allowed.join(', ')})` : ' (none is known here)'}`, child(path, k));
      } else if (isObject(schema.additionalProperties)) problems.push(...checkSchema(v, schema.additionalProperties, root, child(path, k)));
    }
  }
  if (isObject(schema.not) && checkSchema(value, schema.not, root, path).length === 0) add(`must not be ${JSON.stringify(value)}`);
  if (Array.isArray(schema.allOf)) for (const s of schema.allOf) if (isObject(s)) problems.push(...checkSchema(value, s, root, path));
  if (Array.isArray(schema.oneOf)) {
    const matching = schema.oneOf.filter((s) => isObject(s) && checkSchema(value, s, root, path).length === 0).length;
    if (matching !== 1) add(matching === 0 ? 'matches none of the allowed forms' : 'matches more than one of the allowed forms');
  }
  if (isObject(schema.if) && checkSchema(value, schema.if, root, path).length === 0 && isObject(schema.then)) {
    problems.push(...checkSchema(value, schema.then, root, path));
  }
  return problems;
}
