/**
 * A throwaway RabbitMQ 3.10 node (/work/shared/services.md), shared by the tests (test/helpers/rabbitmq.ts, which
 * ties it to a tap teardown) and the queue benchmark (bench/queue.mjs): run as the `rabbitmq` user when root, its
 * own node name, free AMQP and distribution ports, every listener on 127.0.0.1, mnesia, logs, config and an empty
 * plugin list in a temp dir. Readiness is an AMQP connect (rabbitmqctl looks for the cookie in the passwd home and
 * can hang), with a 60 s deadline. `restart()` stops and starts the same node on the same mnesia dir; `remove()`
 * stops it and deletes its dir. Startup is about 7 s.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { freePort } from './free-port.mjs';

export const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
export const RABBITMQ_INSTALL = 'apt-get install -y rabbitmq-server';

/** Whether rabbitmq-server is installed where Debian's package puts it. */
export function rabbitInstalled() {
  return existsSync(RABBITMQ_SERVER);
}

function rabbitUser() {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(spawnSync('id', ['-u', 'rabbitmq'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'rabbitmq'], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('running as root but there is no rabbitmq user');
  return { uid, gid };
}

function logTail(dir) {
  const parts = [];
  const logs = join(dir, 'log');
  const files = existsSync(logs) ? readdirSync(logs).map((f) => join(logs, f)) : [];
  for (const f of [join(dir, 'stdout.log'), ...files]) {
    if (existsSync(f)) parts.push(`--- ${f}\n${readFileSync(f, 'utf8').split('\n').slice(-30).join('\n')}`);
  }
  return parts.join('\n');
}

async function answersAmqp(url) {
  try {
    const conn = await amqp.connect(url);
    await conn.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a node and resolves once it accepts AMQP. On failure the node is stopped, its dir removed, and the error
 * carries the end of its logs.
 * @returns {Promise<{ url: string, port: number, dir: string, restart(): Promise<void>, stop(): Promise<void>, remove(): Promise<void> }>}
 */
export async function launchRabbit() {
  const user = rabbitUser();
  const dir = mkdtempSync(join(tmpdir(), 'fiscal-rabbit-'));
  for (const d of ['mnesia', 'log']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq.conf'), '');
  writeFileSync(join(dir, 'stdout.log'), '');
  if (user) for (const p of [dir, join(dir, 'mnesia'), join(dir, 'log'), join(dir, 'enabled_plugins'), join(dir, 'rabbitmq.conf'), join(dir, 'stdout.log')]) chownSync(p, user.uid, user.gid);
  const port = await freePort();
  const distPort = await freePort();
  const node = `fiscal-${randomBytes(4).toString('hex')}@localhost`;
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: user ? '/var/lib/rabbitmq' : (process.env.HOME ?? dir),
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
  };
  /** @type {import('node:child_process').ChildProcess | null} */
  let child = null;

  async function stopNode() {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
    const exited = new Promise((r) => proc.once('exit', r));
    try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* already gone */ }
    await exited;
    // the node's beam may outlive the wrapper for a moment: wait until the port is free again
    const deadline = Date.now() + 30_000;
    while (await answersAmqp(url)) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function start() {
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const [cmd, args] = user ? ['runuser', ['-u', 'rabbitmq', '--', 'env', ...envArgs, RABBITMQ_SERVER]] : ['env', [...envArgs, RABBITMQ_SERVER]];
    const out = openSync(join(dir, 'stdout.log'), 'a');
    const proc = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    child = proc;
    const deadline = Date.now() + 60_000;
    while (!(await answersAmqp(url))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        await stopNode();
        throw new Error(`rabbitmq-server ${node} did not accept AMQP on 127.0.0.1:${port} within 60 s\n${logTail(dir)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async function remove() {
    await stopNode();
    rmSync(dir, { recursive: true, force: true });
  }

  try {
    await start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    dir,
    async restart() { await stopNode(); await start(); },
    stop: stopNode,
    remove,
  };
}
