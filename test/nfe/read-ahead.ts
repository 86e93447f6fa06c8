import t from 'tap';
import { readAhead, type Planned, type ReadGrant } from '../../src/nfe/read-ahead.js';
import { mulberry32 } from '../../src/common/prng.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A plan of `n` reads of random sizes and random delays, watched: how many run at once, how many bytes are held. */
function watchedPlan(n: number, seed: number, limits: { count: number; bytes: number }, failAt = -1) {
  const r = mulberry32(seed);
  const sizes = Array.from({ length: n }, () => 1 + Math.floor(r() * 400));
  const delays = Array.from({ length: n }, () => Math.floor(r() * 4));
  const w = { started: 0, settled: 0, inWindow: 0, maxInWindow: 0, held: 0, overBudget: [] as string[], planClosed: false, refused: 0 };
  const heldBy = new Map<number, number>();
  async function* plan(): AsyncGenerator<Planned<{ i: number; size: number }>> {
    try {
      for (let i = 0; i < n; i++) {
        if (i % 7 === 3) await sleep(delays[i]!); // the plan itself is slow now and then (readdir, zip listing)
        yield {
          start: async (grant: ReadGrant) => {
            w.started++;
            w.inWindow++;
            w.maxInWindow = Math.max(w.maxInWindow, w.inWindow);
            try {
              await sleep(delays[i]!);
              if (!(await grant.reserve(sizes[i]!))) {
                w.refused++;
                return { i, size: -1 };
              }
              w.held += sizes[i]!;
              heldBy.set(i, sizes[i]!);
              // only the oldest read may go over the budget, and only by its own size
              if (w.held > limits.bytes && w.held - sizes[i]! > limits.bytes) w.overBudget.push(`read ${i}: ${w.held} held`);
              await sleep(delays[(i + 1) % n]!);
              if (i === failAt) throw new Error(`read ${i} failed`);
              return { i, size: sizes[i]! };
            } finally {
              w.settled++;
            }
          },
        };
      }
    } finally {
      w.planClosed = true;
    }
  }
  const consumed = (i: number): void => {
    w.inWindow--;
    w.held -= heldBy.get(i) ?? 0;
    heldBy.delete(i);
  };
  return { plan, sizes, w, consumed };
}

t.test('results in plan order under random delays; count and byte limits hold', async (t) => {
  for (const [seed, limits] of [[1, { count: 8, bytes: 1000 }], [2, { count: 3, bytes: 300 }], [3, { count: 1, bytes: 1 }], [4, { count: 16, bytes: 100 }]] as const) {
    const { plan, w, consumed } = watchedPlan(150, seed, limits);
    const order: number[] = [];
    for await (const v of readAhead(() => plan(), limits)) {
      order.push(v.i);
      consumed(v.i);
      if (order.length % 5 === 0) await sleep(1); // a slow consumer now and then
    }
    t.same(order, Array.from({ length: 150 }, (_, i) => i), `seed ${seed}: order kept`);
    t.ok(w.maxInWindow <= limits.count, `seed ${seed}: at most ${limits.count} reads ahead (saw ${w.maxInWindow})`);
    t.same(w.overBudget, [], `seed ${seed}: never over ${limits.bytes} bytes plus one document`);
    if (limits.count > 1) t.ok(w.maxInWindow > 1, `seed ${seed}: reads did overlap`);
  }
});

t.test('ready entries, a failing read and a failing plan come out at their place', async (t) => {
  async function* plan(): AsyncGenerator<Planned<string>> {
    yield { ready: 'a', bytes: 1 };
    yield { start: async () => { await sleep(3); return 'b'; } };
    yield { start: async () => { throw new Error('read c failed'); } };
    yield { ready: 'd', bytes: 1 };
  }
  const seen: string[] = [];
  await t.rejects(async () => { for await (const v of readAhead(() => plan(), { count: 4, bytes: 10 })) seen.push(v); }, /read c failed/);
  t.same(seen, ['a', 'b']);

  async function* badPlan(): AsyncGenerator<Planned<string>> {
    yield { start: async () => { await sleep(5); return 'x'; } };
    yield { ready: 'y', bytes: 1 };
    throw new Error('cannot open the next source');
  }
  const seen2: string[] = [];
  await t.rejects(async () => { for await (const v of readAhead(() => badPlan(), { count: 4, bytes: 10 })) seen2.push(v); }, /cannot open the next source/);
  t.same(seen2, ['x', 'y'], 'every result before the plan error first');
});

t.test('stopping early settles the reads in flight, refuses the waiting ones and closes the plan', async (t) => {
  const limits = { count: 8, bytes: 500 };
  const { plan, w } = watchedPlan(200, 9, limits);
  let n = 0;
  for await (const v of readAhead(() => plan(), limits)) {
    void v;
    if (++n === 5) break;
  }
  t.equal(w.settled, w.started, 'every read started has settled when the loop ends');
  t.ok(w.started < 200, 'the batch was not read to its end');
  t.ok(w.planClosed, 'the plan was closed');
});

t.test('bad limits are refused', async (t) => {
  async function* plan(): AsyncGenerator<Planned<string>> {}
  await t.rejects(async () => { for await (const v of readAhead(() => plan(), { count: 0, bytes: 1 })) void v; }, RangeError);
});
