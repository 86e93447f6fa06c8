// The PostgreSQL ledger against a real server the test starts (test/helpers/postgres.ts): the shared conformance
// suite, each test on its own database; then the schema under concurrent openers, an unreachable server, the URL
// without its password.
import t from 'tap';
import pg from 'pg';
import { openPostgresLedger, redactPostgresUrl, describePostgresUrl } from '../../src/tasks/ledger-postgres.js';
import { ledgerConformance, request, claimed } from '../helpers/ledger-conformance.js';
import { POSTGRES_PASSWORD, startPostgres } from '../helpers/postgres.js';

const started = await startPostgres(t);
if ('skip' in started) {
  t.test('the PostgreSQL ledger', { skip: started.skip }, async () => {});
} else {
  const server = started;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  t.teardown(() => admin.end());
  let n = 0;
  async function newDatabase(): Promise<string> {
    const name = `ledger_${process.pid}_${++n}`;
    await admin.query(`CREATE DATABASE ${name}`);
    return server.database(name);
  }

  ledgerConformance(t, async () => {
    const url = await newDatabase();
    const ledger = await openPostgresLedger(url);
    return { ledger, open: () => openPostgresLedger(url) };
  });

  t.test('the url carries no password; times are the server clock', async (t) => {
    const url = await newDatabase();
    t.match(url, POSTGRES_PASSWORD);
    const ledger = await openPostgresLedger(url);
    t.teardown(() => ledger.close());
    t.notMatch(ledger.url, POSTGRES_PASSWORD);
    t.equal(ledger.url, url.replace(`:${POSTGRES_PASSWORD}@`, '@'));
    claimed(t, await ledger.claim(request('k', 'o')), 'claim');
    const { rows } = await admin.query<{ ms: string }>(`SELECT (extract(epoch from now()) * 1000)::bigint AS ms`);
    const entry = await ledger.get('k');
    t.ok(entry!.createdAt <= Number(rows[0]!.ms), 'created before the server says now');
    t.equal(entry!.leaseUntil, entry!.createdAt + 60_000);
  });

  t.test('10 processes opening a new database at once create the schema once', async (t) => {
    const url = await newDatabase();
    const ledgers = await Promise.all(Array.from({ length: 10 }, () => openPostgresLedger(url, { maxConnections: 2 })));
    t.teardown(() => Promise.all(ledgers.map((l) => l.close())));
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    t.teardown(() => db.end());
    const { rows } = await db.query(`SELECT name, value FROM fiscal_ledger_meta`);
    t.same(rows, [{ name: 'schema_version', value: '1' }]);
    const results = await Promise.all(ledgers.map((l, i) => l.claim(request('k', `o${i}`))));
    t.equal(results.filter((r) => r.kind === 'claimed').length, 1);
  });

  t.test('a newer schema is refused', async (t) => {
    const url = await newDatabase();
    await (await openPostgresLedger(url)).close();
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    t.teardown(() => db.end());
    await db.query(`UPDATE fiscal_ledger_meta SET value = 42 WHERE name = 'schema_version'`);
    await t.rejects(openPostgresLedger(url), { code: 'TASK_LEDGER_SCHEMA', message: /schema version 42 was written by a newer engine/ });
  });

  t.test('a server that does not answer, a wrong password, a missing database: TASK_LEDGER_UNAVAILABLE naming host:port', async (t) => {
    // a port nobody listens on: the server's own port once it is stopped would race, so ask the OS for a closed one
    const { createServer } = await import('node:net');
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const down = `postgres://postgres:${POSTGRES_PASSWORD}@127.0.0.1:${closed}/postgres`;
    const refused = await openPostgresLedger(down).then(() => null, (e: unknown) => e as Error & { code: string; exitCode: number });
    t.match(refused, { code: 'TASK_LEDGER_UNAVAILABLE', exitCode: 2, message: `PostgreSQL ledger 127.0.0.1:${closed}/postgres: connection refused` });
    t.notMatch(refused!.message, POSTGRES_PASSWORD);
    const wrong = server.url.replace(POSTGRES_PASSWORD, 'not-the-password');
    await t.rejects(openPostgresLedger(wrong), { code: 'TASK_LEDGER_UNAVAILABLE', message: /password authentication failed/ });
    await t.rejects(openPostgresLedger(server.database('no_such_db')), { code: 'TASK_LEDGER_UNAVAILABLE', message: /127\.0\.0\.1:\d+\/no_such_db: database "no_such_db" does not exist/ });
  });
}

t.test('URLs: the password is removed, host:port/database named', async (t) => {
  t.equal(redactPostgresUrl('postgres://u:secret@db.example:6543/ledger?sslmode=require&password=x'), 'postgres://u@db.example:6543/ledger?sslmode=require');
  t.equal(describePostgresUrl('postgres://u:secret@db.example:6543/ledger'), 'db.example:6543/ledger');
  t.equal(describePostgresUrl('postgresql://db.example/ledger'), 'db.example:5432/ledger');
  t.equal(describePostgresUrl('postgres:///ledger?host=/var/run/postgresql'), '/var/run/postgresql:5432/ledger');
});
