// `fiscal sped validate FILE --threads 2` prints exactly what `--threads 1` prints (--json on stdout, findings on
// stderr), on a file large enough to be validated in byte ranges by default, with findings in several ranges; and
// `sped stats`, `sped to-jsonl` and `sped to-csv` the same way (the summary, the JSON Lines, the CSV files, the
// findings).
// Workers run dist/pool/worker.js: `npm run build` first.
import t, { type Test } from 'tap';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from '../helpers/cli.js';
import { linesOf, setField, syntheticFile, writeTemp } from '../helpers/sped.js';
import { validateSped } from '../../src/sped/validator.js';
import { MIN_PARALLEL_BYTES, type RangeValidateOptions } from '../../src/sped/validate-ranges.js';

const lines = linesOf(await syntheticFile({ layout: 'efd-icms-ipi', documents: 9000, seed: 12, profile: 'realistic' }));
// findings spread over block C (most of the file): a reference, a field, a register the layout lacks, the block's
// line count (and so 9900's count of C190)
const nth = (reg: string, frac: number): number => {
  const at = lines.flatMap((l, i) => (l.startsWith(`|${reg}|`) ? [i] : []));
  return at[Math.floor(at.length * frac)]!;
};
const edits: [number, string][] = [
  [nth('C170', 0.2), setField(lines[nth('C170', 0.2)]!, 3, 'NO-SUCH-ITEM')],
  [nth('C170', 0.4), setField(lines[nth('C170', 0.4)]!, 5, 'X')],
  [nth('C190', 0.8), '|ZZZZ|1|'],
  [nth('C990', 0), setField(lines[nth('C990', 0)]!, 2, '12')],
  [nth('C170', 0.6), ''],
  [nth('C170', 0.9), 'not a record'],
];
for (const [i, line] of edits) lines[i] = line;
const path = writeTemp('big.txt', Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'latin1'));
t.teardown(() => rmSync(dirname(path), { recursive: true, force: true })); // 12 MB

t.test('the file is validated in ranges by default on two threads', async (t) => {
  t.ok(statSync(path).size >= MIN_PARALLEL_BYTES, 'large enough for ranges');
  let plan: { ranges: number; fallback: string | null } | null = null;
  const r = await validateSped(path, { threads: 2, onPlan: (p) => (plan = p) } as RangeValidateOptions);
  t.equal(plan!.fallback, null);
  t.ok(plan!.ranges >= 3, `several ranges (${plan!.ranges})`);
  t.ok(r.errorCount >= 5, `findings in several ranges (${r.errorCount})`);
});

t.test('--threads 2 --json prints the bytes --threads 1 prints', async (t) => {
  const one = await run(['sped', 'validate', path, '--threads', '1', '--json', '--no-progress']);
  const two = await run(['sped', 'validate', path, '--threads', '2', '--json', '--no-progress']);
  t.equal(one.code, 1);
  t.equal(two.code, one.code);
  t.ok(Buffer.from(two.stdout).equals(Buffer.from(one.stdout)), 'same stdout, byte for byte');
  t.ok(JSON.parse(one.stdout).errors.length >= 5);
});

t.test('--threads 2 prints the same findings on stderr, in the same order', async (t) => {
  const one = await run(['sped', 'validate', path, '--threads', '1', '--no-progress']);
  const two = await run(['sped', 'validate', path, '--threads', '2', '--no-progress']);
  t.equal(two.code, one.code);
  t.equal(two.stderr, one.stderr);
});

t.test('sped stats --threads 2 prints the summary and findings --threads 1 prints', async (t) => {
  for (const json of [['--json'], []]) {
    const one = await run(['sped', 'stats', path, '--threads', '1', '--no-progress', ...json]);
    const two = await run(['sped', 'stats', path, '--threads', '2', '--no-progress', ...json]);
    t.equal(one.code, 1, 'the blank and garbage lines are findings');
    t.equal(two.code, one.code);
    t.equal(two.stdout, one.stdout, `the same summary${json.length ? ' (JSON)' : ''}`);
    t.equal(two.stderr, one.stderr, 'the same findings');
    t.match(one.stderr, /blank line/);
  }
});

/** A command at one and two threads (`out`: where its output goes, per thread count): both exit 1, print the same findings. */
async function oneAndTwo(t: Test, argv: (out: string) => string[]): Promise<void> {
  const dir = dirname(path);
  const one = await run([...argv(join(dir, 'out-1')), '--threads', '1', '--no-progress']);
  const two = await run([...argv(join(dir, 'out-2')), '--threads', '2', '--no-progress']);
  t.equal(one.code, 1);
  t.equal(two.code, one.code);
  t.equal(two.stderr, one.stderr, 'the same findings and notes');
}

t.test('sped to-jsonl --threads 2 writes the bytes --threads 1 writes', async (t) => {
  const dir = dirname(path);
  await oneAndTwo(t, (out) => ['sped', 'to-jsonl', path, '-o', `${out}.jsonl`]);
  const a = readFileSync(join(dir, 'out-1.jsonl'));
  t.ok(a.length > 20 << 20, `a large output (${a.length} bytes)`);
  t.ok(readFileSync(join(dir, 'out-2.jsonl')).equals(a), 'the same JSON Lines, byte for byte');
});

t.test('sped to-csv --threads 2 writes the files --threads 1 writes', async (t) => {
  const dir = dirname(path);
  await oneAndTwo(t, (out) => ['sped', 'to-csv', path, '--out-dir', `${out}-csv`]);
  const names = readdirSync(join(dir, 'out-1-csv')).sort();
  t.ok(names.includes('C170.csv') && names.length > 20, `one file per register (${names.length})`);
  t.strictSame(readdirSync(join(dir, 'out-2-csv')).sort(), names, 'the same files');
  for (const name of names) t.ok(readFileSync(join(dir, 'out-2-csv', name)).equals(readFileSync(join(dir, 'out-1-csv', name))), `${name}: the same bytes`);
});

t.test('--threads 0 is a usage error', async (t) => {
  const r = await run(['sped', 'validate', path, '--threads', '0']);
  t.equal(r.code, 2);
  t.match(r.stderr, /threads/);
});
