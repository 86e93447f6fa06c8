// The container files (Dockerfile, compose.yaml) cannot be built here (no container engine): this checks what can
// be checked without one — both parse, every path the Dockerfile copies exists and is not excluded by
// .dockerignore, it runs as a non-root user with the CLI as entry point, and every fiscal command and flag that
// compose.yaml starts exists in the CLI's own help.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/fiscal.js');

interface Instruction { readonly op: string; readonly args: string; readonly line: number }

function dockerfile(): Instruction[] {
  const out: Instruction[] = [];
  const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let text = lines[i]!;
    while (text.endsWith('\\') && i + 1 < lines.length) text = `${text.slice(0, -1)} ${lines[++i]!}`;
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const m = /^([A-Z]+)\s+(.*)$/.exec(trimmed);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: not an instruction: ${trimmed}`);
    out.push({ op: m[1]!, args: m[2]!, line: start + 1 });
  }
  return out;
}

const KNOWN = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL']);

function help(args: readonly string[]): { status: number | null; text: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--help'], { encoding: 'utf8', cwd: ROOT });
  return { status: r.status, text: r.stdout + r.stderr };
}

t.test('Dockerfile: known instructions, existing sources, non-root, the CLI as entry point', async (t) => {
  const ins = dockerfile();
  for (const i of ins) t.ok(KNOWN.has(i.op), `line ${i.line}: ${i.op} is a Dockerfile instruction`);
  t.equal(ins[0]?.op, 'FROM', 'starts with FROM');
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  for (const i of ins.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
    const parts = i.args.split(/\s+/);
    for (const src of parts.slice(0, -1)) {
      t.ok(existsSync(join(ROOT, src)), `line ${i.line}: ${src} exists`);
      t.notOk(ignored.some((g) => src === g || src.startsWith(`${g}/`)), `line ${i.line}: ${src} is not in .dockerignore`);
    }
  }
  const stages = ins.map((x, idx) => ({ x, idx })).filter(({ x }) => x.op === 'FROM');
  const last = ins.slice(stages.at(-1)!.idx);
  const user = last.filter((x) => x.op === 'USER').at(-1);
  t.ok(user && !/^(root|0)(:|$)/.test(user.args), `the final stage runs as a non-root user (${user?.args})`);
  const entry = last.find((x) => x.op === 'ENTRYPOINT');
  t.ok(entry, 'has an ENTRYPOINT');
  const argv = JSON.parse(entry!.args) as string[];
  t.same(argv.slice(0, 1), ['node']);
  t.match(argv[1], /\/bin\/fiscal\.js$/, 'the entry point is the fiscal CLI');
  const cmd = JSON.parse(last.find((x) => x.op === 'CMD')!.args) as string[];
  t.equal(help(cmd.filter((a) => a !== '--help')).status, 0, `CMD ${cmd.join(' ')} runs`);
  // the npm scripts the build stage runs exist
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  for (const i of ins.filter((x) => x.op === 'RUN')) {
    for (const m of i.args.matchAll(/npm run ([\w:-]+)/g)) t.ok(pkg.scripts[m[1]!], `line ${i.line}: npm script ${m[1]} exists`);
  }
});

t.test('compose.yaml: the fiscal services start commands and flags the CLI has', async (t) => {
  const doc = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as { services: Record<string, { build?: string; image?: string; command?: string[]; depends_on?: Record<string, unknown> }> };
  const services = Object.entries(doc.services);
  t.ok(services.some(([, s]) => s.image?.startsWith('rabbitmq:')), 'has RabbitMQ');
  t.ok(services.some(([, s]) => s.image?.startsWith('postgres:')), 'has PostgreSQL');
  const workers = services.filter(([, s]) => s.build === '.');
  t.equal(workers.length, 2, 'two fiscal workers');
  for (const [name, s] of workers) {
    t.ok(Array.isArray(s.command) && s.command.length > 0, `${name}: a command`);
    const words = s.command!;
    const flagAt = words.findIndex((w) => w.startsWith('-'));
    const command = flagAt < 0 ? words : words.slice(0, flagAt);
    const h = help(command);
    t.equal(h.status, 0, `${name}: fiscal ${command.join(' ')} --help exits 0`);
    // an unknown command's --help prints the top-level help: the page must be the command's own
    t.match(h.text, new RegExp(`^Usage: fiscal ${command.join(' ')} `), `${name}: fiscal ${command.join(' ')} exists`);
    for (const flag of words.filter((w) => w.startsWith('--'))) t.ok(h.text.includes(flag), `${name}: fiscal ${command.join(' ')} has ${flag}`);
    for (const dep of Object.keys(s.depends_on ?? {})) t.ok(doc.services[dep], `${name}: depends on a service that exists (${dep})`);
    const ledger = words[words.indexOf('--ledger') + 1] ?? '';
    const queue = words[words.indexOf('--queue') + 1] ?? '';
    t.match(ledger, /^postgres:\/\/[^@]+@postgres:5432\//, `${name}: the ledger is the compose PostgreSQL`);
    t.match(queue, /^amqp:\/\/[^@]+@rabbitmq:5672/, `${name}: the queue is the compose RabbitMQ`);
  }
});
