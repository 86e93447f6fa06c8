// examples/lambda/handler.mjs, run as Lambda would: an SQS event whose tasks read a presigned GET URL and write a
// presigned PUT URL (a local server stands for the object store). A redelivered message (same task, a fresh
// signature) returns the recorded manifest and PUTs nothing; a task that fails on its input is not retried.
import t from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EFD = readFileSync(join(ROOT, 'fixtures/sped/efd-icms-ipi-2026-01.txt'));

interface Example {
  handler(event: unknown): Promise<{ batchItemFailures: { itemIdentifier: string }[]; manifests: { messageId: string; manifest?: Record<string, unknown>; error?: string }[] }>;
  closeLedger(): Promise<void>;
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

t.test('an SQS batch with a redelivery and a bad input', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fiscal-lambda-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const puts: { path: string; body: Buffer }[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method === 'GET' && path === '/bucket/EFD-2026-01.txt') {
      res.end(EFD);
    } else if (req.method === 'PUT' && path.startsWith('/bucket/results/')) {
      void body(req).then((b) => {
        puts.push({ path, body: b });
        res.end();
      });
    } else {
      res.statusCode = 404;
      res.end('no such key');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}/bucket`;

  process.env.FISCAL_LEDGER = `sqlite:${join(dir, 'ledger.db')}`;
  const cwd = process.cwd();
  process.chdir(dir); // downloads go under .fiscal/ in the working directory, as in a Lambda's /tmp
  t.teardown(() => process.chdir(cwd));
  const example = (await import(join(ROOT, 'examples/lambda/handler.mjs'))) as Example;
  t.teardown(() => example.closeLedger());

  const task = (sig: string) => JSON.stringify({
    type: 'sped.validate',
    input: `${base}/EFD-2026-01.txt?X-Amz-Signature=${sig}`,
    output: `${base}/results/EFD-2026-01.json?X-Amz-Signature=${sig}`,
    options: { json: true },
  });
  const first = await example.handler({ Records: [{ messageId: 'm1', body: task('a1') }] });
  t.same(first.batchItemFailures, []);
  const m1 = first.manifests[0]!.manifest!;
  t.match(m1, { status: 'done', reused: false, type: 'sped.validate', attempts: 1, findings: { errors: 0 } });
  t.equal(puts.length, 1, 'one PUT');
  t.match(JSON.parse(puts[0]!.body.toString()), { valid: true, layout: 'efd-icms-ipi' });

  // SQS delivers the message again (a visibility timeout ran out), with a freshly signed URL, beside two others
  const again = await example.handler({
    Records: [
      { messageId: 'm1', body: task('b2') },
      { messageId: 'm2', body: JSON.stringify({ type: 'sped.validate', input: `${base}/missing.txt`, output: `${base}/results/missing.json` }) },
      { messageId: 'm3', body: '{not json' },
    ],
  });
  const [redelivered, missing, poison] = again.manifests;
  t.match(redelivered!.manifest, { status: 'done', reused: true, key: m1.key, attempts: 1 });
  t.equal(puts.length, 1, 'the redelivery PUT nothing');
  t.match(missing!.manifest, { status: 'failed', error: { code: 'TASK_INPUT' } });
  t.equal(poison!.error, 'not JSON');
  t.same(again.batchItemFailures, [], 'failures on the input are not retried');
});
