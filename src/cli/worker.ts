/**
 * `fiscal worker [--queue URL] [--route R] [--ledger URL] [--concurrency N] [--threads N] [--exit-when-idle]
 * [--metrics-port P] [--max-attempts N] [--grace-ms MS] [--lease-ms MS]`: consumes the route's tasks until
 * stopped (docs/queue.md "Worker"). One JSON line per task event on stderr, the summary as JSON on stdout.
 * The first SIGTERM/SIGINT stops gracefully (exit 0), a second one aborts the running tasks and releases them.
 * `--celery [--celery-queue NAME]`: consumes the Celery messages (`fiscal.run`) of a RabbitMQ queue instead
 * (src/queue/celery.ts, docs/celery.md).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { withPool } from '../pool/pool.js';
import { openLedger } from '../tasks/open-ledger.js';
import { UsageError } from '../errors.js';
import { openQueue, queueUrl } from '../queue/open-queue.js';
import type { WorkerQueue } from '../queue/types.js';
import { createWorkerMetrics, serveMetrics, type MetricsServer } from '../queue/metrics.js';
import { runWorker } from '../queue/worker.js';
import { writeChunk } from './io.js';
import type { CommandContext } from './main.js';
import { addOptions, parseCount, parsePositiveInt } from './options.js';

interface WorkerFlags {
  queue?: string;
  route?: string;
  ledger?: string;
  concurrency: number;
  threads?: number;
  exitWhenIdle?: boolean;
  metricsPort?: number;
  maxAttempts: number;
  graceMs: number;
  leaseMs?: number;
  celery?: boolean;
  celeryQueue?: string;
}

/** The queue the flags name: a route of a fiscal queue, or (--celery) a Celery queue on RabbitMQ. */
async function openWorkerQueue(flags: WorkerFlags): Promise<WorkerQueue & { close(): Promise<void> }> {
  if (flags.celeryQueue !== undefined && flags.celery !== true) throw new UsageError('--celery-queue needs --celery');
  if (flags.celery === true) {
    if (flags.route !== undefined) throw new UsageError('--route names a fiscal queue route: with --celery, name the Celery queue with --celery-queue');
    const { openCeleryQueue } = await import('../queue/celery.js');
    return openCeleryQueue(queueUrl(flags.queue), flags.celeryQueue !== undefined ? { queue: flags.celeryQueue } : {});
  }
  return openQueue(flags.queue, {
    ...(flags.route !== undefined ? { route: flags.route } : {}),
    ...(flags.leaseMs !== undefined ? { local: { leaseMs: flags.leaseMs } } : {}),
  });
}

export function registerWorkerCommand(program: Command, ctx: CommandContext): void {
  addOptions(
    program
      .command('worker')
      .description('consume queued tasks (docs/queue.md) and run each at most once (ledger); JSON event lines on stderr; exit 0 after a graceful stop')
      .addOption(new Option('--concurrency <n>', 'tasks worked on at once').argParser(parsePositiveInt).default(1))
      .option('--exit-when-idle', 'stop when nothing is running and the queue is empty')
      .addOption(new Option('--metrics-port <port>', 'serve Prometheus metrics at http://127.0.0.1:PORT/metrics (0: any free port)').argParser(parseCount))
      .addOption(new Option('--max-attempts <n>', 'attempts before a failing task goes to the dead letters').argParser(parsePositiveInt).default(5))
      .addOption(new Option('--grace-ms <ms>', 'after SIGTERM/SIGINT, time running tasks get to finish before they are released').argParser(parseCount).default(30_000))
      .addOption(new Option('--lease-ms <ms>', 'lease of a delivery and of a ledger claim, renewed while working (default 30000)').argParser(parsePositiveInt))
      .option('--celery', 'consume Celery messages instead (protocol 2, JSON, task fiscal.run, args=[task]) from --celery-queue on the amqp:// --queue, results to the rpc:// backend (docs/celery.md)')
      .option('--celery-queue <name>', 'with --celery: the Celery queue consumed, send_task(..., queue=NAME) (default: fiscal)'),
    'queue', 'route', 'ledger', 'threads',
  ).action((flags: WorkerFlags) =>
    ctx.run(async () => {
      const queue = await openWorkerQueue(flags);
      const soft = new AbortController();
      const hard = new AbortController();
      const onSignal = (): void => {
        if (soft.signal.aborted) hard.abort(new Error('second signal'));
        else soft.abort(new Error('signal'));
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      let server: MetricsServer | null = null;
      try {
        const ledger = await openLedger(flags.ledger);
        try {
          const metrics = createWorkerMetrics(() => queue.depth());
          if (flags.metricsPort !== undefined) {
            server = await serveMetrics(metrics, flags.metricsPort);
            ctx.io.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), event: 'metrics', url: `http://127.0.0.1:${server.port}/metrics` })}\n`);
          }
          const summary = await withPool({ threads: flags.threads }, (pool) =>
            runWorker(queue, {
              ledger, pool, concurrency: flags.concurrency, exitWhenIdle: flags.exitWhenIdle === true, maxAttempts: flags.maxAttempts,
              graceMs: flags.graceMs, signal: soft.signal, hardSignal: hard.signal, log: ctx.io.stderr, metrics,
              ...(flags.leaseMs !== undefined ? { leaseMs: flags.leaseMs } : {}),
            }),
          );
          await writeChunk(ctx.io.stdout, `${JSON.stringify(summary)}\n`);
          return 0;
        } finally {
          await ledger.close();
        }
      } finally {
        await server?.close();
        await queue.close();
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    }),
  );
}
