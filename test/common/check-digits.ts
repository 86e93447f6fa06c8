import t from 'tap';
import { accessKeyCheckDigit, cnpjCheckDigits, isValidAccessKey, isValidCnpj, isValidCpf } from '../../src/common/check-digits.js';

t.test('numeric CNPJ', async (t) => {
  t.ok(isValidCnpj('11222333000181'));
  t.ok(isValidCnpj('11111111000191'));
  t.notOk(isValidCnpj('11222333000182'), 'wrong second digit');
  t.notOk(isValidCnpj('99999999999999'), 'placeholder fails its digits');
  t.notOk(isValidCnpj('00000000000000'));
  t.notOk(isValidCnpj('1122233300018'), 'short');
  t.equal(cnpjCheckDigits('112223330001'), '81');
});

t.test('alphanumeric CNPJ (2026): value = ASCII - 48', async (t) => {
  // example published by the Receita Federal: 12.ABC.345/01DE-35
  t.ok(isValidCnpj('12ABC34501DE35'));
  t.notOk(isValidCnpj('12ABC34501DE36'));
  t.notOk(isValidCnpj('12abc34501DE35'), 'lower case is not a CNPJ');
  t.notOk(isValidCnpj('12ABC34501DEA5'), 'check digits are always numeric');
});

t.test('CPF', async (t) => {
  t.ok(isValidCpf('52998224725'));
  t.notOk(isValidCpf('52998224726'));
  t.notOk(isValidCpf('11111111111'), 'repeated digits');
  t.notOk(isValidCpf('5299822472'));
});

t.test('access key', async (t) => {
  const key = '35150905481336000137550010000111291000111298';
  t.ok(isValidAccessKey(key));
  t.equal(accessKeyCheckDigit(key.slice(0, 43)), 8);
  t.notOk(isValidAccessKey(key.slice(0, 43) + '7'));
  t.notOk(isValidAccessKey(key.slice(0, 43)), 'short');
  // rest 0 or 1 gives digit 0
  for (let n = 0; n < 200; n++) {
    const body = String(35150905481336000137550010000111291000111200n + BigInt(n)).padStart(43, '0').slice(0, 43);
    const dv = accessKeyCheckDigit(body);
    t.ok(dv >= 0 && dv <= 9);
    t.ok(isValidAccessKey(body + dv));
  }
});
