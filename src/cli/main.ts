/** The `fiscal` command line: a thin layer of commander over the library API. */
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import type { Readable, Writable } from 'node:stream';
import { EXIT_USAGE, FiscalError, type ExitCode } from '../errors.js';
import { EXIT_CODES_HELP } from './options.js';

const require = createRequire(import.meta.url);
const pkg = require('../../package.json') as { version: string };

const GROUPS = ['sped', 'nfe', 'coupons', 'ledger', 'run', 'submit', 'queue', 'worker'];

/** The standard streams of a run; tests pass their own to run the CLI in-process. */
export interface CliIO {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** Shared by the command modules: the streams, and a runner that records an action's exit code. */
export interface CommandContext {
  readonly io: CliIO;
  run(action: () => Promise<ExitCode>): Promise<void>;
}

/** Runs the CLI with the given arguments; returns the process exit code. Never throws. */
export async function main(
  argv: readonly string[],
  io: CliIO = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): Promise<ExitCode> {
  let exitCode: ExitCode = 0;
  const ctx: CommandContext = {
    io,
    async run(action) {
      exitCode = await action();
    },
  };
  const program = new Command('fiscal')
    .description('Streaming engine for Brazilian fiscal files (SPED, NF-e/NFC-e)')
    .version(pkg.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => io.stderr.write(s), writeOut: (s) => io.stdout.write(s) });
  // Load only the command group the run asks for (all of them for top-level help): a SPED run does not pay for the
  // XML, certificate and zip libraries in memory or start-up time.
  const group = argv[0];
  const wanted = (name: string): boolean => group === name || !GROUPS.includes(group ?? '');
  if (wanted('sped')) (await import('./sped.js')).registerSpedCommands(program, ctx);
  if (wanted('nfe')) (await import('./nfe.js')).registerNfeCommands(program, ctx);
  if (wanted('coupons')) (await import('./coupons.js')).registerCouponsCommands(program, ctx);
  if (wanted('ledger')) (await import('./ledger.js')).registerLedgerCommands(program, ctx);
  if (wanted('run')) (await import('./run.js')).registerRunCommand(program, ctx);
  if (wanted('submit')) (await import('./submit.js')).registerSubmitCommand(program, ctx);
  if (wanted('queue')) (await import('./queue.js')).registerQueueCommands(program, ctx);
  if (wanted('worker')) (await import('./worker.js')).registerWorkerCommand(program, ctx);
  // every help page, of every group and command, ends with the exit codes (one text, options.ts)
  program.addHelpText('after', EXIT_CODES_HELP);
  program.commands.forEach(function override(cmd: Command): void {
    cmd.exitOverride();
    cmd.addHelpText('after', EXIT_CODES_HELP);
    cmd.commands.forEach(override);
  });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportError(err, io.stderr);
  }
}

/** Maps any error to a one-line message on stderr and an exit code; stack traces only with FISCAL_DEBUG=1. */
export function reportError(err: unknown, stderr: Writable = process.stderr): ExitCode {
  if (err instanceof CommanderError) {
    // help and version exit through here with code 0
    if (err.exitCode === 0) return 0;
    return EXIT_USAGE;
  }
  if (err instanceof FiscalError) {
    stderr.write(`fiscal: ${err.message} [${err.code}]\n`);
    if (process.env.FISCAL_DEBUG) stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EPIPE') return 0; // downstream closed (e.g. `| head`): not an error of ours
  stderr.write(`fiscal: internal error: ${e?.message ?? String(err)}\n`);
  if (process.env.FISCAL_DEBUG) stderr.write(`${e?.stack}\n`);
  return EXIT_USAGE;
}
