// openLedger: which backend a URL names, the default location, the errors for a bad URL or an unreachable server,
// and pg loaded only for a postgres:// URL.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LEDGER_URL, ledgerUrl, openLedger, parseLedgerUrl } from '../../src/tasks/open-ledger.js';

const dir = mkdtempSync(join(tmpdir(), 'fiscal-open-ledger-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('no URL: FISCAL_LEDGER, else sqlite:.fiscal/ledger.db in the working directory (its folder created)', async (t) => {
  t.equal(DEFAULT_LEDGER_URL, 'sqlite:.fiscal/ledger.db');
  t.equal(ledgerUrl(undefined, {}), DEFAULT_LEDGER_URL);
  t.equal(ledgerUrl(undefined, { FISCAL_LEDGER: '' }), DEFAULT_LEDGER_URL, 'an empty variable is unset');
  t.equal(ledgerUrl(undefined, { FISCAL_LEDGER: 'sqlite:/x.db' }), 'sqlite:/x.db');
  t.equal(ledgerUrl('sqlite:given.db', { FISCAL_LEDGER: 'sqlite:/x.db' }), 'sqlite:given.db', 'the URL given wins');
  const ledger = await openLedger(undefined, { cwd: dir, env: {} });
  t.teardown(() => ledger.close());
  t.equal(ledger.url, `sqlite:${join(dir, '.fiscal', 'ledger.db')}`);
  t.ok(existsSync(join(dir, '.fiscal', 'ledger.db')));
  const fromEnv = await openLedger(undefined, { cwd: dir, env: { FISCAL_LEDGER: 'sqlite:env/l.db' } });
  t.teardown(() => fromEnv.close());
  t.equal(fromEnv.url, `sqlite:${join(dir, 'env', 'l.db')}`);
});

t.test('sqlite: paths are relative to the working directory or absolute; postgres URLs are kept', async (t) => {
  t.same(parseLedgerUrl('sqlite:a/b.db', '/work'), { backend: 'sqlite', path: '/work/a/b.db' });
  t.same(parseLedgerUrl('sqlite:/var/l.db', '/work'), { backend: 'sqlite', path: '/var/l.db' });
  t.same(parseLedgerUrl('sqlite:///var/l.db', '/work'), { backend: 'sqlite', path: '/var/l.db' });
  t.same(parseLedgerUrl('postgres://u:p@h:5433/d'), { backend: 'postgres', url: 'postgres://u:p@h:5433/d' });
  t.same(parseLedgerUrl('postgresql://h/d'), { backend: 'postgres', url: 'postgresql://h/d' });
});

t.test('a bad URL is a usage error TASK_LEDGER_URL that never shows the password', async (t) => {
  for (const [url, why] of [
    ['mysql://me:hunter2@db/ledger', /expected sqlite:PATH or postgres:/],
    ['sqlite:', /needs a file path/],
    ['sqlite://host/ledger.db', /not a host/],
    ['postgres://me:hunter2@[bad/ledger', /not a valid PostgreSQL URL/],
    ['ledger.db', /expected sqlite:PATH/],
  ] as const) {
    const err = await openLedger(url, { cwd: dir }).then(() => null, (e: unknown) => e as Error & { code: string; exitCode: number });
    t.match(err, { code: 'TASK_LEDGER_URL', exitCode: 2, message: why }, url);
    t.notMatch(err?.message ?? '', 'hunter2', `${url}: the password is not in the message`);
  }
});

t.test('a PostgreSQL server that is not there: TASK_LEDGER_UNAVAILABLE naming host:port', async (t) => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const err = await openLedger(`postgres://me:hunter2@127.0.0.1:${port}/ledger`).then(() => null, (e: unknown) => e as Error);
  t.match(err, { code: 'TASK_LEDGER_UNAVAILABLE', exitCode: 2, message: `PostgreSQL ledger 127.0.0.1:${port}/ledger: connection refused` });
  t.notMatch(err?.message ?? '', 'hunter2');
});

const DIST = fileURLToPath(new URL('../../dist/tasks/open-ledger.js', import.meta.url));

t.test('pg is loaded only for a postgres:// URL', { skip: existsSync(DIST) ? false : 'dist/ is not built (npm run build)' }, async (t) => {
  const probe = `
    import { createRequire } from 'node:module';
    const { openLedger } = await import(${JSON.stringify(DIST)});
    const pgModules = () => Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('/node_modules/pg/')).length;
    const ledger = await openLedger(process.argv[1]);
    await ledger.close();
    const afterSqlite = pgModules();
    await openLedger('postgres://u@127.0.0.1:1/d').catch((e) => e.code);
    console.log(JSON.stringify({ afterSqlite, afterPostgres: pgModules() }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe, `sqlite:${join(dir, 'probe.db')}`], { encoding: 'utf8', cwd: dir });
  t.equal(r.status, 0, r.stderr);
  const counts = JSON.parse(r.stdout) as { afterSqlite: number; afterPostgres: number };
  t.equal(counts.afterSqlite, 0, 'an SQLite run loads no pg module');
  t.ok(counts.afterPostgres > 0, `a postgres:// URL loads pg (${counts.afterPostgres} modules)`);
});
