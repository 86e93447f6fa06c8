import t from 'tap';
import { readFileSync, writeFileSync, existsSync, readdirSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runTask as run, type RunTaskOptions, type TaskManifest } from '../../src/tasks/run-task.js';
import { MANIFEST_SCHEMA } from '../../src/tasks/task.js';
import { checkSchema } from '../../src/tasks/json-schema.js';
import { partialPathFor } from '../../src/tasks/io.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { run as cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const fixture = (name: string): string => new URL(`../../fixtures/${name}`, import.meta.url).pathname;
const EFD = fixture('sped/efd-icms-ipi-2026-01.txt');
const BROKEN = fixture('sped/efd-icms-ipi-2026-01-broken.txt');
const NFE = fixture('nfe/35260311222333000181550020000000021111424546-nfe.xml');

/** Every manifest the tests produce, checked against formats/tasks/manifest.v1.schema.json at the end. */
const produced: TaskManifest[] = [];
async function runTask(value: unknown, options: RunTaskOptions): Promise<TaskManifest> {
  const m = await run(value, options);
  produced.push(m);
  return m;
}

function tmp(): string {
  return tempDir('fiscal-tasks-');
}

/** The manifest without what differs between deliveries of one task. */
function stable(m: TaskManifest): Omit<TaskManifest, 'reused' | 'durationMs'> {
  const { reused: _r, durationMs: _d, ...rest } = m;
  return rest;
}

t.test('a task runs once; the second delivery gets the recorded manifest, reused, and the output is untouched', async (t) => {
  const dir = tmp();
  const ledger = new MemoryLedger();
  const task = { type: 'sped.validate', input: EFD, output: join(dir, 'result.json'), options: { json: true } };
  const first = await runTask(task, { ledger, workDir: join(dir, '.fiscal') });
  t.equal(first.status, 'done');
  t.equal(first.reused, false);
  t.equal(first.attempts, 1);
  t.match(first.key, /^[0-9a-f]{64}$/);
  const bytes = readFileSync(join(dir, 'result.json'));
  t.equal(first.output && first.output.sha256, (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex'));
  t.equal(JSON.parse(bytes.toString()).valid, true);
  const second = await runTask(task, { ledger, workDir: join(dir, '.fiscal') });
  t.equal(second.reused, true);
  t.same(stable(second), stable(first));
  t.equal(ledger.claims, 1, 'one claim: the work was done once');
  t.same(readdirSync(dir).filter((n) => n.endsWith('.partial')), [], 'no partial left');
  // the same options spelled with their defaults are the same task
  const spelled = await runTask({ ...task, options: { json: true, maxErrors: 1000 } }, { ledger });
  t.equal(spelled.key, first.key);
  t.equal(spelled.reused, true);
});

t.test('a task writes what the CLI writes with -o (the same code runs both)', async (t) => {
  const dir = tmp();
  const ledger = new MemoryLedger();
  const cases: [string, string, Record<string, unknown>, string[]][] = [
    ['sped.validate', BROKEN, {}, ['sped', 'validate', BROKEN]],
    ['sped.validate', BROKEN, { json: true, maxErrors: 3 }, ['sped', 'validate', BROKEN, '--json', '--max-errors', '3']],
    ['sped.stats', EFD, { json: true }, ['sped', 'stats', EFD, '--json']],
    ['sped.to-jsonl', EFD, {}, ['sped', 'to-jsonl', EFD]],
    ['sped.fix-totals', BROKEN, { lineEnds: 'lf' }, ['sped', 'fix-totals', BROKEN, '--line-ends', 'lf']],
    ['nfe.to-jsonl', NFE, {}, ['nfe', 'to-jsonl', NFE]],
    ['nfe.to-csv', NFE, { items: true, delimiter: ';', decimalComma: true }, ['nfe', 'to-csv', NFE, '--items', '--delimiter', ';', '--decimal-comma']],
    ['nfe.validate', NFE, {}, ['nfe', 'validate', NFE]],
    ['nfe.verify', NFE, { json: true }, ['nfe', 'verify', NFE, '--json']],
  ];
  for (const [i, [type, input, options, argv]] of cases.entries()) {
    const out = join(dir, `task-${i}`);
    const cliOut = join(dir, `cli-${i}`);
    const m = await runTask({ type, input, output: out, options }, { ledger });
    t.equal(m.status, 'done', `${type} done`);
    const r = await cli([...argv, '-o', cliOut]);
    t.ok(r.code === 0 || r.code === 1, `${argv.join(' ')} ran (${r.code}) ${r.stderr}`);
    t.same(readFileSync(out), readFileSync(cliOut), `${type} ${JSON.stringify(options)}: the bytes of fiscal ${argv.slice(0, 2).join(' ')} -o`);
  }
  // from-jsonl gives back what to-jsonl read
  const jsonl = join(dir, 'efd.jsonl');
  t.equal((await runTask({ type: 'sped.to-jsonl', input: EFD, output: jsonl }, { ledger })).status, 'done');
  const back = await runTask({ type: 'sped.from-jsonl', input: jsonl, output: join(dir, 'back.txt') }, { ledger });
  t.equal(back.status, 'done');
  t.same(readFileSync(join(dir, 'back.txt')), readFileSync(EFD), 'round trip');
  // to-csv: a directory, replaced as a whole
  const csv = join(dir, 'csv');
  const m = await runTask({ type: 'sped.to-csv', input: EFD, output: csv, options: { delimiter: ';' } }, { ledger });
  t.equal(m.status, 'done');
  const r = await cli(['sped', 'to-csv', EFD, '--out-dir', join(dir, 'cli-csv'), '--delimiter', ';']);
  t.equal(r.code, 0);
  t.same(readdirSync(csv).sort(), readdirSync(join(dir, 'cli-csv')).sort());
  for (const name of readdirSync(csv)) t.same(readFileSync(join(csv, name)), readFileSync(join(dir, 'cli-csv', name)), name);
  t.equal(m.output && 'files' in m.output ? m.output.files : -1, readdirSync(csv).length);
  // another task into the same directory replaces it as a whole: no file of the old one stays
  writeFileSync(join(csv, 'STALE.csv'), 'left by someone');
  const before = readFileSync(join(csv, '0000.csv'), 'utf8');
  const again = await runTask({ type: 'sped.to-csv', input: EFD, output: csv }, { ledger });
  t.equal(again.status, 'done');
  t.notOk(existsSync(join(csv, 'STALE.csv')));
  t.not(readFileSync(join(csv, '0000.csv'), 'utf8'), before, 'the new delimiter');
  t.same(readdirSync(dir).filter((n) => n.includes('.partial')), [], 'no partial or set-aside directory left');
});

t.test('findings are data: an invalid file validates done, with its findings counted', async (t) => {
  const dir = tmp();
  const m = await runTask({ type: 'sped.validate', input: BROKEN, output: join(dir, 'r.json'), options: { json: true } }, { ledger: new MemoryLedger() });
  t.equal(m.status, 'done');
  const result = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { errorCount: number; warningCount: number; valid: boolean };
  t.equal(result.valid, false);
  t.same(m.findings, { errors: result.errorCount, warnings: result.warningCount });
  t.ok(m.findings.errors > 0);
});

t.test('one task submitted 50 times at once does the work once', async (t) => {
  const dir = tmp();
  const ledger = new MemoryLedger();
  const task = { type: 'sped.to-jsonl', input: EFD, output: join(dir, 'efd.jsonl') };
  const manifests = await Promise.all(Array.from({ length: 50 }, () => runTask(task, { ledger, pollMs: 5 })));
  t.equal(manifests.filter((m) => !m.reused).length, 1, 'one did the work');
  t.equal(ledger.claims, 1);
  for (const m of manifests) t.same(stable(m), stable(manifests[0]!));
  t.equal(manifests[0]!.attempts, 1);
});

t.test('bad tasks give a failed manifest with a clear code and leave nothing behind', async (t) => {
  const dir = tmp();
  const ledger = new MemoryLedger();
  const opts = { ledger };
  const unknown = await runTask({ type: 'sped.nope', input: EFD, output: join(dir, 'x') }, opts);
  t.match(unknown, { status: 'failed', key: null, error: { code: 'TASK_UNKNOWN_TYPE' } });
  t.match(unknown.error?.message, /sped\.nope/);
  const badOption = await runTask({ type: 'sped.validate', input: EFD, output: join(dir, 'x'), options: { maxErrors: 'ten' } }, opts);
  t.match(badOption.error, { code: 'TASK_MALFORMED', message: /^\$\.options\.maxErrors: expected a whole number/ });
  const unknownOption = await runTask({ type: 'sped.validate', input: EFD, output: join(dir, 'x'), options: { maxErors: 1 } }, opts);
  t.match(unknownOption.error, { code: 'TASK_MALFORMED', message: /^\$\.options\.maxErors: unknown option/ });
  const noInput = await runTask({ type: 'sped.validate', output: join(dir, 'x') }, opts);
  t.match(noInput.error, { code: 'TASK_MALFORMED', message: /\$\.input: input is required/ });
  const extra = await runTask({ type: 'sped.validate', input: EFD, output: join(dir, 'x'), when: 'now' }, opts);
  t.match(extra.error, { code: 'TASK_MALFORMED', message: /\$\.when: unknown property/ });
  const scheme = await runTask({ type: 'sped.validate', input: 'ftp://host/x', output: join(dir, 'x') }, opts);
  t.match(scheme.error, { code: 'TASK_MALFORMED', message: /ftp/ });
  const notObject = await runTask([1, 2], opts);
  t.match(notObject.error, { code: 'TASK_MALFORMED' });
  const missing = await runTask({ type: 'sped.validate', input: join(dir, 'missing.txt'), output: join(dir, 'x') }, opts);
  t.match(missing, { status: 'failed', key: null, error: { code: 'TASK_INPUT', message: /no such file/ } });
  const isDir = await runTask({ type: 'sped.validate', input: dir, output: join(dir, 'x') }, opts);
  t.match(isDir.error, { code: 'TASK_INPUT', message: /directory/ });
  t.notOk(existsSync(join(dir, 'x')));
  t.equal(ledger.claims, 0, 'nothing reached the ledger');

  // an output nobody can write, not even root: a path under a regular file, a file in /proc
  writeFileSync(join(dir, 'plain'), 'x');
  const underFile = await runTask({ type: 'sped.validate', input: EFD, output: join(dir, 'plain', 'r.txt') }, opts);
  t.match(underFile, { status: 'failed', attempts: 1, error: { code: 'TASK_OUTPUT', message: /not a directory/ } });
  t.match(underFile.key, /^[0-9a-f]{64}$/);
  t.match(await ledger.get(underFile.key!), { status: 'failed', attempts: 1, error: { code: 'TASK_OUTPUT' } });
  const proc = await runTask({ type: 'sped.stats', input: EFD, output: '/proc/fiscal-engine-test/stats.txt' }, opts);
  t.match(proc.error, { code: 'TASK_OUTPUT' });
  // a device is no output to rename over: /dev/null stays the device
  const devNull = await runTask({ type: 'sped.stats', input: EFD, output: '/dev/null' }, opts);
  t.match(devNull.error, { code: 'TASK_OUTPUT', message: /not a regular file/ });
  t.ok(statSync('/dev/null').isCharacterDevice(), '/dev/null is still a device');

  // a failure on the input: recorded, and retried by the next delivery (attempts grows)
  const notJsonl = { type: 'sped.from-jsonl', input: EFD, output: join(dir, 'back.txt') };
  const f1 = await runTask(notJsonl, opts);
  t.match(f1, { status: 'failed', attempts: 1, error: { code: /^SPED_JSONL/ } });
  t.match(f1.error?.message, EFD, 'the message names the input');
  const f2 = await runTask(notJsonl, opts);
  t.match(f2, { status: 'failed', attempts: 2, reused: false });
  t.notOk(existsSync(join(dir, 'back.txt')), 'no output');
  t.notOk(existsSync(partialPathFor(join(dir, 'back.txt'), f1.key!)), 'no partial');
  // a bad combination of options found by the command itself
  const combo = await runTask({ type: 'nfe.to-csv', input: NFE, output: join(dir, 'n.csv'), options: { decimalComma: true } }, opts);
  t.match(combo.error, { code: 'TASK_MALFORMED', message: /decimal-comma/ });
});

t.test("a caller's id is the key; the same id with another payload is refused", async (t) => {
  const dir = tmp();
  const ledger = new MemoryLedger();
  const a = await runTask({ id: 'job-42', type: 'sped.stats', input: EFD, output: join(dir, 'a.txt') }, { ledger });
  t.match(a, { status: 'done', key: 'job-42' });
  const again = await runTask({ id: 'job-42', type: 'sped.stats', input: EFD, output: join(dir, 'a.txt') }, { ledger });
  t.equal(again.reused, true);
  const other = await runTask({ id: 'job-42', type: 'sped.stats', input: EFD, output: join(dir, 'a.txt'), options: { json: true } }, { ledger });
  t.match(other, { status: 'failed', key: 'job-42', error: { code: 'TASK_KEY_CONFLICT' } });
});

t.test('a dead owner: its lease expires and the next claimant takes over (attempt 2)', async (t) => {
  const dir = tmp();
  const ledger = new MemoryLedger();
  const task = { type: 'sped.stats', input: EFD, output: join(dir, 's.txt') };
  const probe = await runTask(task, { ledger: new MemoryLedger() });
  const { payloadDigest } = { payloadDigest: probe.key! };
  const dead = await ledger.claim({ key: probe.key!, type: task.type, payloadDigest, owner: 'dead', leaseMs: 300 });
  t.equal(dead.kind, 'claimed');
  const m = await runTask(task, { ledger, pollMs: 20 });
  t.match(m, { status: 'done', attempts: 2, reused: false });
  t.same(readFileSync(join(dir, 's.txt')).length > 0, true);
});

t.test('a stale partial from an earlier attempt is replaced, never committed as it was', async (t) => {
  const dir = tmp();
  const ledger = new MemoryLedger();
  const out = join(dir, 'efd.jsonl');
  const task = { type: 'sped.to-jsonl', input: EFD, output: out };
  const probe = await runTask(task, { ledger: new MemoryLedger(), workDir: join(dir, 'w') });
  const clean = readFileSync(out);
  mkdirSync(dir, { recursive: true });
  writeFileSync(partialPathFor(out, probe.key!), 'garbage from a crashed attempt that is longer than nothing');
  writeFileSync(out, 'old');
  const m = await runTask(task, { ledger });
  t.equal(m.status, 'done');
  t.same(readFileSync(out), clean);
});

t.test('every manifest these tests produced validates against the manifest schema', async (t) => {
  t.ok(produced.length > 50, `${produced.length} manifests`);
  t.ok(produced.some((m) => m.status === 'failed') && produced.some((m) => m.reused), 'failed and reused ones among them');
  for (const m of produced) t.same(checkSchema(JSON.parse(JSON.stringify(m)), MANIFEST_SCHEMA), [], `${m.type} ${m.status}`);
});
