import t from 'tap';
import { Readable } from 'node:stream';
import { validateSped } from '../../src/sped/validator.js';
import { readSped } from '../../src/sped/reader.js';
import { SPED_CODES } from '../../src/sped/findings.js';
import { prng, syntheticFile } from '../helpers/sped.js';
import { badMessages, mutate } from '../helpers/sped-fuzz.js';

const codes = new Set<string>(SPED_CODES);

for (const layout of ['efd-icms-ipi', 'efd-contribuicoes', 'ecd'] as const) {
  t.test(`fuzzed ${layout} files never crash the reader or the validator`, async (t) => {
    const clean = await syntheticFile({ layout, documents: 6, seed: 11 });
    const rnd = prng(layout.length * 1000 + 17);
    let invalid = 0;
    for (let round = 0; round < 150; round++) {
      const bad = mutate(clean, rnd);
      const parts: Buffer[] = [];
      const step = 1 + Math.floor(rnd() * 300);
      for (let i = 0; i < bad.length; i += step) parts.push(bad.subarray(i, i + step));
      const r = await validateSped(Readable.from(parts), { maxErrors: 0 });
      const lines = bad.toString('latin1').split('\n').length;
      for (const e of r.errors) {
        if (!codes.has(e.code)) t.fail(`unknown code ${e.code}`);
        if (e.line !== null && (e.line < 1 || e.line > lines)) t.fail(`line ${e.line} outside 1..${lines} (round ${round})`);
      }
      const shown = badMessages(r.errors);
      if (shown.length > 0) t.fail(`a message shows a missing value (round ${round}): ${shown[0]}`);
      if (!r.valid) invalid++;
      // the reader alone yields what the validator saw, also without throwing
      const rr = readSped(Readable.from([bad]));
      for await (const rec of rr.records) if (rec.fields.length === 0) t.fail('record without fields');
    }
    t.ok(invalid > 100, `most mutants are invalid (${invalid}/150)`);
  });
}

t.test('random pipe-delimited garbage lines', async (t) => {
  const rnd = prng(99);
  for (let round = 0; round < 50; round++) {
    const lines: string[] = [];
    for (let i = 0; i < 50; i++) {
      const n = Math.floor(rnd() * 12);
      const fields = Array.from({ length: n }, () => Math.floor(rnd() * 1e6).toString(36));
      lines.push(`|${rnd() < 0.2 ? '0000' : fields.shift() ?? ''}|${fields.join('|')}|`);
    }
    const r = await validateSped(Readable.from([Buffer.from(lines.join('\r\n'))]), { maxErrors: 0 });
    t.equal(r.valid, false);
  }
});
