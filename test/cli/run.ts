/**
 * `fiscal run` in real processes over the default SQLite ledger (dist/, so `npm run build` first): two processes
 * racing on the same 100 tasks, one task submitted by ten processes at once, the exit codes, byte-identical
 * reruns. "The same manifests" means: equal in every field but `reused` and `durationMs`, which say how this
 * delivery got its answer; exactly one delivery of each key has `reused: false` (the one that did the work).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { openLedger } from '../../src/tasks/open-ledger.js';
import type { TaskManifest } from '../../src/tasks/run-task.js';
import { tempDir } from '../helpers/temp-dir.js';

const BIN = new URL('../../bin/fiscal.js', import.meta.url).pathname;
const EFD = new URL('../../fixtures/sped/efd-icms-ipi-2026-01.txt', import.meta.url).pathname;
const BROKEN = new URL('../../fixtures/sped/efd-icms-ipi-2026-01-broken.txt', import.meta.url).pathname;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function fiscal(args: string[], cwd: string, stdin?: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, FISCAL_LEDGER: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

const manifests = (r: Ran): TaskManifest[] => r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as TaskManifest);
const stable = ({ reused: _r, durationMs: _d, ...rest }: TaskManifest): Omit<TaskManifest, 'reused' | 'durationMs'> => rest;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

t.test('two processes race on the same 100 tasks: each task done once, both print the same manifests', async (t) => {
  const dir = tempDir('fiscal-run-');
  const tasks = Array.from({ length: 100 }, (_, i) => ({ type: i % 2 ? 'sped.to-jsonl' : 'sped.stats', input: i % 3 ? EFD : BROKEN, output: `out/${i}.txt` }));
  writeFileSync(join(dir, 'a.jsonl'), tasks.map((x) => JSON.stringify(x)).join('\n'));
  writeFileSync(join(dir, 'b.jsonl'), [...tasks].reverse().map((x) => JSON.stringify(x)).join('\n'));
  const [a, b] = await Promise.all([fiscal(['run', 'a.jsonl', '--threads', '1'], dir), fiscal(['run', 'b.jsonl', '--threads', '1'], dir)]);
  t.equal(a.code, 0, a.stderr);
  t.equal(b.code, 0, b.stderr);
  const ma = manifests(a);
  const mb = manifests(b).reverse();
  t.equal(ma.length, 100);
  t.equal(mb.length, 100);
  let workedByA = 0;
  for (let i = 0; i < 100; i++) {
    t.same(stable(mb[i]!), stable(ma[i]!), `task ${i}: the same manifest`);
    t.equal(Number(ma[i]!.reused) + Number(mb[i]!.reused), 1, `task ${i}: one process did the work, the other reused it`);
    t.equal(ma[i]!.attempts, 1);
    if (!ma[i]!.reused) workedByA++;
    t.equal(sha(readFileSync(join(dir, 'out', `${i}.txt`))), ma[i]!.output?.sha256, `out/${i}.txt is the recorded output`);
  }
  t.comment(`process A did ${workedByA} tasks, B ${100 - workedByA}`);
  const ledger = await openLedger(`sqlite:${join(dir, '.fiscal', 'ledger.db')}`);
  const entries = await ledger.list({ limit: 1000 });
  await ledger.close();
  t.equal(entries.length, 100);
  t.ok(entries.every((e) => e.status === 'done' && e.attempts === 1), 'every ledger row done at the first attempt');
  t.same(readdirSync(join(dir, 'out')).filter((n) => n.startsWith('.')), [], 'no partial left');
});

t.test('one task submitted by ten processes at once does the work once', async (t) => {
  const dir = tempDir('fiscal-run-');
  const task = JSON.stringify({ type: 'sped.validate', input: BROKEN, output: 'report.json', options: { json: true } });
  const runs = await Promise.all(Array.from({ length: 10 }, () => fiscal(['run', '-', '--threads', '1'], dir, `${task}\n${task}\n${task}\n${task}\n${task}\n`)));
  const all = runs.flatMap(manifests);
  t.equal(all.length, 50);
  t.ok(runs.every((r) => r.code === 0), 'every process exits 0: findings are data');
  t.equal(all.filter((m) => !m.reused).length, 1, 'one delivery did the work');
  for (const m of all) t.same(stable(m), stable(all[0]!));
  t.equal(all[0]!.attempts, 1);
  t.ok(all[0]!.findings.errors > 0, 'the findings are counted');
});

t.test('the same task twice: byte-identical outputs, the second reused; a clean ledger gives the same bytes again', async (t) => {
  const dir = tempDir('fiscal-run-');
  writeFileSync(join(dir, 'task.json'), JSON.stringify({ type: 'sped.fix-totals', input: BROKEN, output: 'fixed.txt' }, null, 2));
  const first = await fiscal(['run', 'task.json', '--threads', '1'], dir);
  t.equal(first.code, 0, first.stderr);
  const bytes = readFileSync(join(dir, 'fixed.txt'));
  const second = await fiscal(['run', 'task.json', '--threads', '1'], dir);
  t.match(manifests(second), [{ status: 'done', reused: true }]);
  t.same(readFileSync(join(dir, 'fixed.txt')), bytes);
  rmSync(join(dir, '.fiscal'), { recursive: true });
  rmSync(join(dir, 'fixed.txt'));
  const third = await fiscal(['run', 'task.json', '--threads', '1'], dir);
  t.match(manifests(third), [{ status: 'done', reused: false, output: { sha256: sha(bytes) } }]);
  t.same(readFileSync(join(dir, 'fixed.txt')), bytes, 'no clock, random value or path in the output');
  t.same(stable(manifests(third)[0]!), stable(manifests(first)[0]!));
});

t.test('exit codes: 1 when a task failed on its input, 2 for a malformed task or a usage error', async (t) => {
  const dir = tempDir('fiscal-run-');
  const ok = JSON.stringify({ type: 'sped.stats', input: EFD, output: 'ok.txt' });
  const missing = JSON.stringify({ type: 'sped.stats', input: 'missing.txt', output: 'm.txt' });
  const r1 = await fiscal(['run', '-'], dir, `${ok}\n${missing}\n`);
  t.equal(r1.code, 1);
  t.match(manifests(r1), [{ status: 'done' }, { status: 'failed', error: { code: 'TASK_INPUT' } }]);
  const r2 = await fiscal(['run', '-'], dir, `${ok}\n{"type": "sped.stats", "input": \n${missing}\n`);
  t.equal(r2.code, 2, 'a line that is not JSON');
  t.match(manifests(r2), [{ status: 'done', reused: true }, { status: 'failed', error: { code: 'TASK_MALFORMED', message: /stdin line 2: not JSON/ } }, { error: { code: 'TASK_INPUT' } }]);
  const r3 = await fiscal(['run', '-'], dir, `${JSON.stringify({ type: 'sped.shout', input: EFD, output: 'x' })}\n`);
  t.equal(r3.code, 2);
  t.match(manifests(r3), [{ error: { code: 'TASK_UNKNOWN_TYPE' } }]);
  const r4 = await fiscal(['run', 'no-such-tasks.jsonl'], dir);
  t.equal(r4.code, 2);
  t.match(r4.stderr, /no-such-tasks\.jsonl.*no such file/);
  t.equal(r4.stdout, '');
  const r5 = await fiscal(['run', '-', '--ledger', 'mysql://x'], dir, `${ok}\n`);
  t.equal(r5.code, 2);
  t.match(r5.stderr, /TASK_LEDGER_URL/);
  t.notOk(existsSync(join(dir, 'm.txt')));
  const r6 = await fiscal(['run', '-'], dir, `${ok}\n`);
  t.equal(r6.code, 0);
});
