// One file validated in byte ranges on two threads (src/sped/validate-ranges.ts) must give exactly the result of one
// thread: every finding in order, with its line and message, the counts and the rest of the result. Checked on
// mutants of generated files of every layout, cut into many small ranges (`rangeBytes`): structural edits
// (registers replaced, lines removed, repeated or moved, blocks out of order, truncation, 9999 removed, unknown
// registers, blank and garbage lines), field edits (references, totals, values), CRLF and LF, Windows-1252 and
// UTF-8, a signature block, a capped finding list. Workers run dist/pool/worker.js: `npm run build` first.
import t from 'tap';
import { Readable } from 'node:stream';
import { createPool } from '../../src/pool/pool.js';
import { validateSped, type ValidationResult } from '../../src/sped/validator.js';
import type { RangeValidateOptions } from '../../src/sped/validate-ranges.js';
import type { LayoutId } from '../../src/sped/layout.js';
import { linesOf, mutateLines as mutate, prng, setField, syntheticFile, writeTemp } from '../helpers/sped.js';

const pool = createPool({ threads: 2 });
t.teardown(() => pool.close());

/** The one-thread result, the two-thread result, and whether the two-thread run really used ranges. */
async function both(path: string, options: RangeValidateOptions = {}): Promise<{ one: ValidationResult; two: ValidationResult; ranges: number; fallback: string | null }> {
  const one = await validateSped(path, { ...options, threads: 1 });
  let plan = { ranges: 0, fallback: 'not told' as string | null };
  const two = await validateSped(path, { ...options, pool, onPlan: (p) => (plan = p) } as RangeValidateOptions);
  return { one, two, ...plan };
}

const LAYOUTS: LayoutId[] = ['efd-icms-ipi', 'efd-contribuicoes', 'ecd'];
const ROUNDS = 60;

for (const layout of LAYOUTS) {
  t.test(`${layout}: two threads in many ranges = one thread, on ${ROUNDS} mutants`, async (t) => {
    const clean = await syntheticFile({ layout, documents: 60, seed: 3, profile: 'realistic', products: 40, participants: 12, accounts: 30 });
    const lines = linesOf(clean);
    const base = await both(writeTemp('clean.txt', clean), { maxErrors: 0, rangeBytes: 2000 });
    t.strictSame(base.two, base.one, 'the clean file');
    t.ok(base.one.valid, 'the clean file is valid');
    t.equal(base.fallback, null, 'the clean file is validated in ranges');
    t.ok(base.ranges > 5, `in many ranges (${base.ranges})`);
    const rnd = prng(layout.length * 7919 + 11);
    let differing = 0;
    let ranged = 0;
    let rangedWithFindings = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const eol = rnd() < 0.3 ? '\n' : '\r\n';
      let bytes = Buffer.from(mutate(lines, rnd).map((l) => `${l}${eol}`).join(''), rnd() < 0.2 ? 'utf8' : 'latin1');
      // a PVA signature block after 9999 (binary; a line in it may look like a record)
      if (rnd() < 0.15) bytes = Buffer.concat([bytes, Buffer.from('SBRCAAEPDR\x00\x01|C100|x\n|C100|', 'latin1')]);
      const maxErrors = rnd() < 0.3 ? 3 : 0;
      const r = await both(writeTemp('mutant.txt', bytes), { maxErrors, rangeBytes: 1 + Math.floor(rnd() * 3000) });
      if (!t.strictSame(r.two, r.one, `round ${round}: the same result (${r.ranges} ranges${r.fallback ? `, one thread: ${r.fallback}` : ''})`)) {
        if (++differing > 3) break;
      }
      if (r.fallback === null) {
        ranged++;
        if (r.one.errorCount + r.one.warningCount > 0) rangedWithFindings++;
      }
    }
    t.equal(differing, 0, 'no mutant differs');
    t.ok(ranged >= ROUNDS / 2, `most mutants are validated in ranges (${ranged}/${ROUNDS})`);
    t.ok(rangedWithFindings >= ROUNDS / 3, `many of those have findings (${rangedWithFindings})`);
  });
}

t.test('a reference to a key no range has, and one an earlier range added (ECD accounts)', async (t) => {
  const lines = linesOf(await syntheticFile({ layout: 'ecd', documents: 80, seed: 4, profile: 'realistic', accounts: 30 }));
  const at = lines.findIndex((l, i) => i > lines.length / 2 && l.startsWith('|I250|'));
  lines[at] = setField(lines[at]!, 2, 'NO.SUCH.ACCOUNT');
  const r = await both(writeTemp('ecd-ref.txt', Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'latin1')), { maxErrors: 0, rangeBytes: 1500 });
  t.equal(r.fallback, null);
  t.ok(r.one.errors.some((e) => e.code === 'SPED_REF_MISSING' && e.line === at + 1), 'the missing account is found');
  t.strictSame(r.two, r.one);
});

t.test('findings of the block run a range starts in: X990 count, IND_MOV, a block not closed', async (t) => {
  const lines = linesOf(await syntheticFile({ layout: 'efd-icms-ipi', documents: 60, seed: 6, profile: 'realistic', products: 40, participants: 12 }));
  const c990 = lines.findIndex((l) => l.startsWith('|C990|'));
  lines[c990] = setField(lines[c990]!, 2, '7');
  const c001 = lines.findIndex((l) => l.startsWith('|C001|'));
  lines[c001] = setField(lines[c001]!, 2, '1');
  const d990 = lines.findIndex((l) => l.startsWith('|D990|'));
  lines.splice(d990, 1);
  const r = await both(writeTemp('runs.txt', Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'latin1')), { maxErrors: 0, rangeBytes: 1500 });
  t.equal(r.fallback, null);
  for (const code of ['SPED_TOTAL_BLOCK', 'SPED_IND_MOV', 'SPED_BLOCK_ORDER']) t.ok(r.one.errors.some((e) => e.code === code), code);
  t.strictSame(r.two, r.one);
});

t.test('stdin and streams run on one thread, with the same result', async (t) => {
  const bytes = await syntheticFile({ layout: 'efd-icms-ipi', documents: 30, seed: 8 });
  let told = false;
  const stream = await validateSped(Readable.from([bytes]), { pool, onPlan: () => (told = true) } as RangeValidateOptions);
  t.notOk(told, 'no range plan for a stream');
  t.strictSame(stream, await validateSped(writeTemp('s.txt', bytes), { threads: 1 }));
});

t.test('a small file goes to one thread unless ranges are asked for', async (t) => {
  const path = writeTemp('small.txt', await syntheticFile({ layout: 'efd-icms-ipi', documents: 30, seed: 8 }));
  let plan: { ranges: number; fallback: string | null } | null = null;
  await validateSped(path, { pool, onPlan: (p) => (plan = p) } as RangeValidateOptions);
  t.strictSame(plan, { ranges: 1, fallback: 'small file' });
});
