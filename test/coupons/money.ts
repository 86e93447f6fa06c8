/**
 * The quick amount parser against the general one (Decimal, toScaled): on random texts of every shape near the
 * usual one — signs, separators, 0 to 4 decimals, up to 17 digits, spaces, letters — it gives the same cents or
 * leaves the text to the general parser, never a different value.
 */
import t from 'tap';
import { mulberry32 } from '../../src/common/prng.js';
import { Decimal } from '../../src/common/decimal.js';
import { cents, normalizeRate, quickCents } from '../../src/coupons/money.js';
import { toScaled } from '../../src/nfe/decimal.js';

const slow = (v: string, sep: '.' | ','): bigint | null => {
  const d = Decimal.parse(v, sep);
  if (!d) return null;
  const r = d.round(2);
  return r.equals(d) ? r.units : null;
};

t.test('quickCents agrees with the general parsers or declines', async (t) => {
  const r = mulberry32(9);
  const pick = (s: string): string => s[Math.floor(r() * s.length)]!;
  let quick = 0;
  for (let i = 0; i < 20000; i++) {
    let v = r() < 0.2 ? '-' : '';
    const digits = Math.floor(r() * 18);
    for (let d = 0; d < digits; d++) v += pick('0123456789');
    if (r() < 0.7) v += pick('.,');
    const decimals = Math.floor(r() * 5);
    for (let d = 0; d < decimals; d++) v += pick('0123456789');
    if (r() < 0.05) v += pick(' x+e');
    for (const [sep, code] of [['.', 46], [',', 44]] as const) {
      const q = quickCents(v, code);
      if (q === undefined) continue;
      quick++;
      if (q !== slow(v, sep)) {
        t.fail(`${JSON.stringify(v)} with '${sep}': quick ${q}, general ${slow(v, sep)}`);
        return;
      }
      if (sep === '.' && q !== toScaled(v, 2)) {
        t.fail(`${JSON.stringify(v)}: quick ${q}, toScaled ${toScaled(v, 2)}`);
        return;
      }
    }
  }
  t.ok(quick > 5000, `${quick} texts read by the quick path, all alike`);
  t.equal(cents(' 12.5 '), 1250n, 'spaces: the general parser');
  t.equal(cents('-0.01'), -1n);
  t.throws(() => cents('1.234'), 'finer than a cent is still refused');
});

t.test('normalizeRate is the same remembered or not', async (t) => {
  for (const v of ['18', '18.0000', '4.6500', '1.125', '7', '18', '18.0000']) t.equal(normalizeRate(v), normalizeRate(` ${v}`));
  t.equal(normalizeRate('18.0000'), '18.00');
  t.equal(normalizeRate(''), '');
});
