#!/usr/bin/env node
/**
 * The crash test at full size (`npm run resume:crash`, about 5 minutes on 2 cores, ~10 GB of disk):
 * a 1 GB SPED file, `fiscal run` of a sped.to-jsonl task killed with SIGKILL once the ledger holds its 2nd
 * checkpoint, then the same task again; compared with a clean `fiscal run` of the task into another output.
 * Prints the figures (docs/tasks.md quotes them) and exits 1 when a check fails. Uses the BUILT CLI (npm run build).
 *
 *   node scripts/resume-crash.mjs [--dir DIR] [--size 1GB] [--keep]
 *
 * DIR (default /tmp/fiscal-resume-crash) holds the input, outputs and ledgers; removed at the end unless --keep.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { SpedWriter } from '../dist/sped/writer.js';
import { syntheticRecords } from '../dist/sped/synthetic.js';
import { openLedger } from '../dist/tasks/open-ledger.js';

const args = process.argv.slice(2);
const arg = (name, d) => (args.includes(name) ? args[args.indexOf(name) + 1] : d);
const dir = arg('--dir', '/tmp/fiscal-resume-crash');
const size = Number(String(arg('--size', '1GB')).replace(/GB$/i, 'e9').replace(/MB$/i, 'e6'));
const BIN = fileURLToPath(new URL('../bin/fiscal.js', import.meta.url));

/** A synthetic realistic file whose block C is repeated up to `size` bytes (fast; its totals are then wrong). */
async function bigFile(path) {
  const mem = new PassThrough();
  const parts = [];
  mem.on('data', (c) => parts.push(c));
  const w = new SpedWriter(mem, { layout: 'efd-icms-ipi' });
  for (const rec of syntheticRecords({ layout: 'efd-icms-ipi', profile: 'realistic', documents: 3000, seed: 7, products: 500, participants: 100 })) await w.write(rec[0], rec.slice(1));
  await w.finish();
  const base = Buffer.concat(parts);
  const from = base.indexOf('\r\n|C100|') + 2;
  const body = base.subarray(from, base.indexOf('\r\n|C990|') + 2);
  const out = createWriteStream(path);
  out.write(base.subarray(0, from));
  for (let n = base.length; n < size; n += body.length) if (!out.write(body)) await once(out, 'drain');
  out.end(base.subarray(from));
  await once(out, 'finish');
}

async function sha256(path) {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c);
  return h.digest('hex');
}

/** `fiscal run TASK --ledger URL`; `watch(kill)` may kill it. */
async function fiscalRun(task, ledger, watch) {
  const started = Date.now();
  const p = spawn(process.execPath, [BIN, 'run', task, '--ledger', ledger], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  p.stdout.setEncoding('utf8').on('data', (s) => (stdout += s));
  const exit = once(p, 'exit');
  if (watch) await watch(() => p.kill('SIGKILL'));
  const [code, signal] = await exit;
  return { code, signal, stdout, seconds: (Date.now() - started) / 1000 };
}

const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

mkdirSync(dir, { recursive: true });
const input = join(dir, 'efd-1GB.txt');
if (!existsSync(input) || statSync(input).size < size) await bigFile(input);
const inputBytes = statSync(input).size;
console.log(`input ${input}: ${inputBytes} bytes`);
const task = (name, output) => {
  const path = join(dir, `${name}.task.json`);
  writeFileSync(path, JSON.stringify({ type: 'sped.to-jsonl', input, output }));
  return path;
};

const cleanOut = join(dir, 'clean.jsonl');
rmSync(join(dir, 'clean.db'), { force: true });
const clean = await fiscalRun(task('clean', cleanOut), `sqlite:${join(dir, 'clean.db')}`);
console.log(`clean run: ${clean.seconds.toFixed(1)} s, exit ${clean.code}`);

const out = join(dir, 'out.jsonl');
const ledgerUrl = `sqlite:${join(dir, 'ledger.db')}`;
rmSync(join(dir, 'ledger.db'), { force: true });
rmSync(out, { force: true });
const crashTask = task('crash', out);
let seen = null;
const crashed = await fiscalRun(crashTask, ledgerUrl, async (kill) => {
  const ledger = await openLedger(ledgerUrl);
  let checkpoints = 0;
  let last = null;
  try {
    for (;;) {
      const [e] = await ledger.list();
      if (e?.status === 'done') break;
      const offset = e?.checkpoint?.sped?.inputOffset ?? null;
      if (offset !== null && offset !== last) {
        last = offset;
        checkpoints++;
        if (checkpoints === 2) {
          seen = e.checkpoint.sped;
          kill();
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await ledger.close();
  }
});
console.log(`first run: killed by ${crashed.signal} after ${crashed.seconds.toFixed(1)} s, the ledger's checkpoint at byte ${seen?.inputOffset} of ${inputBytes} (line ${seen?.line})`);
check(crashed.signal === 'SIGKILL' && seen !== null, 'the first fiscal run was killed with SIGKILL after the ledger recorded 2 checkpoints');

const again = await fiscalRun(crashTask, ledgerUrl);
const manifest = JSON.parse(again.stdout);
console.log(`second run: ${again.seconds.toFixed(1)} s (includes waiting for the dead owner's 30 s lease), exit ${again.code}`);
console.log(`manifest: ${again.stdout.trim()}`);
const ledger = await openLedger(ledgerUrl);
const entry = await ledger.get(manifest.key);
await ledger.close();
const [a, b] = await Promise.all([sha256(out), sha256(cleanOut)]);
check(a === b && statSync(out).size === statSync(cleanOut).size, `the output equals the clean run's byte for byte (sha256 ${a}, ${statSync(out).size} bytes)`);
check(manifest.status === 'done' && manifest.attempts === 2, `done at attempt 2`);
check(entry.status === 'done' && entry.attempts === 2 && entry.checkpoint === null && JSON.stringify(entry.manifest) === JSON.stringify(manifest), 'the ledger shows it done once (attempts 2, one completion, the manifest printed)');
check(manifest.counts.resumedFromByte === seen?.inputOffset && seen.inputOffset > 0, `resumed from byte ${manifest.counts.resumedFromByte}, not from zero`);
const third = await fiscalRun(crashTask, ledgerUrl);
check(JSON.parse(third.stdout).reused === true, `a third run is reused (${third.seconds.toFixed(1)} s)`);
if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
process.exit(failures.length === 0 ? 0 : 1);
