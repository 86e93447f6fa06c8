import t from 'tap';
import { readdirSync } from 'node:fs';
import { DuplicateKeyTracker } from '../../src/nfe/duplicate-keys.js';
import { parseNfe } from '../../src/nfe/parse.js';
import { generateNfeXml } from '../../src/nfe/generate.js';
import { tempDir } from '../helpers/temp-dir.js';

const parse = (xml: string, source: string) => parseNfe({ source, bytes: Buffer.from(xml) });

t.test('duplicate keys across a batch, with where the key was first seen', async (t) => {
  const d = new DuplicateKeyTracker();
  const xml = generateNfeXml(3);
  t.same(d.check(parse(xml, 'a.xml')), []);
  t.match(d.check(parse(xml, 'b.xml')), [{ code: 'NFE_DUPLICATE_KEY', source: 'b.xml', message: /already seen in a\.xml$/ }]);
  d.close();
});

t.test('past its memory budget the keys spill to disk and are still found; close removes the file', async (t) => {
  const tmp = tempDir('fiscal-dup-keys-');
  const d = new DuplicateKeyTracker({ memoryBytes: 4096, tmpDir: tmp });
  const docs = Array.from({ length: 120 }, (_, i) => parse(generateNfeXml(100 + i), `n${i}.xml`));
  for (const p of docs) t.same(d.check(p), [], 'a first sight is no finding');
  t.ok(d.spilledKeys > 60, `${d.spilledKeys} keys on disk`);
  t.ok(readdirSync(tmp).length > 0, 'the spill folder exists');
  const again = docs.flatMap((p, i) => d.check({ ...p, source: `copy-${i}.xml` }));
  t.equal(again.length, 120, 'every second copy found, in memory or on disk');
  t.match(again[0], { message: /already seen in n0\.xml$/ });
  t.match(again[119], { message: /already seen in n119\.xml$/ });
  d.close();
  t.same(readdirSync(tmp), [], 'closed: no file left');
});
