import t from 'tap';
import { buildAccessKey, checkKeyAgainstDocument, parseAccessKey } from '../../src/nfe/key.js';

const KEY = '35150905481336000137550010000111291000111298';

t.test('parseAccessKey splits a valid key', async (t) => {
  const k = parseAccessKey(KEY);
  t.ok(k.valid);
  t.same([k.cUF, k.aamm, k.cnpj, k.mod, k.serie, k.nNF, k.tpEmis, k.cNF, k.cDV], ['35', '1509', '05481336000137', '55', '001', '000011129', '1', '00011129', '8']);
  t.equal(parseAccessKey(`NFe${KEY}`).key, KEY, 'Id prefix ignored');
  t.equal(k.emitterKind, 'cnpj');
});

t.test('parseAccessKey reports problems', async (t) => {
  const bad = parseAccessKey(KEY.slice(0, 43) + '7');
  t.notOk(bad.valid);
  t.same(bad.problems, ['check-digit']);
  t.equal(bad.expectedCdv, '8');
  t.same(parseAccessKey(KEY.slice(0, 40)).problems, ['length']);
  t.same(parseAccessKey('35150905481336000137550010000111291000111X98').problems, ['format']);
});

t.test('buildAccessKey computes cDV, pads parts, takes an alphanumeric CNPJ and a CPF', async (t) => {
  t.equal(buildAccessKey({ cUF: '35', aamm: '1509', cnpj: '05481336000137', mod: '55', serie: '1', nNF: '11129', tpEmis: '1', cNF: '11129' }), KEY);
  const alnum = buildAccessKey({ cUF: '35', aamm: '2607', cnpj: '12ABC34501DE35', mod: '55', serie: '1', nNF: '1', tpEmis: '1', cNF: '1' });
  t.ok(parseAccessKey(alnum).valid);
  t.equal(alnum.slice(6, 20), '12ABC34501DE35');
  const cpf = buildAccessKey({ cUF: '35', aamm: '2501', cnpj: '52998224725', mod: '55', serie: '1', nNF: '1', tpEmis: '1', cNF: '1' });
  t.equal(cpf.slice(6, 20), '00052998224725');
  t.equal(parseAccessKey(cpf).emitterKind, 'cpf');
  t.throws(() => buildAccessKey({ cUF: '355', aamm: '2501', cnpj: '1', mod: '55', serie: '1', nNF: '1', tpEmis: '1', cNF: '1' }), { code: 'NFE_KEY_PARTS' });
});

t.test('checkKeyAgainstDocument', async (t) => {
  const doc = { cUF: '35', dhEmi: '2015-09-10T10:00:00-03:00', CNPJ: '05481336000137', mod: '55', serie: '1', nNF: '11129', tpEmis: '1', cNF: '00011129', cDV: '8', Id: `NFe${KEY}` };
  t.same(checkKeyAgainstDocument(KEY, doc), []);
  const f = checkKeyAgainstDocument(KEY, { ...doc, nNF: '11130', CNPJ: 'XT9CDVWJ000172', dhEmi: '2015-10-01T00:00:00-03:00' });
  t.same(f.map((x) => [x.code, x.field]), [['NFE_KEY_MISMATCH', 'ide/dhEmi'], ['NFE_KEY_MISMATCH', 'emit/CNPJ'], ['NFE_KEY_MISMATCH', 'ide/nNF']]);
  const cd = checkKeyAgainstDocument(KEY.slice(0, 43) + '0', {});
  t.equal(cd[0]?.code, 'NFE_KEY_CHECK_DIGIT');
  t.match(cd[0]?.message, /expected 8/);
  t.same(checkKeyAgainstDocument('123', doc).map((x) => x.code), ['NFE_KEY_CHECK_DIGIT'], 'a short key is not compared further');
});
