/**
 * The CLI's option vocabulary: every option that more than one command takes is defined here once — its
 * spelling, its argument, its default, its parser and its help text — and each command picks the ones it
 * takes. The same name means the same thing on every command (test/cli/options.ts checks it). Old spellings
 * stay as hidden aliases that set the current option (`--max-document-bytes` → `--max-bytes`).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_MAX_DEPTH } from '../nfe/xml-tokens.js';
import { isLayoutId, LAYOUT_IDS, type LayoutId } from '../sped/layout.js';

/** The help text every command ends with (added by main.ts to every help page). */
export const EXIT_CODES_HELP =
  '\nExit codes: 0 ok; 1 the input has findings (the run still goes to the end; also: no document found);\n' +
  '2 usage error, or a source that cannot be opened or read.';

/** The default of --max-bytes: src/nfe/source.ts DEFAULT_MAX_DOCUMENT_BYTES (not imported: a SPED run loads no XML code). */
export const MAX_BYTES_DEFAULT = 64 * 1024 * 1024;

/** A whole number ≥ 1 (`--max-bytes`, `--max-depth`). */
export function parsePositiveInt(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError('expected a whole number of at least 1');
  return Number(value);
}

/** A whole number ≥ 0 (`--max-errors`, where 0 means all). */
export function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number (0 = all)');
  return Number(value);
}

export function parseLayout(value: string): LayoutId {
  if (!isLayoutId(value)) throw new InvalidArgumentError(`expected one of ${LAYOUT_IDS.join(', ')}`);
  return value;
}

/** One CSV delimiter character (not a quote or a line break). */
export function parseDelimiter(value: string): string {
  if (value.length !== 1 || value === '"' || value === '\n' || value === '\r') throw new InvalidArgumentError('expected one character (not a quote or a line break)');
  return value;
}

/** Collects a repeatable option's values in order (`--schemas A --schemas B`). */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The definitions. Each call makes a fresh Option (commander keeps one per command). */
export const OPTIONS = {
  output: () => new Option('-o, --output <file>', 'write the output (the report, for validate and verify) to FILE instead of stdout, atomically'),
  outDir: () => new Option('--out-dir <dir>', 'write one file per document or register into DIR (created when missing)'),
  json: () => new Option('--json', 'machine-readable JSON on stdout'),
  progress: () => new Option('--no-progress', 'no progress on stderr (shown only on a terminal)'),
  layout: () => new Option('--layout <layout>', `SPED layout (${LAYOUT_IDS.join(', ')}): of the input instead of detecting it; from-docs: of the file to write (efd-icms-ipi, the default, or efd-contribuicoes)`).argParser(parseLayout),
  maxErrors: () => new Option('--max-errors <n>', 'findings to list (counts stay complete); 0 lists all').argParser(parseCount).default(1000),
  maxBytes: () => new Option('--max-bytes <n>', `per-document byte cap (default ${MAX_BYTES_DEFAULT} = 64 MiB)`).argParser(parsePositiveInt),
  maxDepth: () => new Option('--max-depth <n>', `maximum element nesting (default ${DEFAULT_MAX_DEPTH})`).argParser(parsePositiveInt),
  failFast: () => new Option('--fail-fast', 'stop at the first document with findings'),
  delimiter: () => new Option('--delimiter <char>', 'CSV field delimiter, one character').argParser(parseDelimiter).default(','),
  decimalComma: () => new Option('--decimal-comma', 'write decimals with a comma (1234,56) instead of a point'),
  bom: () => new Option('--bom', 'start with a UTF-8 BOM (for spreadsheet programs)'),
  encoding: () => new Option('--encoding <enc>', 'output encoding: windows-1252 or utf-8 (fix-totals: also keep, its default, the input\'s; from-jsonl: windows-1252 by default)'),
  lineEnds: () => new Option('--line-ends <eol>', 'line ends: crlf or lf (fix-totals: also keep, its default, the input\'s first line\'s; from-jsonl: crlf by default)'),
  replace: () => new Option('--replace', "replace what Windows-1252 cannot hold with '?', '|' with '/', line breaks with a space"),
  schemas: () => new Option('--schemas <dir>', 'XSD folder for schema validation with xmllint (repeatable: e.g. PL_010_V1.30 and the CF-e folder)').argParser(collect),
  threads: () => new Option('--threads <n>', 'worker threads (default: the available cores; 1 runs in the main thread)').argParser(parsePositiveInt),
  ledger: () => new Option('--ledger <url>', 'the idempotency ledger: sqlite:PATH or postgres://user:password@host:5432/db (default: $FISCAL_LEDGER, else sqlite:.fiscal/ledger.db)'),
  queue: () => new Option('--queue <url>', 'the task queue: local:DIR or amqp://user:password@host:5672/vhost (default: $FISCAL_QUEUE, else local:.fiscal/queue)'),
  route: () => new Option('--route <route>', 'the queue route, the engine line the tasks are for (default: $FISCAL_ROUTE, else v<engine major>)'),
  pfx: () => new Option('--pfx <file>', 'PKCS#12 certificate (.pfx/.p12)'),
  passwordEnv: () => new Option('--password-env <name>', 'environment variable holding the certificate password'),
  passwordFile: () => new Option('--password-file <path>', 'file holding the certificate password (first line)'),
} as const;

export type OptionName = keyof typeof OPTIONS;

/** Hidden deprecated spellings: [old flags, the option they set]. */
const ALIASES: readonly { readonly flags: string; readonly sets: OptionName }[] = [
  { flags: '--max-document-bytes <n>', sets: 'maxBytes' },
];

/**
 * Adds the named options to a command, in the order given, with the hidden aliases of each: an alias sets the
 * current option's value, parsed the same way.
 */
export function addOptions(cmd: Command, ...names: OptionName[]): Command {
  for (const name of names) {
    const option = OPTIONS[name]();
    cmd.addOption(option);
    for (const alias of ALIASES.filter((a) => a.sets === name)) {
      const hidden = new Option(alias.flags).hideHelp();
      cmd.addOption(hidden);
      cmd.on(`option:${hidden.name()}`, (value: string) => {
        cmd.setOptionValueWithSource(option.attributeName(), option.parseArg ? option.parseArg(value, undefined) : value, 'cli');
      });
    }
  }
  return cmd;
}
