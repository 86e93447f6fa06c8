// No finding message ever shows a missing value (`null`, `undefined`, `NaN`, `[object …]`): every injected defect,
// every fuzz mutant and garbage input, on both validator paths, and the reader's findings on their own.
import t from 'tap';
import { Readable } from 'node:stream';
import { validateSped, type ValidationResult } from '../../src/sped/validator.js';
import { readSped } from '../../src/sped/reader.js';
import type { SpedFinding } from '../../src/sped/findings.js';
import { joinLines, linesOf, prng, syntheticFile } from '../helpers/sped.js';
import { defects } from '../helpers/sped-defects.js';
import { badMessages, mutate } from '../helpers/sped-fuzz.js';

async function findingsOf(buf: Buffer): Promise<SpedFinding[]> {
  const all: SpedFinding[] = [];
  for (const bytePath of [true, false]) {
    const r: ValidationResult = await validateSped(Readable.from([buf]), { maxErrors: 0, bytePath });
    all.push(...r.errors);
  }
  const { records, findings } = readSped(Readable.from([buf]));
  for await (const _ of records) all.push(...findings.splice(0));
  all.push(...findings);
  return all;
}

t.test('every injected defect', async (t) => {
  const lines = linesOf(await syntheticFile({ layout: 'efd-icms-ipi', documents: 12, seed: 7 }));
  let seen = 0;
  for (const d of defects) {
    const mutated = lines.slice();
    d.apply(mutated);
    const found = await findingsOf(joinLines(mutated));
    seen += found.length;
    t.same(badMessages(found), [], d.name);
  }
  t.ok(seen > defects.length, `${seen} findings looked at`);
});

t.test('defects of structure: lines removed, doubled, moved, cut', async (t) => {
  for (const layout of ['efd-icms-ipi', 'efd-contribuicoes', 'ecd'] as const) {
    const lines = linesOf(await syntheticFile({ layout, documents: 4, seed: 2 }));
    for (let i = 0; i < lines.length; i++) {
      const edits = [
        [...lines.slice(0, i), ...lines.slice(i + 1)], // a line removed
        [...lines.slice(0, i + 1), lines[i]!, ...lines.slice(i + 1)], // a line doubled
        lines.slice(0, i + 1), // cut after it
        [lines[0]!, lines[i]!, ...lines.slice(1, i), ...lines.slice(i + 1)], // moved to just after 0000
      ];
      for (const e of edits) t.same(badMessages(await findingsOf(joinLines(e))), [], `${layout} line ${i + 1}: ${lines[i]!.slice(0, 12)}`);
    }
  }
});

for (const layout of ['efd-icms-ipi', 'efd-contribuicoes', 'ecd'] as const) {
  t.test(`${layout}: fuzz mutants`, async (t) => {
    const clean = await syntheticFile({ layout, documents: 6, seed: 11 });
    const rnd = prng(layout.length * 1000 + 31);
    for (let round = 0; round < 150; round++) {
      const bad = mutate(clean, rnd);
      t.same(badMessages(await findingsOf(bad)), [], `round ${round}`);
    }
  });
}

t.test('garbage and empty input', async (t) => {
  const rnd = prng(5);
  const inputs = [Buffer.alloc(0), Buffer.from('\r\n\r\n'), Buffer.from('|'), Buffer.from('||\r\n|0000|\r\n'), Buffer.from('|9999|\r\n')];
  for (let round = 0; round < 50; round++) {
    const lines: string[] = [];
    for (let i = 0; i < 30; i++) {
      const fields = Array.from({ length: Math.floor(rnd() * 8) }, () => Math.floor(rnd() * 1e6).toString(36));
      lines.push(`|${rnd() < 0.2 ? '0000' : rnd() < 0.3 ? '9900' : fields.shift() ?? ''}|${fields.join('|')}|`);
    }
    inputs.push(Buffer.from(lines.join('\r\n')));
  }
  for (const [i, buf] of inputs.entries()) t.same(badMessages(await findingsOf(buf)), [], `input ${i}`);
});
