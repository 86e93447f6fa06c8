/** `fiscal submit [--queue URL] [--route R] [--priority N] [--wait] TASKS`: tasks onto the queue, one id per line (with --wait the manifests). */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { openQueue } from '../queue/open-queue.js';
import { submitTasks } from '../queue/submit.js';
import { exitCodeOf, parseTaskList } from '../tasks/task-list.js';
import type { TaskManifest } from '../tasks/run-task.js';
import { writeChunk } from './io.js';
import type { CommandContext } from './main.js';
import { addOptions } from './options.js';
import { readAll } from './run.js';

function parsePriority(value: string): number {
  if (!/^[0-9]$/.test(value)) throw new InvalidArgumentError('expected 0 … 9 (higher first)');
  return Number(value);
}

export function registerSubmitCommand(program: Command, ctx: CommandContext): void {
  addOptions(
    program
      .command('submit')
      .description('queue tasks (docs/queue.md) for `fiscal worker`: one id per line, or with --wait one manifest per task (exit 1: a task failed; 2: a task is malformed)')
      .argument('<tasks>', 'TASK.json, TASKS.jsonl, or - for stdin')
      .addOption(new Option('--priority <n>', '0 … 9, higher first').argParser(parsePriority).default(0))
      .addOption(new Option('--wait', 'wait for each task to end and print its manifest (JSON lines) instead of its id')),
    'queue', 'route',
  ).action((file: string, flags: { queue?: string; route?: string; priority: number; wait?: boolean }) =>
    ctx.run(async () => {
      const entries = parseTaskList(await readAll(file, ctx), file === '-' ? 'stdin' : file);
      const queue = await openQueue(flags.queue, { route: flags.route });
      try {
        const submitted = await submitTasks(entries, queue, { priority: flags.priority });
        const ids = submitted.flatMap((s) => ('id' in s ? [s.id] : []));
        const manifests: TaskManifest[] = [];
        for (const s of submitted) {
          if ('rejected' in s) {
            manifests.push(s.rejected);
            await writeChunk(ctx.io.stderr, `fiscal: ${s.rejected.error?.message ?? 'rejected'} [${s.rejected.error?.code ?? 'TASK_FAILED'}]\n`);
            if (flags.wait) await writeChunk(ctx.io.stdout, `${JSON.stringify(s.rejected)}\n`);
          } else if (!flags.wait) await writeChunk(ctx.io.stdout, `${s.id}\n`);
        }
        if (flags.wait) {
          for await (const r of queue.results([...new Set(ids)])) {
            manifests.push(r.manifest);
            await writeChunk(ctx.io.stdout, `${JSON.stringify(r.manifest)}\n`);
          }
        }
        return exitCodeOf(manifests);
      } finally {
        await queue.close();
      }
    }),
  );
}
