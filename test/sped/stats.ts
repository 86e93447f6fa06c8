import t from 'tap';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { spedStats } from '../../src/sped/stats.js';
import { samplePaths, SAMPLES_MISSING } from '../helpers/sped-samples.js';

const file = (lines: string[], tail: Buffer = Buffer.alloc(0)): Readable =>
  Readable.from([Buffer.concat([Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'latin1'), tail])]);

const HEADER = '|0000|020|0|01012026|31012026|EMPRESA LTDA|11222333000181||SP|110042490114|3550308|||A|1|';

t.test('counts registers and blocks, reads 0000 only', async (t) => {
  const lines = [HEADER, '|0001|0|', '|0990|3|', '|C001|0|', '|C100|0|', '|C170|1|', '|C170|2|', '|C100|1|', '|C990|6|', '|9001|0|', '|9990|2|', '|9999|12|'];
  const { stats, findings } = await spedStats(file(lines));
  t.same(findings, []);
  t.equal(stats.layout, 'efd-icms-ipi');
  t.equal(stats.version, '020');
  t.same(stats.period, { start: '2026-01-01', end: '2026-01-31' });
  t.same(stats.company, { name: 'EMPRESA LTDA', cnpj: '11222333000181' });
  t.equal(stats.lines, 12);
  t.equal(stats.encoding, 'ascii');
  t.equal(stats.signature, null);
  t.same(stats.registers, { '0000': 1, '0001': 1, '0990': 1, C001: 1, C100: 2, C170: 2, C990: 1, '9001': 1, '9990': 1, '9999': 1 });
  t.same(stats.blocks, { 0: 3, C: 6, 9: 3 });
  t.equal(Object.keys(stats.registers).length, 10);
});

t.test('signature block, Windows-1252, invalid lines, CPF when no CNPJ', async (t) => {
  const sig = Buffer.concat([Buffer.from('SBRCAAEPDR', 'latin1'), Buffer.from([0x30, 0x82, 0x0a, 0x0d, 0x7c, 0x00, 0xff])]);
  const header = HEADER.replace('|11222333000181||', '||12345678909|').replace('EMPRESA LTDA', 'JOS\xc9 \x80');
  const { stats, findings } = await spedStats(file([header, 'garbage', '|C1|x|', '|9999|4|'], sig));
  t.equal(stats.encoding, 'windows-1252');
  t.equal(stats.company.name, 'JOSÉ €');
  t.equal(stats.company.cnpj, '12345678909');
  t.same(stats.signature, { offset: Buffer.byteLength(`${header}\r\ngarbage\r\n|C1|x|\r\n|9999|4|\r\n`, 'latin1'), length: sig.length });
  t.equal(stats.invalidLines, 2);
  t.same(findings.map((f) => [f.line, f.code]), [[2, 'SPED_LINE_FORMAT'], [3, 'SPED_LINE_FORMAT']]);
  t.equal(stats.lines, 4, 'the signature block is not lines');
});

t.test('ECD version from I010', async (t) => {
  const lines = ['|0000|LECD|01012025|31122025|EMPRESA|11222333000181|SP||3550308||||||||||||||', '|0001|0|', '|I001|0|', '|I010|G|9.00|', '|9999|5|'];
  const { stats } = await spedStats(file(lines));
  t.equal(stats.layout, 'ecd');
  t.equal(stats.version, '9.00');
  t.same(stats.blocks, { 0: 2, I: 2, 9: 1 });
});

t.test('bad input: empty, not SPED, overlong line, options', async (t) => {
  const empty = await spedStats(Readable.from([]));
  t.same(empty.findings.map((f) => f.code), ['SPED_EMPTY']);
  const notSped = await spedStats(file(['hello', 'world']));
  t.same(notSped.findings.map((f) => f.code), ['SPED_LINE_FORMAT', 'SPED_LINE_FORMAT', 'SPED_NOT_SPED']);
  t.equal(notSped.stats.layout, null);
  // a 40 MiB line, above the 32 MiB default cap, streamed in 1 MiB chunks
  async function* long(): AsyncGenerator<Buffer> {
    yield Buffer.from(`${HEADER}\n|C100|`, 'latin1');
    for (let i = 0; i < 40; i++) yield Buffer.alloc(1 << 20, 0x41);
    yield Buffer.from('|\n|9999|3|\n', 'latin1');
  }
  const r = await spedStats(long());
  t.same(r.findings.map((f) => [f.line, f.code]), [[2, 'SPED_LINE_TOO_LONG']]);
  t.same(r.stats.registers, { '0000': 1, '9999': 1 });
  t.equal(r.stats.lines, 3);
  const capped = await spedStats(file(Array.from({ length: 50 }, () => 'x')), { maxFindings: 5 });
  t.equal(capped.findings.length, 5);
  t.equal(capped.findingCount, 51);
  await t.rejects(spedStats(file([HEADER]), { layout: 'nope' as 'ecd' }), { code: 'SPED_LAYOUT_UNKNOWN' });
  await t.rejects(spedStats('/nonexistent/file.txt'), { code: 'IO_ENOENT' });
});

t.test('samples: counts agree with an independent count', { skip: SAMPLES_MISSING }, async (t) => {
  for (const path of samplePaths()) {
    const text = readFileSync(path, 'latin1');
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const expected: Record<string, number> = {};
    for (const l of lines) if (/^\|[0-9A-Z]{4}\|/.test(l)) expected[l.slice(1, 5)] = (expected[l.slice(1, 5)] ?? 0) + 1;
    const { stats } = await spedStats(path);
    t.same(stats.registers, expected, path);
    t.equal(stats.lines, lines.length, `${path}: lines`);
    t.ok(stats.layout && stats.version && stats.period.start && stats.company.name, `${path}: header read`);
    t.equal(stats.encoding, path.includes('utf8') ? 'utf-8' : path.includes('anonymized') ? 'windows-1252' : 'ascii', `${path}: encoding`);
  }
});
