// Block order on disordered files: a block out of place is one SPED_BLOCK_ORDER finding at its first line, naming
// the block expected there; line counts, X990, 9900 and "missing" findings stay true to what the file holds.
import t from 'tap';
import { Readable } from 'node:stream';
import { validateSped, type ValidationResult } from '../../src/sped/validator.js';
import { joinLines, lineOf, linesOf, syntheticFile } from '../helpers/sped.js';

const validate = (lines: string[], bytePath = true): Promise<ValidationResult> =>
  validateSped(Readable.from([joinLines(lines)]), { maxErrors: 0, bytePath });

/** The file's lines cut into block runs: [block letter, lines]; block 0 includes 0000. */
function blocksOf(lines: readonly string[]): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (const l of lines) {
    const block = l[1]!;
    const last = out[out.length - 1];
    if (last && last[0] === block) last[1].push(l);
    else out.push([block, [l]]);
  }
  return out;
}

for (const layout of ['efd-icms-ipi', 'efd-contribuicoes', 'ecd'] as const) {
  t.test(`${layout}: every block moved to every other place gives one finding, at the block out of place`, async (t) => {
    const lines = linesOf(await syntheticFile({ layout, documents: 6, seed: 3 }));
    const blocks = blocksOf(lines);
    t.ok(blocks.length >= 5, `${blocks.length} blocks`);
    t.same((await validate(lines)).errors, [], 'the clean file is valid');
    let cases = 0;
    // move block `from` (not 0, not 9) to before the block now at index `to`
    for (let from = 1; from < blocks.length - 1; from++) {
      for (let to = 1; to < blocks.length; to++) {
        if (to === from || to === from + 1) continue;
        const moved = blocks.slice();
        const [run] = moved.splice(from, 1);
        moved.splice(to > from ? to - 1 : to, 0, run!);
        const out = moved.flatMap(([, l]) => l);
        // the block named: the moved one, except when it went one place later (then the one it jumped over)
        const flagged = to === from + 2 ? blocks[from + 1]![0] : run![0];
        const at = moved.findIndex(([b]) => b === flagged);
        const expected = moved[at + 1]![0];
        const line = out.indexOf(moved[at]![1][0]!) + 1;
        for (const bytePath of [true, false]) {
          const r = await validate(out, bytePath);
          const name = `${run![0]} before ${blocks[to]![0]}${bytePath ? '' : ' (string path)'}`;
          // (consistency warnings may follow: E110 read before the C190s it sums is a true warning)
          const errors = r.errors.filter((e) => e.severity === 'error');
          t.same(
            errors.map((e) => [e.line, e.register, e.code]),
            [[line, `${flagged}001`, 'SPED_BLOCK_ORDER']],
            `${name}: one finding, at the first line of block ${flagged}`,
          );
          t.match(errors[0]?.message, new RegExp(`^block ${flagged} out of order: block ${expected} was expected here`), name);
        }
        cases++;
      }
    }
    t.ok(cases >= 6, `${cases} permutations`);
  });
}

t.test('the issue\'s case: block D before block B', async (t) => {
  const lines = linesOf(await syntheticFile({ layout: 'efd-icms-ipi', documents: 6, seed: 3 }));
  const d = lines.slice(lineOf(lines, 'D001') - 1, lineOf(lines, 'D990'));
  const rest = lines.filter((l) => !d.includes(l));
  const b = lineOf(rest, 'B001') - 1;
  const out = [...rest.slice(0, b), ...d, ...rest.slice(b)];
  const r = await validate(out);
  t.same(r.errors.map((e) => [e.line, e.register, e.code, e.message]), [
    [b + 1, 'D001', 'SPED_BLOCK_ORDER', 'block D out of order: block B was expected here (blocks go in the order 0 B C D E G H K 1 9)'],
  ]);
});

t.test('a missing block, a block twice, two blocks swapped, a block not closed', async (t) => {
  const lines = linesOf(await syntheticFile({ layout: 'efd-icms-ipi', documents: 6, seed: 3 }));
  const range = (l: readonly string[], block: string): [number, number] => [lineOf(l, `${block}001`) - 1, lineOf(l, `${block}990`)];
  // block G left out entirely: missing, and the 9900 lines for G001/G990 list what is not there
  const [g0, g1] = range(lines, 'G');
  const noG = [...lines.slice(0, g0), ...lines.slice(g1)];
  const r1 = await validate(noG);
  t.same(r1.errors.filter((e) => e.code.startsWith('SPED_BLOCK')).map((e) => [e.code, e.register]), [['SPED_BLOCK_MISSING', 'G001']]);
  t.notOk(r1.errors.some((e) => e.code === 'SPED_TOTAL_BLOCK'), 'no X990 finding');
  // block H copied after block K: "again" at its second H001, nothing about its counts
  const [h0, h1] = range(lines, 'H');
  const k1 = lineOf(lines, 'K990');
  const twice = [...lines.slice(0, k1), ...lines.slice(h0, h1), ...lines.slice(k1)];
  const r2 = await validate(twice);
  const again = r2.errors.filter((e) => e.code === 'SPED_BLOCK_ORDER');
  t.same(again.map((e) => [e.line, e.register]), [[k1 + 1, 'H001']]);
  t.match(again[0]?.message, `block H again: it started at line ${h0 + 1}`);
  t.notOk(r2.errors.some((e) => e.code === 'SPED_TOTAL_BLOCK' || e.code === 'SPED_BLOCK_MISSING'));
  // C990 dropped: the block is not closed, once; D is not out of order
  const c990 = lineOf(lines, 'C990');
  const open = [...lines.slice(0, c990 - 1), ...lines.slice(c990)];
  const r3 = await validate(open);
  const order = r3.errors.filter((e) => e.code === 'SPED_BLOCK_ORDER');
  t.same(order.map((e) => [e.line, e.register]), [[null, 'C990']]);
  t.match(order[0]?.message, /block C \(from line \d+\) is not closed by C990/);
});

t.test('a file without 9990, or with block 9 cut short, says so', async (t) => {
  const lines = linesOf(await syntheticFile({ layout: 'efd-icms-ipi', documents: 6, seed: 3 }));
  const n9990 = lineOf(lines, '9990');
  const without = [...lines.slice(0, n9990 - 1), ...lines.slice(n9990)];
  const r = await validate(without);
  const f = r.errors.find((e) => e.code === 'SPED_TOTAL_9990');
  t.ok(f, JSON.stringify(r.errors));
  t.equal(f?.line, without.length, 'at 9999, where 9990 was due');
  t.match(f?.message, /block 9 is not closed by 9990/);
  // cut inside the 9900 list: truncated, and block 9 not closed
  const cut = lines.slice(0, n9990 - 5);
  const r2 = await validate(cut);
  t.ok(r2.errors.some((e) => e.code === 'SPED_TRUNCATED'));
  t.ok(r2.errors.some((e) => e.code === 'SPED_TOTAL_9990' && e.line === null));
  for (const e of [...r.errors, ...r2.errors]) t.notMatch(e.message, /\b(null|undefined|NaN)\b/);
});
