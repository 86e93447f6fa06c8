/**
 * The jobs a pool worker can run, by name. Each entry loads its module only when first asked for, so a worker
 * (or the main thread, at `threads: 1`) pays only for the jobs it runs. A job takes one structured-cloneable
 * payload and returns a structured-cloneable result (Buffers and ArrayBuffers in it may be transferred).
 *
 * To add a job: write the function in the module of its format (`src/<format>/…-job.ts`), add it here.
 */
export type JobFunction = (payload: never) => unknown;

const JOBS: Record<string, () => Promise<JobFunction>> = {
  // test-only job: echoes the payload after an optional delay (test/pool/pool.ts)
  'pool.echo': () => import('./echo-job.js').then((m) => m.echoJob as JobFunction),
  'sped.validate-range': () => import('../sped/validate-range-job.js').then((m) => m.validateRangeJob as JobFunction),
  'sped.to-jsonl-range': () => import('../sped/jsonl-range-job.js').then((m) => m.jsonlRangeJob as JobFunction),
  'sped.to-csv-range': () => import('../sped/csv-range-job.js').then((m) => m.csvRangeJob as JobFunction),
  'sped.stats-range': () => import('../sped/stats-range-job.js').then((m) => m.statsRangeJob as JobFunction),
  'sped.from-docs-extract': () => import('../sped/from-docs-job.js').then((m) => m.extractJob as JobFunction),
  'coupons.csv-chunk': () => import('../coupons/csv-job.js').then((m) => m.csvChunkJob as JobFunction),
  'coupons.extract': () => import('../coupons/extract-job.js').then((m) => m.extractCouponsJob as JobFunction),
  'nfe.to-jsonl': () => import('../nfe/convert-jobs.js').then((m) => m.jsonlJob as JobFunction),
  'nfe.to-csv': () => import('../nfe/convert-jobs.js').then((m) => m.csvJob as JobFunction),
  'nfe.events': () => import('../nfe/convert-jobs.js').then((m) => m.eventsJob as JobFunction),
  'nfe.validate': () => import('../nfe/validate-job.js').then((m) => m.validateJob as JobFunction),
  'nfe.verify': () => import('../nfe/verify-job.js').then((m) => m.verifyJob as JobFunction),
};

export type JobName = keyof typeof JOBS;

const loaded = new Map<string, JobFunction>();

/** Runs job `name` on `payload` in this thread. Unknown names are a programming error (TypeError). */
export async function runJob(name: string, payload: unknown): Promise<unknown> {
  let fn = loaded.get(name);
  if (fn === undefined) {
    const load = JOBS[name];
    if (load === undefined) throw new TypeError(`unknown pool job '${name}'`);
    fn = await load();
    loaded.set(name, fn);
  }
  return (fn as (p: unknown) => unknown)(payload);
}

/** Whether `name` is a registered job. */
export function isJob(name: string): boolean {
  return Object.hasOwn(JOBS, name);
}
