/**
 * Tasks flowing through real `fiscal` processes, on top of test/helpers/worker-cli.ts: one place (a queue URL and the
 * ledger the workers share) where workers of several routes run, a submitter that keeps running `fiscal submit` on
 * batches of small tasks while its route can be switched, `fiscal queue stats` by the CLI, and the workers' summaries
 * and done events. Used by the deploy procedure (test/helpers/deploy-procedure.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openQueue } from '../../src/queue/open-queue.js';
import { queueStats, type QueueStatsReport } from '../../src/queue/stats.js';
import { events, fiscal, validateTask, type Child, type ValidateTask } from './worker-cli.js';

/** Where the processes meet: their folder, a queue URL, and the ledger the workers share. */
export interface Site {
  readonly dir: string;
  readonly queue: string;
  readonly ledger: string;
}

/** The route flag: none for the command's default route (`v<ENGINE_MAJOR>`). */
const routeArgs = (route: string | undefined): string[] => (route === undefined ? [] : ['--route', route]);

/** `fiscal worker --queue … [--route R] --ledger … EXTRA…` in the site's folder; no route: the worker's default. */
export function siteWorker(site: Site, route: string | undefined, extra: readonly string[] = []): Child {
  return fiscal(['worker', '--queue', site.queue, ...routeArgs(route), '--ledger', site.ledger, ...extra], site.dir);
}

/** `fiscal queue stats --json` of a route (no route: the default), by the CLI. */
export async function cliStats(site: Site, route: string | undefined): Promise<QueueStatsReport> {
  const c = fiscal(['queue', 'stats', '--queue', site.queue, ...routeArgs(route), '--json'], site.dir);
  const { code } = await c.exited;
  if (code !== 0) throw new Error(`fiscal queue stats exited ${code}: ${c.stderr}`);
  return JSON.parse(c.stdout) as QueueStatsReport;
}

/** The same counts in this process (cheaper than a CLI process, for the checks after the procedure). */
export async function routeStats(site: Site, route: string): Promise<QueueStatsReport> {
  const queue = await openQueue(site.queue, { route, cwd: site.dir });
  try {
    return await queueStats(queue);
  } finally {
    await queue.close();
  }
}

/** The worker's summary line (stdout), once it exited. */
export function summaryOf(child: Child): Record<string, unknown> | null {
  const line = child.stdout.trim().split('\n').at(-1);
  return line ? (JSON.parse(line) as Record<string, unknown>) : null;
}

/** SIGTERM, then waits for the process: its exit code and its summary. */
export async function terminate(child: Child): Promise<{ code: number | null; summary: Record<string, unknown> | null }> {
  child.proc.kill('SIGTERM');
  const { code } = await child.exited;
  return { code, summary: summaryOf(child) };
}

/** The ids these workers ended with `done` (worked or reused), with repeats. */
export const doneIds = (...children: readonly Child[]): string[] =>
  children.flatMap((c) => events(c.stderr)).filter((e) => e.event === 'done').map((e) => e.id);

/** `fiscal submit` of these tasks (a JSONL file in `site.dir/batches`) to a route (none: the default): the ids it printed. */
export async function submitBatch(site: Site, route: string | undefined, name: string, tasks: readonly ValidateTask[]): Promise<string[]> {
  mkdirSync(join(site.dir, 'batches'), { recursive: true });
  const file = join(site.dir, 'batches', `${name}.jsonl`);
  writeFileSync(file, tasks.map((x) => `${JSON.stringify(x)}\n`).join(''));
  const c = fiscal(['submit', '--queue', site.queue, ...routeArgs(route), file], site.dir);
  const { code } = await c.exited;
  if (code !== 0) throw new Error(`fiscal submit ${name} exited ${code}: ${c.stderr}`);
  return c.stdout.trim().split('\n');
}

/** One batch a submitter queued: the route it went to (undefined: the default) and its tasks by id. */
export interface Batch {
  readonly route: string | undefined;
  /** Task names (validateTask(site.dir, name)) by the id `fiscal submit` printed. */
  readonly names: ReadonlyMap<string, string>;
}

/**
 * Keeps submitting batches of `size` validation tasks (`bNNN-i`, outputs in `site.dir/out`), one `fiscal submit`
 * after the other, to `route` as it is when each batch starts: a switch of `route` sends the batches after the one
 * in flight elsewhere (`settle()` waits for that one), after a pause of `pauseMs` between batches. A submit that
 * fails ends the loop: `error` says why and `stop()` rejects with it; `stop()` otherwise ends the loop after the
 * batch in flight.
 */
export class Submitter {
  route: string | undefined;
  readonly batches: Batch[] = [];
  error: Error | null = null;
  private stopping = false;
  private current: Promise<void> = Promise.resolve();
  private readonly loop: Promise<void>;

  constructor(private readonly site: Site, route: string | undefined, private readonly size = 8, private readonly pauseMs = 200) {
    this.route = route;
    this.loop = this.run();
    this.loop.catch((err: Error) => { this.error = err; });
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const route = this.route;
      const batch = `b${String(this.batches.length).padStart(3, '0')}`;
      const names = Array.from({ length: this.size }, (_, i) => `${batch}-${i}`);
      this.current = submitBatch(this.site, route, batch, names.map((n) => validateTask(this.site.dir, n))).then((ids) => {
        if (ids.length !== names.length) throw new Error(`fiscal submit ${batch} printed ${ids.length} ids for ${names.length} tasks`);
        this.batches.push({ route, names: new Map(ids.map((id, i) => [id, names[i]!])) });
      });
      await this.current;
      if (!this.stopping) await new Promise((r) => setTimeout(r, this.pauseMs));
    }
  }

  /** Batches queued to `route` so far. */
  count(route: string | undefined): number {
    return this.batches.filter((b) => b.route === route).length;
  }

  /** The names of the tasks queued to these routes (every route: none given) by id. */
  names(...routes: (string | undefined)[]): Map<string, string> {
    const all = new Map<string, string>();
    for (const b of this.batches) if (routes.length === 0 || routes.includes(b.route)) for (const [id, n] of b.names) all.set(id, n);
    return all;
  }

  /** Resolves once the batch in flight (begun before a route switch) is queued. */
  async settle(): Promise<void> {
    await this.current.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }
}
