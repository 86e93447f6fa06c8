// CodeSet (src/sped/code-set.ts): the reference keys held on their bytes. Many distinct codes, codes that share a
// hash, codes with Latin-1 / Windows-1252 / UTF-8 bytes, and the ignore-case match of units.
import t from 'tap';
import { CodeSet, codeHash, foldCase } from '../../src/sped/code-set.js';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const hasLatin1 = (set: CodeSet, s: string): boolean => {
  const b = latin1(s);
  return set.hasBytes(b, 0, b.length, 'windows-1252');
};

t.test('many distinct codes: every one found, on its bytes and as text; near misses not found', async (t) => {
  const set = new CodeSet();
  const codes: string[] = [];
  for (let i = 0; i < 60000; i++) codes.push(i % 3 === 0 ? String(7891000000000 + i * 37) : i % 3 === 1 ? String(i).padStart(6, '0') : `IT-${i}`);
  // added from the middle of a larger buffer, as the byte path does (a line holds the value between pipes)
  for (const c of codes) {
    const line = latin1(`|0200|${c}|DESCR|`);
    set.addBytes(line, 6, 6 + c.length, 'ascii');
  }
  for (const c of codes.slice(0, 1000)) set.addText(c); // again, as text: no duplicates
  t.equal(set.size, codes.length, 'one entry per distinct code');
  const oracle = new Set(codes);
  let missing = 0;
  let wrong = 0;
  for (const c of codes) {
    if (!hasLatin1(set, c) || !set.hasText(c)) missing++;
    for (const v of [`${c}X`, c.slice(0, -1), ` ${c}`, c.toLowerCase()]) if (hasLatin1(set, v) !== oracle.has(v)) wrong++;
  }
  t.equal(missing, 0, 'every code is found');
  t.equal(wrong, 0, 'a prefix, suffix, padded or lower-case variant is found exactly when it is itself a code');
  t.notOk(set.hasText(''), 'the empty code is not a key');
});

t.test('codes that share a hash are told apart by their bytes', async (t) => {
  // two 10-character codes with the same 32-bit hash (found by a search over random codes)
  const pair = ['YCS2OYG7EZ', 'BGN54K0Q4X'] as const;
  const hashOf = (s: string): number => codeHash(latin1(s), 0, s.length, false);
  t.equal(hashOf(pair[0]), hashOf(pair[1]), 'the two codes share their hash');
  const [a, b] = pair;
  t.not(a, b);
  const only = new CodeSet();
  only.addText(a);
  t.ok(only.hasText(a) && hasLatin1(only, a), `${a} is found`);
  t.notOk(only.hasText(b) || hasLatin1(only, b), `${b}, same hash, is not`);
  const both = new CodeSet();
  both.addText(a);
  both.addText(b);
  t.equal(both.size, 2, 'both are kept');
  t.ok(hasLatin1(both, a) && hasLatin1(both, b), 'both are found');
  // and codes that only share a table slot (the low bits): a set of thousands, probed for thousands absent
  const dense = new CodeSet();
  for (let i = 0; i < 5000; i++) dense.addText(`D${i}`);
  let false_ = 0;
  for (let i = 5000; i < 20000; i++) if (dense.hasText(`D${i}`)) false_++;
  t.equal(false_, 0, 'no absent code is found among slot neighbours');
});

t.test('Latin-1 codes: Windows-1252 bytes, UTF-8 bytes and text are the same key', async (t) => {
  const set = new CodeSet();
  set.addBytes(latin1('AÇÚCAR'), 0, 6, 'windows-1252');
  const utf8 = Buffer.from('AÇÚCAR', 'utf8');
  t.ok(set.hasText('AÇÚCAR'), 'as text');
  t.ok(hasLatin1(set, 'AÇÚCAR'), 'as Windows-1252 bytes');
  t.ok(set.hasBytes(utf8, 0, utf8.length, 'utf-8'), 'as UTF-8 bytes in a UTF-8 file');
  t.notOk(hasLatin1(set, 'ACUCAR'), 'without the accents: another code');
  t.notOk(hasLatin1(set, 'AçÚCAR'), 'another case: another code (exact match)');
  // Windows-1252's 0x80 is the euro sign, as decodeBytes reads it
  const euro = new CodeSet();
  euro.addBytes(Buffer.from([0x45, 0x80]), 0, 2, 'windows-1252');
  t.ok(euro.hasText('E€'), '0x80 is €');
  t.notOk(euro.hasText('E\u0080'), 'not U+0080');
  t.equal(euro.size, 1);
});

t.test('ignore-case: letters without case (ASCII and Latin-1), nothing else', async (t) => {
  const units = new CodeSet(true);
  for (const u of ['UN', 'Kg', 'pç', 'M3', 'CX÷']) units.addText(u);
  t.equal(units.size, 5);
  for (const u of ['UN', 'Un', 'un', 'uN']) t.ok(hasLatin1(units, u) && units.hasText(u), `${u} matches UN`);
  for (const u of ['KG', 'kg']) t.ok(hasLatin1(units, u), `${u} matches Kg`);
  for (const u of ['PÇ', 'Pç', 'pÇ']) t.ok(hasLatin1(units, u) && units.hasText(u), `${u} matches pç (Latin-1 letters fold)`);
  t.ok(units.hasText('m3'), 'digits stay as they are');
  t.notOk(hasLatin1(units, 'CX×'), '÷ and × are not a letter pair');
  t.notOk(hasLatin1(units, 'UND'), 'UND is not UN');
  units.addText('un');
  t.equal(units.size, 5, "'un' is the key UN already held");
  const exact = new CodeSet(false);
  exact.addText('UN');
  t.notOk(exact.hasText('Un'), 'the exact set keeps the case');
  t.equal(foldCase('straße ÿ'), 'STRAßE ÿ', 'ß and ÿ have no Latin-1 capital: unchanged');
});
