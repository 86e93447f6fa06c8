/**
 * A real PostgreSQL for the tests: a throwaway cluster (initdb in a temp folder, run as the `postgres` user when
 * the tests run as root) on a free loopback port, password authentication over TCP, stopped and deleted at the
 * end. FISCAL_TEST_POSTGRES_URL names an existing server instead. In CI (CI=true) a server that cannot be started
 * fails the test; elsewhere the tests skip with the install command.
 */
import type { Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const POSTGRES_INSTALL = 'apt-get install -y postgresql';
export const POSTGRES_PASSWORD = 'ledger-test-secret';

export interface PostgresServer {
  /** postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  /** The URL of another database on this server. */
  database(name: string): string;
}

/** The newest PostgreSQL server binaries installed (Debian keeps them in /usr/lib/postgresql/N/bin). */
function serverBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? null : join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts the server for this test file (stopped at its end), or returns why it cannot (skip outside CI). */
export async function startPostgres(t: Test): Promise<PostgresServer | { readonly skip: string }> {
  const given = process.env.FISCAL_TEST_POSTGRES_URL;
  if (given) return server(given);
  const bin = serverBin();
  if (!bin) return unavailable(t, `no PostgreSQL server binaries in /usr/lib/postgresql (${POSTGRES_INSTALL})`);
  const root = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'fiscal-pg-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${POSTGRES_PASSWORD}\n`);
  if (root) {
    // initdb and postgres refuse to run as root: the cluster belongs to the postgres user
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gids = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (ids.status !== 0) return unavailable(t, `no postgres user to run the server as (${POSTGRES_INSTALL})`);
    chownSync(dir, Number(ids.stdout.trim()), Number(gids.stdout.trim()));
    chownSync(pwfile, Number(ids.stdout.trim()), Number(gids.stdout.trim()));
    chmodSync(dir, 0o700);
  }
  const as = (cmd: string, args: string[]) =>
    root ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' }) : spawnSync(cmd, args, { encoding: 'utf8' });
  t.teardown(() => {
    if (existsSync(join(data, 'postmaster.pid'))) as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  });
  const init = as(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  if (init.status !== 0) return unavailable(t, `initdb failed: ${init.stderr.trim() || init.error?.message}`);
  const port = await freePort();
  const start = as(join(bin, 'pg_ctl'), [
    '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60',
    '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    'start',
  ]);
  if (start.status !== 0) return unavailable(t, `pg_ctl start failed: ${start.stderr.trim() || start.stdout.trim()}`);
  return server(`postgres://postgres:${POSTGRES_PASSWORD}@127.0.0.1:${port}/postgres`);
}

function server(url: string): PostgresServer {
  const u = new URL(url);
  return {
    url,
    port: Number(u.port || 5432),
    database(name: string) {
      const other = new URL(url);
      other.pathname = `/${name}`;
      return other.toString();
    },
  };
}

function unavailable(t: Test, why: string): { skip: string } {
  if (process.env.CI === 'true') {
    t.fail(`CI must run the PostgreSQL tests: ${why}`);
    return { skip: why };
  }
  return { skip: `PostgreSQL cannot be started here (${why}); install it: ${POSTGRES_INSTALL}` };
}
