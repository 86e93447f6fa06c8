/** `fiscal nfe key | sign | verify | qrcode` */
import type { Command } from 'commander';
import type { CommandContext } from './main.js';

export function registerNfeSignCommands(_nfe: Command, _ctx: CommandContext): void {}
