/** `fiscal queue stats | dead | retry`: look at and mend a route of the task queue (docs/queue.md). */
import { type Command } from 'commander';
import { EXIT_OK, UsageError, type ExitCode } from '../errors.js';
import { openQueue } from '../queue/open-queue.js';
import { queueStats } from '../queue/stats.js';
import type { TaskQueue } from '../queue/types.js';
import { existsSync } from 'node:fs';
import type { Ledger } from '../tasks/ledger.js';
import { DEFAULT_LEDGER_URL, ledgerUrl, openLedger, parseLedgerUrl } from '../tasks/open-ledger.js';
import type { CommandContext } from './main.js';
import { addOptions } from './options.js';

interface QueueFlags {
  queue?: string;
  route?: string;
  json?: boolean;
  ledger?: string;
}

async function withQueue(flags: QueueFlags, body: (queue: TaskQueue) => Promise<ExitCode>): Promise<ExitCode> {
  const queue = await openQueue(flags.queue, { route: flags.route });
  try {
    return await body(queue);
  } finally {
    await queue.close();
  }
}

/**
 * The ledger `queue stats` counts from: --ledger or $FISCAL_LEDGER as given; else the default SQLite file only
 * when it exists (the workers' default on this machine): looking at counts never creates a ledger.
 */
async function statsLedger(flag: string | undefined): Promise<Ledger | null> {
  const url = ledgerUrl(flag);
  if (flag === undefined && url === DEFAULT_LEDGER_URL) {
    const location = parseLedgerUrl(url);
    if (location.backend === 'sqlite' && !existsSync(location.path)) return null;
  }
  return openLedger(url);
}

export function registerQueueCommands(program: Command, ctx: CommandContext): void {
  const group = program.command('queue').description('the task queue: counts, dead letters, retry');
  const out = (text: string) => void ctx.io.stdout.write(text);

  addOptions(
    group
      .command('stats')
      .description('tasks by state on the route: pending, running, done, failed, dead (with a ledger — --ledger, $FISCAL_LEDGER, or the default file when it exists — running/done/failed are the ledger\'s, over every route)'),
    'json', 'queue', 'route', 'ledger',
  ).action((flags: QueueFlags) =>
    ctx.run(() =>
      withQueue(flags, async (queue) => {
        const ledger = await statsLedger(flags.ledger);
        try {
          const stats = await queueStats(queue, ledger ? { ledger } : {});
          out(flags.json ? `${JSON.stringify(stats)}\n` : Object.entries(stats).map(([k, v]) => `${k} ${v ?? '-'}\n`).join(''));
          return EXIT_OK;
        } finally {
          await ledger?.close();
        }
      }),
    ),
  );

  addOptions(group.command('dead').description('dead letters: id, attempts, error code and message'), 'json', 'queue', 'route').action((flags: QueueFlags) =>
    ctx.run(() =>
      withQueue(flags, async (queue) => {
        const dead = await queue.dead();
        if (flags.json) out(`${JSON.stringify(dead)}\n`);
        else out(dead.map((d) => `${d.id}\t${d.attempts}\t${d.error.code}\t${d.error.message.replace(/\s+/g, ' ')}\n`).join(''));
        return EXIT_OK;
      }),
    ),
  );

  addOptions(
    group.command('retry').description('dead tasks back to pending, attempts from zero; prints how many').argument('[ids...]', 'dead task ids').option('--all-dead', 'every dead task of the route'),
    'queue', 'route',
  ).action((ids: string[], flags: QueueFlags & { allDead?: boolean }) =>
    ctx.run(() => {
      if ((ids.length > 0) === Boolean(flags.allDead)) throw new UsageError('queue retry: give dead task ids or --all-dead (one of them)');
      return withQueue(flags, async (queue) => {
        out(`${await queue.retry(flags.allDead ? 'all-dead' : ids)}\n`);
        return EXIT_OK;
      });
    }),
  );
}
