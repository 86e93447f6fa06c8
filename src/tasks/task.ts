/**
 * The task model (formats/tasks/task.v1.schema.json, docs/tasks.md): parsing and checking a task against the
 * published schema, the options with their defaults, and the idempotency key.
 *
 * Key: SHA-256 (hex) of the canonical JSON (sorted keys, no spaces) of
 * `{"engine": MAJOR, "input": SHA-256 of the input bytes, "options": the options with defaults, "output": where the
 * output goes, "type": TYPE}`, where the output is its absolute path, or its URL without query, fragment or user
 * info (a presigned URL's signature changes at every delivery; the object it names does not). The payload digest
 * recorded in the ledger is the same hash; with a caller's `id` the key is the id and the payload digest still
 * that hash, so the same id with another payload is a TASK_KEY_CONFLICT. The input's name is not part of either:
 * the same bytes from another place are the same work.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { FiscalError, EXIT_FINDINGS, EXIT_USAGE } from '../errors.js';
import { checkSchema, type JsonSchema } from './json-schema.js';
import type { JsonValue } from './ledger.js';

const require = createRequire(import.meta.url);

/** The task schema this engine reads (formats/tasks/task.v1.schema.json). */
export const TASK_SCHEMA: JsonSchema = JSON.parse(readFileSync(new URL('../../formats/tasks/task.v1.schema.json', import.meta.url), 'utf8')) as JsonSchema;

/** The manifest schema (formats/tasks/manifest.v1.schema.json). */
export const MANIFEST_SCHEMA: JsonSchema = JSON.parse(readFileSync(new URL('../../formats/tasks/manifest.v1.schema.json', import.meta.url), 'utf8')) as JsonSchema;

/** The engine's major version: part of every key (a new major may change outputs). */
export const ENGINE_MAJOR: string = (require('../../package.json') as { version: string }).version.split('.')[0] ?? '0';

export type JsonObject = { [key: string]: JsonValue };

export interface Task {
  readonly type: string;
  readonly input: string;
  readonly output: string;
  /** As given (defaults are not filled in; see optionsWithDefaults). */
  readonly options: Readonly<JsonObject>;
  readonly id?: string;
}

/** A task error: the codes of docs/errors.md (Tasks). */
export class TaskError extends FiscalError {
  constructor(code: 'TASK_MALFORMED' | 'TASK_UNKNOWN_TYPE' | 'TASK_INPUT' | 'TASK_OUTPUT', message: string, options?: { cause?: unknown }) {
    super(code, message, code === 'TASK_MALFORMED' || code === 'TASK_UNKNOWN_TYPE' ? EXIT_USAGE : EXIT_FINDINGS, options);
  }
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const defs = TASK_SCHEMA.$defs as { [type: string]: JsonObject };

/** The task types the schema knows, in its order. */
export const TASK_TYPES: readonly string[] = Object.keys(defs);

/** Whether a type's output is one file or a directory (the schema's `x-output`). */
export function outputKind(type: string): 'file' | 'directory' {
  return defs[type]?.['x-output'] === 'directory' ? 'directory' : 'file';
}

/** The option names of a type, from the schema. */
export function optionNames(type: string): string[] {
  const props = defs[type]?.properties;
  return isObject(props) ? Object.keys(props) : [];
}

/**
 * Checks a parsed JSON value as a task: TASK_UNKNOWN_TYPE for a type the engine does not have, TASK_MALFORMED
 * naming the JSON path of anything else (`$.options.maxErrors: expected a whole number, got a string`).
 * `where` prefixes the message (`tasks.jsonl line 3`).
 */
export function parseTask(value: unknown, where?: string): Task {
  const at = where ? `${where}: ` : '';
  if (!isObject(value)) throw new TaskError('TASK_MALFORMED', `${at}$: a task is a JSON object`);
  const type = value.type;
  if (typeof type === 'string' && !TASK_TYPES.includes(type)) {
    throw new TaskError('TASK_UNKNOWN_TYPE', `${at}$.type: unknown task type ${JSON.stringify(type)} (known: ${TASK_TYPES.join(', ')})`);
  }
  const problems = checkSchema(value, TASK_SCHEMA);
  if (problems.length > 0) {
    const p = problems[0]!;
    throw new TaskError('TASK_MALFORMED', `${at}${p.path}: ${p.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`);
  }
  return {
    type: type as string,
    input: value.input as string,
    output: value.output as string,
    options: isObject(value.options) ? value.options : {},
    ...(typeof value.id === 'string' ? { id: value.id } : {}),
  };
}

/** Parses task text (one JSON task); malformed JSON is TASK_MALFORMED. */
export function parseTaskJson(text: string, where?: string): Task {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TaskError('TASK_MALFORMED', `${where ? `${where}: ` : ''}not JSON: ${(err as Error).message}`);
  }
  return parseTask(value, where);
}

/** The options with the schema's defaults filled in (what the key is computed over: `{}` and the defaults are one task). */
export function optionsWithDefaults(task: Task): JsonObject {
  const props = defs[task.type]?.properties;
  const out: JsonObject = {};
  if (isObject(props)) {
    for (const [name, p] of Object.entries(props)) if (isObject(p) && p.default !== undefined) out[name] = p.default;
  }
  return { ...out, ...task.options };
}

/** JSON with object keys sorted at every level and no whitespace. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The task's ledger key and payload digest, once its input's digest is known. `output` is the output's identity:
 * its absolute path, or its URL without query (outputIdentity in io.ts).
 */
export function taskKey(task: Task, inputSha256: string, output: string): { key: string; payloadDigest: string } {
  const payloadDigest = sha256Hex(canonicalJson({ engine: ENGINE_MAJOR, input: inputSha256, options: optionsWithDefaults(task), output, type: task.type }));
  return { key: task.id ?? payloadDigest, payloadDigest };
}
