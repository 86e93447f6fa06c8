import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough, Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import { recountTotals } from '../helpers/sped-totals.js';

const HEADER = '|0000|020|0|01012026|31012026|EMPRESA LTDA|11222333000181||SP|110042490114|3550308|||A|1|';
const FILE = [HEADER, '|0001|0|', '|0005|X|', '|0990|9|', '|C001|0|', '|C100|0|', '|C100|1|', '|C990|4|', '|9001|0|', '|9900|0000|1|', '|9990|3|', '|9999|12|'];

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

async function run(argv: string[], stdin: Buffer | string = ''): Promise<Run> {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  const code = await main(argv, { stdin: Readable.from([Buffer.from(stdin)]), stdout: out, stderr: err });
  return { code, stdout: Buffer.concat(o), stderr: Buffer.concat(e).toString('utf8') };
}

function workdir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sped-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const crlfLines = (b: Buffer): string[] => b.toString('latin1').split('\r\n').slice(0, -1);

t.test('stats: --json and the table, from a file and from stdin', async (t) => {
  const dir = workdir(t);
  const path = join(dir, 'efd.txt');
  writeFileSync(path, FILE.join('\n') + '\n');
  const json = await run(['sped', 'stats', path, '--json']);
  t.equal(json.code, 0, json.stderr);
  const stats = JSON.parse(json.stdout.toString()) as Record<string, unknown>;
  t.match(stats, { layout: 'efd-icms-ipi', version: '020', period: { start: '2026-01-01', end: '2026-01-31' }, company: { name: 'EMPRESA LTDA', cnpj: '11222333000181' }, encoding: 'ascii', lines: 12, signature: null });
  t.same(stats.registers, { '0000': 1, '0001': 1, '0005': 1, '0990': 1, C001: 1, C100: 2, C990: 1, '9001': 1, '9900': 1, '9990': 1, '9999': 1 });
  const table = await run(['sped', 'stats', '-'], FILE.join('\r\n'));
  t.equal(table.code, 0);
  t.match(table.stdout.toString(), /^layout\s+efd-icms-ipi \(version 020\)$/m);
  t.match(table.stdout.toString(), /^C\s+C100\s+2$/m);
  const out = join(dir, 'stats.json');
  t.equal((await run(['sped', 'stats', path, '--json', '-o', out])).code, 0);
  t.equal(JSON.parse(readFileSync(out, 'utf8')).lines, 12);
});

t.test('to-jsonl then from-jsonl; findings on stderr make exit 1', async (t) => {
  const dir = workdir(t);
  const path = join(dir, 'efd.txt');
  writeFileSync(path, [...FILE.slice(0, 5), 'broken line', ...FILE.slice(5)].join('\r\n'));
  const jsonl = join(dir, 'efd.jsonl');
  const a = await run(['sped', 'to-jsonl', path, '-o', jsonl]);
  t.equal(a.code, 1);
  t.equal(a.stderr, `${path}:6: SPED_LINE_FORMAT line does not start with |\n`);
  t.equal(readFileSync(jsonl, 'utf8').trimEnd().split('\n').length, FILE.length, 'output still complete');
  const b = await run(['sped', 'from-jsonl', jsonl]);
  t.equal(b.code, 0, b.stderr);
  const lines = crlfLines(b.stdout);
  t.same(recountTotals(lines), []);
  t.ok(lines.includes('|0001|0|') && lines.includes('|C100|1|'));
  const c = await run(['sped', 'from-jsonl', '-', '-o', join(dir, 'x.txt')], readFileSync(jsonl));
  t.equal(c.code, 0);
  t.same(crlfLines(readFileSync(join(dir, 'x.txt'))), lines, 'stdin and -o give the same file');
});

t.test('from-jsonl: a bad line is exit 1, one clear message, no output file', async (t) => {
  const dir = workdir(t);
  const jsonl = join(dir, 'bad.jsonl');
  writeFileSync(jsonl, '{"register":"0000","fields":{"COD_VER":"020","COD_FIN":"0","DT_INI":"01012026","DT_FIN":"31012026"}}\n{"register":"0005","fields":{"FANTASIA":"ő"}}\n');
  const out = join(dir, 'out.txt');
  const r = await run(['sped', 'from-jsonl', jsonl, '-o', out]);
  t.equal(r.code, 1);
  t.equal(r.stderr.trim().split('\n').length, 1);
  t.match(r.stderr, /^fiscal: .*bad\.jsonl: line 2: 0005 FANTASIA#2: .*U\+0151.*\[SPED_WRITE_VALUE\]$/m);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  t.same(readdirSync(dir), ['bad.jsonl'], 'no output file, no temporary file');
  const replaced = await run(['sped', 'from-jsonl', jsonl, '--replace', '-o', out]);
  t.equal(replaced.code, 0);
  t.match(replaced.stderr, /1 values replaced/);
  t.ok(crlfLines(readFileSync(out)).includes('|0005|o|'));
});

t.test('fix-totals: stdout, -o, --in-place, signature note', async (t) => {
  const dir = workdir(t);
  const path = join(dir, 'efd.txt');
  const signed = Buffer.concat([Buffer.from(FILE.join('\r\n') + '\r\n'), Buffer.from('SBRCAAEPDR'), Buffer.from([0x30, 0x82, 0, 0x0a, 0xff])]);
  writeFileSync(path, signed);
  const r = await run(['sped', 'fix-totals', path]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /PVA signature block \(15 bytes\); the repaired file is not signed/);
  const lines = crlfLines(r.stdout);
  t.same(recountTotals(lines), []);
  t.not(lines.at(-1), FILE.at(-1), 'the wrong 9999 was replaced');
  const inPlace = await run(['sped', 'fix-totals', path, '--in-place']);
  t.equal(inPlace.code, 0);
  t.same(readFileSync(path), r.stdout, '--in-place writes what stdout got');
  t.same(readdirSync(dir), ['efd.txt']);
  t.equal((await run(['sped', 'fix-totals', '-', '--in-place'])).code, 2);
  t.equal((await run(['sped', 'fix-totals', path, '--in-place', '-o', join(dir, 'x')])).code, 2);
  // a line that is not a record: in place refuses, the original stays
  const damaged = Buffer.from([...FILE.slice(0, 3), 'garbage', ...FILE.slice(3)].join('\r\n'));
  writeFileSync(path, damaged);
  const refused = await run(['sped', 'fix-totals', path, '--in-place']);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /:4: SPED_LINE_FORMAT/);
  t.match(refused.stderr, /not replaced: 1 lines could not be read as records/);
  t.same(readFileSync(path), damaged);
  t.same(readdirSync(dir), ['efd.txt']);
});

t.test('to-csv', async (t) => {
  const dir = workdir(t);
  const path = join(dir, 'efd.txt');
  writeFileSync(path, FILE.join('\n'));
  const outDir = join(dir, 'csv');
  const r = await run(['sped', 'to-csv', path, '--out-dir', outDir, '--delimiter', ';', '--bom']);
  t.equal(r.code, 0, r.stderr);
  t.ok(readdirSync(outDir).includes('C100.csv'));
  t.match(readFileSync(join(outDir, '0000.csv'), 'utf8'), /^\ufeffLINE;COD_VER;COD_FIN;DT_INI;/);
  t.match(readFileSync(join(outDir, '0000.csv'), 'utf8'), /\n1;020;0;2026-01-01;2026-01-31;/);
  t.equal((await run(['sped', 'to-csv', path])).code, 2, '--out-dir is required');
});

t.test('to-jsonl notes a signature, a UTF-8 or LF input; from-jsonl --encoding/--line-ends gives it back', async (t) => {
  const dir = workdir(t);
  const path = join(dir, 'efd.txt');
  const utf8 = Buffer.from(FILE.map((l) => l.replace('|X|', '|AÇÚCAR|')).join('\n') + '\n', 'utf8');
  writeFileSync(path, Buffer.concat([utf8, Buffer.from('SBRCAAEPDR'), Buffer.from([0x30, 0x82, 0, 0x0a, 0xff])]));
  const jsonl = join(dir, 'efd.jsonl');
  const a = await run(['sped', 'to-jsonl', path, '-o', jsonl]);
  t.equal(a.code, 0, 'notes and warnings are not errors');
  t.match(a.stderr, `${path}: note: the input carried a PVA signature block (15 bytes); JSON Lines do not carry it, so from-jsonl gives an unsigned file`);
  t.match(a.stderr, `${path}: note: the input is UTF-8 and LF-terminated; from-jsonl --encoding utf-8 --line-ends lf writes it back that way`);
  const fixedUtf8 = await run(['sped', 'fix-totals', path]);
  t.equal(fixedUtf8.code, 0);
  t.ok(fixedUtf8.stdout.includes(Buffer.from('|0005|AÇÚCAR|\n', 'utf8')), 'fix-totals keeps UTF-8 and LF');
  const back = await run(['sped', 'from-jsonl', jsonl, '--encoding', 'utf-8', '--line-ends', 'lf']);
  t.equal(back.code, 0, back.stderr);
  t.same(back.stdout, fixedUtf8.stdout, 'from-jsonl with the noted options = fix-totals keeping them');
  const standard = await run(['sped', 'from-jsonl', jsonl]);
  t.ok(standard.stdout.includes(Buffer.from('|0005|A\xc7\xdaCAR|\r\n', 'latin1')), 'default: Windows-1252, CRLF');
  t.same((await run(['sped', 'fix-totals', path, '--encoding', 'windows-1252', '--line-ends', 'crlf'])).stdout, standard.stdout);
  for (const bad of [['from-jsonl', jsonl, '--encoding', 'latin9'], ['from-jsonl', jsonl, '--line-ends', 'cr'], ['fix-totals', path, '--encoding', 'ebcdic']]) {
    const r = await run(['sped', ...bad]);
    t.equal(r.code, 2, bad.join(' '));
    t.match(r.stderr, /must be one of/);
  }
});

t.test('an output that cannot be created is exit 2 at once, for every command that writes', async (t) => {
  const dir = workdir(t);
  const path = join(dir, 'efd.txt');
  writeFileSync(path, FILE.join('\r\n') + '\r\n');
  const jsonl = join(dir, 'efd.jsonl');
  await run(['sped', 'to-jsonl', path, '-o', jsonl]);
  const blocker = join(dir, 'plain-file');
  writeFileSync(blocker, 'x');
  const cases: string[][] = [
    ['to-csv', path, '--out-dir', '/proc/nope'],
    ['to-csv', path, '--out-dir', join(blocker, 'sub')],
    ['to-csv', path, '--out-dir', blocker],
  ];
  for (const [cmd, input] of [['stats', path], ['to-jsonl', path], ['from-jsonl', jsonl], ['fix-totals', path], ['validate', path]] as const) {
    cases.push(['sped', cmd, input, '-o', '/proc/nope/out.txt'].slice(1), ['sped', cmd, input, '-o', join(blocker, 'out.txt')].slice(1));
  }
  for (const argv of cases) {
    const r = await run(['sped', ...argv]);
    t.equal(r.code, 2, argv.join(' '));
    t.match(r.stderr, /^fiscal: cannot (write|open) .*: (no such file or directory|not a directory|permission denied)/m, argv.join(' '));
    t.notMatch(r.stderr, /\n\s+at /);
  }
  t.same(readdirSync(dir).sort(), ['efd.jsonl', 'efd.txt', 'plain-file'], 'nothing left behind');
});

t.test('usage and unreadable sources are exit 2; --help is exit 0; bad input never crashes', async (t) => {
  for (const cmd of ['stats', 'to-jsonl', 'from-jsonl', 'fix-totals', 'to-csv']) {
    const help = await run(['sped', cmd, '--help']);
    t.equal(help.code, 0, `${cmd} --help`);
    t.match(help.stdout.toString(), /Usage: fiscal sped/);
    const missing = await run(['sped', cmd, '/nonexistent/x.txt', ...(cmd === 'to-csv' ? ['--out-dir', '/tmp/never'] : [])]);
    t.equal(missing.code, 2, `${cmd} on a missing file`);
    t.match(missing.stderr, /^fiscal: cannot open \/nonexistent\/x\.txt: no such file or directory \[IO_ENOENT\]\n$/);
  }
  t.equal((await run(['sped', 'stats', '-', '--layout', 'nope'], HEADER)).code, 2);
  const garbage = Buffer.alloc(200000);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) & 0xff;
  for (const cmd of [['stats'], ['to-jsonl'], ['fix-totals']]) {
    const r = await run(['sped', ...cmd, '-'], garbage);
    t.equal(r.code, 1, `${cmd[0]} on binary garbage`);
    t.notMatch(r.stderr, /\n\s+at |internal error/);
  }
  const empty = await run(['sped', 'stats', '-'], '');
  t.equal(empty.code, 1);
  t.match(empty.stderr, /^-: SPED_EMPTY the file is empty$/m);
});

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = existsSync(join(root, 'dist/cli/main.js')) ? false : 'dist/ is not built (npx tsc -p tsconfig.build.json)';

function child(args: string[], input?: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(root, 'bin/fiscal.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const o: Buffer[] = [];
    const e: Buffer[] = [];
    p.stdout.on('data', (c: Buffer) => o.push(c));
    p.stderr.on('data', (c: Buffer) => e.push(c));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout: Buffer.concat(o), stderr: Buffer.concat(e).toString() }));
    p.stdin.end(input ?? '');
  });
}

t.test('real processes through bin/fiscal.js', { skip: built }, async (t) => {
  const stats = await child(['sped', 'stats', '-', '--json'], Buffer.from(FILE.join('\n')));
  t.equal(stats.code, 0, stats.stderr);
  t.equal(JSON.parse(stats.stdout.toString()).registers.C100, 2);
  const bad = await child(['sped', 'from-jsonl', '-'], Buffer.from('{oops\n'));
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^fiscal: -: line 1: not valid JSON .*\[SPED_JSONL_SYNTAX\]\n$/);
  // a reader that goes away early: the writer stops cleanly (EPIPE is not an error of ours)
  const big = Buffer.from([HEADER, ...Array.from({ length: 200000 }, (_, i) => `|C100|0|${i}|`)].join('\n'));
  const p = spawn(process.execPath, [join(root, 'bin/fiscal.js'), 'sped', 'fix-totals', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const e: Buffer[] = [];
  p.stderr.on('data', (c: Buffer) => e.push(c));
  p.stdout.once('data', () => p.stdout.destroy());
  p.stdin.on('error', () => {});
  p.stdin.end(big);
  const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
  t.equal(code, 0, Buffer.concat(e).toString());
  t.notMatch(Buffer.concat(e).toString(), /\n\s+at |internal error/);
});
