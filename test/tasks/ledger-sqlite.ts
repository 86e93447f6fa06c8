// The SQLite ledger: the shared conformance suite (test/helpers/ledger-conformance.ts), then what only a file has —
// several processes racing on one file, the folder created when missing, an unreadable or newer file refused.
import t from 'tap';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteLedger } from '../../src/tasks/ledger-sqlite.js';
import { ledgerConformance, request, claimed } from '../helpers/ledger-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'fiscal-ledger-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

ledgerConformance(t, async () => {
  const path = join(dir, `conformance-${++n}.db`);
  const ledger = await openSqliteLedger(path);
  return { ledger, open: () => openSqliteLedger(path) };
});

t.test('the url is sqlite: and the absolute path; WAL; schema version 1', async (t) => {
  const path = join(dir, 'url.db');
  const ledger = await openSqliteLedger(path);
  t.equal(ledger.url, `sqlite:${path}`);
  await ledger.close();
  const db = new Database(path, { readonly: true });
  t.teardown(() => db.close());
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  t.same(db.prepare(`SELECT name, value FROM meta ORDER BY name`).all(), [{ name: 'fence', value: 0 }, { name: 'schema_version', value: 1 }]);
});

t.test('the folder of the file is created when missing', async (t) => {
  const path = join(dir, 'a', 'b', 'ledger.db');
  const ledger = await openSqliteLedger(path);
  t.teardown(() => ledger.close());
  t.ok(existsSync(path));
  claimed(t, await ledger.claim(request('k', 'o')), 'claim');
});

t.test('a file that is not a ledger, or a folder that cannot be made: a clear error, not a stack trace', async (t) => {
  const junk = join(dir, 'junk.db');
  writeFileSync(junk, 'this is not an SQLite database, just text that is long enough to have a header............');
  await t.rejects(openSqliteLedger(junk), { code: 'TASK_LEDGER_UNAVAILABLE', message: new RegExp(`SQLite ledger ${junk}: not an SQLite database`) });
  await t.rejects(openSqliteLedger(join(dir, 'junk.db', 'x', 'ledger.db')), { code: 'IO_ENOTDIR' });
  await t.rejects(openSqliteLedger(dir), { code: 'TASK_LEDGER_UNAVAILABLE', message: /cannot open/ }, 'a folder');
});

t.test('a ledger written by a newer schema is refused', async (t) => {
  const path = join(dir, 'newer.db');
  await (await openSqliteLedger(path)).close();
  const db = new Database(path);
  db.prepare(`UPDATE meta SET value = 99 WHERE name = 'schema_version'`).run();
  db.close();
  await t.rejects(openSqliteLedger(path), { code: 'TASK_LEDGER_SCHEMA', message: /schema version 99 was written by a newer engine/ });
});

t.test('fences keep growing after gc deletes a key (a zombie owner of a deleted key cannot write)', async (t) => {
  const ledger = await openSqliteLedger(join(dir, 'fence.db'));
  t.teardown(() => ledger.close());
  const first = claimed(t, await ledger.claim(request('k', 'o')), 'first');
  await ledger.complete(first, { outputDigest: null, manifest: {} });
  await new Promise((r) => setTimeout(r, 5));
  t.equal(await ledger.gc(1), 1);
  const second = claimed(t, await ledger.claim(request('k', 'o')), 'after gc');
  t.ok(second.fence > first.fence);
  t.equal(second.attempt, 1, 'a new entry');
  await t.rejects(ledger.complete(first, { outputDigest: null, manifest: {} }), { code: 'TASK_LEASE_LOST' });
});

const DIST = fileURLToPath(new URL('../../dist/tasks/ledger-sqlite.js', import.meta.url));
const RACER = fileURLToPath(new URL('../helpers/ledger-racer.mjs', import.meta.url));

t.test('4 processes race on the same 100 keys of one file: each key is claimed exactly once', { skip: existsSync(DIST) ? false : 'dist/ is not built (npm run build)' }, async (t) => {
  const path = join(dir, 'race', 'ledger.db'); // created by the racers themselves, at once
  const racers = Array.from({ length: 4 }, (_, i) => {
    const child = spawn(process.execPath, [RACER, DIST, path, `racer-${i}`, '100'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => out.startsWith('ready\n') && resolve());
      child.once('exit', (code) => reject(new Error(`racer ${i} exited ${code} before ready`)));
    });
    const done = new Promise<string[]>((resolve, reject) =>
      child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length)) as string[]) : reject(new Error(`racer ${i} exited ${code}`)))),
    );
    return { child, ready, done };
  });
  await Promise.all(racers.map((r) => r.ready));
  for (const r of racers) r.child.stdin.write('go\n');
  const won = await Promise.all(racers.map((r) => r.done));
  const all = won.flat();
  t.equal(all.length, 100, `claims per racer: ${won.map((w) => w.length).join(', ')}`);
  t.equal(new Set(all).size, 100, 'no key claimed twice');
  const ledger = await openSqliteLedger(path);
  t.teardown(() => ledger.close());
  const entries = await ledger.list({ limit: 1000 });
  t.equal(entries.length, 100);
  t.ok(entries.every((e) => e.status === 'done' && e.attempts === 1), 'every key done at its first attempt');
  const strangers = entries.filter((e) => (e.manifest as { owner: string }).owner !== e.owner).map((e) => e.key);
  t.same(strangers, [], 'every key completed by its claimant');
});
