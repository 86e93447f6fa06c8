/**
 * `fiscal sped from-docs` end to end (in-process CLI), and the `sped.from-docs` task through runTask, `fiscal run`
 * and `fiscal worker` over the embedded queue (a real process: dist/, so `npm run build` first).
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTask } from '../../src/tasks/run-task.js';
import { openLocalQueue } from '../../src/queue/local.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { run } from '../helpers/cli.js';
import { company, makeMonth, spedRecords, writeMonth, PERIOD } from '../helpers/from-docs.js';
import { tempDir } from '../helpers/temp-dir.js';

const COMPANY = new URL('../../fixtures/sped/from-docs-company.json', import.meta.url).pathname;
const month = makeMonth();
const dir = tempDir('fiscal-cli-from-docs-');
const docs = join(dir, 'docs');
execFileSync('mkdir', ['-p', docs]);
const paths = writeMonth(docs, month.files);
const zip = join(dir, 'month.zip');
execFileSync('zip', ['-q', '-j', zip, ...paths]);

t.test('from-docs -o FILE: the EFD written atomically, findings and a summary on stderr, and it validates', async (t) => {
  const out = join(dir, 'efd.txt');
  const r = await run(['sped', 'from-docs', '--company', COMPANY, '--period', PERIOD, '--threads', '1', docs, '-o', out]);
  t.equal(r.code, 0, 'exit 0');
  t.equal(r.stdout, '');
  t.match(r.stderr, /other-company\.xml: warning: .*\[FROMDOCS_OTHER_COMPANY\]/);
  t.match(r.stderr, /april\.xml: warning: .*\[FROMDOCS_OUT_OF_PERIOD\]/);
  t.match(r.stderr, /issued-1(-copy)?\.xml: warning: .*\[FROMDOCS_DUPLICATE\]/);
  t.match(r.stderr, new RegExp(`from-docs: ${month.files.length} documents; ${month.expected.regularNotes + month.expected.cancelledNotes} C100 \\(2 cancelled\\), ${month.expected.coupons} CF-e \\(1 cancelled\\), 2 duplicates;`));
  const v = await run(['sped', 'validate', out]);
  t.equal(v.code, 0, 'valid');
  t.match(v.stderr + v.stdout, /valid/);
  t.same(readdirSync(dir).filter((n) => n.includes('partial') || n.startsWith('.')), [], 'nothing left beside the output');
  // stdout, and stdin as concatenated documents, give the same bytes
  const viaStdout = await run(['sped', 'from-docs', '--company', COMPANY, '--period', PERIOD, zip, '--budget-mb', '1', '--threads', '2']);
  t.equal(viaStdout.code, 0);
  t.equal(viaStdout.stdout, readFileSync(out, 'latin1'), 'a zip to stdout: the same file');
  const concatenated = Buffer.from(month.files.map(([, xml]) => xml).join('\n'));
  const viaStdin = await run(['sped', 'from-docs', '--company', COMPANY, '--period', PERIOD, '--threads', '1', '-'], concatenated);
  t.equal(viaStdin.code, 0, 'exit 0');
  t.equal(viaStdin.stdout, readFileSync(out, 'latin1'), 'concatenated on stdin: the same file');
});

t.test('exit codes: 1 when a document cannot be read (the rest is written), 2 for a bad company, period or source', async (t) => {
  const bad = tempDir('fiscal-cli-from-docs-bad-');
  writeMonth(bad, [['ok.xml', month.files.find(([n]) => n === 'issued-3.xml')![1]], ['broken.xml', '<nfeProc><NFe>']]);
  const out = join(bad, 'efd.txt');
  const r = await run(['sped', 'from-docs', '--company', COMPANY, '--period', PERIOD, '--threads', '1', bad, '-o', out]);
  t.equal(r.code, 1);
  t.match(r.stderr, /broken\.xml.*\[NFE_XML_MALFORMED\]/);
  t.equal(spedRecords(readFileSync(out, 'latin1')).filter((x) => x[0] === 'C100').length, 1);
  const wrong = join(bad, 'company.json');
  writeFileSync(wrong, JSON.stringify({ ...JSON.parse(readFileSync(COMPANY, 'utf8')), uf: 'Sao Paulo' }));
  const c = await run(['sped', 'from-docs', '--company', wrong, '--period', PERIOD, '--threads', '1', docs]);
  t.equal(c.code, 2);
  t.match(c.stderr, /company\.json: \$\.uf: .*\[FROMDOCS_COMPANY\]/);
  t.notMatch(c.stderr, /\n\s+at /, 'no stack trace');
  const p = await run(['sped', 'from-docs', '--company', COMPANY, '--period', 'março', docs]);
  t.equal(p.code, 2);
  t.match(p.stderr, /FROMDOCS_PERIOD/);
  const s = await run(['sped', 'from-docs', '--company', COMPANY, '--period', PERIOD, '--threads', '1', join(bad, 'missing')]);
  t.equal(s.code, 2);
  t.match(s.stderr, /IO_ENOENT/);
  const m = await run(['sped', 'from-docs', '--period', PERIOD, '--threads', '1', docs]);
  t.equal(m.code, 2, 'the company is required');
});

t.test('the sped.from-docs task: a zip in, the EFD out, the same bytes as the CLI; fiscal run too', async (t) => {
  const out = join(dir, 'task-efd.txt');
  const options = { company: JSON.parse(readFileSync(COMPANY, 'utf8')) as Record<string, unknown>, period: PERIOD };
  const ledger = new MemoryLedger();
  const m = await runTask({ type: 'sped.from-docs', input: zip, output: out, options }, { ledger, workDir: join(dir, '.fiscal') });
  t.equal(m.status, 'done', JSON.stringify(m.error));
  t.equal(m.counts.coupons, month.expected.coupons);
  t.equal(m.counts.duplicates, 2);
  t.same(m.findings, { errors: 0, warnings: Object.values(month.expected.findings).reduce((a, b) => a + b, 0) });
  const cli = await run(['sped', 'from-docs', '--company', COMPANY, '--period', PERIOD, '--threads', '1', zip]);
  t.equal(readFileSync(out, 'latin1'), cli.stdout, 'the task writes what the CLI writes');
  const again = await runTask({ type: 'sped.from-docs', input: zip, output: out, options }, { ledger, workDir: join(dir, '.fiscal') });
  t.equal(again.reused, true, 'the second delivery is answered from the ledger');
  const bad = await runTask({ type: 'sped.from-docs', input: zip, output: join(dir, 'x.txt'), options: { ...options, company: { name: 'X' } } }, { ledger, workDir: join(dir, '.fiscal') });
  t.equal(bad.status, 'failed');
  t.match(bad.error, { code: 'TASK_MALFORMED', message: /options\.company: \$\.cnpj: .*\[FROMDOCS_COMPANY\]/ }, 'a bad company is a malformed task');
  const taskFile = join(dir, 'task.json');
  const viaRun = join(dir, 'run-efd.txt');
  writeFileSync(taskFile, JSON.stringify({ type: 'sped.from-docs', input: zip, output: viaRun, options }));
  const r = await run(['run', taskFile, '--ledger', `sqlite:${join(dir, 'ledger.db')}`]);
  t.equal(r.code, 0, r.stderr + r.stdout);
  t.equal(readFileSync(viaRun, 'latin1'), cli.stdout, 'fiscal run: the same file');
  t.ok(company().cnpj);
});

t.test('the sped.from-docs task through the queue: fiscal worker runs it and writes the same file', async (t) => {
  const wdir = tempDir('fiscal-from-docs-worker-');
  const out = join(wdir, 'efd.txt');
  const queue = await openLocalQueue(join(wdir, 'queue'), { route: 'test' });
  try {
    const options = { company: JSON.parse(readFileSync(COMPANY, 'utf8')) as Record<string, unknown>, period: PERIOD };
    await queue.submit([{ id: 'march', task: { type: 'sped.from-docs', input: zip, output: out, options }, priority: 0 }]);
  } finally {
    await queue.close();
  }
  const bin = new URL('../../bin/fiscal.js', import.meta.url).pathname;
  const w = spawnSync(process.execPath, [bin, 'worker', '--queue', `local:${join(wdir, 'queue')}`, '--route', 'test', '--ledger', `sqlite:${join(wdir, 'ledger.db')}`, '--exit-when-idle', '--threads', '1'], { cwd: wdir, timeout: 120_000 });
  t.equal(w.status, 0, w.stderr.toString());
  t.match(JSON.parse(w.stdout.toString()), { done: 1, dead: 0 });
  const cli = await run(['sped', 'from-docs', '--company', COMPANY, '--period', PERIOD, '--threads', '1', zip]);
  t.equal(readFileSync(out, 'latin1'), cli.stdout, 'the worker wrote what the CLI writes');
});

t.test('--layout efd-contribuicoes: the EFD-Contribuições, valid; the task takes layout; another layout is a usage error', async (t) => {
  const out = join(dir, 'contrib.txt');
  const r = await run(['sped', 'from-docs', '--layout', 'efd-contribuicoes', '--company', COMPANY, '--period', PERIOD, '--threads', '1', docs, '-o', out]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /from-docs: \d+ documents; .* PIS due \d+\.\d\d \(contribution \d+\.\d\d, credits used \d+\.\d\d\), COFINS due \d+\.\d\d .*; 0 errors, \d+ warnings/);
  const text = readFileSync(out, 'latin1');
  t.match(text, /^\|0000\|006\|0\|/, 'an EFD-Contribuições of COD_VER 006');
  const v = await run(['sped', 'validate', out]);
  t.equal(v.code, 0, v.stderr + v.stdout);
  t.match(v.stderr + v.stdout, /valid — efd-contribuicoes 006/);
  const icms = await run(['sped', 'from-docs', '--company', COMPANY, '--period', PERIOD, '--threads', '1', docs]);
  t.match(icms.stdout, /^\|0000\|020\|/, 'without --layout: still the EFD ICMS/IPI');
  const options = { layout: 'efd-contribuicoes', company: JSON.parse(readFileSync(COMPANY, 'utf8')) as Record<string, unknown>, period: PERIOD };
  const taskOut = join(dir, 'task-contrib.txt');
  const m = await runTask({ type: 'sped.from-docs', input: zip, output: taskOut, options }, { ledger: new MemoryLedger(), workDir: join(dir, '.fiscal') });
  t.equal(m.status, 'done', JSON.stringify(m.error));
  t.equal(readFileSync(taskOut, 'latin1'), text, 'the task writes what the CLI writes');
  const bad = await runTask({ type: 'sped.from-docs', input: zip, output: join(dir, 'y.txt'), options: { ...options, layout: 'ecd' } }, { ledger: new MemoryLedger(), workDir: join(dir, '.fiscal') });
  t.match(bad, { status: 'failed', error: { code: 'TASK_MALFORMED' } }, 'a layout from-docs does not write is a malformed task');
  const e = await run(['sped', 'from-docs', '--layout', 'ecd', '--company', COMPANY, '--period', PERIOD, '--threads', '1', docs]);
  t.equal(e.code, 2);
  t.match(e.stderr, /from-docs writes efd-icms-ipi or efd-contribuicoes .*\[FROMDOCS_LAYOUT\]/);
  t.notMatch(e.stderr, /\n\s+at /, 'no stack trace');
});
