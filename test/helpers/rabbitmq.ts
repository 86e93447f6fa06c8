/**
 * A throwaway RabbitMQ 3.10 node for one test file: the launcher in scripts/lib/rabbitmq.mjs (shared with
 * bench/queue.mjs), stopped and its dir removed at the test's teardown. Startup is about 7 s: start one broker per
 * test file. In CI (CI=true) a missing server fails loudly; elsewhere the test skips with the install command.
 */
import { RABBITMQ_INSTALL, launchRabbit, rabbitInstalled } from '../../scripts/lib/rabbitmq.mjs';

export function rabbitSkip(): { skip: string | false } {
  if (rabbitInstalled() || process.env.CI === 'true') return { skip: false };
  return { skip: `needs rabbitmq-server: ${RABBITMQ_INSTALL}` };
}

export interface RabbitServer {
  readonly url: string;
  readonly port: number;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

interface Teardown { teardown(fn: () => unknown): void }

export async function startRabbit(t: Teardown): Promise<RabbitServer> {
  const node = await launchRabbit();
  t.teardown(() => node.remove());
  return { url: node.url, port: node.port, restart: () => node.restart(), stop: () => node.stop() };
}
