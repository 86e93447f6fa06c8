// The shared pool: the same job gives the same result at 1 thread (inline) and on workers; errors keep their class
// and code across the thread boundary; mapInOrder keeps input order and never holds more than its window.
import t from 'tap';
import { threadId } from 'node:worker_threads';
import { InvalidInputError } from '../../src/errors.js';
import { createPool, mapInOrder, resolveThreads, withPool } from '../../src/pool/pool.js';

interface Echo { value: unknown; threadId: number; bytes: number }

t.test('resolveThreads: default is the cores, else a whole number >= 1', async (t) => {
  t.ok(resolveThreads(undefined) >= 1);
  t.equal(resolveThreads(3), 3);
  t.throws(() => resolveThreads(0), { code: 'POOL_THREADS' });
  t.throws(() => resolveThreads(1.5), { code: 'POOL_THREADS' });
});

for (const threads of [1, 2]) {
  t.test(`${threads} thread(s): results, errors and transfers`, async (t) => {
    const pool = createPool({ threads });
    t.teardown(() => pool.close());
    t.equal(pool.threads, threads);
    const r = await pool.run<Echo>('pool.echo', { value: { a: [1, 'é'] } });
    t.same(r.value, { a: [1, 'é'] });
    if (threads === 1) t.equal(r.threadId, threadId, 'inline: the calling thread');
    else t.not(r.threadId, threadId, 'a worker thread');

    const err = await pool.run('pool.echo', { value: 0, failInput: 'SPED_X' }).catch((e: unknown) => e);
    t.ok(err instanceof InvalidInputError, 'the class survives');
    t.match(err, { code: 'SPED_X', exitCode: 1, line: 7, message: 'bad input (SPED_X)' });
    await t.rejects(pool.run('pool.echo', { value: 0, fail: 'plain' }), { message: 'plain' });
    await t.rejects(pool.run('no.such.job', {}), { message: /unknown pool job 'no.such.job'/ });

    const bytes = new Uint8Array(1 << 16).fill(7).buffer;
    const moved = await pool.run<Echo>('pool.echo', { value: 1, bytes }, { transfer: threads === 1 ? [] : [bytes] });
    t.equal(moved.bytes, 1 << 16, 'the bytes arrived');
    if (threads > 1) t.equal(bytes.byteLength, 0, 'moved, not copied: detached here');
  });
}

t.test('two workers share the jobs', async (t) => {
  const pool = createPool({ threads: 2 });
  t.teardown(() => pool.close());
  const ids = new Set<number>();
  await Promise.all(Array.from({ length: 8 }, () => pool.run<Echo>('pool.echo', { value: 0, delayMs: 30 }).then((r) => ids.add(r.threadId))));
  t.equal(ids.size, 2);
});

t.test('mapInOrder: input order, bounded window, first failure stops the reading', async (t) => {
  const pool = createPool({ threads: 2 });
  t.teardown(() => pool.close());
  const out: number[] = [];
  let started = 0;
  let maxAhead = 0;
  await mapInOrder(
    Array.from({ length: 40 }, (_, i) => i),
    (i) => {
      started++;
      maxAhead = Math.max(maxAhead, started - out.length);
      // later items finish first: order must still be the input's
      return pool.run<Echo>('pool.echo', { value: i, delayMs: (40 - i) % 7 }).then((r) => r.value as number);
    },
    (v, index) => {
      t.equal(v, index);
      out.push(v);
    },
    4,
  );
  t.same(out, Array.from({ length: 40 }, (_, i) => i));
  t.ok(maxAhead <= 4, `never more than the window ahead (${maxAhead})`);

  let read = 0;
  async function* items(): AsyncGenerator<number> {
    for (let i = 0; i < 100; i++) {
      read++;
      yield i;
    }
  }
  await t.rejects(
    mapInOrder(items(), (i) => pool.run('pool.echo', { value: i, fail: i === 5 ? 'five' : undefined }), () => {}, 3),
    { message: 'five' },
  );
  t.ok(read < 20, `stopped reading soon after the failure (${read} read)`);
  await t.rejects(mapInOrder([1], async () => 1, () => {}, 0), { code: 'POOL_WINDOW' });
});

t.test('withPool closes the pool it made, not the caller\'s', async (t) => {
  const pool = createPool({ threads: 2 });
  t.teardown(() => pool.close());
  const r = await withPool({ pool }, (p) => p.run<Echo>('pool.echo', { value: 'x' }));
  t.equal(r.value, 'x');
  t.equal((await pool.run<Echo>('pool.echo', { value: 'still open' })).value, 'still open');
  const r2 = await withPool({ threads: 1 }, (p) => p.run<Echo>('pool.echo', { value: 'y' }));
  t.equal(r2.value, 'y');
});
