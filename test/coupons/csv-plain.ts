/**
 * The plain-text split of CSV chunks (src/coupons/csv-plain.ts) against csv-parse itself: on random texts made
 * of the characters that matter to csv-parse (delimiters, CR, LF, quotes, a BOM, surrogates) and ones that do
 * not, whenever the split answers, its records and line numbers are csv-parse's under the export options.
 */
import t from 'tap';
import { parse } from 'csv-parse/sync';
import { mulberry32 } from '../../src/common/prng.js';
import { plainRecords } from '../../src/coupons/csv-plain.js';
import { csvParseOptions } from '../../src/coupons/from-csv.js';
import { parseCsvMapping } from '../../src/coupons/csv-mapping.js';

const csvParse = (text: string, delimiter: string, bom: boolean): { line: number; cells: string[] }[] => {
  const mapping = parseCsvMapping({ delimiter, columns: { key: 'k', date: 'd', gross: 'g' } });
  const records = parse(text, csvParseOptions(mapping, bom)) as unknown as { record: string[]; info: { lines: number } }[];
  return records.map((r) => ({ line: r.info.lines, cells: r.record }));
};

const PLAIN = ['a', 'Z', '0', '9', ',', '.', ' ', '\t', 'ã', 'Ç', '€', '😀', '-', "'"];
const SPECIAL = ['"', '\r', '\uFEFF', '\uD83D', '\uDE00', ';', '|'];

t.test('property: on random texts the split is csv-parse, whenever it answers', async (t) => {
  let answered = 0;
  let refused = 0;
  for (let round = 0; round < 3000; round++) {
    const r = mulberry32(9100 + round);
    const delimiter = [';', ',', '|', '\t'][Math.floor(r() * 4)]!;
    const crlf = r() < 0.5;
    const special = r() < 0.3;
    let text = special && r() < 0.2 ? '\uFEFF' : '';
    const lines = Math.floor(r() * 12);
    for (let l = 0; l < lines; l++) {
      const fields = Math.floor(r() * 5);
      const cells: string[] = [];
      for (let f = 0; f < fields; f++) {
        let cell = '';
        const len = Math.floor(r() * 6);
        for (let c = 0; c < len; c++) cell += special && r() < 0.08 ? SPECIAL[Math.floor(r() * SPECIAL.length)]! : PLAIN[Math.floor(r() * PLAIN.length)]!;
        cells.push(cell);
      }
      // now and then: an empty line, a line end of the other kind
      text += cells.join(delimiter) + (special && r() < 0.1 ? (crlf ? '\n' : '\r\n') : crlf ? '\r\n' : '\n');
      if (r() < 0.1) text += crlf ? '\r\n' : '\n';
    }
    if (r() < 0.3) text = text.replace(/\r?\n$/, '');
    const bom = r() < 0.5;
    const split = plainRecords(text, delimiter);
    if (split === null) {
      refused++;
      continue;
    }
    answered++;
    t.same(split, csvParse(text, delimiter, bom), `round ${round}: ${JSON.stringify(text)}`);
  }
  t.ok(answered > 2000, `most texts are plain (${answered})`);
  t.ok(refused > 300, `some are not (${refused})`);
});

t.test('what csv-parse would read otherwise is left to it', async (t) => {
  t.equal(plainRecords('a;"b"\n', ';'), null, 'a quote');
  t.equal(plainRecords('a;b\rc\n', ';'), null, 'a bare CR');
  t.equal(plainRecords('a;b\r\nc\n', ';'), null, 'CRLF and a bare LF');
  t.equal(plainRecords('\uFEFFa;b\n', ';'), null, 'a byte order mark');
  t.equal(plainRecords('a\uD83D;b\n', ';'), null, 'a lone surrogate');
  t.equal(plainRecords('a§b\n', '§'), null, 'a delimiter that is not ASCII');
  t.equal(plainRecords('a;;b\n', ';;'), null, 'a delimiter of two characters');
  t.same(plainRecords('a;😀\r\n\r\n;\r\nb', ';'), [{ line: 1, cells: ['a', '😀'] }, { line: 3, cells: ['', ''] }, { line: 4, cells: ['b'] }]);
});
