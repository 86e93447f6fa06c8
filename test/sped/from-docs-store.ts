/**
 * The from-docs store's payloads: packed lists read back exactly (empty lists and strings, a string holding the
 * separator, which makes the value JSON); coupons and notes as stored come back field for field; of two differing
 * copies the one whose JSON sorts first is kept whatever the order they came in; a durable file of an earlier
 * form is emptied when opened.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { packLists, unpackLists } from '../../src/sped/from-docs-packed.js';
import { FromDocsStore } from '../../src/sped/from-docs-store.js';
import type { CouponEntry, NoteEntry } from '../../src/sped/from-docs-extract.js';
import type { StoredGroup } from '../../src/sped/from-docs-analytic.js';
import { tempDir } from '../helpers/temp-dir.js';

t.test('packed lists come back as packed', async (t) => {
  const cases: string[][][] = [
    [],
    [[]],
    [[], [], ['']],
    [['C800', '', '59', ''], ['000', '5102', '7,00', '5.07'], []],
    [['12', '3'], ['[', '{"a":1}', '\\', '"']],
    [['NOME\x1fCOM SEPARADOR', 'x']],
  ];
  for (const lists of cases) t.same(unpackLists(packLists(lists)), lists, JSON.stringify(lists));
  t.equal(packLists([['a', 'b'], []]), '2\x1fa\x1fb\x1f0');
  t.ok(packLists([['a\x1fb']]).startsWith('['), 'a string holding the separator: JSON');
});

const group = (icms: string): StoredGroup => ['000', '5102', '7,00', '5.07', '5.07', icms, '0', '0', '0', '0'];
const coupon = (over: Partial<CouponEntry> = {}): CouponEntry => ({
  key: '35260311222333000181599000040190000020612430', source: 'c.xml', sat: '900004019', day: '02032026', isoDay: '2026-03-02', number: '000002',
  c800: ['C800', '59', '00', '000002', '02032026', '5,07'], groups: [group('0.35')], ...over,
});

t.test('coupons come back field for field, and the copy whose JSON sorts first is kept', async (t) => {
  const dir = tempDir('fiscal-from-docs-store-');
  const odd = coupon({ c800: ['C800', 'X\x1fY', ''], groups: [group('0.35'), group('1.00')], pisCofins: [['5102', '', '01', '0.65', '01', '3.00', '5.07', '0', '5.07', '0.03', '5.07', '0.15']] });
  const s = new FromDocsStore({ tempDir: dir });
  t.same(s.addCoupon(odd), { duplicate: false });
  s.seal();
  const [got] = [...s.coupons()];
  t.same(got?.coupon, { sat: odd.sat, day: odd.day, number: odd.number, c800: odd.c800, groups: odd.groups, pisCofins: odd.pisCofins });
  s.close();

  // '0.35' < '0.36' in JSON: that copy is kept whichever comes first
  const a = coupon({ source: 'a.xml', groups: [group('0.36')] });
  const b = coupon({ source: 'b.xml', groups: [group('0.35')] });
  for (const order of [[a, b], [b, a]]) {
    const st = new FromDocsStore({ tempDir: dir });
    t.same(st.addCoupon(order[0]!), { duplicate: false });
    t.same(st.addCoupon(order[1]!), { duplicate: true, first: order[0]!.source });
    st.seal();
    t.same([...st.coupons()].map((c) => c.coupon.groups[0]![5]), ['0.35'], `kept the same copy (${order.map((c) => c.source).join(', ')})`);
    st.close();
  }
});

const note = (over: Partial<NoteEntry> = {}): NoteEntry => ({
  key: '35260311222333000181550010000000011000000010', source: 'n.xml', sort: '1|2026-03-02|55|001|000000001|k', status: 'regular',
  c100: ['C100', '1', '0', 'P1'], c170: [['C170', '1', 'I1'], ['C170', '2', 'I2']], groups: [group('1.80')],
  participant: { code: 'P1', record: ['0150', 'P1', 'NOME'] }, items: [{ code: 'I1', record: ['0200', 'I1'], unit: 'UN', inventoryUnit: 'UN', factor: null }],
  ...over,
});

t.test('notes come back field for field; the status is kept beside the payload', async (t) => {
  const s = new FromDocsStore({ tempDir: tempDir('fiscal-from-docs-store-') });
  const n = note();
  const cancelled = note({ key: '35260311222333000181550010000000021000000020', status: 'cancelled', c170: [], groups: [], pisCofins: [] });
  s.addNote(n);
  s.addNote(cancelled);
  s.seal();
  t.same([...s.notes()].map((x) => x.note), [
    { status: 'regular', c100: n.c100, c170: n.c170, groups: n.groups },
    { status: 'cancelled', c100: cancelled.c100, c170: [], groups: [], pisCofins: [] },
  ]);
  t.same([...s.participants()], [['0150', 'P1', 'NOME']], 'a regular note names its participant');
  s.close();
});

t.test('a durable file of an earlier form is emptied when opened', async (t) => {
  const path = join(tempDir('fiscal-from-docs-store-'), 'store.db');
  const s = new FromDocsStore({ path });
  s.addCoupon(coupon());
  s.commit('{"state":1}');
  s.close();
  const again = new FromDocsStore({ path });
  t.equal(again.checkpoint(), '{"state":1}', 'the same form: the checkpoint is read');
  t.same(again.counts(), { notes: 0, coupons: 1, cancels: 0 });
  again.close();
  const db = new Database(path);
  db.pragma('user_version = 1');
  db.close();
  const old = new FromDocsStore({ path });
  t.equal(old.checkpoint(), null, 'no checkpoint');
  t.same(old.counts(), { notes: 0, coupons: 0, cancels: 0 }, 'no rows');
  old.close();
});
