/**
 * Bounded, ordered read-ahead: runs a plan of reads a few at a time in the background and hands the results
 * out in plan order, so the CPU works on one document while the next ones are being read (issue 6: a batch
 * read one file after another left the main thread idle a third of the time).
 *
 * Two limits hold at every moment: at most `count` plan entries started and not yet done with (the one the
 * consumer is working on counts until it asks for the next), and at most `bytes` reserved by them — a read
 * reserves its document's size (known from fstat or the zip directory) before it allocates anything, and gives
 * it back when the consumer is done with its result. A document larger than the whole
 * budget is still read, but only once it is the oldest entry (then nothing else is held beside it), so a
 * batch of any mix of sizes cannot stall, and memory stays below `bytes` plus one document.
 *
 * The plan itself (walking directories, listing a zip's entries, splitting stdin) also runs ahead, one step at
 * a time. An error thrown by the plan comes out at its place in the order, after every earlier result. When
 * the consumer stops early (`break`, `return`), the signal given to the plan and the reads is aborted, reads
 * still waiting for memory are refused, and the plan is closed; the generator's return waits for the reads in
 * flight and the plan step under way to settle, so their file handles are closed when it resolves.
 *
 * A `stop` signal ends the iteration from outside the same way, even while the consumer is waiting for the next
 * result (a batch that has enough documents in hand, or is cancelled, need not wait for stdin's next bytes):
 * the pending `next()` resolves done once the reads in flight have settled.
 */

export interface ReadAheadLimits {
  /** Plan entries started and not yet done with, the one the consumer holds included (1 = no read-ahead). */
  readonly count: number;
  /** Bytes reserved by those entries. */
  readonly bytes: number;
}

/** What a read gets: its memory reservation and the batch's stop signal. */
export interface ReadGrant {
  /** Resolves true when `bytes` may be allocated; false when the batch was stopped (then allocate nothing). */
  reserve(bytes: number): Promise<boolean>;
  readonly signal: AbortSignal;
}

/** One plan entry: a result already at hand (with the bytes it holds), or a read to start. */
export type Planned<T> =
  | { readonly ready: T; readonly bytes: number }
  | { readonly start: (grant: ReadGrant) => Promise<T> };

interface Slot<T> {
  readonly seq: number;
  /** Bytes reserved (granted) by this entry. */
  bytes: number;
  done: boolean;
  value?: T;
  error?: unknown;
  settled: Promise<void>;
}

interface Waiter {
  readonly seq: number;
  readonly bytes: number;
  readonly resolve: (ok: boolean) => void;
}

/**
 * Yields the results of the plan's entries in order, running up to `limits` of them ahead. `makePlan` gets the
 * stop signal: a plan step waiting on something that may never come (more bytes on stdin) must end when it
 * is aborted.
 */
export async function* readAhead<T>(
  makePlan: (signal: AbortSignal) => AsyncIterator<Planned<T>>,
  limits: ReadAheadLimits,
  stop?: AbortSignal,
): AsyncGenerator<T> {
  if (!(limits.count >= 1) || !(limits.bytes >= 1)) throw new RangeError('read-ahead limits must be at least 1');
  if (stop?.aborted) return;
  const controller = new AbortController();
  const plan = makePlan(controller.signal);
  const window: Slot<T>[] = [];
  const waiters: Waiter[] = [];
  let held = 0;
  let seq = 0;
  let planning: Promise<void> | null = null;
  let planDone = false;
  let planError: { error: unknown } | null = null;
  let stopped = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };

  const headSeq = (): number => (window.length ? window[0]!.seq : seq);
  const grantWaiting = (): void => {
    for (let i = 0; i < waiters.length; ) {
      const w = waiters[i]!;
      if (stopped) {
        waiters.splice(i, 1);
        w.resolve(false);
      } else if (held + w.bytes <= limits.bytes || w.seq === headSeq()) {
        waiters.splice(i, 1);
        held += w.bytes;
        const slot = window.find((s) => s.seq === w.seq);
        if (slot) slot.bytes += w.bytes;
        w.resolve(true);
      } else i++;
    }
  };

  const start = (entry: Planned<T>): void => {
    const mySeq = seq++;
    const slot: Slot<T> = { seq: mySeq, bytes: 0, done: false, settled: Promise.resolve() };
    window.push(slot);
    if ('ready' in entry) {
      slot.bytes = entry.bytes;
      held += entry.bytes;
      slot.done = true;
      slot.value = entry.ready;
      return;
    }
    const grant: ReadGrant = {
      signal: controller.signal,
      reserve: (bytes) => {
        if (stopped) return Promise.resolve(false);
        return new Promise<boolean>((resolve) => {
          waiters.push({ seq: mySeq, bytes, resolve });
          grantWaiting();
        });
      },
    };
    let run: Promise<T>;
    try {
      run = entry.start(grant);
    } catch (err) {
      run = Promise.reject(err);
    }
    slot.settled = run.then(
      (v) => {
        slot.value = v;
      },
      (err: unknown) => {
        slot.error = err;
      },
    ).then(() => {
      slot.done = true;
      notify();
    });
  };

  const pump = (): void => {
    if (planning || planDone || stopped || window.length >= limits.count || held >= limits.bytes) return;
    planning = plan.next().then(
      (r) => {
        planning = null;
        if (r.done) planDone = true;
        else if (!stopped) start(r.value);
        notify();
        pump();
      },
      (err: unknown) => {
        planning = null;
        planDone = true;
        planError = { error: err };
        notify();
      },
    );
  };

  const onStop = (): void => notify();
  stop?.addEventListener('abort', onStop);
  try {
    for (;;) {
      if (stop?.aborted) return;
      pump();
      const head = window[0];
      if (head?.done) {
        if (head.error !== undefined) throw head.error;
        // the document handed out still counts (count and bytes) until the consumer asks for the next one
        yield head.value as T;
        window.shift();
        held -= head.bytes;
        grantWaiting();
        continue;
      }
      if (!head && planDone) {
        if (planError) throw (planError as { error: unknown }).error;
        return;
      }
      // the head was just handed a reservation it may now use even over the budget
      grantWaiting();
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stop?.removeEventListener('abort', onStop);
    stopped = true;
    controller.abort();
    grantWaiting();
    await Promise.all(window.map((s) => s.settled));
    if (planning) await planning;
    if (!planDone) await plan.return?.(undefined);
  }
}
