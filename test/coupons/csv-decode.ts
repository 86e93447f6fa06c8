/** The CSV decoder's Latin-1 shortcut (src/coupons/csv-decode.ts) against iconv-lite on random bytes. */
import t from 'tap';
import iconv from 'iconv-lite';
import { mulberry32 } from '../../src/common/prng.js';
import { decodeCsv } from '../../src/coupons/csv-decode.js';

t.test('property: random bytes decode as iconv-lite decodes them, in every encoding of a mapping', async (t) => {
  for (let round = 0; round < 600; round++) {
    const r = mulberry32(4400 + round);
    // mostly bytes outside 0x80–0x9F (the shortcut), now and then one inside; now and then a UTF-8 BOM first
    const c1 = r() < 0.3;
    const bytes = Buffer.from(Array.from({ length: Math.floor(r() * 300) }, () => {
      const b = Math.floor(r() * 256);
      return !c1 && b >= 0x80 && b < 0xa0 ? b + 0x20 : b;
    }));
    const input = r() < 0.2 ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]) : bytes;
    for (const encoding of ['windows-1252', 'iso-8859-1', 'utf-8'] as const) t.equal(decodeCsv(input, encoding), iconv.decode(input, encoding), `round ${round}, ${encoding}`);
  }
});
