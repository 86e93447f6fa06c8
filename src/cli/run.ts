/** `fiscal run TASK.json|TASKS.jsonl|- [--ledger URL] [--threads N]`: one manifest (JSON) per task on stdout. */
import { promises as fsp } from 'node:fs';
import type { Command } from 'commander';
import { ioError } from '../errors.js';
import { withPool } from '../pool/pool.js';
import { openLedger } from '../tasks/open-ledger.js';
import { parseTaskList, runTaskList } from '../tasks/task-list.js';
import { writeChunk } from './io.js';
import type { CommandContext } from './main.js';
import { addOptions } from './options.js';

/** The text of a task file, or of stdin for `-` (also `fiscal submit`). */
export async function readAll(path: string, ctx: CommandContext): Promise<string> {
  if (path !== '-') {
    try {
      return await fsp.readFile(path, 'utf8');
    } catch (err) {
      throw ioError(err, path, 'read');
    }
  }
  const chunks: Buffer[] = [];
  for await (const c of ctx.io.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks).toString('utf8');
}

export function registerRunCommand(program: Command, ctx: CommandContext): void {
  addOptions(
    program
      .command('run')
      .description('run tasks (docs/tasks.md) at most once each: one JSON task, a JSON array or JSON lines; one manifest per task on stdout (exit 1: a task failed; 2: a task is malformed)')
      .argument('<tasks>', 'TASK.json, TASKS.jsonl, or - for stdin'),
    'ledger', 'threads',
  ).action((file: string, flags: { ledger?: string; threads?: number }) =>
    ctx.run(async () => {
      const entries = parseTaskList(await readAll(file, ctx), file === '-' ? 'stdin' : file);
      const ledger = await openLedger(flags.ledger);
      try {
        return await withPool({ threads: flags.threads }, (pool) =>
          runTaskList(entries, { ledger, pool }, (m) => writeChunk(ctx.io.stdout, `${JSON.stringify(m)}\n`)),
        );
      } finally {
        await ledger.close();
      }
    }),
  );
}
