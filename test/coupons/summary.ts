/**
 * `summarizeCoupons` and `fiscal coupons summary` on real bytes: generated CF-e SAT and NFC-e documents in a
 * folder, a zip and concatenated on stdin; duplicates; cancellations before and after their sale; a wrong check
 * digit, totals that disagree, a malformed document in the middle of a stream; the sums checked against an
 * oracle that reads the XML with regular expressions; the key store spilling to disk giving the same summary.
 */
import t from 'tap';
import { writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { summarizeCoupons } from '../../src/coupons/summary.js';
import { summaryJson } from '../../src/coupons/summary-format.js';
import type { CouponFinding } from '../../src/coupons/types.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cfe, cfeCancel, money, nfce, nfceCancelEvent, oracleItems, oracleSums } from '../helpers/coupons.js';

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

/** The stream of the scenario: 20 sales, seeds 1 and 2 delivered twice, seed 3 cancelled before its sale, seed 4 after. */
function scenario(): string[] {
  const docs: string[] = [cfeCancel(3).xml];
  for (const s of SEEDS) docs.push(cfe(s).xml);
  docs.push(cfe(1).xml, cfe(2).xml, cfeCancel(4).xml);
  return docs;
}

t.test('CF-e stream: duplicates once, cancellations in either order, sums equal to the oracle', async (t) => {
  const findings: CouponFinding[] = [];
  const s = await summarizeCoupons('-', { stdin: Readable.from([Buffer.from(scenario().join('\n'))]), by: ['rate'], onFinding: (f) => findings.push(f) });
  t.equal(s.totals.read, 24);
  t.equal(s.totals.coupons, 18);
  t.equal(s.totals.cancelled, 2);
  t.equal(s.totals.duplicates, 2);
  t.equal(s.totals.orphanCancellations, 0);
  t.same(findings.map((f) => f.code), ['COUPON_DUPLICATE', 'COUPON_DUPLICATE']);
  t.same(findings.map((f) => f.key), [cfe(1).key, cfe(2).key]);
  const counted = SEEDS.filter((x) => x !== 3 && x !== 4).flatMap((x) => oracleItems(cfe(x).xml));
  const expected = oracleSums(counted);
  const j = JSON.parse(summaryJson(s)) as { rows: Record<string, string | number>[]; totals: Record<string, string | number> };
  t.match(j.totals, { ...expected, coupons: 18, cancelled: 2, duplicates: 2 });
  t.equal(j.totals.icms_base, expected.gross, 'a CF-e taxed item: ICMS base is its vItem (here vProd)');
  for (const rate of ['7.00', '18.00']) {
    const row = j.rows.find((r) => r.rate === rate)!;
    t.match(row, oracleSums(counted.filter((i) => i.rate === rate)), `rate ${rate}`);
  }
  const cancelledGross = money([3, 4].flatMap((x) => oracleItems(cfe(x).xml)).reduce((a, i) => a + i.gross, 0n));
  t.equal(j.totals.cancelled_gross, cancelledGross);
});

t.test('the order of the deliveries does not change the summary', async (t) => {
  const docs = scenario();
  const a = await summarizeCoupons('-', { stdin: Readable.from([Buffer.from(docs.join(''))]) });
  const b = await summarizeCoupons('-', { stdin: Readable.from([Buffer.from([...docs].reverse().join(''))]) });
  const strip = (x: string): unknown => ({ ...JSON.parse(x), findings: null });
  t.same(strip(summaryJson(a)), strip(summaryJson(b)));
});

t.test('a small memory budget spills the key store to disk and gives the same summary', async (t) => {
  const docs: string[] = [];
  for (let s = 1; s <= 300; s++) docs.push(cfe(s).xml);
  for (let s = 1; s <= 300; s += 7) docs.push(cfeCancel(s).xml); // cancellations after their sales, many spilled
  for (let s = 1; s <= 300; s += 11) docs.push(cfe(s).xml); // redeliveries
  const input = Buffer.from(docs.join(''));
  const big = await summarizeCoupons('-', { stdin: Readable.from([input]) });
  const small = await summarizeCoupons('-', { stdin: Readable.from([input]), keyMemoryBytes: 4096 });
  t.equal(big.spilledKeys, 0);
  t.ok(small.spilledKeys > 300, `spilled ${small.spilledKeys} keys`);
  t.equal(small.totals.cancelled, 43);
  t.equal(small.totals.duplicates, 28);
  t.same(summaryJson(small), summaryJson(big));
});

t.test('findings per coupon: wrong check digit, totals mismatch, malformed XML; the stream goes on', async (t) => {
  const good = cfe(5);
  const badDigit = cfe(6);
  const wrongDv = String((Number(badDigit.key[43]) + 1) % 10);
  const digitXml = badDigit.xml.replace(`Id="CFe${badDigit.key}"`, `Id="CFe${badDigit.key.slice(0, 43)}${wrongDv}"`);
  const totals = cfe(7);
  const totalsXml = totals.xml.replace(/<vCFe>([\d.]+)<\/vCFe>/, '<vCFe>0.01</vCFe>');
  const truncated = cfe(8).xml.slice(0, 500).replace(/<\/?CFe>/g, '') + '</ide></infCFe>';
  const dir = tempDir('coupons-findings-');
  writeFileSync(join(dir, '1-good.xml'), good.xml);
  writeFileSync(join(dir, '2-digit.xml'), digitXml);
  writeFileSync(join(dir, '3-totals.xml'), totalsXml);
  writeFileSync(join(dir, '4-broken.xml'), `<CFe><infCFe>${truncated}`);
  writeFileSync(join(dir, '5-good.xml'), cfe(9).xml);
  const r = await run(['coupons', 'summary', dir, '--json', '--by', '']);
  t.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  t.match(lines, [/2-digit\.xml: \d{44}: access key has check digit \d, the first 43 characters give \d \[NFE_KEY_CHECK_DIGIT\]/, /3-totals\.xml: .*total\/vCFe is 0\.01 .*\[NFE_TOTALS_MISMATCH\]/, /4-broken\.xml.*\[NFE_XML_MALFORMED\]/]);
  t.equal(lines.length, 3);
  const j = JSON.parse(r.stdout) as { totals: Record<string, number>; rows: unknown[] };
  t.equal(j.totals.read, 5);
  t.equal(j.totals.coupons, 4, 'a coupon with a finding about its key or totals still counts; the unreadable one does not');
  t.equal(j.totals.not_counted, 1);
  t.equal(j.rows.length, 1);
});

t.test('NFC-e: notes, a cancellation event (110111) and a substitution (110112), a zip and a folder mixed', async (t) => {
  const notes = [1, 2, 3, 4, 5].map(nfce);
  const dir = tempDir('coupons-nfce-');
  mkdirSync(join(dir, 'in'));
  notes.forEach((n, i) => writeFileSync(join(dir, 'in', `n${i}.xml`), n.xml));
  writeFileSync(join(dir, 'in', 'a-cancel.xml'), nfceCancelEvent(notes[1]!.key));
  writeFileSync(join(dir, 'in', 'z-subst.xml'), nfceCancelEvent(notes[4]!.key, '110112'));
  const findings: CouponFinding[] = [];
  const s = await summarizeCoupons([join(dir, 'in'), '-'], { stdin: Readable.from([Buffer.from(cfe(1).xml + cfe(2).xml)]), by: ['model'], onFinding: (f) => findings.push(f) });
  t.same(findings, []);
  t.equal(s.totals.coupons, 5);
  t.equal(s.totals.cancelled, 2);
  const j = JSON.parse(summaryJson(s)) as { rows: Record<string, string | number>[] };
  const n65 = j.rows.find((r) => r.model === '65')!;
  t.match(n65, { ...oracleSums([0, 2, 3].flatMap((i) => oracleItems(notes[i]!.xml))), coupons: 3, cancelled: 2 });
  const n59 = j.rows.find((r) => r.model === '59')!;
  t.match(n59, { ...oracleSums([1, 2].flatMap((x) => oracleItems(cfe(x).xml))), coupons: 2 });
});

t.test('text, JSON and CSV outputs; usage errors exit 2; nothing to read exits 1', async (t) => {
  const dir = tempDir('coupons-cli-');
  writeFileSync(join(dir, 'a.xml'), cfe(1).xml + cfe(2).xml);
  const text = await run(['coupons', 'summary', join(dir, 'a.xml'), '--by', 'day,equipment']);
  t.equal(text.code, 0);
  t.match(text.stdout, /^day\s+equipment\s+coupons\s+items\s+gross/);
  t.match(text.stdout, /\n2026-01-05\s+900004019\s+2\s/);
  t.match(text.stdout, /2 read: 2 coupon\(s\) counted, 0 cancelled/);
  const csv = await run(['coupons', 'summary', join(dir, 'a.xml'), '--csv', '--by', 'day', '--delimiter', ';', '--decimal-comma']);
  t.equal(csv.code, 0);
  const [header, row] = csv.stdout.trim().split('\n');
  t.equal(header, 'day;coupons;items;gross;discount;icms_base;icms_value;pis;cofins;cancelled;cancelled_gross');
  t.match(row, new RegExp(`^2026-01-05;2;\\d+;${oracleSums([1, 2].flatMap((x) => oracleItems(cfe(x).xml))).gross.replace('.', ',')};`));
  t.equal((await run(['coupons', 'summary', join(dir, 'a.xml'), '--by', 'colour'])).code, 2);
  t.equal((await run(['coupons', 'summary', join(dir, 'a.xml'), '--json', '--csv'])).code, 2);
  t.equal((await run(['coupons', 'summary', join(dir, 'missing.xml')])).code, 2);
  const none = await run(['coupons', 'summary', '-'], Buffer.alloc(0));
  t.equal(none.code, 1);
  t.match(none.stderr, /NFE_NO_DOCUMENTS/);
  const csvWithout = await run(['coupons', 'summary', join(dir, 'x.csv')]);
  t.equal(csvWithout.code, 2);
  t.match(csvWithout.stderr, /COUPON_MAPPING/);
});

t.test('--verify: an unsigned coupon is a signature finding', async (t) => {
  const r = await run(['coupons', 'summary', '-', '--verify', '--json'], Buffer.from(cfe(1).xml));
  t.equal(r.code, 1);
  t.match(r.stderr, /signature: .*\[NFE_UNSIGNED\]/);
  t.equal((JSON.parse(r.stdout) as { totals: { coupons: number } }).totals.coupons, 1);
});

const SAMPLES = join(import.meta.dirname, '..', '..', '..', 'shared', 'samples');

t.test('real CF-e and NFC-e samples: no false findings', { skip: existsSync(join(SAMPLES, 'MANIFEST.tsv')) ? false : `no samples at ${SAMPLES}` }, async (t) => {
  const findings: CouponFinding[] = [];
  const s = await summarizeCoupons([join(SAMPLES, 'cfe'), join(SAMPLES, 'nfce')], { onFinding: (f) => findings.push(f) });
  t.equal(s.totals.read, 7);
  // what MANIFEST.tsv says to expect: brdanfe's items do not add up to its totals; spednfe's key has a wrong check
  // digit; the cancelled CF-e's sale is not among the samples
  t.same(findings.map((f) => `${f.source.split('/').pop()} ${f.code}`).sort(), [
    'brdanfe_nfce-v400.xml NFE_TOTALS_MISMATCH', 'brdanfe_nfce-v400.xml NFE_TOTALS_MISMATCH',
    'spednfe_nfce_com_qrcode-v400.xml NFE_KEY_CHECK_DIGIT', 'summary COUPON_CANCEL_ORPHAN',
  ].sort());
  t.equal(s.totals.coupons, 6);
});

t.test('on worker threads: the same summary and the same findings, in the same order, as on one thread', async (t) => {
  // a mix that depends on order: duplicates, cancellations before and after, an unreadable document, a folder, a
  // zip-free plain file of concatenated documents, stdin, and enough documents for several groups per worker
  const dir = tempDir('coupons-threads-');
  mkdirSync(join(dir, 'folder'));
  const stream: string[] = [cfeCancel(3).xml];
  for (let s = 1; s <= 400; s++) stream.push(cfe(s).xml);
  stream.push(cfe(10).xml, cfeCancel(200).xml, cfe(11).xml, '<CFe><infCFe>broken at the end');
  writeFileSync(join(dir, 'day.xml'), stream.join('\n'));
  for (let s = 380; s <= 420; s++) writeFileSync(join(dir, 'folder', `c${s}.xml`), cfe(s).xml);
  const notes = [1, 2, 3].map(nfce);
  const summarize = async (threads: number): Promise<{ json: string; findings: string[] }> => {
    const findings: string[] = [];
    const s = await summarizeCoupons([join(dir, 'day.xml'), join(dir, 'folder'), '-'], {
      threads, stdin: Readable.from([Buffer.from(notes.map((n) => n.xml).join('') + nfceCancelEvent(notes[0]!.key))]),
      onFinding: (f) => findings.push(`${f.source} ${f.key ?? ''} ${f.code}`),
    });
    return { json: summaryJson(s), findings };
  };
  const one = await summarize(1);
  t.equal((JSON.parse(one.json) as { totals: { read: number } }).totals.read, 405 + 41 + 4);
  t.equal(one.findings.filter((f) => f.endsWith('COUPON_DUPLICATE')).length, 2 + 21, 'two in the stream, the folder repeats 380–400');
  t.ok(one.findings.some((f) => f.endsWith('NFE_XML_MALFORMED')));
  for (const threads of [2, 3]) {
    const many = await summarize(threads);
    t.equal(many.json, one.json, `${threads} threads: the same summary`);
    t.same(many.findings, one.findings, `${threads} threads: the same findings in the same order`);
  }
});

t.test('cancelled: the summary rejects with the signal\'s reason and reads no further', async (t) => {
  const docs: string[] = [];
  for (let s = 1; s <= 2000; s++) docs.push(cfe(s).xml);
  const ac = new AbortController();
  let read = 0;
  await t.rejects(
    summarizeCoupons('-', { threads: 2, stdin: Readable.from([Buffer.from(docs.join(''))]), signal: ac.signal, onProgress: (n) => { read = n; if (n === 100) ac.abort(new Error('stop here')); } }),
    { message: 'stop here' },
  );
  t.ok(read < 2000, `stopped after ${read} documents`);
});
