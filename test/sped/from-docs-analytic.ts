/**
 * moneyOf, the SPED amount of a decimal text, is money(dec(text)) for every text: those it writes without a
 * Decimal (2 decimals, whole numbers) and those it leaves to one (rounding, signs, leading zeros, invalid texts).
 */
import t from 'tap';
import { dec, money, moneyOf, rateOf } from '../../src/sped/from-docs-analytic.js';

t.test('moneyOf is money(dec(text))', async (t) => {
  const texts = ['', '0', '5', '12', '0.00', '0.05', '5.07', '12.30', '1234567890123.45', '0.005', '0.015', '2.675', '18.0000', '7.1', '-5.07', '-0', '-0.00',
    '05.07', '00', '007', '1,50', '1.2.3', '.5', '5.', ' 5.07', '5.07 ', '1e3', 'abc', '99999999999999999999.999'];
  for (const x of texts) t.equal(moneyOf(x), money(dec(x)), JSON.stringify(x));
  for (let i = 0; i < 2000; i++) {
    const x = `${Math.floor(i / 7)}.${String(i % 1000).padStart(3, '0').slice(0, 1 + (i % 3))}`;
    if (moneyOf(x) !== money(dec(x))) t.fail(x);
  }
  t.equal(rateOf('18.0000'), '18,00');
  t.equal(moneyOf('5.07'), '5,07');
});
