/**
 * The ledger's semantics (src/tasks/ledger.ts), asserted the same way against every backend: test/tasks/ledger-sqlite.ts
 * and test/tasks/ledger-postgres.ts call `ledgerConformance` with a factory that makes a fresh, empty ledger.
 */
import type { Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Claim, ClaimRequest, ClaimResult, Ledger } from '../../src/tasks/ledger.js';

export interface LedgerHandle {
  readonly ledger: Ledger;
  /** Another connection to the same ledger (what a second process would open). */
  open(): Promise<Ledger>;
}

/** Makes a new, empty ledger (its own file or database); the suite closes what it opens. */
export type LedgerFactory = () => Promise<LedgerHandle>;

const DIGEST_A = 'a'.repeat(64);
const DIGEST_B = 'b'.repeat(64);
const LONG = 60_000;

export function request(key: string, owner: string, leaseMs = LONG, payloadDigest = DIGEST_A): ClaimRequest {
  return { key, type: 'sped.validate', payloadDigest, owner, leaseMs };
}

export function claimed(t: Test, result: ClaimResult, what: string): Claim {
  if (result.kind !== 'claimed') {
    t.fail(`${what}: expected claimed, got ${result.kind}`);
    throw new Error(`${what}: not claimed`);
  }
  return result.claim;
}

/** Waits past a lease of `ms` (the lease is measured by the backend's clock; a margin covers clock granularity). */
async function pastLease(ms: number): Promise<void> {
  await sleep(ms + 25);
}

export function ledgerConformance(t: Test, factory: LedgerFactory): void {
  async function fresh(t: Test): Promise<LedgerHandle> {
    const handle = await factory();
    t.teardown(() => handle.ledger.close());
    return handle;
  }

  t.test('a new key is claimed (attempt 1); claimed again while leased it is busy', async (t) => {
    const { ledger } = await fresh(t);
    const claim = claimed(t, await ledger.claim(request('k1', 'owner-a')), 'first claim');
    t.equal(claim.key, 'k1');
    t.equal(claim.owner, 'owner-a');
    t.equal(claim.attempt, 1);
    t.equal(claim.checkpoint, null);
    t.ok(Number.isSafeInteger(claim.fence) && claim.fence > 0, `fence ${claim.fence}`);
    const again = await ledger.claim(request('k1', 'owner-b'));
    t.equal(again.kind, 'busy');
    if (again.kind === 'busy') {
      t.equal(again.entry.owner, 'owner-a');
      t.equal(again.entry.status, 'running');
      t.equal(again.entry.fence, claim.fence);
    }
    const entry = await ledger.get('k1');
    t.match(entry, { key: 'k1', type: 'sped.validate', status: 'running', payloadDigest: DIGEST_A, attempts: 1, owner: 'owner-a', fence: claim.fence, outputDigest: null, manifest: null, error: null, checkpoint: null });
    t.ok(entry!.leaseUntil! >= entry!.createdAt + LONG, 'the lease runs leaseMs from the claim');
    t.ok(entry!.updatedAt >= entry!.createdAt);
    t.equal(await ledger.get('nope'), null, 'an unknown key is null');
  });

  t.test('complete records the digest and manifest; a later claim gets them back and claims nothing', async (t) => {
    const { ledger } = await fresh(t);
    const claim = claimed(t, await ledger.claim(request('k1', 'owner-a')), 'claim');
    await ledger.checkpoint(claim, { offset: 1024 }, LONG);
    const manifest = { status: 'done', counts: { records: 12 }, output: { sha256: 'c'.repeat(64) } };
    await ledger.complete(claim, { outputDigest: 'c'.repeat(64), manifest });
    const second = await ledger.claim(request('k1', 'owner-b'));
    t.equal(second.kind, 'done');
    if (second.kind === 'done') {
      t.same(second.entry.manifest, manifest);
      t.equal(second.entry.outputDigest, 'c'.repeat(64));
      t.equal(second.entry.attempts, 1, 'a done key is not claimed again');
      t.equal(second.entry.owner, 'owner-a');
      t.equal(second.entry.leaseUntil, null);
      t.equal(second.entry.checkpoint, null, 'the checkpoint goes with completion');
    }
    await t.rejects(ledger.complete(claim, { outputDigest: null, manifest: {} }), { code: 'TASK_LEASE_LOST' }, 'a second complete is refused');
    await t.rejects(ledger.renew(claim, LONG), { code: 'TASK_LEASE_LOST' }, 'a done task cannot be renewed');
    t.equal((await ledger.get('k1'))!.status, 'done');
  });

  t.test('a lease that expires is taken over: larger fence, attempt 2; the old owner can record nothing', async (t) => {
    const { ledger } = await fresh(t);
    const old = claimed(t, await ledger.claim(request('k1', 'owner-a', 1)), 'first claim');
    await pastLease(1);
    const next = claimed(t, await ledger.claim(request('k1', 'owner-b')), 'takeover');
    t.equal(next.attempt, 2);
    t.ok(next.fence > old.fence, `fence ${next.fence} > ${old.fence}`);
    t.equal(next.owner, 'owner-b');
    await t.rejects(ledger.renew(old, LONG), { code: 'TASK_LEASE_LOST', key: 'k1' }, 'renew');
    await t.rejects(ledger.checkpoint(old, { offset: 1 }, LONG), { code: 'TASK_LEASE_LOST' }, 'checkpoint');
    await t.rejects(ledger.complete(old, { outputDigest: null, manifest: { by: 'a' } }), { code: 'TASK_LEASE_LOST' }, 'complete');
    await t.rejects(ledger.fail(old, { error: { code: 'X', message: 'x' }, manifest: {} }), { code: 'TASK_LEASE_LOST' }, 'fail');
    const entry = await ledger.get('k1');
    t.match(entry, { status: 'running', owner: 'owner-b', fence: next.fence, attempts: 2, checkpoint: null, manifest: null });
    await ledger.renew(next, LONG);
    await ledger.complete(next, { outputDigest: null, manifest: { by: 'b' } });
    t.same((await ledger.get('k1'))!.manifest, { by: 'b' });
  });

  t.test('the owner renews its lease: while renewed, nobody takes over', async (t) => {
    const { ledger } = await fresh(t);
    const claim = claimed(t, await ledger.claim(request('k1', 'owner-a', 1)), 'claim');
    await ledger.renew(claim, LONG);
    await pastLease(1);
    t.equal((await ledger.claim(request('k1', 'owner-b'))).kind, 'busy', 'the renewed lease holds');
    const entry = await ledger.get('k1');
    t.ok(entry!.leaseUntil! >= entry!.updatedAt + LONG, 'renew extends the lease by leaseMs from now');
  });

  t.test('the same key with a different payload digest is a key conflict', async (t) => {
    const { ledger } = await fresh(t);
    const claim = claimed(t, await ledger.claim(request('id-1', 'owner-a')), 'claim');
    await t.rejects(ledger.claim(request('id-1', 'owner-b', LONG, DIGEST_B)), { code: 'TASK_KEY_CONFLICT', key: 'id-1', exitCode: 2 }, 'while running');
    await ledger.complete(claim, { outputDigest: null, manifest: {} });
    await t.rejects(ledger.claim(request('id-1', 'owner-b', LONG, DIGEST_B)), { code: 'TASK_KEY_CONFLICT' }, 'once done');
    t.match(await ledger.get('id-1'), { status: 'done', payloadDigest: DIGEST_A, attempts: 1 }, 'the entry is untouched');
  });

  t.test('fail records the error; a later claim retries (attempts + 1) from the last checkpoint', async (t) => {
    const { ledger } = await fresh(t);
    const first = claimed(t, await ledger.claim(request('k1', 'owner-a')), 'claim');
    await ledger.checkpoint(first, { offset: 4096, line: 77 }, LONG);
    const manifest = { status: 'failed', error: { code: 'TASK_INPUT', message: 'cannot open x' } };
    await ledger.fail(first, { error: { code: 'TASK_INPUT', message: 'cannot open x' }, manifest });
    t.match(await ledger.get('k1'), { status: 'failed', attempts: 1, error: { code: 'TASK_INPUT', message: 'cannot open x' }, manifest, leaseUntil: null, checkpoint: { offset: 4096, line: 77 } });
    await t.rejects(ledger.fail(first, { error: { code: 'X', message: 'x' }, manifest: {} }), { code: 'TASK_LEASE_LOST' }, 'a failed claim records nothing more');
    const retry = claimed(t, await ledger.claim(request('k1', 'owner-b')), 'retry');
    t.equal(retry.attempt, 2);
    t.ok(retry.fence > first.fence);
    t.same(retry.checkpoint, { offset: 4096, line: 77 }, 'the retry resumes from the checkpoint');
    t.match(await ledger.get('k1'), { status: 'running', attempts: 2, error: null, manifest: null, owner: 'owner-b' }, 'the retry is running again');
    await ledger.complete(retry, { outputDigest: 'd'.repeat(64), manifest: { ok: true } });
    t.match(await ledger.get('k1'), { status: 'done', attempts: 2, error: null, checkpoint: null, outputDigest: 'd'.repeat(64) });
  });

  t.test('checkpoints survive a takeover: the next owner sees the last one', async (t) => {
    const { ledger } = await fresh(t);
    const first = claimed(t, await ledger.claim(request('k1', 'owner-a', 1)), 'claim');
    await ledger.checkpoint(first, { offset: 10 }, 1);
    await ledger.checkpoint(first, { offset: 20, parts: ['x'] }, 1);
    t.same((await ledger.get('k1'))!.checkpoint, { offset: 20, parts: ['x'] });
    await pastLease(1);
    const second = claimed(t, await ledger.claim(request('k1', 'owner-b', 1)), 'takeover');
    t.same(second.checkpoint, { offset: 20, parts: ['x'] });
    await ledger.checkpoint(second, { offset: 30 }, 1);
    await pastLease(1);
    const third = claimed(t, await ledger.claim(request('k1', 'owner-c')), 'second takeover');
    t.equal(third.attempt, 3);
    t.same(third.checkpoint, { offset: 30 });
  });

  t.test('list: by status, most recently updated first, limited', async (t) => {
    const { ledger } = await fresh(t);
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5'];
    const claims: Claim[] = [];
    for (const key of keys) claims.push(claimed(t, await ledger.claim(request(key, 'owner-a')), key));
    // complete in reverse order, a few ms apart: k5 is the oldest update, k1 the newest
    for (const claim of [...claims].reverse().slice(0, 4)) {
      await ledger.complete(claim, { outputDigest: null, manifest: { key: claim.key } });
      await sleep(5);
    }
    await ledger.fail(claims[0]!, { error: { code: 'E', message: 'e' }, manifest: {} });
    t.same((await ledger.list()).map((e) => e.key), ['k1', 'k2', 'k3', 'k4', 'k5'], 'all, newest first');
    t.same((await ledger.list({ status: 'done' })).map((e) => e.key), ['k2', 'k3', 'k4', 'k5']);
    t.same((await ledger.list({ status: 'done', limit: 2 })).map((e) => e.key), ['k2', 'k3']);
    t.same((await ledger.list({ status: 'failed' })).map((e) => e.key), ['k1']);
    t.same((await ledger.list({ status: 'running' })).map((e) => e.key), [], 'none running');
    const running = claimed(t, await ledger.claim(request('k6', 'owner-a')), 'k6');
    t.same((await ledger.list({ status: 'running' })).map((e) => e.key), ['k6']);
    t.equal((await ledger.list({ limit: 1 }))[0]!.key, 'k6');
    t.equal(running.attempt, 1);
    await t.rejects(ledger.list({ limit: 0 }), { code: 'USAGE' });
  });

  t.test('count: entries by status over the whole ledger', async (t) => {
    const { ledger } = await fresh(t);
    t.same(await ledger.count(), { running: 0, done: 0, failed: 0 }, 'empty');
    for (const k of ['d1', 'd2']) await ledger.complete(claimed(t, await ledger.claim(request(k, 'o')), k), { outputDigest: null, manifest: {} });
    await ledger.fail(claimed(t, await ledger.claim(request('f', 'o')), 'f'), { error: { code: 'E', message: 'e' }, manifest: {} });
    claimed(t, await ledger.claim(request('r', 'o')), 'r');
    claimed(t, await ledger.claim(request('stale', 'o', 1)), 'stale');
    t.same(await ledger.count(), { running: 2, done: 2, failed: 1 }, 'a lapsed lease still counts as running');
    await ledger.complete(claimed(t, await ledger.claim(request('f', 'o')), 'f'), { outputDigest: null, manifest: {} });
    t.same(await ledger.count(), { running: 2, done: 3, failed: 0 }, 'a failed key done on its retry counts once, as done');
  });

  t.test('gc deletes done and failed entries older than the cutoff, never a running one', async (t) => {
    const { ledger } = await fresh(t);
    const done = claimed(t, await ledger.claim(request('done', 'o')), 'done');
    await ledger.complete(done, { outputDigest: null, manifest: {} });
    const failed = claimed(t, await ledger.claim(request('failed', 'o')), 'failed');
    await ledger.fail(failed, { error: { code: 'E', message: 'e' }, manifest: {} });
    claimed(t, await ledger.claim(request('running', 'o')), 'running');
    claimed(t, await ledger.claim(request('expired', 'o', 1)), 'expired');
    t.equal(await ledger.gc(3_600_000), 0, 'nothing is an hour old');
    t.equal((await ledger.list()).length, 4);
    await sleep(30);
    t.equal(await ledger.gc(10), 2, 'done and failed, 30 ms old, are older than 10 ms');
    t.same((await ledger.list()).map((e) => e.key).sort(), ['expired', 'running'], 'running ones stay, even with an expired lease');
    t.equal(await ledger.gc(0), 0);
    await t.rejects(ledger.gc(-1), { code: 'USAGE' });
  });

  t.test('50 claims of one key at once: exactly one is claimed', async (t) => {
    const { ledger, open } = await fresh(t);
    const others = await Promise.all([open(), open()]);
    t.teardown(() => Promise.all(others.map((l) => l.close())));
    const ledgers = [ledger, ...others];
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => ledgers[i % ledgers.length]!.claim(request('hot', `owner-${i}`))));
    const winners = results.filter((r) => r.kind === 'claimed');
    t.equal(winners.length, 1, 'one claim');
    t.equal(results.filter((r) => r.kind === 'busy').length, 49, 'the others are busy');
    t.match(await ledger.get('hot'), { attempts: 1, status: 'running' });
  });

  t.test('several connections race on the same 100 keys: each key is claimed once', async (t) => {
    const { ledger, open } = await fresh(t);
    const others = await Promise.all([open(), open(), open()]);
    t.teardown(() => Promise.all(others.map((l) => l.close())));
    const keys = Array.from({ length: 100 }, (_, i) => `key-${i}`);
    const perOwner = await Promise.all(
      [ledger, ...others].map(async (l, n) => {
        const won: string[] = [];
        await Promise.all(
          keys.map(async (key) => {
            const r = await l.claim(request(key, `owner-${n}`));
            if (r.kind === 'claimed') {
              won.push(key);
              await l.complete(r.claim, { outputDigest: null, manifest: { owner: n } });
            }
          }),
        );
        return won;
      }),
    );
    const all = perOwner.flat();
    t.equal(all.length, 100, 'one claim per key in all');
    t.equal(new Set(all).size, 100, 'no key twice');
    const entries = await ledger.list({ limit: 1000 });
    t.equal(entries.length, 100);
    t.ok(entries.every((e) => e.status === 'done' && e.attempts === 1), 'all done at the first attempt');
  });

  t.test('a second connection sees the same entries (the schema is created once, idempotently)', async (t) => {
    const { ledger, open } = await fresh(t);
    const claim = claimed(t, await ledger.claim(request('k1', 'owner-a')), 'claim');
    const other = await open();
    t.teardown(() => other.close());
    t.equal((await other.claim(request('k1', 'owner-b'))).kind, 'busy');
    await ledger.complete(claim, { outputDigest: null, manifest: { n: 1 } });
    t.same((await other.get('k1'))!.manifest, { n: 1 });
    const third = await open();
    t.teardown(() => third.close());
    t.equal((await third.list()).length, 1);
  });

  t.test('bad requests are usage errors', async (t) => {
    const { ledger } = await fresh(t);
    await t.rejects(ledger.claim(request('', 'o')), { code: 'USAGE' }, 'empty key');
    await t.rejects(ledger.claim(request('k', 'o', 0)), { code: 'USAGE' }, 'lease 0');
    await t.rejects(ledger.claim(request('k', 'o', 1.5)), { code: 'USAGE' }, 'fractional lease');
    await t.rejects(ledger.claim({ ...request('k', 'o'), owner: '' }), { code: 'USAGE' }, 'empty owner');
    const claim = claimed(t, await ledger.claim(request('k', 'o')), 'claim');
    await t.rejects(ledger.renew(claim, -5), { code: 'USAGE' }, 'negative renew');
    t.equal(await ledger.get('k').then((e) => e!.attempts), 1);
    t.notOk(/password|:[^/@]*@/.test(ledger.url), `url ${ledger.url} carries no password`);
  });
}
