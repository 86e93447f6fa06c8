/** `fiscal ledger show KEY | list | gc --older-than AGE`: inspect and prune the idempotency ledger (src/tasks/ledger-admin.ts). */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { EXIT_OK, type ExitCode } from '../errors.js';
import type { Ledger, TaskStatus } from '../tasks/ledger.js';
import { formatLedgerEntry, formatLedgerList, gcLedger, parseDuration, showLedgerEntry } from '../tasks/ledger-admin.js';
import { isTaskStatus, TASK_STATUSES } from '../tasks/ledger-rows.js';
import { openLedger } from '../tasks/open-ledger.js';
import type { CommandContext } from './main.js';
import { addOptions, parsePositiveInt } from './options.js';

interface LedgerFlags {
  ledger?: string;
  json?: boolean;
}

function parseStatus(value: string): TaskStatus {
  if (!isTaskStatus(value)) throw new InvalidArgumentError(`expected one of ${TASK_STATUSES.join(', ')}`);
  return value;
}

/** Opens the ledger of --ledger (or the default), runs `body`, closes it. */
async function withLedger(flags: LedgerFlags, body: (ledger: Ledger) => Promise<ExitCode>): Promise<ExitCode> {
  const ledger = await openLedger(flags.ledger);
  try {
    return await body(ledger);
  } finally {
    await ledger.close();
  }
}

export function registerLedgerCommands(program: Command, ctx: CommandContext): void {
  const group = program.command('ledger').description('the idempotency ledger of tasks: show an entry, list, delete old finished entries');
  const out = (text: string) => void ctx.io.stdout.write(text);

  addOptions(
    group.command('show').description('one task: status, attempts, owner, lease, output digest, manifest (exit 1: no such key)').argument('<key>', 'the task key'),
    'json', 'ledger',
  ).action((key: string, flags: LedgerFlags) =>
    ctx.run(() =>
      withLedger(flags, async (ledger) => {
        const entry = await showLedgerEntry(ledger, key);
        out(flags.json ? `${JSON.stringify(entry)}\n` : formatLedgerEntry(entry));
        return EXIT_OK;
      }),
    ),
  );

  addOptions(
    group
      .command('list')
      .description('tasks, most recently updated first')
      .addOption(new Option('--status <status>', `only ${TASK_STATUSES.join(', ')}`).argParser(parseStatus))
      .addOption(new Option('--limit <n>', 'at most N entries').argParser(parsePositiveInt).default(100)),
    'json', 'ledger',
  ).action((flags: LedgerFlags & { status?: TaskStatus; limit: number }) =>
    ctx.run(() =>
      withLedger(flags, async (ledger) => {
        const entries = await ledger.list({ status: flags.status, limit: flags.limit });
        out(flags.json ? `${JSON.stringify(entries)}\n` : formatLedgerList(entries));
        return EXIT_OK;
      }),
    ),
  );

  addOptions(
    group
      .command('gc')
      .description('delete done and failed tasks last updated more than AGE ago (running ones stay)')
      .addOption(new Option('--older-than <age>', 'a whole number and a unit: 30d, 12h, 15m, 45s').makeOptionMandatory()),
    'json', 'ledger',
  ).action((flags: LedgerFlags & { olderThan: string }) =>
    ctx.run(async () => {
      const olderThanMs = parseDuration(flags.olderThan); // before opening: a bad age touches no ledger
      return withLedger(flags, async (ledger) => {
        const result = await gcLedger(ledger, olderThanMs);
        out(flags.json ? `${JSON.stringify({ ...result, ledger: ledger.url })}\n` : `${ledger.url}: deleted ${result.deleted} done or failed task(s) older than ${flags.olderThan}\n`);
        return EXIT_OK;
      });
    }),
  );
}
