import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run } from '../helpers/cli.js';
import { joinLines, lineOf, linesOf, setField, syntheticFile, writeTemp } from '../helpers/sped.js';

const clean = await syntheticFile({ layout: 'efd-icms-ipi', documents: 5, seed: 5 });
const cleanPath = writeTemp('clean.txt', clean);
const lines = linesOf(clean);
const at = lineOf(lines, 'C170', 2);
lines[at - 1] = setField(lines[at - 1]!, 3, 'NOPE');
const badPath = writeTemp('bad.txt', joinLines(lines));

t.test('valid file: exit 0, summary on stderr', async (t) => {
  const r = await run(['sped', 'validate', cleanPath]);
  t.equal(r.code, 0);
  t.equal(r.stdout, '');
  t.match(r.stderr, /valid — efd-icms-ipi 020/);
});

t.test('invalid file: exit 1, FILE:LINE: REG FIELD#POS: CODE message', async (t) => {
  const r = await run(['sped', 'validate', badPath]);
  t.equal(r.code, 1);
  t.match(r.stderr, `${badPath}:${at}: C170 COD_ITEM#3: SPED_REF_MISSING COD_ITEM 'NOPE' has no 0200 record`);
  t.match(r.stderr, /INVALID/);
});

t.test('--json on stdout with the documented shape; stdin as -', async (t) => {
  const r = await run(['sped', 'validate', '--json', '-'], joinLines(lines));
  t.equal(r.code, 1);
  const j = JSON.parse(r.stdout);
  t.same(Object.keys(j).sort(), ['encoding', 'errorCount', 'errors', 'layout', 'lines', 'signature', 'truncated', 'valid', 'version', 'warningCount'].sort());
  t.equal(j.valid, false);
  t.equal(j.errorCount, 1);
  t.same(j.errors[0], { line: at, register: 'C170', field: 'COD_ITEM', position: 3, code: 'SPED_REF_MISSING', severity: 'error', message: "COD_ITEM 'NOPE' has no 0200 record" });
  t.equal(r.stderr, '', 'no human findings with --json');
});

t.test('--max-errors', async (t) => {
  const many = linesOf(clean).map((l) => (l.startsWith('|C170|') ? setField(l, 3, 'NOPE') : l));
  const r = await run(['sped', 'validate', '--json', '--max-errors', '2', writeTemp('many.txt', joinLines(many))]);
  const j = JSON.parse(r.stdout);
  t.equal(j.errors.length, 2);
  t.equal(j.truncated, true);
  t.equal(j.errorCount, 15);
  const bad = await run(['sped', 'validate', '--max-errors', 'lots', cleanPath]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /max-errors/);
});

t.test('usage and unreadable sources exit 2 with one line, no stack', async (t) => {
  const missing = await run(['sped', 'validate', '/nonexistent/file.txt']);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot open \/nonexistent\/file.txt: no such file or directory \[IO_ENOENT\]/);
  t.notMatch(missing.stderr, /at .*\.js/);
  const dir = await run(['sped', 'validate', '/tmp']);
  t.equal(dir.code, 2);
  const noArg = await run(['sped', 'validate']);
  t.equal(noArg.code, 2);
  const layout = await run(['sped', 'validate', '--layout', 'nfe', cleanPath]);
  t.equal(layout.code, 2);
  const help = await run(['sped', 'validate', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /Exit codes: 0 ok; 1 the input has findings/);
});

t.test('the real binary: exit codes through a child process', async (t) => {
  const bin = fileURLToPath(new URL('../../bin/fiscal.js', import.meta.url));
  const ok = spawnSync(process.execPath, [bin, 'sped', 'validate', cleanPath], { encoding: 'utf8' });
  t.equal(ok.status, 0, ok.stderr);
  const bad = spawnSync(process.execPath, [bin, 'sped', 'validate', badPath], { encoding: 'utf8' });
  t.equal(bad.status, 1);
  const piped = spawnSync(process.execPath, [bin, 'sped', 'validate', '--json', '-'], { input: clean });
  t.equal(piped.status, 0);
  t.equal(JSON.parse(piped.stdout.toString()).valid, true);
  const garbage = spawnSync(process.execPath, [bin, 'sped', 'validate', bin], { encoding: 'utf8' });
  t.equal(garbage.status, 1);
  t.match(garbage.stderr, /SPED_NOT_SPED/);
});

t.test('-o FILE receives the report, written atomically', async (t) => {
  const { readFileSync, existsSync } = await import('node:fs');
  const { dirname, join } = await import('node:path');
  const dir = dirname(badPath);
  const json = join(dir, 'report.json');
  const r = await run(['sped', 'validate', '--json', '-o', json, badPath]);
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.equal(JSON.parse(readFileSync(json, 'utf8')).errorCount, 1);
  const human = join(dir, 'report.txt');
  const h = await run(['sped', 'validate', '-o', human, badPath]);
  t.equal(h.code, 1);
  t.equal(h.stderr, '');
  t.match(readFileSync(human, 'utf8'), /SPED_REF_MISSING[\s\S]*INVALID/);
  const missing = join(dir, 'never.json');
  const m = await run(['sped', 'validate', '--json', '-o', missing, '/nonexistent/x.txt']);
  t.equal(m.code, 2);
  t.notOk(existsSync(missing), 'no output file when the source cannot be read');
});
