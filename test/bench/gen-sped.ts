/**
 * bench/gen-sped.mjs: the generator of large synthetic SPED files, run as users run it (a child process on the
 * built library), at a small size: each layout's file, in each profile, is valid for `fiscal sped validate`, the
 * size is near the one asked, the output is deterministic by seed, and the realistic profile has the shape asked
 * (catalog sizes, skewed usage, accents, the blocks of a retailer).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/sped.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GEN = join(ROOT, 'bench', 'gen-sped.mjs');
const BIN = join(ROOT, 'bin', 'fiscal.js');

/** The generator imports ../dist: build it when missing or older than the SPED sources. */
function ensureBuilt(): void {
  const dist = join(ROOT, 'dist', 'sped');
  const src = join(ROOT, 'src', 'sped');
  const stale = !existsSync(join(ROOT, 'dist', 'cli', 'main.js')) || readdirSync(src).some((f) => {
    const out = join(dist, f.replace(/\.ts$/, '.js'));
    return f.endsWith('.ts') && (!existsSync(out) || statSync(out).mtimeMs < statSync(join(src, f)).mtimeMs);
  });
  if (!stale) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}
ensureBuilt();

const dir = tempDir('fiscal-gen-sped-');
const gen = (...args: string[]) => spawnSync(process.execPath, [GEN, ...args], { encoding: 'utf8' });

/** `fiscal sped validate --json` of a file: exit code and result. */
function validate(path: string): { status: number | null; result: { valid: boolean; layout: string; errorCount: number; warningCount: number; lines: number }; stdout: string } {
  const v = spawnSync(process.execPath, [BIN, 'sped', 'validate', path, '--json', '--max-errors', '0'], { encoding: 'utf8' });
  return { status: v.status, result: JSON.parse(v.stdout), stdout: v.stdout };
}

// the realistic profile's catalog is shrunk to fit a small file (its defaults make ~6 MB of block 0 and H010)
const SMALL_CATALOG = ['--products', '400', '--participants', '120', '--accounts', '150'];

for (const profile of ['realistic', 'retailer', 'simple']) {
  for (const layout of ['efd-icms-ipi', 'efd-contribuicoes', 'ecd']) {
    t.test(`${layout}, ${profile}: a valid file of about the size asked`, async (t) => {
      const out = join(dir, `${layout}-${profile}.txt`);
      const g = gen('--layout', layout, '--size', '300KB', '--out', out, '--seed', '3', '--profile', profile, ...(profile === 'simple' ? [] : SMALL_CATALOG));
      t.equal(g.status, 0, g.stderr);
      t.match(g.stderr, new RegExp(`${layout} \\(${profile}\\), [\\d.]+ MB, \\d+ lines`));
      const size = statSync(out).size;
      t.ok(size > 270e3 && size < 330e3, `size ${size} within 10% of 300 KB`);
      t.notOk(existsSync(`${out}.${g.pid}.tmp`), 'no temporary file left');
      const v = validate(out);
      t.equal(v.status, 0, v.stdout.slice(0, 2000));
      t.equal(v.result.layout, layout);
      t.equal(v.result.valid, true);
      t.equal(v.result.errorCount, 0);
      t.equal(v.result.warningCount, 0);
      t.equal(v.result.lines, readFileSync(out, 'latin1').split('\r\n').length - 1);
    });
  }
}

/** Register → count of a file's lines, and the lines themselves (decoded as Windows-1252 ≈ Latin-1). */
function registers(path: string): { lines: string[]; count: (reg: string) => number } {
  const lines = readFileSync(path, 'latin1').split('\r\n');
  return { lines, count: (reg) => lines.filter((l) => l.startsWith(`|${reg}|`)).length };
}

t.test('realistic EFD ICMS/IPI: the catalog asked, skewed usage, accents, the blocks of a retailer', async (t) => {
  const out = join(dir, 'shape.txt');
  const g = gen('--layout', 'efd-icms-ipi', '--size', '2MB', '--out', out, '--products', '2000', '--participants', '500', '--items', '8');
  t.equal(g.status, 0, g.stderr);
  const { lines, count } = registers(out);
  t.equal(count('0200'), 2000, 'every product in 0200');
  t.equal(count('0150'), 500, 'every participant in 0150');
  t.equal(count('H010'), 2000, 'an inventory of every product');
  for (const reg of ['C100', 'C170', 'C190', 'C500', 'C590', 'D100', 'D190', 'E110', 'H005', 'K200', '0190', '0450', '0460']) t.ok(count(reg) > 0, `${reg} present`);
  const c100 = lines.filter((l) => l.startsWith('|C100|'));
  t.ok(c100.some((l) => l.split('|')[3] === '0') && c100.some((l) => l.split('|')[3] === '1'), 'NF-e issued by the company and received');
  t.ok(c100.some((l) => l.split('|')[6] === '02'), 'some cancelled numbers');
  // usage skew: the 20 most used products are in a large share of the item lines; most products are in few
  const uses = new Map<string, number>();
  const items = lines.filter((l) => l.startsWith('|C170|'));
  for (const l of items) uses.set(l.split('|')[3]!, (uses.get(l.split('|')[3]!) ?? 0) + 1);
  const sorted = [...uses.values()].sort((a, b) => b - a);
  const top20 = sorted.slice(0, 20).reduce((a, b) => a + b, 0);
  t.ok(top20 / items.length > 0.2, `the 20 most used products are in ${(100 * top20 / items.length).toFixed(0)}% of the C170 lines`);
  t.ok(sorted.length > 200, `a long tail: ${sorted.length} distinct products used`);
  // Latin-1 accents in names, addresses, descriptions and texts
  const accented = (reg: string) => lines.some((l) => l.startsWith(`|${reg}|`) && /[ÇÃÉÊÔÓÍÚÁÂÕ]/.test(l));
  for (const reg of ['0150', '0200', '0190', '0450', '0460', 'C170']) t.ok(accented(reg), `${reg} carries accents`);
  t.ok(readFileSync(out).includes(Buffer.from('Ç', 'latin1')), 'written as Windows-1252 (one byte per accented letter)');
});

t.test('realistic ECD: a chart of the accounts asked, skewed usage, accented histories', async (t) => {
  const out = join(dir, 'ecd-shape.txt');
  t.equal(gen('--layout', 'ecd', '--size', '1MB', '--out', out, '--accounts', '800').status, 0);
  const { lines, count } = registers(out);
  const analytic = lines.filter((l) => l.startsWith('|I050|') && l.split('|')[4] === 'A');
  t.equal(analytic.length, 800, '800 analytic accounts');
  t.equal(count('I155'), 800, 'a balance of each');
  const uses = new Map<string, number>();
  for (const l of lines.filter((x) => x.startsWith('|I250|'))) uses.set(l.split('|')[2]!, (uses.get(l.split('|')[2]!) ?? 0) + 1);
  const sorted = [...uses.values()].sort((a, b) => b - a);
  t.ok(sorted[0]! > 10 * sorted[Math.floor(sorted.length / 2)]!, 'the most used account far above the median one');
  t.ok(lines.some((l) => l.startsWith('|I250|') && /[ÇÃÉÍº]/.test(l)), 'accented histories');
});

t.test('a size too small for the realistic catalog is refused with a message', async (t) => {
  const g = gen('--layout', 'efd-icms-ipi', '--size', '300KB', '--out', join(dir, 'small.txt'));
  t.equal(g.status, 2);
  t.match(g.stderr, /too small for the realistic profile: its catalog alone .* takes [\d.]+ MB/);
  t.notOk(existsSync(join(dir, 'small.txt')));
});

t.test('deterministic by seed, in each profile', async (t) => {
  for (const [layout, extra] of [['ecd', ['--profile', 'simple']], ['efd-icms-ipi', SMALL_CATALOG], ['ecd', SMALL_CATALOG]] as const) {
    const [a, b, c] = ['a', 'b', 'c'].map((n) => join(dir, `${n}-${layout}-${extra[1]}.txt`)) as [string, string, string];
    for (const [out, seed] of [[a, '9'], [b, '9'], [c, '10']] as const) t.equal(gen('--layout', layout, '--size', '200KB', '--out', out, '--seed', seed, ...extra).status, 0);
    t.ok(readFileSync(a).equals(readFileSync(b)), `${layout} ${extra.join(' ')}: same seed, same bytes`);
    t.notOk(readFileSync(a).equals(readFileSync(c)), `${layout} ${extra.join(' ')}: another seed, other values`);
  }
});

t.test('usage errors exit 2 with a message', async (t) => {
  const bad = gen('--layout', 'efd-icms-ipi', '--size', '12XB', '--out', join(dir, 'x.txt'));
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--size: expected e\.g\. 500MB/);
  const layout = gen('--layout', 'nope', '--size', '1MB', '--out', join(dir, 'x.txt'));
  t.equal(layout.status, 2);
  t.match(layout.stderr, /--layout must be one of efd-icms-ipi, efd-contribuicoes, ecd/);
  const profile = gen('--layout', 'ecd', '--size', '1MB', '--out', join(dir, 'x.txt'), '--profile', 'huge');
  t.equal(profile.status, 2);
  t.match(profile.stderr, /--profile must be one of simple, realistic/);
  const products = gen('--layout', 'ecd', '--size', '1MB', '--out', join(dir, 'x.txt'), '--products', '0');
  t.equal(products.status, 2);
  t.match(products.stderr, /--products must be a positive integer/);
  t.notOk(existsSync(join(dir, 'x.txt')));
});
