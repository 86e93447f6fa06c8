/**
 * POS CSV exports: the mapping file checked against its schema; an export of the same coupons as generated CF-e
 * gives the same rows as the XML; windows-1252 with decimal commas; rows per coupon with a cancelled column;
 * findings for bad rows; a property test (random exports, sums computed from the generated integers) and a fuzz
 * test (random bytes never throw) of the mapping reader.
 */
import t from 'tap';
import iconv from 'iconv-lite';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { mulberry32 } from '../../src/common/prng.js';
import { buildCfeKey } from '../../src/coupons/cfe/key.js';
import { parseCsvMapping, type CsvMapping } from '../../src/coupons/csv-mapping.js';
import { readCsvCoupons } from '../../src/coupons/from-csv.js';
import { summarizeCoupons } from '../../src/coupons/summary.js';
import { createPool } from '../../src/pool/pool.js';
import { summaryJson } from '../../src/coupons/summary-format.js';
import type { CouponFinding } from '../../src/coupons/types.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cfe, cfeCancel, money, oracleItems } from '../helpers/coupons.js';
import { writeZip } from '../helpers/zip.js';

const ITEM_MAPPING = {
  rows: 'item', delimiter: ';', decimalComma: true, encoding: 'windows-1252', dateFormat: 'DD/MM/YYYY',
  columns: { key: 'Chave', date: 'Data', gross: 'Valor Bruto', discount: 'Desconto', icmsBase: 'Base ICMS', icmsValue: 'ICMS', pis: 'PIS', cofins: 'COFINS', cst: 'CST', cfop: 'CFOP', rate: 'Alíquota', total: 'Total Cupom' },
};

/** The items of generated CF-e as a POS export (one row per item), from the XML text by the oracle. */
function exportOf(seeds: readonly number[]): string {
  const lines = ['Chave;Data;Descrição;CFOP;CST;Alíquota;Valor Bruto;Desconto;Base ICMS;ICMS;PIS;COFINS;Total Cupom'];
  const comma = (c: bigint): string => money(c).replace('.', ',');
  for (const s of seeds) {
    const items = oracleItems(cfe(s).xml);
    const total = items.reduce((a, i) => a + i.gross - i.discount, 0n);
    for (const i of items) lines.push([i.key, '05/01/2026', 'PÃO FRANCÊS', i.cfop, i.cst, i.rate.replace('.', ','), comma(i.gross), comma(i.discount), comma(i.gross), comma(i.icmsValue), comma(i.pis), comma(i.cofins), comma(total)].join(';'));
  }
  return `${lines.join('\r\n')}\r\n`;
}

t.test('the mapping is checked against formats/coupons/csv-mapping.v1.schema.json', async (t) => {
  t.match(parseCsvMapping(ITEM_MAPPING), { rows: 'item', delimiter: ';', header: true, cancelledValues: ['1', 'S', 'SIM', 'Y', 'YES', 'TRUE', 'X', 'C', 'CANCELADO', 'CANCELLED'] });
  t.throws(() => parseCsvMapping({ columns: { key: 'k', date: 'd' } }), { code: 'COUPON_MAPPING', message: /\$\.columns\.gross: gross is required/ });
  t.throws(() => parseCsvMapping({ ...ITEM_MAPPING, colour: 1 }), { code: 'COUPON_MAPPING', message: /\$\.colour: unknown property/ });
  t.throws(() => parseCsvMapping({ ...ITEM_MAPPING, delimiter: ',' }), { code: 'COUPON_MAPPING', message: /decimalComma needs another delimiter/ });
  t.throws(() => parseCsvMapping({ header: false, columns: { key: 'k', date: 2, gross: 3 } }), { code: 'COUPON_MAPPING', message: /column number/ });
  t.throws(() => parseCsvMapping({ ...ITEM_MAPPING, encoding: 'utf-16' }), { code: 'COUPON_MAPPING', message: /\$\.encoding/ });
});

t.test('a windows-1252 export of the coupons gives the XML summary; XML and CSV together count each coupon once', async (t) => {
  const seeds = [1, 2, 3, 4, 5, 6];
  const dir = tempDir('coupons-csv-');
  writeFileSync(join(dir, 'mapping.json'), JSON.stringify(ITEM_MAPPING));
  writeFileSync(join(dir, 'pos.csv'), iconv.encode(exportOf(seeds), 'windows-1252'));
  writeFileSync(join(dir, 'sat.xml'), seeds.map((s) => cfe(s).xml).join('\n'));
  const by = 'day,model,equipment,emitter,cst,cfop,rate';
  const fromCsv = await run(['coupons', 'summary', join(dir, 'pos.csv'), '--mapping', join(dir, 'mapping.json'), '--json', '--by', by]);
  t.equal(fromCsv.stderr, '');
  t.equal(fromCsv.code, 0);
  const fromXml = await run(['coupons', 'summary', join(dir, 'sat.xml'), '--json', '--by', by]);
  t.equal(fromXml.code, 0);
  t.same(JSON.parse(fromCsv.stdout).rows, JSON.parse(fromXml.stdout).rows);
  const both = await run(['coupons', 'summary', join(dir, 'sat.xml'), join(dir, 'pos.csv'), '--mapping', join(dir, 'mapping.json'), '--json', '--by', by]);
  t.equal(both.code, 0, 'duplicates are warnings');
  t.equal(both.stderr.trim().split('\n').length, 6);
  t.match(both.stderr, /pos\.csv:2: \d{44}: warning: the coupon was already counted/);
  t.same(JSON.parse(both.stdout).rows, JSON.parse(fromXml.stdout).rows);
});

const COUPON_MAPPING: CsvMapping = parseCsvMapping({ rows: 'coupon', header: false, columns: { key: 1, date: 2, gross: 3, discount: 4, cancelled: 5 }, dateFormat: 'YYYYMMDD' });

const key59 = (n: number): string => buildCfeKey({ cUF: '35', aamm: '2601', cnpj: '11222333000181', nserieSAT: '900001234', nCFe: String(n), cNF: String(n * 7) });

async function summarize(text: string | Buffer, mapping: CsvMapping): Promise<{ json: { rows: Record<string, unknown>[]; totals: Record<string, unknown> }; findings: CouponFinding[] }> {
  const findings: CouponFinding[] = [];
  const s = await summarizeCoupons('-', { asCsv: true, mapping, stdin: Readable.from([Buffer.from(text)]), by: [], onFinding: (f) => findings.push(f) });
  return { json: JSON.parse(summaryJson(s)), findings };
}

t.test('rows per coupon: a cancelled column, a cancelled row after its sale, bad rows as findings', async (t) => {
  const rows = [
    `${key59(1)},20260105,10.00,1.00,`,
    `${key59(2)},20260105,20.00,,`,
    `${key59(3)},20260105,30.00,,S`,
    `${key59(2)},20260105,20.00,,cancelado`, // the POS reports the cancellation of coupon 2 as a row of its own
    `${key59(4).slice(0, 43)}${(Number(key59(4)[43]) + 1) % 10},20260105,1.00,,`,
    `${key59(5)},2026-01-05,1.00,,`,
    `${key59(6)},20260105,1.005,,`,
    `,20260105,1.00,,`,
  ];
  const { json, findings } = await summarize(rows.join('\n'), COUPON_MAPPING);
  t.match(json.totals, { coupons: 2, cancelled: 2, gross: '11.00', discount: '1.00', cancelled_gross: '50.00', not_counted: 3, read: 8 });
  t.same(findings.map((f) => `${f.source} ${f.code}`), ['-:5 NFE_KEY_CHECK_DIGIT', '-:6 COUPON_CSV_ROW', '-:7 COUPON_CSV_ROW', '-:8 COUPON_CSV_ROW']);
  t.match(findings[1]!.message, /date "2026-01-05" is not YYYYMMDD/);
  t.match(findings[2]!.message, /more than 2 decimal places/);
});

t.test('broken quoting: a finding for the row, the rows before it counted', async (t) => {
  const { json, findings } = await summarize(`${key59(1)},20260105,10.00,,\n"${key59(2)},20260105,1.00,,\n`, COUPON_MAPPING);
  t.equal(json.totals.coupons, 1);
  t.match(findings, [{ code: 'COUPON_CSV_ROW', source: '-:2', message: /cannot be split: Quote Not Closed/ }]);
});

t.test('property: random exports sum to the integers they were made of', async (t) => {
  const delimiters = [',', ';', '\t', '|'];
  for (let round = 0; round < 40; round++) {
    const r = mulberry32(1000 + round);
    const delimiter = delimiters[Math.floor(r() * delimiters.length)]!;
    const decimalComma = delimiter !== ',' && r() < 0.5;
    const encoding = (['utf-8', 'windows-1252', 'iso-8859-1'] as const)[Math.floor(r() * 3)]!;
    const mapping = parseCsvMapping({ rows: 'item', delimiter, decimalComma, encoding, columns: { key: 'k', date: 'd', gross: 'g', discount: 'x', cfop: 'c' } });
    const lines = [['d', 'nome', 'k', 'c', 'g', 'x'].join(delimiter)];
    let gross = 0n;
    let discount = 0n;
    const coupons = 1 + Math.floor(r() * 30);
    let rowsCount = 0;
    for (let c = 1; c <= coupons; c++) {
      const items = 1 + Math.floor(r() * 4);
      for (let i = 0; i < items; i++) {
        const g = BigInt(Math.floor(r() * 10_000_000));
        const x = BigInt(Math.floor(r() * Number(g + 1n)));
        gross += g;
        discount += x;
        rowsCount++;
        const fmt = (v: bigint): string => (decimalComma ? money(v).replace('.', ',') : money(v));
        // a text cell that needs quoting: the delimiter, a quote and an accented letter inside it
        const name = `"Açúcar ${delimiter} ""refinado"" ${c}"`;
        lines.push(['2026-01-05', name, key59(c), r() < 0.5 ? '5102' : '5405', fmt(g), r() < 0.2 && x === 0n ? '' : fmt(x)].join(delimiter));
      }
    }
    const text = lines.join(r() < 0.5 ? '\n' : '\r\n') + (r() < 0.5 ? '\n' : '');
    const { json, findings } = await summarize(iconv.encode(text, encoding), mapping);
    t.same(findings, [], `round ${round}: no findings`);
    t.match(json.totals, { coupons, items: rowsCount, gross: money(gross), discount: money(discount) }, `round ${round}: ${delimiter === '\t' ? 'tab' : delimiter} ${encoding}${decimalComma ? ' decimal comma' : ''}`);
  }
});

t.test('fuzz: random bytes and mangled exports never throw, whatever the mapping', async (t) => {
  const r = mulberry32(77);
  const base = exportOf([1, 2, 3]);
  const mapping = parseCsvMapping({ ...ITEM_MAPPING, encoding: 'utf-8' });
  for (let round = 0; round < 200; round++) {
    const bytes = Buffer.from(base, 'utf8');
    const n = 1 + Math.floor(r() * 20);
    for (let i = 0; i < n; i++) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
    const cut = round % 3 === 0 ? bytes.subarray(0, Math.floor(r() * bytes.length)) : bytes;
    try {
      const out: unknown[] = [];
      for await (const c of readCsvCoupons(Readable.from([cut]), 'fuzz.csv', mapping)) out.push(c);
    } catch (e) {
      // the only error allowed: a header that lost a mapped column (a usage error, exit 2)
      t.equal((e as { code?: string }).code, 'COUPON_MAPPING', `round ${round}: ${(e as Error).message}`);
    }
  }
  t.pass('no crash');
});

t.test('the mapping example of docs/coupons.md reads its CSV example (written in Windows-1252)', async (t) => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'coupons.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## The CSV mapping file'));
  const csv = /```csv\n([\s\S]*?)```/.exec(section)![1]!;
  const mapping = parseCsvMapping(JSON.parse(/```json\n([\s\S]*?)```/.exec(section)![1]!));
  const { json, findings } = await summarize(iconv.encode(csv, 'windows-1252'), mapping);
  t.same(findings, []);
  t.match(json.totals, { coupons: 1, items: 2, gross: '19.50', discount: '0.50', icms_base: '19.00', icms_value: '3.42', pis: '0.32', cofins: '1.44' });
});

t.test('a directory tree mixing XML, zips and CSV exports: each read as what it is, in the walk\'s order', async (t) => {
  const dir = tempDir('coupons-csv-tree-');
  const mappingPath = join(dir, 'map.json');
  writeFileSync(mappingPath, JSON.stringify(ITEM_MAPPING));
  const mapping = parseCsvMapping(ITEM_MAPPING);
  const tree = join(dir, 'store');
  mkdirSync(join(tree, 'b-pos'), { recursive: true });
  writeFileSync(join(tree, 'a-sat-1.xml'), cfe(1).xml);
  writeFileSync(join(tree, 'a-sat-2.xml'), cfe(2).xml);
  writeFileSync(join(tree, 'b-pos', 'day-05.csv'), iconv.encode(exportOf([3, 4, 1]), 'windows-1252')); // 1 again: a duplicate
  writeFileSync(join(tree, 'c-sat-5.xml'), cfe(5).xml);
  writeFileSync(join(tree, 'notes.txt'), 'not a coupon');
  const findings: CouponFinding[] = [];
  const walked = await summarizeCoupons(tree, { mapping, onFinding: (f) => findings.push(f) });
  t.equal(walked.totals.read, 6, '2 XML, 3 CSV coupons, 1 XML; the .txt file is not read');
  t.equal(walked.totals.coupons, 5);
  t.equal(findings.length, 1);
  t.match(findings[0], { code: 'COUPON_DUPLICATE', key: cfe(1).key, source: /b-pos\/day-05\.csv:\d+$/ }, 'the CSV\'s copy of a coupon already read from XML');
  const listed = await summarizeCoupons([join(tree, 'a-sat-1.xml'), join(tree, 'a-sat-2.xml'), join(tree, 'b-pos', 'day-05.csv'), join(tree, 'c-sat-5.xml')], { mapping });
  t.equal(summaryJson(walked), summaryJson(listed), 'the same summary as the files listed in that order');
  const cli = await run(['coupons', 'summary', tree, '--mapping', mappingPath, '--json', '--threads', '2']);
  t.equal(cli.code, 0);
  t.equal(cli.stdout, summaryJson(walked));
  const without = await run(['coupons', 'summary', tree]);
  t.equal(without.code, 2, 'a CSV found in the tree needs the mapping');
  t.match(without.stderr, /b-pos\/day-05\.csv: a CSV source needs --mapping FILE/);
});

t.test('on worker threads, cut into small chunks: the same coupons, findings and summary as one thread', async (t) => {
  // one pool of each size for every round (a pool per run would start its workers 50 times)
  const pools = new Map([2, 3].map((n) => [n, createPool({ threads: n })]));
  t.teardown(() => Promise.all([...pools.values()].map((p) => p.close())));
  for (let round = 0; round < 25; round++) {
    const r = mulberry32(5000 + round);
    const perItem = r() < 0.7;
    const mapping = perItem
      ? parseCsvMapping({ rows: 'item', delimiter: ';', decimalComma: true, encoding: 'windows-1252', columns: { key: 'k', date: 'd', gross: 'g', cancelled: 'x' }, cancelledValues: ['S'] })
      : parseCsvMapping({ rows: 'coupon', delimiter: ';', decimalComma: true, encoding: 'windows-1252', columns: { key: 'k', date: 'd', gross: 'g', cancelled: 'x' }, cancelledValues: ['S'] });
    const eol = r() < 0.5 ? '\n' : '\r\n';
    const lines = ['k;d;nome;g;x'];
    for (let c = 1; c <= 60; c++) {
      const items = perItem ? 1 + Math.floor(r() * 6) : 1;
      const roll = r();
      for (let i = 0; i < items; i++) {
        // now and then: a row without a key, a bad amount, a description with a quoted line break, a cancellation
        const key = roll < 0.04 && i === 0 ? '' : key59(c);
        const amount = roll > 0.97 ? '1,234' : `${Math.floor(r() * 5000)},${String(Math.floor(r() * 100)).padStart(2, '0')}`;
        const name = r() < 0.1 ? '"Pão\nfrancês; ""kg"""' : 'Café';
        lines.push([key, '2026-01-05', name, amount, roll > 0.9 ? 'S' : 'N'].join(';'));
      }
      if (r() < 0.05) lines.push(lines[lines.length - 1]!); // a row delivered twice
    }
    const bytes = iconv.encode(lines.join(eol) + eol, 'windows-1252');
    const runs: { json: string; findings: string[] }[] = [];
    for (const threads of [1, 2, 3]) {
      const findings: string[] = [];
      const s = await summarizeCoupons('-', { asCsv: true, mapping, ...(threads === 1 ? { threads } : { pool: pools.get(threads)! }), csvChunkBytes: 64 + Math.floor(r() * 400), stdin: Readable.from([bytes]), onFinding: (f) => findings.push(`${f.source} ${f.key ?? ''} ${f.code} ${f.message}`) });
      runs.push({ json: summaryJson(s), findings });
    }
    t.equal(runs[1]!.json, runs[0]!.json, `round ${round}: 2 threads, the same summary`);
    t.same(runs[1]!.findings, runs[0]!.findings, `round ${round}: 2 threads, the same findings in the same order`);
    t.equal(runs[2]!.json, runs[0]!.json, `round ${round}: 3 threads`);
    t.same(runs[2]!.findings, runs[0]!.findings);
  }
});

t.test('CSV exports inside a zip: read after the zip\'s XML entries, as a source and inside a tree; a damaged entry is a finding', async (t) => {
  const dir = tempDir('coupons-csv-zip-');
  const mapping = parseCsvMapping(ITEM_MAPPING);
  const zip = join(dir, 'day.zip');
  const csv = iconv.encode(exportOf([3, 4, 1]), 'windows-1252');
  if (!writeZip(zip, [['sat/1.xml', cfe(1).xml], ['pos/day-05.csv', csv], ['sat/5.xml', cfe(5).xml], ['readme.txt', 'x']])) {
    t.comment('python3 zipfile is needed to write the zip: not run');
    return;
  }
  const findings: CouponFinding[] = [];
  const zipped = await summarizeCoupons(zip, { mapping, onFinding: (f) => findings.push(f) });
  t.equal(zipped.totals.read, 5, '2 XML entries, then 3 CSV coupons');
  t.equal(zipped.totals.coupons, 4);
  t.match(findings, [{ code: 'COUPON_DUPLICATE', key: cfe(1).key, source: /day\.zip!pos\/day-05\.csv:\d+$/ }]);
  // the same as the entries given one by one in that order
  writeFileSync(join(dir, 'day-05.csv'), csv);
  writeFileSync(join(dir, 'sat.xml'), [cfe(1).xml, cfe(5).xml].join('\n'));
  const listed = await summarizeCoupons([join(dir, 'sat.xml'), join(dir, 'day-05.csv')], { mapping });
  t.equal(summaryJson(zipped), summaryJson(listed));
  writeFileSync(join(dir, 'map.json'), JSON.stringify(ITEM_MAPPING));
  for (const threads of [1, 2]) {
    const cli = await run(['coupons', 'summary', zip, '--mapping', join(dir, 'map.json'), '--json', '--threads', String(threads)]);
    t.equal(cli.code, 0, `--threads ${threads}`);
    t.equal(cli.stdout, summaryJson(zipped));
  }
  // inside a tree: the zip's CSV entries come right after it, before the files that follow it in the walk
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  writeZip(join(tree, 'a.zip'), [['1.xml', cfe(1).xml], ['pos.csv', iconv.encode(exportOf([3]), 'windows-1252')]]);
  writeFileSync(join(tree, 'b.xml'), cfe(3).xml);
  const order: string[] = [];
  const walked = await summarizeCoupons(tree, { mapping, onFinding: (f) => order.push(`${f.code} ${f.source}`) });
  t.equal(walked.totals.read, 3);
  t.same(order, [`COUPON_DUPLICATE ${join(tree, 'b.xml')}`], 'the zip\'s CSV coupon 3 was counted before b.xml');
  // an entry whose declared size is smaller than what it inflates to: yauzl fails it, the run goes on
  const damaged = join(dir, 'damaged.zip');
  writeZip(damaged, [['pos.csv', csv], ['z.xml', cfe(7).xml]]);
  const bytes = readFileSync(damaged);
  const central = bytes.indexOf(Buffer.from('PK\x01\x02', 'latin1'));
  bytes.writeUInt32LE(40, central + 24); // the central directory's uncompressed size of pos.csv
  writeFileSync(damaged, bytes);
  const got: CouponFinding[] = [];
  const s = await summarizeCoupons([damaged, join(dir, 'sat.xml')], { mapping, onFinding: (f) => got.push(f) });
  t.match(got.find((f) => f.code === 'NFE_ZIP_ERROR'), { source: `${damaged}!pos.csv`, message: /zip entry cannot be read: too many bytes/ });
  t.equal(s.totals.coupons, 3, 'z.xml, then 1 and 5 from the next source');
});

t.test('on worker threads, presummed chunks: second deliveries with other items and sales cancelled before they came give the one-thread summary', async (t) => {
  const pool = createPool({ threads: 2 });
  t.teardown(() => pool.close());
  const dir = tempDir('coupons-csv-presum-');
  const mapping = parseCsvMapping({ rows: 'item', delimiter: ';', decimalComma: true, encoding: 'windows-1252', columns: { key: 'k', date: 'd', gross: 'g', cst: 'cst', cfop: 'cfop', cancelled: 'x' }, cancelledValues: ['S'] });
  for (let round = 0; round < 6; round++) {
    const r = mulberry32(7700 + round);
    const rows = (s: number, day: string, cancelled: boolean): string[] =>
      Array.from({ length: 1 + Math.floor(r() * 4) }, () => [cfe(s).key, day, `${Math.floor(r() * 900)},${String(Math.floor(r() * 100)).padStart(2, '0')}`, r() < 0.5 ? '00' : '60', r() < 0.5 ? '5102' : '5405', cancelled ? 'S' : 'N'].join(';'));
    const lines = ['k;d;g;cst;cfop;x'];
    const cancelledFirst: number[] = [];
    for (let s = 1; s <= 80; s++) {
      lines.push(...rows(s, `2026-01-0${1 + (s % 5)}`, false));
      const roll = r();
      // a second delivery on a day no sale has (its rows must not appear), a cancellation row, a cancellation that came first
      if (roll < 0.15 && s > 1) lines.push(...rows(s - 1, '2026-01-31', false));
      else if (roll < 0.25) lines.push(...rows(s, '2026-01-30', true));
      else if (roll < 0.35) cancelledFirst.push(s);
    }
    const csv = join(dir, `export-${round}.csv`);
    writeFileSync(csv, iconv.encode(`${lines.join('\r\n')}\r\n`, 'windows-1252'));
    const xml = join(dir, `cancellations-${round}.xml`);
    writeFileSync(xml, cancelledFirst.map((s) => cfeCancel(s).xml).join('\n'));
    const runs: { json: string; findings: string[] }[] = [];
    for (const threads of [1, 2]) {
      const findings: string[] = [];
      const s = await summarizeCoupons([xml, csv], { mapping, ...(threads === 1 ? { threads } : { pool }), csvChunkBytes: 200 + Math.floor(r() * 600), onFinding: (f) => findings.push(`${f.source} ${f.key ?? ''} ${f.code}`) });
      runs.push({ json: summaryJson(s), findings });
      t.ok(s.rows.every((row) => row.values[0] !== '2026-01-31'), `round ${round}, ${threads} thread(s): no row of second deliveries only`);
      t.ok(s.totals.cancelled >= cancelledFirst.length && s.totals.duplicates > 0, `round ${round}: there are cancelled coupons and duplicates`);
    }
    t.equal(runs[1]!.json, runs[0]!.json, `round ${round}: 2 threads, the same summary`);
    t.same(runs[1]!.findings, runs[0]!.findings, `round ${round}: the same findings in the same order`);
  }
});
