// The Guia Prático's per-register exceptions (formats/sped/rules/, src/sped/exceptions.ts): a retailer's month
// (NFC-e without participant or C170, cancelled numbers with their fields empty) has no finding, and what the Guia
// does require is still reported, with the same result on the byte path and the string path.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { validateSped, type ValidationResult } from '../../src/sped/validator.js';
import { loadLayout } from '../../src/sped/layout.js';
import { joinLines, linesOf, setField, syntheticFile } from '../helpers/sped.js';

const retailer = await syntheticFile({ layout: 'efd-icms-ipi', profile: 'retailer', documents: 400, seed: 11, products: 200, participants: 60 });
const lines = linesOf(retailer);

/** Validates on both paths; they must agree. */
async function validate(t: { strictSame: (a: unknown, b: unknown, m: string) => boolean }, buf: Buffer): Promise<ValidationResult> {
  const bytes = await validateSped(Readable.from([buf]), { maxErrors: 0 });
  const strings = await validateSped(Readable.from([buf]), { maxErrors: 0, bytePath: false });
  t.strictSame(bytes, strings, 'byte path = string path');
  return strings;
}

/** Index of the first line that starts with `prefix` and passes `also`. */
function find(prefix: string, also: (fields: string[]) => boolean = () => true): number {
  const i = lines.findIndex((l) => l.startsWith(prefix) && also(l.split('|')));
  if (i < 0) throw new Error(`no line ${prefix}`);
  return i;
}

// C100 fields (1-based positions, REG = 1; in the split line, index = position)
const P = { IND_OPER: 2, IND_EMIT: 3, COD_PART: 4, COD_MOD: 5, COD_SIT: 6, SER: 7, NUM_DOC: 8, CHV_NFE: 9, DT_DOC: 10, VL_DOC: 12, VL_PIS: 26 } as const;
const nfce = find('|C100|', (f) => f[P.COD_MOD] === '65' && f[P.COD_SIT] === '00');
const cancelled = find('|C100|', (f) => f[P.COD_SIT] === '02');
const entry = find('|C100|', (f) => f[P.IND_OPER] === '0' && f[P.COD_MOD] === '55');

/** The file with line `i` edited (or lines inserted after it). */
function edited(i: number, edit: (line: string) => string, insert: string[] = []): Buffer {
  const out = [...lines];
  out[i] = edit(out[i]!);
  out.splice(i + 1, 0, ...insert);
  return joinLines(out);
}

const at = (r: ValidationResult, line: number) => r.errors.filter((e) => e.line === line);

t.test("a retailer's month made by the generator: NFC-e, NF-e issued and received, cancelled numbers — no finding", async (t) => {
  const r = await validate(t, retailer);
  t.equal(r.errorCount, 0, JSON.stringify(r.errors.slice(0, 5)));
  t.equal(r.warningCount, 0);
  const c100 = lines.filter((l) => l.startsWith('|C100|')).map((l) => l.split('|'));
  const nfces = c100.filter((f) => f[P.COD_MOD] === '65');
  t.ok(nfces.length > c100.length / 2, `mostly NFC-e (${nfces.length} of ${c100.length})`);
  t.ok(nfces.every((f) => f[P.COD_PART] === ''), 'no NFC-e names a participant');
  t.ok(c100.some((f) => f[P.COD_SIT] === '02' && f[P.DT_DOC] === '' && f[P.VL_DOC] === ''), 'cancelled numbers with their values empty');
  // an NFC-e is followed by its C190 only: no C170
  const next = lines[nfce + 1]!;
  t.match(next, /^\|C190\|/, 'an NFC-e without C170');
});

t.test("the bundled retailer's month (fixtures/sped) validates with no finding and is the generator's output", async (t) => {
  const fixture = readFileSync(new URL('../../fixtures/sped/efd-icms-ipi-2026-01-retailer.txt', import.meta.url));
  const r = await validate(t, fixture);
  t.equal(r.errorCount, 0, JSON.stringify(r.errors.slice(0, 5)));
  t.equal(r.warningCount, 0);
  const again = await syntheticFile({ layout: 'efd-icms-ipi', profile: 'retailer', documents: 500, seed: 2026, products: 300, participants: 80 });
  t.ok(again.equals(fixture), 'scripts/gen-fixtures.mjs makes the same bytes');
  const c100 = linesOf(fixture).filter((l) => l.startsWith('|C100|')).map((l) => l.split('|'));
  t.ok(c100.filter((f) => f[P.COD_MOD] === '65').length > 300, 'many NFC-e');
  t.ok(c100.some((f) => f[P.COD_MOD] === '55' && f[P.IND_OPER] === '0') && c100.some((f) => f[P.COD_MOD] === '55' && f[P.IND_OPER] === '1'), 'NF-e received and issued');
  t.ok(c100.some((f) => f[P.COD_SIT] === '02') && c100.some((f) => f[P.COD_SIT] === '03'), 'cancelled numbers');
});

t.test('NFC-e: a participant or PIS value is forbidden, a C170 is not allowed, an entry is refused', async (t) => {
  const withPart = await validate(t, edited(nfce, (l) => setField(l, P.COD_PART, '00001')));
  const f = at(withPart, nfce + 1);
  t.equal(f.length, 1);
  t.equal(f[0]?.code, 'SPED_FIELD_FORBIDDEN');
  t.equal(f[0]?.field, 'COD_PART');
  t.match(f[0]?.message, /NFC-e \(COD_MOD 65\).*Guia Prático EFD-ICMS\/IPI 3\.1\.8.*Exceção 9/);
  const withPis = await validate(t, edited(nfce, (l) => setField(l, P.VL_PIS, '1,00')));
  t.strictSame(at(withPis, nfce + 1).map((e) => [e.code, e.field]), [['SPED_FIELD_FORBIDDEN', 'VL_PIS']]);
  const item = lines.find((l) => l.startsWith('|C170|'))!;
  const withItem = await validate(t, edited(nfce, (l) => l, [item]));
  const child = withItem.errors.filter((e) => e.code === 'SPED_CHILD_NOT_ALLOWED');
  t.equal(child.length, 1);
  t.equal(child[0]?.line, nfce + 2);
  t.match(child[0]?.message, /C170 under C100 \(line \d+\): an NFC-e \(COD_MOD 65\).* has only C185, C190, C195/);
  const asEntry = await validate(t, edited(nfce, (l) => setField(l, P.IND_OPER, '0')));
  t.ok(at(asEntry, nfce + 1).some((e) => e.code === 'SPED_FIELD_VALUE' && e.field === 'IND_OPER' && /must be 1 for an NFC-e/.test(e.message)));
});

t.test('cancelled documents: values and children are refused, the key is required', async (t) => {
  const withValue = await validate(t, edited(cancelled, (l) => setField(l, P.VL_DOC, '10,00')));
  t.strictSame(at(withValue, cancelled + 1).map((e) => [e.code, e.field]), [['SPED_FIELD_FORBIDDEN', 'VL_DOC']]);
  t.match(at(withValue, cancelled + 1)[0]?.message, /cancelled or denied document \(COD_SIT 02, 03, 04\).*Exceção 1/);
  const noKey = await validate(t, edited(cancelled, (l) => setField(l, P.CHV_NFE, '')));
  t.strictSame(at(noKey, cancelled + 1).map((e) => [e.code, e.field]), [['SPED_FIELD_REQUIRED', 'CHV_NFE']]);
  const analytic = lines.find((l) => l.startsWith('|C190|'))!;
  const withChild = await validate(t, edited(cancelled, (l) => l, [analytic]));
  t.ok(withChild.errors.some((e) => e.code === 'SPED_CHILD_NOT_ALLOWED' && e.line === cancelled + 2 && /has no child records/.test(e.message)));
  // an unused number (05) has no key; a denied one (04) keeps it
  const unused = await validate(t, edited(cancelled, (l) => setField(l, P.COD_SIT, '05')));
  t.strictSame(at(unused, cancelled + 1).map((e) => [e.code, e.field]), [['SPED_FIELD_FORBIDDEN', 'CHV_NFE']]);
  const unusedNoKey = await validate(t, edited(cancelled, (l) => setField(setField(l, P.COD_SIT, '05'), P.CHV_NFE, '')));
  t.equal(at(unusedNoKey, cancelled + 1).length, 0, 'an unused number without key is fine');
  const denied = await validate(t, edited(cancelled, (l) => setField(l, P.COD_SIT, '04')));
  t.equal(at(denied, cancelled + 1).length, 0, 'a denied number with its key is fine');
});

t.test('regular, complementary and third-party documents', async (t) => {
  const noSeries = await validate(t, edited(entry, (l) => setField(l, P.SER, '')));
  t.strictSame(at(noSeries, entry + 1).map((e) => [e.code, e.field]), [['SPED_FIELD_REQUIRED', 'SER']]);
  t.match(at(noSeries, entry + 1)[0]?.message, /NF-e or NFC-e \(COD_MOD 55, 65\)/);
  const thirdPartyOut = await validate(t, edited(entry, (l) => setField(l, P.IND_OPER, '1')));
  t.ok(at(thirdPartyOut, entry + 1).some((e) => e.code === 'SPED_FIELD_VALUE' && e.field === 'IND_OPER' && /must be 0 for a document issued by a third party/.test(e.message)));
  // a complementary document: the values may be empty, the participant may not
  const complementary = await validate(t, edited(entry, (l) => setField(setField(l, P.COD_SIT, '06'), P.VL_DOC, '')));
  t.equal(at(complementary, entry + 1).length, 0, 'VL_DOC optional in a complementary document');
  const noPart = await validate(t, edited(entry, (l) => setField(setField(l, P.COD_SIT, '06'), P.COD_PART, '')));
  t.strictSame(at(noPart, entry + 1).map((e) => [e.code, e.field]), [['SPED_FIELD_REQUIRED', 'COD_PART']]);
});

t.test('C500 and D100 exceptions', async (t) => {
  const c500 = find('|C500|');
  const cancelledBill = await validate(t, edited(c500, (l) => setField(l, 6, '02')));
  const codes = cancelledBill.errors.filter((e) => e.line === c500 + 1 || e.line === c500 + 2).map((e) => [e.line! - c500 - 1, e.code, e.field]);
  t.ok(codes.some(([, c, f]) => c === 'SPED_FIELD_FORBIDDEN' && f === 'VL_DOC'), 'a cancelled bill carries no value');
  t.ok(codes.some(([l, c]) => l === 1 && c === 'SPED_CHILD_NOT_ALLOWED'), 'nor its C590');
  const d100 = find('|D100|');
  const cancelledCte = await validate(t, edited(d100, (l) => setField(l, 6, '02')));
  t.ok(at(cancelledCte, d100 + 1).some((e) => e.code === 'SPED_FIELD_FORBIDDEN' && e.field === 'VL_DOC'));
  t.ok(cancelledCte.errors.some((e) => e.line === d100 + 2 && e.code === 'SPED_CHILD_NOT_ALLOWED'));
});

t.test('every exception cites the Guia Prático and names existing fields', async (t) => {
  for (const id of ['efd-icms-ipi', 'efd-contribuicoes', 'ecd'] as const) {
    const layout = loadLayout(id);
    for (const x of layout.data.exceptions) {
      t.match(x.source, /Guia Prático/, `${id} ${x.register} ${x.label}: cites the Guia`);
      const names = new Set(layout.register(x.register)!.fields.map((f) => f.name));
      for (const n of [...Object.keys(x.when), ...(x.required ?? []), ...(x.optional ?? []), ...(x.empty ?? [])]) t.ok(names.has(n), `${x.register}.${n}`);
    }
  }
  t.ok(loadLayout('efd-icms-ipi').data.exceptions.every((x) => /3\.1\.8/.test(x.source)), 'EFD ICMS/IPI rules name the Guia version');
});
