/** `fiscal sped validate` */
import type { Command } from 'commander';
import type { CommandContext } from './main.js';

export function registerSpedValidateCommand(_sped: Command, _ctx: CommandContext): void {}
