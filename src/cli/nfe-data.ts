/** `fiscal nfe to-jsonl | build | to-csv | validate` */
import type { Command } from 'commander';
import type { CommandContext } from './main.js';

export function registerNfeDataCommands(_nfe: Command, _ctx: CommandContext): void {}
