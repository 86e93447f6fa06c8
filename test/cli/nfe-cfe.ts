/** `fiscal nfe to-jsonl | to-csv | validate` on CF-e SAT: generated coupons and the real samples. */
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { generateCfe, generateCfeCancellation } from '../../src/coupons/cfe/generate.js';
import { parseCfe } from '../../src/coupons/cfe/parse.js';
import type { CFe } from '../../src/coupons/cfe/types.js';
import { DOCUMENT_COLUMNS, ITEM_COLUMNS } from '../../src/nfe/csv.js';
import { generateNfeXml } from '../../src/nfe/generate.js';
import { run } from '../helpers/cli.js';
import { SHARED } from '../helpers/sign-fixtures.js';

const rowsOf = (csv: string): Record<string, string>[] => parse(csv, { columns: true }) as Record<string, string>[];

t.test('to-jsonl: CF-e lines with the typed model', async (t) => {
  const sale = generateCfe(21, { items: 3 });
  const dir = t.testdir({ 'a.xml': sale.xml, 'b.xml': generateCfeCancellation(21, { items: 3 }).xml });
  const r = await run(['nfe', 'to-jsonl', dir]);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; key: string; doc: Record<string, unknown> });
  t.same(lines.map((l) => l.kind), ['CFe', 'CFeCanc']);
  t.equal(lines[0]!.key, sale.key);
  t.same(lines[0]!.doc, parseCfe({ source: 'x', bytes: Buffer.from(sale.xml) }).doc, 'the line carries the parsed model');
  t.equal((lines[0]!.doc as { CFe: CFe }).CFe.infCFe.det.length, 3);
  const built = await run(['nfe', 'build', '-'], Buffer.from(r.stdout));
  t.equal(built.code, 1, 'build refuses CF-e');
  t.match(built.stderr, /a CFe \(CF-e SAT\) is not built: the SAT device issues and signs it \[NFE_BUILD\]/);
  t.equal(built.stdout, '');
});

t.test('to-csv: a shop\'s NF-e and CF-e in one sheet; a CFeCanc cancels its sale', async (t) => {
  const a = generateCfe(31, { items: 2 });
  const b = generateCfe(32, { items: 4, buyer: true });
  const dir = t.testdir({ 'a.xml': a.xml, 'b.xml': b.xml, 'b-canc.xml': generateCfeCancellation(32, { items: 4, buyer: true }).xml, 'n.xml': generateNfeXml(5) });
  const r = await run(['nfe', 'to-csv', dir]);
  t.equal(r.code, 0, r.stderr);
  const rows = rowsOf(r.stdout);
  t.same(Object.keys(rows[0]!), [...DOCUMENT_COLUMNS]);
  t.same(rows.map((x) => x.model), ['59', '59', '55'], 'one row per sale and per note, none for the cancellation');
  const [ra, rb] = rows as [Record<string, string>, Record<string, string>];
  const inf = (parseCfe({ source: 'a', bytes: Buffer.from(a.xml) }).doc as { CFe: CFe }).CFe.infCFe;
  t.same(
    [ra.key, ra.series, ra.number, ra.emitter_doc, ra.v_prod, ra.icms_value, ra.v_nf, ra.items, ra.status, ra.cancelled],
    [a.key, inf.ide.nserieSAT, inf.ide.nCFe, inf.emit.CNPJ, inf.total.ICMSTot!.vProd, inf.total.ICMSTot!.vICMS, inf.total.vCFe, '2', 'authorized', 'no'],
  );
  t.match(ra.issued_at, /^2026-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/, 'dEmi + hEmi as an ISO date-time');
  t.same([rb.status, rb.cancelled, rb.recipient_doc?.length], ['cancelled', 'yes', 14]);
  t.equal(rb.cancellation_protocol, generateCfeCancellation(32, { items: 4, buyer: true }).key, 'the cancellation\'s key stands as its protocol');

  const items = await run(['nfe', 'to-csv', '--items', '--model', '59', dir]);
  t.equal(items.code, 0, items.stderr);
  const irows = rowsOf(items.stdout);
  t.same(Object.keys(irows[0]!), [...ITEM_COLUMNS]);
  t.equal(irows.length, 6, 'the items of both sales, the note filtered out');
  const first = irows[0]!;
  const det = inf.det[0]!;
  t.same(
    [first.item, first.product_code, first.quantity, first.unit_price, first.v_prod, first.icms_group, first.origin, first.icms_cst, first.icms_rate, first.pis_cst, first.pis_value, first.cofins_rate],
    [det['@nItem'], det.prod.cProd, det.prod.qCom, det.prod.vUnCom, det.prod.vProd, 'ICMS00', '0', '00', det.imposto.ICMS!.ICMS00!.pICMS, '01', det.imposto.PIS.PISAliq!.vPIS, '0.0760'],
  );
  const model = await run(['nfe', 'to-csv', '--model', '57', dir]);
  t.equal(model.code, 2, '--model takes 55, 65 or 59');
});

const samples = join(SHARED, 'samples/cfe');
t.test('to-csv on the real CF-e samples', { skip: existsSync(samples) ? false : `no ${samples}` }, async (t) => {
  const r = await run(['nfe', 'to-csv', samples]);
  t.equal(r.code, 0, r.stderr);
  const rows = rowsOf(r.stdout);
  t.equal(rows.length, 3, 'three sales; the cancellation (of a sale not in the folder) gives no row');
  t.ok(rows.every((x) => x.model === '59' && x.key?.length === 44 && x.status === 'authorized'));
  const acbr = rows.find((x) => x.source?.includes('acbr_'))!;
  t.same([acbr.v_prod, acbr.v_desc, acbr.v_outro, acbr.v_nf, acbr.items], ['122.72', '1.00', '2.50', '119.22', '3']);
});
