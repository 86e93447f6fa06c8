/**
 * The runner's lease and checkpoint mechanics against the in-memory ledger: renewal keeps a long task's key from
 * a competitor, a lease lost mid-work commits nothing and yields to the new owner's result, a checkpoint keeps the
 * partial output for the next attempt, which resumes from it.
 */
import t from 'tap';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runTask } from '../../src/tasks/run-task.js';
import { partialPathFor } from '../../src/tasks/io.js';
import type { TaskHandler } from '../../src/tasks/handler.js';
import type { Claim, JsonValue } from '../../src/tasks/ledger.js';
import { InvalidInputError } from '../../src/errors.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { tempDir } from '../helpers/temp-dir.js';

const EFD = new URL('../../fixtures/sped/efd-icms-ipi-2026-01.txt', import.meta.url).pathname;
const tmp = (): string => tempDir('fiscal-lease-');
const done = { exitCode: 0 as const, counts: {}, findings: { errors: 0, warnings: 0 } };

t.test('a task longer than its lease keeps it by renewing: a competitor waits and reuses', async (t) => {
  const dir = tmp();
  const ledger = new MemoryLedger();
  let renewals = 0;
  const renew = ledger.renew.bind(ledger);
  ledger.renew = async (claim: Claim, ms: number) => {
    renewals++;
    return renew(claim, ms);
  };
  const slow: TaskHandler = async (ctx) => {
    const out = await ctx.output.open();
    await sleep(2000); // more than three leases
    out.write('slow\n');
    return done;
  };
  const task = { type: 'sped.stats', input: EFD, output: join(dir, 'out.txt') };
  const options = { ledger, leaseMs: 600, pollMs: 20, handlers: { 'sped.stats': slow } };
  const [a, b] = await Promise.all([runTask(task, options), sleep(100).then(() => runTask(task, options))]);
  t.match(a, { status: 'done', reused: false, attempts: 1 });
  t.match(b, { status: 'done', reused: true, attempts: 1 });
  t.ok(renewals >= 3, `${renewals} renewals`);
  t.equal(ledger.claims, 1);
  t.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'slow\n');
});

t.test('a lease lost mid-work: nothing committed, the new owner\'s result comes back', async (t) => {
  const dir = tmp();
  let clock = 0;
  const ledger = new MemoryLedger(() => clock);
  const task = { type: 'sped.to-jsonl', input: EFD, output: join(dir, 'out.jsonl') };
  let takeover: Claim | null = null;
  let key = '';
  const theirs = { status: 'done', key: 'k', reused: false, type: task.type, input: null, output: null, counts: {}, findings: { errors: 0, warnings: 0 }, attempts: 2, durationMs: 1 };
  const handler: TaskHandler = async (ctx) => {
    const out = await ctx.output.open();
    out.write('mine\n');
    // another owner takes the key over: our lease "expired" (the clock jumps) and it claims
    clock += 60_000;
    const r = await ledger.claim({ key: ctx.key, type: task.type, payloadDigest: (await ledger.get(ctx.key))!.payloadDigest, owner: 'B', leaseMs: 60_000 });
    t.equal(r.kind, 'claimed');
    if (r.kind === 'claimed') takeover = r.claim;
    key = ctx.key;
    return done;
  };
  const m = await runTask(task, {
    ledger, leaseMs: 30_000, pollMs: 5, handlers: { 'sped.to-jsonl': handler },
    onProgress: (p) => {
      if (p.phase === 'waiting' && takeover) {
        void ledger.complete(takeover, { outputDigest: null, manifest: theirs as unknown as JsonValue });
        takeover = null;
      }
    },
  });
  const { durationMs: _d, ...recorded } = theirs;
  t.match(m, { ...recorded, reused: true });
  t.notOk(existsSync(join(dir, 'out.jsonl')), 'the fenced-out owner did not commit its output');
  t.match(await ledger.get(key), { status: 'done', attempts: 2, owner: 'B' });
});

t.test('a checkpoint keeps the partial output; the next attempt resumes from it', async (t) => {
  const dir = tmp();
  const ledger = new MemoryLedger();
  const out = join(dir, 'out.txt');
  const task = { type: 'sped.to-jsonl', input: EFD, output: out };
  const seen: (JsonValue | null)[] = [];
  let attempt = 0;
  const handler: TaskHandler = async (ctx) => {
    seen.push(ctx.resume);
    attempt++;
    if (attempt === 1) {
      const s = await ctx.output.open();
      s.write('first half;');
      await ctx.checkpoint({ at: 11 });
      t.equal(readFileSync(ctx.output.partialPath, 'utf8'), 'first half;', 'flushed before the checkpoint is recorded');
      s.write('bytes after the checkpoint that the next attempt drops');
      throw new InvalidInputError('SPED_TEST', 'the first attempt fails after its checkpoint');
    }
    const at = (ctx.resume as { at: number }).at;
    const s = await ctx.output.open(at);
    s.write('second half');
    return done;
  };
  const first = await runTask(task, { ledger, handlers: { 'sped.to-jsonl': handler } });
  t.match(first, { status: 'failed', attempts: 1, error: { code: 'SPED_TEST' } });
  t.ok(existsSync(partialPathFor(out, first.key!)), 'the checkpointed partial is kept');
  t.notOk(existsSync(out));
  t.match(await ledger.get(first.key!), { status: 'failed', checkpoint: { at: 11 } });
  const second = await runTask(task, { ledger, handlers: { 'sped.to-jsonl': handler } });
  t.match(second, { status: 'done', attempts: 2 });
  t.same(seen, [null, { at: 11 }]);
  t.equal(readFileSync(out, 'utf8'), 'first half;second half');
});

t.test('a checkpoint whose partial is gone is not offered to the next attempt', async (t) => {
  const dir = tmp();
  const ledger = new MemoryLedger();
  const out = join(dir, 'out.txt');
  const task = { type: 'sped.to-jsonl', input: EFD, output: out };
  const seen: (JsonValue | null)[] = [];
  const failing: TaskHandler = async (ctx) => {
    seen.push(ctx.resume);
    const s = await ctx.output.open();
    s.write('x');
    await ctx.checkpoint({ at: 1 });
    throw new InvalidInputError('SPED_TEST', 'fails');
  };
  const first = await runTask(task, { ledger, handlers: { 'sped.to-jsonl': failing } });
  writeFileSync(join(dir, 'unrelated'), '');
  const { rmSync } = await import('node:fs');
  rmSync(partialPathFor(out, first.key!));
  await runTask(task, { ledger, handlers: { 'sped.to-jsonl': failing } });
  t.same(seen, [null, null]);
});
