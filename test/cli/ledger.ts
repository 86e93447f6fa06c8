// `fiscal ledger show | list | gc` on a real SQLite ledger filled through the library.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSqliteLedger } from '../../src/tasks/ledger-sqlite.js';
import type { Claim, Ledger } from '../../src/tasks/ledger.js';
import { claimed, request } from '../helpers/ledger-conformance.js';
import { run } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fiscal-cli-ledger-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A ledger with one done, one failed and one running task; the CLI opens it by URL. */
async function filled(t: Test): Promise<{ url: string; ledger: Ledger; running: Claim }> {
  const path = join(dir, `l${++n}`, 'ledger.db');
  const ledger = await openSqliteLedger(path);
  t.teardown(() => ledger.close());
  const done = claimed(t, await ledger.claim(request('done-key', 'host:1:aa')), 'done');
  await ledger.complete(done, { outputDigest: 'e'.repeat(64), manifest: { status: 'done', counts: { lines: 3 } } });
  await sleep(3);
  const failed = claimed(t, await ledger.claim(request('failed-key', 'host:2:bb')), 'failed');
  await ledger.checkpoint(failed, { offset: 512 }, 60_000);
  await ledger.fail(failed, { error: { code: 'TASK_INPUT', message: 'cannot open in.txt' }, manifest: { status: 'failed' } });
  await sleep(3);
  const running = claimed(t, await ledger.claim(request('running-key', 'host:3:cc')), 'running');
  return { url: `sqlite:${path}`, ledger, running };
}

t.test('show: every field for people, the entry itself with --json', async (t) => {
  const { url, ledger } = await filled(t);
  const r = await run(['ledger', 'show', 'done-key', '--ledger', url]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^key +done-key$/m);
  t.match(r.stdout, /^status +done$/m);
  t.match(r.stdout, /^attempts +1$/m);
  t.match(r.stdout, /^owner +host:1:aa$/m);
  t.match(r.stdout, /^lease +none$/m);
  t.match(r.stdout, new RegExp(`^output +sha256 ${'e'.repeat(64)}$`, 'm'));
  t.match(r.stdout, /^manifest +\{\n +"status": "done",\n +"counts": \{\n +"lines": 3/m);
  const json = await run(['ledger', 'show', 'done-key', '--json', '--ledger', url]);
  t.equal(json.code, 0);
  t.same(JSON.parse(json.stdout), await ledger.get('done-key'));

  const failed = await run(['ledger', 'show', 'failed-key', '--ledger', url]);
  t.match(failed.stdout, /^error +TASK_INPUT: cannot open in\.txt$/m);
  t.match(failed.stdout, /^checkpoint +\{"offset":512\}$/m);
  const running = await run(['ledger', 'show', 'running-key', '--ledger', url]);
  t.match(running.stdout, /^lease +held until \d{4}-\d\d-\d\dT[\d:.]+Z \(in \d+ s\)$/m);
});

t.test('show of a key the ledger does not hold: exit 1, not found', async (t) => {
  const { url } = await filled(t);
  const r = await run(['ledger', 'show', 'nope', '--ledger', url]);
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.equal(r.stderr, 'fiscal: task nope: not found in the ledger [TASK_NOT_FOUND]\n');
});

t.test('list: a table newest first, --status, --limit, --json', async (t) => {
  const { url, ledger } = await filled(t);
  const r = await run(['ledger', 'list', '--ledger', url]);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.match(lines[0], /^STATUS +ATTEMPTS +UPDATED +TYPE +KEY$/);
  t.same(lines.slice(1).map((l) => l.split(/ +/)[0]), ['running', 'failed', 'done']);
  t.match(lines[1], /^running +1 +\d{4}-\d\d-\d\dT[\d:.]+Z +sped\.validate +running-key$/);
  const done = await run(['ledger', 'list', '--status', 'done', '--json', '--ledger', url]);
  t.same(JSON.parse(done.stdout), await ledger.list({ status: 'done' }));
  const one = await run(['ledger', 'list', '--limit', '1', '--json', '--ledger', url]);
  t.same((JSON.parse(one.stdout) as { key: string }[]).map((e) => e.key), ['running-key']);
  t.equal((await run(['ledger', 'list', '--status', 'running', '--ledger', join(dir, 'x')])).code, 2, 'a bad URL');
  const none = await run(['ledger', 'list', '--ledger', `sqlite:${join(dir, 'empty.db')}`]);
  t.equal(none.stdout, 'no entries\n');
  const bad = await run(['ledger', 'list', '--status', 'lost', '--ledger', url]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /expected one of running, done, failed/);
});

t.test('gc: deletes done and failed entries older than the age; a bad age is a usage error', async (t) => {
  const { url, ledger } = await filled(t);
  const keep = await run(['ledger', 'gc', '--older-than', '30d', '--ledger', url]);
  t.equal(keep.code, 0, keep.stderr);
  t.equal(keep.stdout, `${url}: deleted 0 done or failed task(s) older than 30d\n`);
  await sleep(5);
  const r = await run(['ledger', 'gc', '--older-than', '0s', '--json', '--ledger', url]);
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { deleted: 2, olderThanMs: 0, ledger: url });
  t.same((await ledger.list()).map((e) => e.key), ['running-key']);
  for (const age of ['30', '30x', '-1d', '1.5h', '']) {
    const bad = await run(['ledger', 'gc', '--older-than', age, '--ledger', url]);
    t.equal(bad.code, 2, `--older-than ${JSON.stringify(age)}`);
    t.match(bad.stderr, /bad duration .*expected a whole number and a unit, e\.g\. 30d, 12h, 15m or 45s \[USAGE\]/);
  }
  const missing = await run(['ledger', 'gc', '--ledger', url]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /--older-than/);
});

t.test('--ledger: a bad URL or a server that is not there is exit 2 with a code, no stack trace; FISCAL_LEDGER is the default', async (t) => {
  const bad = await run(['ledger', 'list', '--ledger', 'mysql://me:hunter2@h/db']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^fiscal: ledger URL mysql:\/\/me:\*\*\*@h\/db: expected sqlite:PATH or postgres:.* \[TASK_LEDGER_URL\]\n$/);
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const down = await run(['ledger', 'show', 'k', '--ledger', `postgres://me:hunter2@127.0.0.1:${port}/db`]);
  t.equal(down.code, 2);
  t.equal(down.stderr, `fiscal: PostgreSQL ledger 127.0.0.1:${port}/db: connection refused (is the server running?) [TASK_LEDGER_UNAVAILABLE]\n`);
  const { url } = await filled(t);
  const saved = process.env.FISCAL_LEDGER;
  process.env.FISCAL_LEDGER = url;
  t.teardown(() => (saved === undefined ? delete process.env.FISCAL_LEDGER : (process.env.FISCAL_LEDGER = saved)));
  const fromEnv = await run(['ledger', 'show', 'done-key', '--json']);
  t.equal(fromEnv.code, 0, fromEnv.stderr);
  t.equal((JSON.parse(fromEnv.stdout) as { key: string }).key, 'done-key');
});
