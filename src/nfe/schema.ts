/**
 * The schema facts derived from XSDs: element trees in schema order and which elements repeat. For NF-e
 * (formats/nfe/schema.json, scripts/gen-nfe-schema.mjs) and, with the same shape, for CF-e SAT
 * (formats/cfe/schema.json, scripts/gen-cfe-schema.mjs). Loaded once, read-only.
 */
import { readFileSync } from 'node:fs';

/** [child element name, 1 when it may repeat (maxOccurs > 1), type id of its children or null for a leaf]. */
export type SchemaChild = readonly [name: string, repeats: 0 | 1, type: string | null];

export interface NfeSchema {
  readonly source: string;
  /** Document root element name → type id. */
  readonly roots: Readonly<Record<string, string>>;
  readonly types: Readonly<Record<string, readonly SchemaChild[]>>;
}

/** Lookups over one schema tree, cached. */
export interface SchemaIndex {
  readonly schema: NfeSchema;
  /** The children of a type, by name. */
  childrenByName(typeId: string): Map<string, SchemaChild>;
  /**
   * Whether the element at `path` (element names from the document root, without prefixes) may repeat.
   * Paths that start with a wrapper (a SOAP envelope, nfeDadosMsg) are resolved from the first known root.
   */
  isRepeatingPath(path: readonly string[]): boolean;
  /** Type id of the element at `path`, or null when the schema does not know it. */
  typeAtPath(path: readonly string[]): string | null;
}

/** Reads a schema tree file of formats/ (a URL relative to the calling module). */
export function loadSchema(url: URL): NfeSchema {
  return JSON.parse(readFileSync(url, 'utf8')) as NfeSchema;
}

export function createSchemaIndex(schema: NfeSchema): SchemaIndex {
  const childIndex = new Map<string, Map<string, SchemaChild>>();
  const arrayCache = new Map<string, boolean>();
  const childrenByName = (typeId: string): Map<string, SchemaChild> => {
    let m = childIndex.get(typeId);
    if (!m) {
      m = new Map((schema.types[typeId] ?? []).map((c) => [c[0], c] as const));
      childIndex.set(typeId, m);
    }
    return m;
  };
  return {
    schema,
    childrenByName,
    isRepeatingPath(path) {
      const key = path.join('.');
      const hit = arrayCache.get(key);
      if (hit !== undefined) return hit;
      let result = false;
      const start = path.findIndex((p) => p in schema.roots);
      if (start !== -1 && start < path.length - 1) {
        let type: string | null = schema.roots[path[start]!] ?? null;
        for (let i = start + 1; i < path.length && type; i++) {
          const child = childrenByName(type).get(path[i]!);
          if (!child) break;
          if (i === path.length - 1) result = child[1] === 1;
          type = child[2];
        }
      }
      if (arrayCache.size < 10000) arrayCache.set(key, result);
      return result;
    },
    typeAtPath(path) {
      const start = path.findIndex((p) => p in schema.roots);
      if (start === -1) return null;
      let type: string | null = schema.roots[path[start]!] ?? null;
      for (let i = start + 1; i < path.length && type; i++) type = childrenByName(type).get(path[i]!)?.[2] ?? null;
      return type;
    },
  };
}

// src/nfe/schema.ts and dist/nfe/schema.js are both two levels below the package root
const nfeIndex = createSchemaIndex(loadSchema(new URL('../../formats/nfe/schema.json', import.meta.url)));

export const nfeSchema: NfeSchema = nfeIndex.schema;
export const childrenByName = nfeIndex.childrenByName;
export const isRepeatingPath = nfeIndex.isRepeatingPath;
export const typeAtPath = nfeIndex.typeAtPath;
