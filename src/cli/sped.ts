/** `fiscal sped …` */
import type { Command } from 'commander';
import type { CommandContext } from './main.js';

export function registerSpedCommands(program: Command, _ctx: CommandContext): void {
  program.command('sped').description('SPED text files (EFD ICMS/IPI, EFD-Contribuições, ECD)');
}
