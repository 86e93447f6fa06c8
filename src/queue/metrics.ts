/**
 * The worker's Prometheus metrics (docs/queue.md "Worker"), on their own Registry (never prom-client's global
 * one, so two workers in one process, or the tests, do not share series), and a tiny /metrics server.
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface WorkerMetrics {
  readonly registry: Registry;
  readonly tasks: Counter<'type' | 'outcome'>;
  readonly duration: Histogram<'type'>;
  readonly inFlight: Gauge;
  readonly depth: Gauge;
}

/** The series; `depth` is asked for at every scrape (fiscal_queue_depth). */
export function createWorkerMetrics(depth?: () => Promise<number>): WorkerMetrics {
  const registry = new Registry();
  const tasks = new Counter({ name: 'fiscal_tasks_total', help: 'Task deliveries ended, by task type and outcome (done, reused, failed, dead, released)', labelNames: ['type', 'outcome'] as const, registers: [registry] });
  const duration = new Histogram({
    name: 'fiscal_task_duration_seconds', help: 'Time from a delivery\'s start to its end, by task type', labelNames: ['type'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900], registers: [registry],
  });
  const inFlight = new Gauge({ name: 'fiscal_tasks_in_flight', help: 'Deliveries this worker is working on', registers: [registry] });
  const depthGauge = new Gauge({
    name: 'fiscal_queue_depth', help: 'Pending tasks on the worker\'s route (ready or delayed)', registers: [registry],
    async collect() {
      if (!depth) return;
      try {
        this.set(await depth());
      } catch {
        // queue unreachable: keep the last value rather than fail the scrape
      }
    },
  });
  return { registry, tasks, duration, inFlight, depth: depthGauge };
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics on 127.0.0.1:port (0 = any free port); everything else is 404. */
export async function serveMetrics(metrics: WorkerMetrics, port: number): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
