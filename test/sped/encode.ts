import t from 'tap';
import iconv from 'iconv-lite';
import { checkField, cp1252Byte, encodeCp1252, firstUnencodable, isCp1252, normalizeForCp1252, replaceField } from '../../src/sped/encode.js';

t.test('every Windows-1252 byte round-trips through the encoder (iconv-lite as the oracle)', async (t) => {
  const undefinedBytes = [0x81, 0x8d, 0x8f, 0x90, 0x9d]; // the code page leaves them unassigned
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((b) => !undefinedBytes.includes(b)));
  const text = iconv.decode(bytes, 'win1252');
  t.equal(text.length, 251);
  t.notOk(text.includes('\ufffd'));
  t.same(encodeCp1252(text), bytes);
  // the reader decodes unassigned bytes to the C1 control of the same number: they must come back as they were
  t.same(encodeCp1252('\u0081\u008d\u008f\u0090\u009d'), Buffer.from(undefinedBytes));
  t.equal(cp1252Byte(0x20ac), 0x80);
  t.equal(cp1252Byte(0x201c), 0x93);
  t.equal(cp1252Byte(0x0151), -1);
  t.equal(cp1252Byte(0x80), -1, 'U+0080 is not a Windows-1252 character (0x80 is €)');
});

t.test('unencodable characters are found, never replaced silently', async (t) => {
  t.equal(firstUnencodable('abc'), -1);
  t.equal(firstUnencodable('açã€'), -1);
  t.equal(firstUnencodable('ab ő'), 3);
  t.notOk(isCp1252('🙂'));
  t.throws(() => encodeCp1252('aő'), RangeError);
  t.same(checkField('a|b'), { problem: 'pipe', index: 1, char: '|' });
  t.match(checkField('a\r\nb'), { problem: 'line-break', index: 1 });
  t.match(checkField('xő'), { problem: 'unencodable', index: 1, char: "U+0151 'ő'" });
  t.match(checkField('🙂'), { problem: 'unencodable', char: "U+1F642 '🙂'" });
  t.equal(checkField('São Paulo €'), null);
});

t.test('replacement policy', async (t) => {
  t.equal(replaceField('a|b'), 'a/b');
  t.equal(replaceField('a\r\nb\nc\rd'), 'a b c d');
  t.equal(replaceField('Łódź ő'), '?ódz o', 'ź → z by its base letter, Ł has none → ?; ó is Windows-1252');
  t.equal(replaceField('🙂x'), '?x');
  t.equal(replaceField('a\u0301'), 'á');
  t.equal(normalizeForCp1252('a\u0301'), 'á');
  t.equal(normalizeForCp1252('ő'), 'ő', 'left as is when NFC does not help');
});
