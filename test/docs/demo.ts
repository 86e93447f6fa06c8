// The README Quick start's first command runs scripts/demo.mjs: it must go through every step as documented
// (it checks each command's exit code and the task/queue outcomes itself, and exits 1 otherwise).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

t.test('npm run demo: every step behaves as documented', async (t) => {
  const r = spawnSync(process.execPath, ['scripts/demo.mjs'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /demo: every step behaved as documented\n$/);
  t.match(r.stdout, /outcomes: done done done/);
  t.match(r.stdout, /outcomes: reused reused reused/);
  t.notMatch(`${r.stdout}${r.stderr}`, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace anywhere');
});
