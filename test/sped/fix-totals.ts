import t from 'tap';
import { PassThrough, Readable } from 'node:stream';
import type { SpedFinding } from '../../src/sped/findings.js';
import { fixTotals } from '../../src/sped/fix-totals.js';
import { recountTotals } from '../helpers/sped-totals.js';
import { decodeCp1252, isRegenerated, sampleLines, SAMPLES_DIR, SAMPLES_MISSING } from '../helpers/sped-samples.js';

async function run(source: Readable | string, findings: SpedFinding[] = []): Promise<{ lines: string[]; result: Awaited<ReturnType<typeof fixTotals>> }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const result = await fixTotals(source, out, { onFinding: (f) => findings.push(f) });
  // the input's line ends are kept (LF here)
  return { lines: decodeCp1252(Buffer.concat(chunks)).split(/\r?\n/).slice(0, -1), result };
}

const HEADER = '|0000|020|0|01012026|31012026|EMPRESA LTDA|11222333000181||SP|110042490114|3550308|||A|1|';

t.test('wrong totals, a missing block, a blank line, a signature: all repaired', async (t) => {
  const input = [HEADER, '|0001|1|', '|0005|X|', '|0990|1|', '|C001|1|', '|C100|0|', '', '|C990|1|', '|9001|0|', '|9900|C100|7|', '|9990|1|', '|9999|1|'].join('\n');
  const sig = Buffer.concat([Buffer.from('\nSBRCAAEPDR'), Buffer.from([0x30, 0x82, 0x01, 0x0a, 0xff])]);
  const findings: SpedFinding[] = [];
  const { lines, result } = await run(Readable.from([Buffer.concat([Buffer.from(input), sig])]), findings);
  t.same(recountTotals(lines), []);
  t.equal(lines[1], '|0001|0|');
  t.ok(lines.includes('|B001|1|'), 'required empty block added');
  t.ok(lines.includes('|C001|0|'));
  t.notOk(lines.some((l) => l.includes('SBRCAAEPDR')), 'no signature copied');
  t.same(result.info.signature?.length, sig.length - 1);
  t.same(findings.map((f) => f.code), ['SPED_BLANK_LINE']);
  t.equal(result.droppedLines, 0, 'a blank line is not a dropped record');
});

t.test('lines that are not records are dropped and counted', async (t) => {
  const findings: SpedFinding[] = [];
  const { lines, result } = await run(Readable.from([Buffer.from([HEADER, 'not a record', '|C100|0', '|C100|1|'].join('\r\n'))]), findings);
  t.equal(result.droppedLines, 2);
  t.same(findings.map((f) => [f.line, f.code]), [[2, 'SPED_LINE_FORMAT'], [3, 'SPED_LINE_FORMAT']]);
  t.ok(lines.includes('|C100|1|'));
  t.same(recountTotals(lines), []);
});

t.test('records out of block order stop the repair', async (t) => {
  await t.rejects(run(Readable.from([Buffer.from([HEADER, '|C100|1|', '|0150|P|'].join('\n'))])), { code: 'SPED_WRITE_ORDER', line: 3 });
  await t.rejects(run(Readable.from([Buffer.from('|C100|1|\n')])), { code: 'SPED_WRITE_FIRST', line: 1 });
});

t.test('the EFD-Contribuições sample: its ~30 wrong totals repaired, records untouched', { skip: SAMPLES_MISSING }, async (t) => {
  const path = `${SAMPLES_DIR}efd-contribuicoes-006-anonymized.txt`;
  const original = sampleLines(path);
  t.ok(recountTotals(original).length > 10, 'the sample has wrong totals');
  const { lines, result } = await run(path);
  t.same(recountTotals(lines), []);
  t.same(lines.filter((l) => !isRegenerated(l)), original.filter((l) => !isRegenerated(l)));
  t.ok(lines.some((l) => l.includes('€')), 'Windows-1252-only characters kept');
  t.equal(result.info.encoding, 'windows-1252');
});
