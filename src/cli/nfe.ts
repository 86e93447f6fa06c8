/** `fiscal nfe …` — NF-e/NFC-e commands, grouped by the module that owns them. */
import type { Command } from 'commander';
import type { CommandContext } from './main.js';
import { registerNfeDataCommands } from './nfe-data.js';
import { registerNfeSignCommands } from './nfe-sign.js';

export function registerNfeCommands(program: Command, ctx: CommandContext): void {
  const nfe = program.command('nfe').description('NF-e / NFC-e XML documents, and CF-e SAT');
  registerNfeDataCommands(nfe, ctx);
  registerNfeSignCommands(nfe, ctx);
}
