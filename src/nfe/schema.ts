/**
 * The schema facts derived from the NF-e XSDs by scripts/gen-nfe-schema.mjs (formats/nfe/schema.json): element
 * trees in schema order and which elements repeat. Loaded once, read-only.
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

// src/nfe/schema.ts and dist/nfe/schema.js are both two levels below the package root
export const nfeSchema: NfeSchema = JSON.parse(
  readFileSync(new URL('../../formats/nfe/schema.json', import.meta.url), 'utf8'),
) as NfeSchema;

const childIndex = new Map<string, Map<string, SchemaChild>>();

/** The children of a type, by name (built lazily, then cached). */
export function childrenByName(typeId: string): Map<string, SchemaChild> {
  let m = childIndex.get(typeId);
  if (!m) {
    m = new Map((nfeSchema.types[typeId] ?? []).map((c) => [c[0], c] as const));
    childIndex.set(typeId, m);
  }
  return m;
}

const arrayCache = new Map<string, boolean>();

/**
 * Whether the element at `path` (element names from the document root, without prefixes) may repeat.
 * Paths that start with a wrapper (a SOAP envelope, nfeDadosMsg) are resolved from the first known root.
 */
export function isRepeatingPath(path: readonly string[]): boolean {
  const key = path.join('.');
  const hit = arrayCache.get(key);
  if (hit !== undefined) return hit;
  let result = false;
  let start = path.findIndex((p) => p in nfeSchema.roots);
  if (start !== -1 && start < path.length - 1) {
    let type: string | null = nfeSchema.roots[path[start]!] ?? null;
    for (let i = start + 1; i < path.length && type; i++) {
      const child = childrenByName(type).get(path[i]!);
      if (!child) {
        type = null;
        break;
      }
      if (i === path.length - 1) result = child[1] === 1;
      type = child[2];
    }
  }
  if (arrayCache.size < 10000) arrayCache.set(key, result);
  return result;
}

/** Type id of the element at `path`, or null when the schema does not know it. */
export function typeAtPath(path: readonly string[]): string | null {
  const start = path.findIndex((p) => p in nfeSchema.roots);
  if (start === -1) return null;
  let type: string | null = nfeSchema.roots[path[start]!] ?? null;
  for (let i = start + 1; i < path.length && type; i++) type = childrenByName(type).get(path[i]!)?.[2] ?? null;
  return type;
}
