/** `fiscal sped stats | to-jsonl | from-jsonl | fix-totals | to-csv` */
import type { Command } from 'commander';
import type { CommandContext } from './main.js';

export function registerSpedConvertCommands(_sped: Command, _ctx: CommandContext): void {}
