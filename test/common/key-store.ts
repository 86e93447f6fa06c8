/**
 * KeyStore against a plain Map: random sets and gets over a budget small enough to spill many times give the same
 * answers as the Map; a durable store committed and opened again answers for what it committed (its Bloom filter
 * rebuilt from the file); a file of the earlier schema (keyed WITHOUT ROWID) still opens. BloomFilter: no false
 * negatives, few false positives at its design load.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BloomFilter } from '../../src/common/bloom-filter.js';
import { KeyStore, type KeyEntry, type KeyState } from '../../src/common/key-store.js';
import { mulberry32 } from '../../src/common/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'key-store-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const key = (i: number): string => `35260110004001000168599001000${String(i).padStart(15, '0')}`;

t.test('bloom filter: every string added is found, few others are', async (t) => {
  const f = new BloomFilter(1 << 17);
  for (let i = 0; i < 10000; i++) f.add(key(i * 3));
  let missed = 0;
  for (let i = 0; i < 10000; i++) if (!f.has(key(i * 3))) missed++;
  t.equal(missed, 0, 'no false negatives');
  let fp = 0;
  for (let i = 0; i < 100000; i++) if (f.has(key(i * 3 + 1))) fp++;
  // 13 bits a string, 7 hashes: about 0.3% expected
  t.ok(fp < 1000, `${fp} false positives in 100,000 (under 1%)`);
  t.equal(f.count, 10000);
});

t.test('spilling store = a Map, whatever the order of sets and gets', async (t) => {
  const r = mulberry32(7);
  const store = new KeyStore({ memoryBytes: 64 * 1024, tmpDir: dir });
  const model = new Map<string, KeyEntry>();
  const states: KeyState[] = ['sale', 'cancelled', 'pending'];
  for (let op = 0; op < 20000; op++) {
    const k = key(Math.floor(r() * 6000));
    if (r() < 0.5) {
      const e: KeyEntry = { state: states[Math.floor(r() * 3)]!, data: r() < 0.5 ? '' : `g\t1\t${op}` };
      store.set(k, e);
      model.set(k, e);
    } else if (JSON.stringify(store.get(k)) !== JSON.stringify(model.get(k))) {
      return t.same(store.get(k), model.get(k), `op ${op}: ${k}`);
    }
  }
  t.ok(store.spills > 5, `${store.spills} spills`);
  for (const [k, e] of model) if (JSON.stringify(store.get(k)) !== JSON.stringify(e)) return t.fail(`after the run: ${k}`);
  const pending = [...store.entries('pending')].map(([k]) => k).sort();
  t.same(pending, [...model].filter(([, e]) => e.state === 'pending').map(([k]) => k).sort(), 'entries(pending): memory and disk, each key once');
  t.equal(store.get(key(999999)), undefined, 'a key never set');
  store.close();
});

t.test('durable store: committed entries answer after a reopen', async (t) => {
  const path = join(dir, 'durable.db');
  const a = new KeyStore({ path, memoryBytes: 1 << 20 });
  for (let i = 0; i < 500; i++) a.set(key(i), { state: 'sale', data: `d${i}` });
  a.commit('{"at":500}');
  a.set(key(9999), { state: 'pending', data: '' }); // not committed: lost with the process
  a.close();
  const b = new KeyStore({ path, memoryBytes: 1 << 20 });
  t.equal(b.checkpoint(), '{"at":500}');
  t.same(b.get(key(123)), { state: 'sale', data: 'd123' });
  t.equal(b.get(key(9999)), undefined);
  b.close();
});

t.test('a file of the earlier schema (keyed, WITHOUT ROWID) still opens and answers', async (t) => {
  const path = join(dir, 'old.db');
  const db = new Database(path);
  db.exec('CREATE TABLE keys (key TEXT PRIMARY KEY, state INTEGER NOT NULL, data TEXT NOT NULL) WITHOUT ROWID');
  db.prepare('INSERT INTO keys VALUES (?, ?, ?)').run(key(1), 1, '');
  db.close();
  const s = new KeyStore({ path });
  t.same(s.get(key(1)), { state: 'cancelled', data: '' });
  s.set(key(1), { state: 'sale', data: 'x' });
  s.commit('{}');
  s.close();
  const again = new KeyStore({ path });
  t.same(again.get(key(1)), { state: 'sale', data: 'x' }, 'INSERT OR REPLACE on the old key');
  again.close();
});
