// examples/celery/fiscal_celery.py with a real Celery worker (Debian's python3-celery) and a Redis broker: the
// same task sent twice is done once; the second call returns the recorded manifest (`fiscal run -` under it).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisSkip, startRedis } from '../helpers/redis.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Debian's interpreter: python3-celery installs for it, whatever python3 comes first on PATH
const PYTHON = '/usr/bin/python3';

function celerySkip(): { skip: string | false } {
  const redis = redisSkip();
  if (redis.skip) return redis;
  const ok = spawnSync(PYTHON, ['-c', 'import celery, redis'], { stdio: 'ignore' }).status === 0;
  if (ok || process.env.CI === 'true') return { skip: false };
  return { skip: 'needs Celery for /usr/bin/python3: apt-get install -y python3-celery python3-redis' };
}

const CLIENT = `
import json, sys
from fiscal_celery import fiscal_run
task = json.loads(sys.argv[1])
first = fiscal_run.delay(task).get(timeout=120)
second = fiscal_run.delay(task).get(timeout=120)
print(json.dumps([first, second]))
`;

t.test('a Celery worker running fiscal run -', celerySkip(), async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fiscal-celery-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const env = {
    ...process.env,
    CELERY_BROKER_URL: `${redis.url}/0`,
    FISCAL_BIN: `${process.execPath} ${join(ROOT, 'bin/fiscal.js')}`,
    FISCAL_LEDGER: `sqlite:${join(dir, 'ledger.db')}`,
    PYTHONPATH: join(ROOT, 'examples/celery'),
    PYTHONDONTWRITEBYTECODE: '1',
  };
  const worker = spawn(PYTHON, ['-m', 'celery', '-A', 'fiscal_celery', 'worker', '--pool=solo', '--concurrency=1', '--loglevel=WARNING', '--without-gossip', '--without-mingle', '--without-heartbeat'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  worker.stderr.on('data', (b: Buffer) => (log += b.toString()));
  t.teardown(async () => {
    if (worker.exitCode !== null) return;
    const exited = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGTERM');
    await exited;
  });

  const output = join(dir, 'report.json');
  const task = { type: 'sped.validate', input: join(ROOT, 'fixtures/sped/efd-icms-ipi-2026-01.txt'), output, options: { json: true } };
  const client = spawn(PYTHON, ['-c', CLIENT, JSON.stringify(task)], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  client.stdout.on('data', (b: Buffer) => (out += b.toString()));
  client.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((r) => client.once('exit', r));
  t.equal(code, 0, `client: ${err}\nworker: ${log}`);
  const [first, second] = JSON.parse(out) as { reused: boolean; key: string; status: string; attempts: number }[];
  t.match(first, { status: 'done', reused: false, attempts: 1 });
  t.match(second, { status: 'done', reused: true, key: first!.key, attempts: 1 });
  t.match(JSON.parse(readFileSync(output, 'utf8')), { valid: true });
});
