/**
 * Celery's task message (protocol v2, JSON serializer) and its `rpc://` result, as plain data (docs/celery.md).
 * No AMQP here: src/queue/celery.ts hands in a message's body, properties and headers, and publishes what
 * `celeryResult` builds.
 *
 * A message this worker cannot run faithfully is refused (a `CeleryRefusal` with a code) rather than run
 * half-way: protocol v1 or another serializer (CELERY_PROTOCOL), another task name (CELERY_TASK_NAME), other
 * arguments than `[task]` (CELERY_ARGS), callbacks, errbacks, chains or chords (CELERY_UNSUPPORTED).
 */
import type { TaskManifest } from '../tasks/run-task.js';

/** The one task name this worker runs: `app.send_task("fiscal.run", args=[task])`. */
export const CELERY_TASK_NAME = 'fiscal.run';

/** Codes recorded (never thrown) for Celery messages; documented in docs/errors.md. */
export const CELERY_CODES = ['CELERY_PROTOCOL', 'CELERY_TASK_NAME', 'CELERY_ARGS', 'CELERY_UNSUPPORTED', 'CELERY_EXPIRED'] as const;
export type CeleryCode = (typeof CELERY_CODES)[number];

/** What the broker gives with a message (amqplib's names). */
export interface CeleryMessageProperties {
  readonly contentType?: string | undefined;
  readonly contentEncoding?: string | undefined;
  readonly correlationId?: string | undefined;
  readonly replyTo?: string | undefined;
  readonly priority?: number | undefined;
  readonly headers?: Readonly<Record<string, unknown>> | undefined;
}

/** Where and whether a result goes: the rpc:// backend's reply queue and the task id. */
export interface CeleryReply {
  /** The Celery task id (header `id`); also the result's correlation_id. */
  readonly id: string;
  /** The reply queue (property reply_to), or null: no result is published (another backend, or none). */
  readonly replyTo: string | null;
}

/** A message that can be run. Times are epoch ms; null when the header is absent. */
export interface CeleryRequest extends CeleryReply {
  readonly kind: 'request';
  /** args[0]: the task (task.v1 JSON), checked by runTask. */
  readonly task: unknown;
  /** Header `retries` (0 the first time): the attempt is retries + 1. */
  readonly retries: number;
  readonly eta: number | null;
  readonly expires: number | null;
  /** Header `timelimit[0]` (hard, seconds) in ms. */
  readonly timeLimitMs: number | null;
  /** Header `timelimit[1]` (soft, seconds) in ms: read, not enforced (docs/celery.md). */
  readonly softTimeLimitMs: number | null;
  readonly priority: number;
}

/** A message refused before running: answered with a FAILURE result carrying the code, and acked. */
export interface CeleryRefusal extends CeleryReply {
  readonly kind: 'refusal';
  readonly code: CeleryCode;
  readonly message: string;
  /** args[0] when it could be read (for the log's task type), else null. */
  readonly task: unknown;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Python's `datetime.isoformat()`: with an offset, or naive (taken as UTC, Celery's default timezone). */
export function parseCeleryTime(value: unknown): number | null | 'bad' {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') return 'bad';
  const m = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?$/.exec(value.trim());
  if (!m) return 'bad';
  const ms = Date.parse(`${m[1]!.replace(' ', 'T')}${m[2] ?? 'Z'}`);
  return Number.isFinite(ms) ? ms : 'bad';
}

function seconds(value: unknown): number | null | 'bad' {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return 'bad';
  return value === 0 ? null : Math.round(value * 1000);
}

function nonEmpty(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** Reads one Celery message; never throws. */
export function parseCeleryMessage(content: Buffer, props: CeleryMessageProperties): CeleryRequest | CeleryRefusal {
  const h = props.headers ?? {};
  const replyTo = str(props.replyTo);
  let body: unknown;
  let parsed = false;
  const contentType = props.contentType ?? '';
  const encoding = (props.contentEncoding ?? 'utf-8').toLowerCase();
  if (contentType === 'application/json' && (encoding === 'utf-8' || encoding === 'utf8')) {
    try {
      body = JSON.parse(content.toString('utf8'));
      parsed = true;
    } catch {
      // refused below
    }
  }
  // protocol v1 carries the id and the task name in a dict body; v2 in headers
  const v1 = parsed && isObject(body) && typeof body.task === 'string' && h.task === undefined ? body : null;
  const id = str(h.id) ?? str(v1?.id) ?? str(props.correlationId) ?? '';
  const refuse = (code: CeleryCode, message: string, task: unknown = null): CeleryRefusal => ({ kind: 'refusal', id, replyTo, code, message, task });

  if (contentType !== 'application/json') {
    return refuse('CELERY_PROTOCOL', `content type ${JSON.stringify(contentType)}: this worker takes Celery's JSON serializer only (serializer='json', content type application/json)`);
  }
  if (encoding !== 'utf-8' && encoding !== 'utf8') return refuse('CELERY_PROTOCOL', `content encoding ${JSON.stringify(encoding)}: expected utf-8`);
  if (!parsed) return refuse('CELERY_PROTOCOL', 'the body is not JSON');
  if (v1) return refuse('CELERY_PROTOCOL', 'Celery message protocol 1: this worker takes protocol 2 (task_protocol=2, the default since Celery 4)');
  const name = h.task;
  if (typeof name !== 'string') return refuse('CELERY_PROTOCOL', 'no "task" header: not a Celery protocol 2 message');
  if (id === '') return refuse('CELERY_PROTOCOL', 'no "id" header: not a Celery protocol 2 message');
  if (!Array.isArray(body) || body.length !== 3 || !Array.isArray(body[0]) || !isObject(body[1]) || !(body[2] === null || isObject(body[2]))) {
    return refuse('CELERY_PROTOCOL', 'the body is not [args, kwargs, embed]: not a Celery protocol 2 message');
  }
  const [args, kwargs, embed] = body as [unknown[], Json, Json | null];
  const task = args.length > 0 ? args[0] : null;
  if (name !== CELERY_TASK_NAME) return refuse('CELERY_TASK_NAME', `task ${JSON.stringify(name)}: this worker runs only ${CELERY_TASK_NAME}`, task);
  if (args.length !== 1 || Object.keys(kwargs).length > 0) {
    return refuse('CELERY_ARGS', `${CELERY_TASK_NAME} takes one argument, the task (args=[task], no kwargs); got ${args.length} args and ${Object.keys(kwargs).length} kwargs`, task);
  }
  const canvas = ['callbacks', 'errbacks', 'chain', 'chord'].filter((k) => nonEmpty(embed?.[k]));
  if (canvas.length > 0) return refuse('CELERY_UNSUPPORTED', `${canvas.join(', ')}: this worker runs no Celery canvas (link, link_error, chain, chord); chain in the Python application instead`, task);
  const eta = parseCeleryTime(h.eta);
  const expires = parseCeleryTime(h.expires);
  if (eta === 'bad') return refuse('CELERY_PROTOCOL', `eta ${JSON.stringify(h.eta)}: expected an ISO 8601 time`, task);
  if (expires === 'bad') return refuse('CELERY_PROTOCOL', `expires ${JSON.stringify(h.expires)}: expected an ISO 8601 time`, task);
  const limits = h.timelimit === undefined || h.timelimit === null ? [null, null] : h.timelimit;
  const hard = Array.isArray(limits) && limits.length === 2 ? seconds(limits[0]) : 'bad';
  const soft = Array.isArray(limits) && limits.length === 2 ? seconds(limits[1]) : 'bad';
  if (hard === 'bad' || soft === 'bad') return refuse('CELERY_PROTOCOL', `timelimit ${JSON.stringify(h.timelimit)}: expected [hard seconds, soft seconds]`, task);
  const retries = h.retries === undefined || h.retries === null ? 0 : h.retries;
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0) return refuse('CELERY_PROTOCOL', `retries ${JSON.stringify(h.retries)}: expected a whole number`, task);
  return {
    kind: 'request', id, replyTo: h.ignore_result === true ? null : replyTo, task, retries, eta, expires,
    timeLimitMs: hard, softTimeLimitMs: soft, priority: typeof props.priority === 'number' ? props.priority : 0,
  };
}

/** The refusal of a message that expired before it could run (REVOKED, as Celery's own worker answers). */
export function expiredRefusal(request: CeleryRequest, now: number): CeleryRefusal {
  const at = new Date(request.expires ?? now).toISOString();
  return { kind: 'refusal', id: request.id, replyTo: request.replyTo, code: 'CELERY_EXPIRED', message: `expired at ${at} before it could run (expires)`, task: request.task };
}

/** The exception Python rebuilds (celery.backends.base exception_to_python): a class it knows, or a new one by name. */
function exceptionFor(code: string): { exc_type: string; exc_module: string } {
  if (code === 'CELERY_EXPIRED') return { exc_type: 'TaskRevokedError', exc_module: 'celery.exceptions' };
  if (code === 'TASK_TIME_LIMIT') return { exc_type: 'TimeLimitExceeded', exc_module: 'celery.exceptions' };
  // not importable on the Python side: Celery makes an Exception subclass of this name
  return { exc_type: 'FiscalTaskError', exc_module: 'fiscal_engine' };
}

/** Celery's result states this worker sends. */
export type CeleryState = 'SUCCESS' | 'FAILURE' | 'REVOKED';

/**
 * The rpc:// result message body for a finished task: SUCCESS with the manifest as the result, or FAILURE /
 * REVOKED with an exception whose message starts with the error code (`TASK_INPUT: cannot open …`).
 */
export function celeryResult(id: string, manifest: TaskManifest, now: number = Date.now()): { readonly state: CeleryState; readonly body: Json } {
  const date_done = new Date(now).toISOString();
  if (manifest.status === 'done') return { state: 'SUCCESS', body: { task_id: id, status: 'SUCCESS', result: manifest, traceback: null, children: [], date_done } };
  const error = manifest.error ?? { code: 'TASK_FAILED', message: 'the task failed' };
  const text = `${error.code}: ${error.message}`;
  const state: CeleryState = error.code === 'CELERY_EXPIRED' ? 'REVOKED' : 'FAILURE';
  const exc = exceptionFor(error.code);
  return {
    state,
    body: { task_id: id, status: state, result: { ...exc, exc_message: [text] }, traceback: `${exc.exc_type}: ${text}`, children: [], date_done },
  };
}
