/**
 * One option vocabulary (src/cli/options.ts): every help page ends with the exit codes, an option name means
 * the same thing on every command, old spellings still work, and the README names only options that exist.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { Command, type Option } from 'commander';
import { registerNfeCommands } from '../../src/cli/nfe.js';
import { registerSpedCommands } from '../../src/cli/sped.js';
import { registerLedgerCommands } from '../../src/cli/ledger.js';
import { registerRunCommand } from '../../src/cli/run.js';
import { registerCouponsCommands } from '../../src/cli/coupons.js';
import { registerSubmitCommand } from '../../src/cli/submit.js';
import { registerQueueCommands } from '../../src/cli/queue.js';
import { registerWorkerCommand } from '../../src/cli/worker.js';
import type { CommandContext } from '../../src/cli/main.js';
import { OPTIONS, MAX_BYTES_DEFAULT } from '../../src/cli/options.js';
import { DEFAULT_MAX_DOCUMENT_BYTES } from '../../src/nfe/source.js';
import { generateNfeXml } from '../../src/nfe/generate.js';
import { run } from '../helpers/cli.js';

/** The whole command tree, built the way main.ts builds it. */
function program(): Command {
  const ctx = { io: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }, async run() {} } as unknown as CommandContext;
  const p = new Command('fiscal');
  registerSpedCommands(p, ctx);
  registerNfeCommands(p, ctx);
  registerLedgerCommands(p, ctx);
  registerCouponsCommands(p, ctx);
  registerRunCommand(p, ctx);
  registerSubmitCommand(p, ctx);
  registerQueueCommands(p, ctx);
  registerWorkerCommand(p, ctx);
  return p;
}

function leaves(p: Command): { path: string[]; cmd: Command }[] {
  const out: { path: string[]; cmd: Command }[] = [];
  for (const g of p.commands) for (const c of g.commands) out.push({ path: [g.name(), c.name()], cmd: c });
  return out;
}

t.test('every help page lists the exit codes', async (t) => {
  const pages = [[], ...program().commands.map((g) => [g.name()]), ...leaves(program()).map((l) => l.path)];
  t.ok(pages.length > 15, `${pages.length} help pages`);
  for (const path of pages) {
    const r = await run([...path, '--help']);
    t.equal(r.code, 0, path.join(' '));
    t.match(r.stdout, /Exit codes: 0 ok; 1 the input has findings[^\n]*\n2 usage error, or a source that cannot be opened or read\./, `fiscal ${path.join(' ')} --help`);
  }
});

t.test('the same option name means the same thing everywhere', async (t) => {
  const byName = new Map<string, { where: string; o: Option }[]>();
  for (const { path, cmd } of leaves(program())) {
    for (const o of cmd.options) {
      if (o.hidden) continue; // an old spelling: checked by what it sets (below)
      const name = o.long ?? o.short ?? o.flags;
      byName.set(name, [...(byName.get(name) ?? []), { where: path.join(' '), o }]);
    }
  }
  const vocabulary = new Map(Object.values(OPTIONS).map((make) => { const o = make(); return [o.long!, o] as const; }));
  let shared = 0;
  for (const [name, uses] of byName) {
    const def = vocabulary.get(name);
    if (uses.length > 1) {
      shared++;
      t.ok(def, `${name} is on ${uses.length} commands (${uses.map((u) => u.where).join(', ')}): it must be defined in options.ts`);
    }
    if (!def) continue;
    for (const { where, o } of uses) {
      t.same(
        [o.flags, o.description, o.defaultValue, o.hidden, o.parseArg?.toString()],
        [def.flags, def.description, def.defaultValue, def.hidden, def.parseArg?.toString()],
        `${where} ${name} is the vocabulary's`,
      );
    }
  }
  t.ok(shared >= 10, `${shared} option names shared by several commands`);
  const batch = leaves(program()).filter((l) => ['to-jsonl', 'to-csv', 'validate', 'verify'].includes(l.path[1]!) && l.path[0] === 'nfe');
  for (const { path, cmd } of batch) {
    for (const flag of ['--max-bytes', '--max-depth', '--no-progress', '--fail-fast', '-o']) {
      t.ok(cmd.options.some((o) => o.long === flag || o.short === flag), `${path.join(' ')} takes ${flag}`);
    }
  }
  t.equal(MAX_BYTES_DEFAULT, DEFAULT_MAX_DOCUMENT_BYTES, 'the --max-bytes help says the reader\'s default');
});

t.test('old spellings still work; --max-depth on verify; bad numbers are usage errors', async (t) => {
  const dir = t.testdir({ 'a.xml': generateNfeXml(1) });
  const old = await run(['nfe', 'verify', dir, '--max-document-bytes', '100']);
  t.equal(old.code, 1);
  t.match(old.stderr, /over the cap of 100 \[NFE_TOO_LARGE\]/, '--max-document-bytes sets --max-bytes');
  const now = await run(['nfe', 'verify', dir, '--max-bytes', '100']);
  t.equal(now.stderr, old.stderr);
  const help = await run(['nfe', 'verify', '--help']);
  t.notMatch(help.stdout, /max-document-bytes/, 'the old spelling is hidden');
  const deep = await run(['nfe', 'verify', dir, '--max-depth', '3']);
  t.equal(deep.code, 1);
  t.match(deep.stderr, /NFE_XML_TOO_DEEP/);
  for (const argv of [['nfe', 'to-jsonl', dir, '--max-bytes', '0'], ['nfe', 'validate', dir, '--max-depth', 'x'], ['nfe', 'to-csv', dir, '--delimiter', ';;'], ['sped', 'validate', '-', '--max-errors', '-1']]) {
    const r = await run(argv);
    t.equal(r.code, 2, argv.join(' '));
    t.match(r.stderr, /error: option/, `${argv.join(' ')}: commander says which option`);
  }
});

t.test('sources without documents: said on stderr, exit 1, for every batch command', async (t) => {
  const empty = t.testdir({ 'notes.txt': 'not xml' });
  for (const cmd of ['to-jsonl', 'to-csv', 'validate', 'verify']) {
    const r = await run(['nfe', cmd, empty]);
    t.equal(r.code, 1, cmd);
    t.match(r.stderr, /: no documents found .*\[NFE_NO_DOCUMENTS\]/, cmd);
  }
  const csv = await run(['nfe', 'to-csv', empty]);
  t.match(csv.stdout, /^source,key,/, 'to-csv still writes its header (a valid empty sheet)');
  const stdin = await run(['nfe', 'to-jsonl', '-']);
  t.equal(stdin.code, 1, 'nothing on stdin');
});

t.test('the README names only options the commands take', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const p = program();
  let checked = 0;
  for (const [, group, body] of readme.matchAll(/### [^\n]*`fiscal (\w+) …`[^\n]*\n([\s\S]*?)(?=\n### |\n## )/g)) {
    for (const [, cmd, usage] of body!.matchAll(/^\| `([\w-]+) ([^`]*)` \|/gm)) {
      if (cmd === 'fiscal') continue; // a whole command, checked below
      const c = p.commands.find((g) => g.name() === group)?.commands.find((x) => x.name() === cmd);
      t.ok(c, `${group} ${cmd} exists`);
      for (const [flag] of usage!.matchAll(/--[\w-]+/g)) {
        checked++;
        t.ok(c?.options.some((o) => o.long === flag || o.long === flag.replace(/^--no-/, '--')), `README: ${group} ${cmd} ${flag}`);
      }
      t.notMatch(usage, /--delimiter ;/, 'the README shows the delimiter as an argument, not a default it does not have');
    }
  }
  // rows that spell the whole command: `fiscal worker …`, `fiscal queue stats …`
  for (const [, words, usage] of readme.matchAll(/^\| `fiscal ([a-z][\w-]*(?: [a-z][\w-]*)?)((?: [^`]*)?)` \|/gm)) {
    const [first, second] = words!.split(' ');
    const top = p.commands.find((c) => c.name() === first);
    const sub = second ? top?.commands.find((c) => c.name() === second) : undefined;
    const c = sub ?? top;
    t.ok(c && (sub || !second || top!.commands.length === 0), `fiscal ${words} exists`);
    for (const [flag] of usage!.matchAll(/--[\w-]+/g)) {
      checked++;
      t.ok(c?.options.some((o) => o.long === flag || o.long === flag.replace(/^--no-/, '--')), `README: fiscal ${words} ${flag}`);
    }
  }
  t.ok(checked > 20, `${checked} options named in the README`);
});
