/**
 * Tasks over HTTP against a server of the test's own (127.0.0.1): streamed GET inputs, streamed PUT outputs,
 * retries on network errors only, a 404 and a dropped connection as TASK_INPUT, a refused PUT as TASK_OUTPUT.
 */
import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runTask } from '../../src/tasks/run-task.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import type { TaskHandler } from '../../src/tasks/handler.js';
import type { Claim } from '../../src/tasks/ledger.js';
import { tempDir } from '../helpers/temp-dir.js';

const EFD = readFileSync(new URL('../../fixtures/sped/efd-icms-ipi-2026-01.txt', import.meta.url));
const NFE = readFileSync(new URL('../../fixtures/nfe/35260311222333000181550020000000021111424546-nfe.xml', import.meta.url));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const requests: string[] = [];
const puts = new Map<string, Buffer>();
let flaky = 0;

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  requests.push(`${req.method} ${url.pathname}`);
  if (req.method === 'PUT') {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      if (url.pathname.startsWith('/forbidden')) {
        res.writeHead(403).end('no');
        return;
      }
      puts.set(url.pathname, Buffer.concat(parts));
      res.writeHead(200).end();
    });
    return;
  }
  if (url.pathname === '/efd.txt') {
    res.writeHead(200, { 'content-length': EFD.length }).end(EFD);
  } else if (url.pathname === '/notes/nfe.xml') {
    res.writeHead(200, { 'content-length': NFE.length }).end(NFE);
  } else if (url.pathname === '/drop.txt' || (url.pathname === '/flaky.txt' && flaky++ === 0)) {
    // the headers promise the whole file; half of it comes, then the connection drops
    res.writeHead(200, { 'content-length': EFD.length });
    res.write(EFD.subarray(0, EFD.length >> 1), () => res.socket?.destroy());
  } else if (url.pathname === '/flaky.txt') {
    res.writeHead(200, { 'content-length': EFD.length }).end(EFD);
  } else {
    res.writeHead(404).end('not found');
  }
}

const server = createServer(handle);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const http = { retries: 2, backoffMs: 10, timeoutMs: 5000 };

t.beforeEach(() => {
  requests.length = 0;
});

t.test('an HTTP input is fetched, hashed and converted; an HTTP output is PUT, its digest recorded, its URL without the query', async (t) => {
  const dir = tempDir('fiscal-http-');
  const ledger = new MemoryLedger();
  const task = { type: 'sped.to-jsonl', input: `${base}/efd.txt`, output: `${base}/out/efd.jsonl?X-Amz-Signature=first` };
  const m = await runTask(task, { ledger, workDir: join(dir, '.fiscal'), http });
  t.match(m, { status: 'done', reused: false, input: { sha256: sha(EFD), bytes: EFD.length }, output: { url: `${base}/out/efd.jsonl` } });
  const body = puts.get('/out/efd.jsonl');
  t.ok(body && body.length > 0, 'the PUT arrived');
  t.equal(m.output?.sha256, sha(body!));
  t.equal((await ledger.get(m.key!))?.outputDigest, sha(body!));
  t.same(requests, ['GET /efd.txt', 'PUT /out/efd.jsonl']);
  // a redelivery with a fresh presigned signature is the same task: reused, no second PUT
  requests.length = 0;
  const again = await runTask({ ...task, output: `${base}/out/efd.jsonl?X-Amz-Signature=second` }, { ledger, workDir: join(dir, '.fiscal'), http });
  t.match(again, { status: 'done', reused: true, key: m.key });
  t.same(requests, ['GET /efd.txt'], 'only the input was read (its digest is the key)');
  t.same(readdirSync(join(dir, '.fiscal', 'inputs')), [], 'no download left');
});

t.test('a 404 is TASK_INPUT at once, never retried', async (t) => {
  const dir = tempDir('fiscal-http-');
  const m = await runTask({ type: 'sped.validate', input: `${base}/nope.txt`, output: join(dir, 'r.txt') }, { ledger: new MemoryLedger(), workDir: join(dir, '.fiscal'), http });
  t.match(m, { status: 'failed', key: null, error: { code: 'TASK_INPUT', message: /404/ } });
  t.same(requests, ['GET /nope.txt']);
  t.notOk(existsSync(join(dir, 'r.txt')));
});

t.test('a connection dropped mid-body is retried, then TASK_INPUT; nothing is left behind', async (t) => {
  const dir = tempDir('fiscal-http-');
  const m = await runTask({ type: 'sped.validate', input: `${base}/drop.txt`, output: join(dir, 'r.txt') }, { ledger: new MemoryLedger(), workDir: join(dir, '.fiscal'), http });
  t.match(m, { status: 'failed', key: null, error: { code: 'TASK_INPUT', message: /drop\.txt/ } });
  t.same(requests, ['GET /drop.txt', 'GET /drop.txt', 'GET /drop.txt'], 'the first try and two retries');
  t.same(readdirSync(dir).filter((n) => n !== '.fiscal'), []);
  t.same(readdirSync(join(dir, '.fiscal', 'inputs')), [], 'no partial download');
});

t.test('a dropped connection that works on the retry gives the whole input', async (t) => {
  const dir = tempDir('fiscal-http-');
  const m = await runTask({ type: 'sped.stats', input: `${base}/flaky.txt`, output: join(dir, 's.txt'), options: { json: true } }, { ledger: new MemoryLedger(), workDir: join(dir, '.fiscal'), http });
  t.match(m, { status: 'done', input: { sha256: sha(EFD), bytes: EFD.length } });
  t.same(requests, ['GET /flaky.txt', 'GET /flaky.txt']);
  t.equal(JSON.parse(readFileSync(join(dir, 's.txt'), 'utf8')).bytes, EFD.length);
});

t.test('a refused PUT is TASK_OUTPUT, recorded as failed, not retried', async (t) => {
  const dir = tempDir('fiscal-http-');
  const ledger = new MemoryLedger();
  const m = await runTask({ type: 'sped.stats', input: `${base}/efd.txt`, output: `${base}/forbidden/s.txt` }, { ledger, workDir: join(dir, '.fiscal'), http });
  t.match(m, { status: 'failed', attempts: 1, error: { code: 'TASK_OUTPUT', message: /403/ } });
  t.match(await ledger.get(m.key!), { status: 'failed', error: { code: 'TASK_OUTPUT' } });
  t.same(requests, ['GET /efd.txt', 'PUT /forbidden/s.txt']);
});

t.test('an NF-e from a URL names its source by the key and the URL name, not by a temporary path', async (t) => {
  const dir = tempDir('fiscal-http-');
  const cwd = process.cwd();
  process.chdir(dir);
  t.teardown(() => process.chdir(cwd));
  const outputs: string[] = [];
  for (let n = 0; n < 2; n++) {
    const m = await runTask({ type: 'nfe.to-jsonl', input: `${base}/notes/nfe.xml`, output: 'out.jsonl' }, { ledger: new MemoryLedger(), http });
    t.match(m, { status: 'done', reused: false });
    outputs.push(readFileSync(join(dir, 'out.jsonl'), 'utf8'));
  }
  const first = JSON.parse(outputs[0]!.split('\n')[0]!) as { source: string };
  t.match(first.source, /^\.fiscal\/inputs\/[0-9a-f]{16}\/nfe\.xml$/);
  t.not(outputs[0], '');
  t.notOk(existsSync(join(dir, first.source)), 'the download is gone');
  // the same task run again (another ledger: not reused) writes the same bytes
  t.equal(outputs[1], outputs[0]);
});

t.test('a download survives a lost lease: the next claim of the same run reads it again', async (t) => {
  const dir = tempDir('fiscal-http-');
  let clock = 0;
  const ledger = new MemoryLedger(() => clock);
  let takeover: Claim | null = null;
  const reads: string[] = [];
  const handler: TaskHandler = async (ctx) => {
    reads.push(readFileSync(ctx.input.path, 'latin1').slice(0, 6));
    if (reads.length === 1) {
      clock += 60_000; // our lease runs out and another owner claims the key, then fails
      const r = await ledger.claim({ key: ctx.key, type: 'sped.stats', payloadDigest: (await ledger.get(ctx.key))!.payloadDigest, owner: 'B', leaseMs: 1000 });
      if (r.kind === 'claimed') takeover = r.claim;
    }
    (await ctx.output.open()).write('ok\n');
    return { exitCode: 0, counts: {}, findings: { errors: 0, warnings: 0 } };
  };
  const m = await runTask({ type: 'sped.stats', input: `${base}/efd.txt`, output: join(dir, 's.txt') }, {
    ledger, workDir: join(dir, '.fiscal'), http, pollMs: 5, handlers: { 'sped.stats': handler },
    onProgress: (p) => {
      if (p.phase === 'waiting' && takeover) {
        void ledger.fail(takeover, { error: { code: 'X', message: 'B gave up' }, manifest: null });
        takeover = null;
      }
    },
  });
  t.match(m, { status: 'done', reused: false, attempts: 3 });
  t.same(reads, ['|0000|', '|0000|'], 'both attempts read the downloaded input');
  t.same(requests, ['GET /efd.txt'], 'downloaded once');
  t.same(readdirSync(join(dir, '.fiscal', 'inputs')), []);
});
