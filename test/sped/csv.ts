import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { LAYOUT_IDS, loadLayout } from '../../src/sped/layout.js';
import { parentKeys, spedToCsv } from '../../src/sped/csv.js';
import { linesOf, syntheticFile } from '../helpers/sped.js';
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
  t.same(rows[0], ['LINE', ...c100.slice(1).map((d) => d.name)], 'LINE, then the fields (C100\'s parent is C001: no parent columns)');
  t.equal(rows.length, 3);
  t.same([rows[1]![0], rows[2]![0]], ['2', '3']);
  t.equal(rows[1]![pos('VL_DOC') - 1], '1500.25');
  t.equal(rows[1]![pos('DT_DOC') - 1], '2026-01-05');
  t.equal(rows[1]![pos('NUM_DOC') - 1], '000123', 'leading zeros kept');
  const h = parse(readFileSync(join(dir, '0000.csv'))) as string[][];
  t.equal(h[1]![5], 'EMPRESA “X”', 'UTF-8 text');
  t.same(parse(readFileSync(join(dir, 'Q999.csv'))), [['LINE', '#2', '#3'], ['4', 'a', 'b']], 'unknown register: #POS header');
});

t.test('--delimiter, --decimal-comma, --bom', async (t) => {
  const dir = tmp(t);
  await spedToCsv(source([HEADER, C100]), dir, { delimiter: ';', decimalComma: true, bom: true });
  const bytes = readFileSync(join(dir, 'C100.csv'));
  t.same([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const rows = parse(bytes, { delimiter: ';', bom: true }) as string[][];
  t.equal(rows[1]![pos('VL_DOC') - 1], '1500,25');
  t.equal(rows[1]![pos('DT_DOC') - 1], '2026-01-05');
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

t.test('items join their document: LINE, PARENT_LINE and the parent\'s key fields lead each row', async (t) => {
  const dir = tmp(t);
  const buf = await syntheticFile({ layout: 'efd-icms-ipi', documents: 5, seed: 3 });
  const lines = linesOf(buf);
  await spedToCsv(Readable.from([buf]), dir);
  const table = (reg: string): Record<string, string>[] => {
    const [header, ...rows] = parse(readFileSync(join(dir, `${reg}.csv`))) as string[][];
    return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])));
  };
  const c100 = table('C100');
  const c170 = table('C170');
  const c190 = table('C190');
  t.same(Object.keys(c170[0]!).slice(0, 7), ['LINE', 'PARENT_LINE', 'C100_COD_PART', 'C100_COD_MOD', 'C100_SER', 'C100_NUM_DOC', 'C100_CHV_NFE']);
  t.same(Object.keys(c190[0]!).slice(0, 2), ['LINE', 'PARENT_LINE']);
  t.ok(c170.length > 5 && c190.length > 0);
  const byLine = new Map(c100.map((d) => [d.LINE, d]));
  for (const item of [...c170, ...c190]) {
    t.match(lines[Number(item.LINE) - 1], /^\|C1[79]0\|/, 'LINE is the record\'s line');
    const doc = byLine.get(item.PARENT_LINE!);
    t.ok(doc, `C${item.LINE}: its PARENT_LINE is a C100`);
    // the nearest C100 above the item
    const above = lines.slice(0, Number(item.LINE)).map((l, i) => [l, i + 1] as const).filter(([l]) => l.startsWith('|C100|')).at(-1)!;
    t.equal(item.PARENT_LINE, String(above[1]));
    if (item.C100_NUM_DOC !== undefined) {
      t.same([item.C100_COD_PART, item.C100_COD_MOD, item.C100_SER, item.C100_NUM_DOC, item.C100_CHV_NFE], [doc!.COD_PART, doc!.COD_MOD, doc!.SER, doc!.NUM_DOC, doc!.CHV_NFE]);
    }
  }
});

t.test('formats/sped/csv-keys.json names registers with children and fields the layout has', async (t) => {
  const table = JSON.parse(readFileSync(new URL('../../formats/sped/csv-keys.json', import.meta.url), 'utf8')) as Record<string, Record<string, string[]>>;
  for (const id of LAYOUT_IDS) {
    const layout = loadLayout(id);
    t.ok(Object.keys(table[id] ?? {}).length > 10, `${id} has keys`);
    for (const [reg, keys] of Object.entries(table[id] ?? {})) {
      const def = layout.register(reg);
      t.ok(def && def.level >= 2, `${id} ${reg} is a record register`);
      t.ok(layout.data.registers.some((r) => r.parent === reg), `${id} ${reg} has children`);
      for (const k of keys) t.ok(def?.fields.some((f) => f.name === k), `${id} ${reg}.${k} exists`);
      t.same(parentKeys(id, reg), keys);
    }
  }
});
