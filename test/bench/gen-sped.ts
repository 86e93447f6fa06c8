/**
 * bench/gen-sped.mjs: the generator of large synthetic SPED files, run as users run it (a child process on the
 * built library), at a small size: each layout's file is valid for `fiscal sped validate`, the size is near the
 * one asked, and the output is deterministic by seed.
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

for (const layout of ['efd-icms-ipi', 'efd-contribuicoes', 'ecd']) {
  t.test(`${layout}: a valid file of about the size asked`, async (t) => {
    const out = join(dir, `${layout}.txt`);
    const g = gen('--layout', layout, '--size', '300KB', '--out', out, '--seed', '3');
    t.equal(g.status, 0, g.stderr);
    t.match(g.stderr, new RegExp(`${layout}, [\\d.]+ MB, \\d+ lines`));
    const size = statSync(out).size;
    t.ok(size > 270e3 && size < 330e3, `size ${size} within 10% of 300 KB`);
    t.notOk(existsSync(`${out}.${g.pid}.tmp`), 'no temporary file left');
    const v = spawnSync(process.execPath, [BIN, 'sped', 'validate', out, '--json', '--max-errors', '0'], { encoding: 'utf8' });
    t.equal(v.status, 0, v.stdout.slice(0, 2000));
    const result = JSON.parse(v.stdout) as { valid: boolean; layout: string; errorCount: number; warningCount: number; lines: number };
    t.equal(result.layout, layout);
    t.equal(result.valid, true);
    t.equal(result.errorCount, 0);
    t.equal(result.warningCount, 0);
    t.equal(result.lines, readFileSync(out, 'latin1').split('\r\n').length - 1);
  });
}

t.test('deterministic by seed', async (t) => {
  const a = join(dir, 'a.txt');
  const b = join(dir, 'b.txt');
  const c = join(dir, 'c.txt');
  for (const [out, seed] of [[a, '9'], [b, '9'], [c, '10']] as const) t.equal(gen('--layout', 'ecd', '--size', '50KB', '--out', out, '--seed', seed).status, 0);
  t.ok(readFileSync(a).equals(readFileSync(b)), 'same seed, same bytes');
  t.notOk(readFileSync(a).equals(readFileSync(c)), 'another seed, other values');
});

t.test('usage errors exit 2 with a message', async (t) => {
  const bad = gen('--layout', 'efd-icms-ipi', '--size', '12XB', '--out', join(dir, 'x.txt'));
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--size: expected e\.g\. 500MB/);
  const layout = gen('--layout', 'nope', '--size', '1MB', '--out', join(dir, 'x.txt'));
  t.equal(layout.status, 2);
  t.match(layout.stderr, /--layout must be one of efd-icms-ipi, efd-contribuicoes, ecd/);
  t.notOk(existsSync(join(dir, 'x.txt')));
});
