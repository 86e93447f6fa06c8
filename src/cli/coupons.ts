/** `fiscal coupons summary` — a thin wrapper over couponsSummaryCommand (src/commands/coupons.ts). */
import { Option, type Command } from 'commander';
import { couponsSummaryCommand, type CouponsSummaryCommandOptions } from '../commands/coupons.js';
import { createCountProgress, openOutput } from './io.js';
import type { CommandContext } from './main.js';
import { addOptions, parsePositiveInt } from './options.js';

export function registerCouponsCommands(program: Command, ctx: CommandContext): void {
  const coupons = program.command('coupons').description('coupon streams: CF-e SAT, NFC-e and POS exports');
  addOptions(
    coupons
      .command('summary')
      .description('counts and exact sums per day, equipment, CST/CSOSN, CFOP and rate; each coupon once by its key (docs/coupons.md)')
      .argument('<sources...>', 'XML files, directories, .zip archives, .csv POS exports (with --mapping), or - for stdin')
      .option('--csv', 'the summary as CSV rows')
      .option('--by <dims>', 'grouping, comma-separated: day, model, equipment, emitter, cst, cfop, rate (default day,model,equipment,cst,cfop,rate; "" = totals only)')
      .option('--mapping <file>', 'column mapping of the .csv sources (formats/coupons/csv-mapping.v1.schema.json)')
      .option('--as-csv', 'read every source (stdin included) as a CSV export with the mapping, whatever its name')
      .option('--verify', 'check each XML document\'s signature; failures are findings')
      .addOption(new Option('--key-memory <mib>', 'memory budget of the duplicate detector before it spills to disk, MiB (default 64)').argParser(parsePositiveInt)),
    'json', 'output', 'delimiter', 'decimalComma', 'maxBytes', 'maxDepth', 'threads', 'progress',
  ).action(async (sources: string[], o: CouponsSummaryCommandOptions & { output?: string; progress: boolean }) =>
    ctx.run(async () => {
      const out = await openOutput(o.output, ctx.io.stdout);
      const progress = createCountProgress(o.progress);
      try {
        const outcome = await couponsSummaryCommand({ sources, stdin: ctx.io.stdin }, { output: out.stream, messages: ctx.io.stderr, onProgress: (n) => progress.update(n) }, o);
        progress.stop();
        await out.commit();
        return outcome.exitCode;
      } catch (e) {
        progress.stop();
        await out.abort();
        throw e;
      }
    }),
  );
}
