#!/usr/bin/env node
// The main job on the bundled fixtures (README Quick start): validate, repair, summarise and convert SPED files,
// check a folder of signed NF-e, run a task twice, and queue tasks for a worker, with the `fiscal` command,
// printing each command and what it answered. Exits non-zero if any step does not behave as documented.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const bin = join(root, 'bin/fiscal.js');
const out = mkdtempSync(join(tmpdir(), 'fiscal-demo-'));
let failed = 0;

function fiscal(args, expectedExit, { show = 12 } = {}) {
  console.log(`\n$ fiscal ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const all = `${r.stdout}${r.stderr}`.trimEnd();
  const text = all ? all.split('\n') : [];
  if (text.length && show > 0) console.log(text.slice(0, show).map((l) => `  ${l.length > 160 ? `${l.slice(0, 160)}…` : l}`).join('\n'));
  if (text.length > show) console.log(`  … (${text.length - show} more lines)`);
  const ok = r.status === expectedExit;
  console.log(`  → exit ${r.status}${ok ? '' : ` (expected ${expectedExit})`}`);
  if (!ok) failed++;
  return r;
}

const good = 'fixtures/sped/efd-icms-ipi-2026-01.txt';
const broken = 'fixtures/sped/efd-icms-ipi-2026-01-broken.txt';
const fixed = join(out, 'fixed.txt');

fiscal(['sped', 'validate', good], 0);
fiscal(['sped', 'validate', broken], 1);
fiscal(['sped', 'fix-totals', broken, '-o', fixed], 0);
fiscal(['sped', 'validate', fixed], 1, { show: 4 }); // totals repaired; the reference to a missing product remains
fiscal(['sped', 'stats', good], 0, { show: 30 });
fiscal(['sped', 'to-jsonl', good, '-o', join(out, 'efd.jsonl')], 0);
fiscal(['sped', 'to-csv', good, '--out-dir', join(out, 'csv'), '--decimal-comma', '--delimiter', ';'], 0);
console.log(`  CSV files: ${readdirSync(join(out, 'csv')).sort().join(' ')}`);
// a retailer's month (NFC-e without participant or items, cancelled notes: the Guia's exceptions), then the other layouts
for (const f of ['fixtures/sped/efd-icms-ipi-2026-01-retailer.txt', 'fixtures/sped/efd-contribuicoes-2026-01.txt', 'fixtures/sped/ecd-2026.txt']) fiscal(['sped', 'validate', f], 0);


// NF-e / NFC-e: a folder of signed notes, one of them edited after signing
const notes = 'fixtures/nfe';
fiscal(['nfe', 'verify', notes], 1, { show: 14 });
fiscal(['nfe', 'validate', notes], 0, { show: 4 });
fiscal(['nfe', 'to-jsonl', notes, '-o', join(out, 'notes.jsonl')], 0);
fiscal(['nfe', 'to-csv', notes, '--items', '--decimal-comma', '--delimiter', ';', '-o', join(out, 'items.csv')], 0);
const key = readdirSync(join(root, notes)).find((f) => f.endsWith('-nfce.xml')).slice(0, 44);
fiscal(['nfe', 'key', key], 0, { show: 14 });

// a task run twice (docs/tasks.md): the second delivery gets the recorded manifest, reused, and does no work
const task = join(out, 'task.json');
writeFileSync(task, JSON.stringify({ type: 'sped.validate', input: broken, output: join(out, 'report.json'), options: { json: true } }));
for (const second of [false, true]) {
  const r = fiscal(['run', task, '--ledger', `sqlite:${join(out, 'ledger.db')}`, '--threads', '1'], 0, { show: 2 });
  const manifest = JSON.parse(r.stdout || '{}');
  if (manifest.status !== 'done' || manifest.reused !== second) {
    console.log(`  → expected status done, reused ${second}`);
    failed++;
  }
}

// the same jobs through the embedded queue (docs/queue.md): submitted (ids are the idempotency keys), a worker
// runs them until the queue is empty, and submitting them again gives the same ids and no second run
const queue = `local:${join(out, 'queue')}`;
const ledger = `sqlite:${join(out, 'queue-ledger.db')}`;
const jobs = join(out, 'jobs.jsonl');
writeFileSync(jobs, ['efd-icms-ipi-2026-01.txt', 'efd-contribuicoes-2026-01.txt', 'ecd-2026.txt']
  .map((f) => JSON.stringify({ type: 'sped.validate', input: join(root, 'fixtures/sped', f), output: join(out, `${f}.report.json`), options: { json: true } }))
  .join('\n') + '\n');
const outcomes = (r) => r.stderr.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'done').map((e) => e.outcome);
const worker = () => fiscal(['worker', '--queue', queue, '--ledger', ledger, '--exit-when-idle', '--threads', '1'], 0, { show: 0 });
const ids = fiscal(['submit', '--queue', queue, jobs], 0, { show: 3 }).stdout;
const first = worker();
console.log(`  summary ${first.stdout.trim()}; outcomes: ${outcomes(first).join(' ')}`);
fiscal(['queue', 'stats', '--queue', queue, '--json'], 0);
const idsAgain = fiscal(['submit', '--queue', queue, jobs], 0, { show: 3 }).stdout;
const second = worker();
console.log(`  outcomes: ${outcomes(second).join(' ')}`);
if (idsAgain !== ids || outcomes(first).join() !== 'done,done,done' || outcomes(second).join() !== 'reused,reused,reused') {
  console.log('  → expected the same ids, three tasks done, then three answered from the ledger (reused)');
  failed++;
}

console.log(`\nOutputs in ${out}`);
if (failed) {
  console.error(`demo: ${failed} step(s) did not behave as documented`);
  process.exit(1);
}
console.log('demo: every step behaved as documented');
