// `fiscal nfe to-jsonl | to-csv | validate | verify --threads N`: stdout, stderr and the exit code are the same
// bytes at 1 and 2 threads, from a directory, a zip and stdin, with and without --fail-fast and --json.
// Workers run dist/ (npm run build).
import t from 'tap';
import { run } from '../helpers/cli.js';
import { needTools } from '../helpers/certs.js';
import { MIXED_MAX_BYTES, writeMixedBatch } from '../helpers/nfe-mixed-batch.js';

t.test('1 and 2 threads print the same bytes and exit the same way', needTools('openssl'), async (t) => {
  const b = writeMixedBatch(t.testdir(), 12);
  const inputs: [string, string, Buffer | undefined][] = [
    ['directory', b.dir, undefined],
    ...(b.zip ? [['zip', b.zip, undefined] as [string, string, undefined]] : []),
    ['stdin', '-', b.stdin],
  ];
  const all = [
    ['to-jsonl'], ['to-csv'], ['to-csv', '--items', '--delimiter', ';', '--decimal-comma'], ['validate'], ['validate', '--json'],
    ['verify'], ['verify', '--json'],
  ];
  const some = [['to-jsonl'], ['verify']];
  for (const [name, source, stdin] of inputs) {
    // every command on the directory, two on the zip and stdin: each run at 2 threads starts its workers, slow on a
    // loaded machine (test/nfe/batch-pool.ts compares every function on every source through the library)
    for (const cmd of name === 'directory' ? all : some) {
      for (const extra of cmd[0] === 'verify' || cmd[0] === 'to-jsonl' ? [[], ['--fail-fast']] : [[]]) {
        const argv = ['nfe', ...cmd, source, '--max-bytes', String(MIXED_MAX_BYTES), '--no-progress', ...extra];
        const one = await run([...argv, '--threads', '1'], stdin);
        const two = await run([...argv, '--threads', '2'], stdin);
        const label = `${cmd.join(' ')} ${name}${extra.length ? ' --fail-fast' : ''}`;
        t.equal(one.code, 1, `${label}: the broken documents give exit 1`);
        t.equal(two.code, one.code, `${label}: the same exit code`);
        t.equal(two.stdout, one.stdout, `${label}: the same stdout`);
        t.equal(two.stderr, one.stderr, `${label}: the same stderr`);
      }
    }
  }
});

t.test('--threads must be a whole number of at least 1', async (t) => {
  for (const bad of ['0', '-1', '1.5', 'two']) {
    const r = await run(['nfe', 'verify', '-', '--threads', bad]);
    t.equal(r.code, 2, `--threads ${bad}: usage error`);
    t.match(r.stderr, /threads/);
  }
});
