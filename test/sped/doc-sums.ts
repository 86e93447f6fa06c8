import t from 'tap';
import { Decimal } from '../../src/common/decimal.js';
import { groupKey, groupKeyOfText, keyText } from '../../src/sped/doc-sums.js';

/** The validator's normalization of a group-key part: the texts its groups are compared by. */
function normalized(v: string, decimals: boolean): string {
  const d = Decimal.parse(v, ',');
  return d && (v.includes(',') || decimals) ? d.format(',', 2) : v;
}

const VALUES = [
  '', '0', '00', '000', '102', '0102', '1102', '5929', '18', '18,0', '18,00', '018,00', '18,005', '18,01', '18,1', '18,10',
  '0,00', '0,0', '-5', '-5,00', '-0', 'abc', '1,', ',5', '1,5', '1,50', '12345678901234', '123456789012345',
  '1234567890123', '1234567890123,45', '12345678901234,5', '9999999999999,99', 'ÇÃ', '1.5',
];

t.test('groupKey: equal numbers exactly when the normalized texts are equal, and back to the text', async (t) => {
  for (const decimals of [false, true]) {
    // as the validator reads a part: the number of the raw value, else the number of its normalized text
    const keyOf = (v: string): number => {
      const k = groupKey(Buffer.from(v, 'latin1'), 0, Buffer.byteLength(v, 'latin1'), decimals);
      t.ok(Object.is(groupKeyOfText(v, decimals), k) || /[^\x00-\x7f]/.test(v), `text and bytes agree on '${v}'`);
      return k === k ? k : groupKeyOfText(normalized(v, decimals), decimals);
    };
    for (const a of VALUES) {
      const ka = keyOf(a);
      if (ka === ka) t.equal(keyText(ka), normalized(a, decimals), `keyText of '${a}' (decimals: ${decimals})`);
      for (const b of VALUES) {
        const kb = keyOf(b);
        const same = ka === kb || (ka !== ka && kb !== kb && normalized(a, decimals) === normalized(b, decimals));
        if (same !== (normalized(a, decimals) === normalized(b, decimals))) t.fail(`'${a}' vs '${b}' (decimals: ${decimals})`);
      }
    }
  }
  t.ok(Number.isSafeInteger(groupKey(Buffer.from('99999999999999'), 0, 14, false)), 'the longest digit code stays exact');
  t.ok(Number.isSafeInteger(groupKey(Buffer.from('9999999999999,99'), 0, 16, true)), 'the largest rate stays exact');
});
