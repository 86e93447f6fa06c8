/**
 * `openQueue(url, {route})`: the queue a URL names. `local:DIR` (relative to the working directory, made when
 * missing) is the embedded queue; `amqp://…` / `amqps://…` RabbitMQ (src/queue/amqp.ts, loaded only then). No URL:
 * FISCAL_QUEUE, else `local:.fiscal/queue`. No route: FISCAL_ROUTE, else `v<ENGINE_MAJOR>`. A bad URL is QUEUE_URL
 * (exit 2), never echoing a password.
 */
import { resolve } from 'node:path';
import { ENGINE_MAJOR } from '../tasks/task.js';
import { QueueUrlError, checkRoute } from './errors.js';
import { openLocalQueue, type LocalQueueOptions } from './local.js';
import type { TaskQueue } from './types.js';
import { hidePassword } from '../common/hide-password.js';

export const DEFAULT_QUEUE_URL = 'local:.fiscal/queue';

type Env = Readonly<Record<string, string | undefined>>;

export interface OpenQueueOptions {
  /** Default: FISCAL_ROUTE, else `v<ENGINE_MAJOR>`. */
  readonly route?: string;
  /** Where a relative `local:` folder starts (default process.cwd()). */
  readonly cwd?: string;
  /** Where FISCAL_QUEUE and FISCAL_ROUTE are read (default process.env). */
  readonly env?: Env;
  /** Embedded queue only: lease, delivery limit, poll interval. */
  readonly local?: Omit<LocalQueueOptions, 'route'>;
}

/** The shape src/queue/amqp.ts exports (the queue-amqp part). */
interface AmqpModule {
  openAmqpQueue(url: string, options: { readonly route: string }): Promise<TaskQueue>;
}

/** The URL a command uses: the one given, else FISCAL_QUEUE, else the default. */
export function queueUrl(url: string | undefined, env: Env = process.env): string {
  if (url !== undefined) return url;
  const fromEnv = env.FISCAL_QUEUE;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_QUEUE_URL;
}

/** The route a command uses: the one given, else FISCAL_ROUTE, else `v<ENGINE_MAJOR>`; checked. */
export function queueRoute(route: string | undefined, env: Env = process.env): string {
  const fromEnv = env.FISCAL_ROUTE;
  return checkRoute(route ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : `v${ENGINE_MAJOR}`));
}

export async function openQueue(url: string | undefined, options: OpenQueueOptions = {}): Promise<TaskQueue> {
  const env = options.env ?? process.env;
  const chosen = queueUrl(url, env);
  const route = queueRoute(options.route, env);
  const shown = hidePassword(chosen);
  if (chosen.startsWith('local:')) {
    const dir = chosen.slice('local:'.length);
    if (dir === '') throw new QueueUrlError(`queue URL ${shown}: local: needs a folder (local:.fiscal/queue, local:/var/lib/fiscal/queue)`);
    return openLocalQueue(resolve(options.cwd ?? process.cwd(), dir), { ...options.local, route });
  }
  if (/^amqps?:\/\//i.test(chosen)) {
    const amqp = await loadAmqp(shown);
    return amqp.openAmqpQueue(chosen, { route });
  }
  throw new QueueUrlError(`queue URL ${shown}: expected local:DIR or amqp://user:password@host:5672/vhost (amqps:// for TLS)`);
}

async function loadAmqp(shown: string): Promise<AmqpModule> {
  const specifier = './amqp.js'; // through a variable: this part builds without the RabbitMQ adapter
  try {
    return (await import(specifier)) as AmqpModule;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    // the adapter itself missing (not a package it imports)
    if (e.code === 'ERR_MODULE_NOT_FOUND' && /queue[/\\]amqp\.(js|ts)/.test(e.message ?? '')) throw new QueueUrlError(`queue URL ${shown}: this build has no RabbitMQ adapter (src/queue/amqp.ts)`);
    throw err;
  }
}
