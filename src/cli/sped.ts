/** `fiscal sped …`: commands grouped by the module that owns them. */
import type { Command } from 'commander';
import type { CommandContext } from './main.js';
import { registerSpedValidateCommand } from './sped-validate.js';
import { registerSpedConvertCommands } from './sped-convert.js';
import { registerSpedFromDocsCommand } from './sped-from-docs.js';

export function registerSpedCommands(program: Command, ctx: CommandContext): void {
  const sped = program.command('sped').description('SPED text files (EFD ICMS/IPI, EFD-Contribuições, ECD)');
  registerSpedValidateCommand(sped, ctx);
  registerSpedConvertCommands(sped, ctx);
  registerSpedFromDocsCommand(sped, ctx);
}
