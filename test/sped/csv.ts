import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { spedToCsv } from '../../src/sped/csv.js';
import { loadLayout } from '../../src/sped/layout.js';
import { SAMPLES_DIR, SAMPLES_MISSING } from '../helpers/sped-samples.js';

const HEADER = '|0000|020|0|01012026|31012026|EMPRESA “X”|11222333000181||SP|110042490114|3550308|||A|1|';
const c100 = loadLayout('efd-icms-ipi').fieldsFor('C100', '020')!;
const pos = (name: string): number => c100.find((d) => d.name === name)!.pos;
const C100 = `|${c100.map((d) => (d.pos === 1 ? 'C100' : d.name === 'VL_DOC' ? '1500,25' : d.name === 'DT_DOC' ? '05012026' : d.name === 'NUM_DOC' ? '000123' : '')).join('|')}|`;

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sped-csv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const source = (lines: string[]): Readable => Readable.from([Buffer.from(lines.join('\r\n') + '\r\n', 'utf8')]);

t.test('one CSV per register, header from the layout, decimals with a point, ISO dates', async (t) => {
  const dir = tmp(t);
  const r = await spedToCsv(source([HEADER, C100, C100, '|Q999|a|b|']), dir);
  t.same(r.files.map((f) => [f.register, f.rows]), [['0000', 1], ['C100', 2], ['Q999', 1]]);
  t.same(readdirSync(dir).sort(), ['0000.csv', 'C100.csv', 'Q999.csv'], 'no temporary folder left');
  const rows = parse(readFileSync(join(dir, 'C100.csv'))) as string[][];
  t.same(rows[0], c100.slice(1).map((d) => d.name));
  t.equal(rows.length, 3);
  t.equal(rows[1]![pos('VL_DOC') - 2], '1500.25');
  t.equal(rows[1]![pos('DT_DOC') - 2], '2026-01-05');
  t.equal(rows[1]![pos('NUM_DOC') - 2], '000123', 'leading zeros kept');
  const h = parse(readFileSync(join(dir, '0000.csv'))) as string[][];
  t.equal(h[1]![4], 'EMPRESA “X”', 'UTF-8 text');
  t.same(parse(readFileSync(join(dir, 'Q999.csv'))), [['#2', '#3'], ['a', 'b']], 'unknown register: #POS header');
});

t.test('--delimiter, --decimal-comma, --bom', async (t) => {
  const dir = tmp(t);
  await spedToCsv(source([HEADER, C100]), dir, { delimiter: ';', decimalComma: true, bom: true });
  const bytes = readFileSync(join(dir, 'C100.csv'));
  t.same([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const rows = parse(bytes, { delimiter: ';', bom: true }) as string[][];
  t.equal(rows[1]![pos('VL_DOC') - 2], '1500,25');
  t.equal(rows[1]![pos('DT_DOC') - 2], '2026-01-05');
  await t.rejects(spedToCsv(source([HEADER]), dir, { delimiter: ';;' }), { code: 'CSV_DELIMITER' });
});

t.test('a failed run leaves no CSV behind and keeps files already there', async (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'C100.csv'), 'old');
  async function* failing(): AsyncGenerator<Buffer> {
    yield Buffer.from(`${HEADER}\r\n${C100}\r\n`);
    throw Object.assign(new Error('disk gone'), { code: 'EIO' });
  }
  await t.rejects(spedToCsv(failing(), dir), { message: 'disk gone' });
  t.same(readdirSync(dir), ['C100.csv']);
  t.equal(readFileSync(join(dir, 'C100.csv'), 'utf8'), 'old');
  await t.rejects(spedToCsv(source(['|0000|x|', '|AAAA|1|', '|AAAB|1|']), dir, { maxRegisters: 2 }), { code: 'CSV_TOO_MANY_REGISTERS', line: 3 });
  t.same(readdirSync(dir), ['C100.csv']);
});

t.test('the EFD ICMS/IPI 017 sample: every register a file, rows add up', { skip: SAMPLES_MISSING }, async (t) => {
  const dir = tmp(t);
  const path = `${SAMPLES_DIR}efd-icms-ipi-017-demo-utf8.txt`;
  const r = await spedToCsv(path, dir);
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter(Boolean);
  t.equal(r.files.reduce((n, f) => n + f.rows, 0), lines.length);
  t.ok(existsSync(join(dir, 'C170.csv')));
  const c170 = parse(readFileSync(join(dir, 'C170.csv'))) as string[][];
  t.ok(c170[0]!.some((h) => /^ALIQ_PIS#\d+$/.test(h)) || c170[0]!.filter((h) => h === 'ALIQ_PIS').length === 1, 'repeated names keyed NAME#POS');
  t.equal(new Set(c170[0]).size, c170[0]!.length, 'header names are unique');
});
