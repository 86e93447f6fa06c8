// -o FILE on the commands whose output is a report (nfe validate, verify, key): the report lands in the file,
// written atomically; stdout stays empty.
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/sped.js';

const notes = fileURLToPath(new URL('../../fixtures/nfe/', import.meta.url));

const dir = tempDir();

t.test('nfe verify -o: results and summary table in the file, findings on stderr', async (t) => {
  const path = join(dir, 'verify.txt');
  const r = await run(['nfe', 'verify', notes, '-o', path]);
  t.equal(r.code, 1, 'one fixture was edited after signing');
  t.equal(r.stdout, '');
  t.match(r.stderr, /NFE_DIGEST_MISMATCH/);
  const report = readFileSync(path, 'utf8');
  t.match(report, /OK\s+5\n/);
  t.match(report, /NFE_DIGEST_MISMATCH\s+1\n/);
});

t.test('nfe validate -o: the findings report in the file', async (t) => {
  const path = join(dir, 'validate.txt');
  const r = await run(['nfe', 'validate', notes, '-o', path]);
  t.equal(r.code, 0);
  t.equal(r.stdout + r.stderr, '');
  t.match(readFileSync(path, 'utf8'), /6 document\(s\), 0 with findings/);
});

t.test('nfe key -o, and no file left when the command fails', async (t) => {
  const key = readdirSync(notes).find((f) => f.endsWith('-nfce.xml'))!.slice(0, 44);
  const path = join(dir, 'key.json');
  const r = await run(['nfe', 'key', key, '--json', '-o', path]);
  t.equal(r.code, 0);
  t.equal(JSON.parse(readFileSync(path, 'utf8')).mod, '65');
  const never = join(dir, 'never.txt');
  const bad = await run(['nfe', 'verify', '/nonexistent/dir', '-o', never]);
  t.not(bad.code, 0);
  t.notOk(existsSync(never));
});

t.test('nfe verify --fail-fast stops at the first failing document', async (t) => {
  const edited = readdirSync(notes).find((f) => f.includes('edited'))!;
  const all = await run(['nfe', 'verify', '--json', join(notes, edited), notes]);
  const fast = await run(['nfe', 'verify', '--json', '--fail-fast', join(notes, edited), notes]);
  t.equal(all.code, 1);
  t.equal(fast.code, 1);
  t.equal(all.stdout.trim().split('\n').length, 7, 'the edited file, then the whole folder');
  t.equal(fast.stdout.trim().split('\n').length, 1, 'stopped after the first');
});
