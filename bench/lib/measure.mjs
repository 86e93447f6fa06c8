/**
 * Runs one measured process: `node ARGV` pinned to one core (`options.cpu`, default 0; taskset, when installed),
 * stdout to /dev/null.
 * Wall time is measured here; peak RSS is the process's own ru_maxrss, written at exit by ./rss.mjs (preloaded
 * with NODE_OPTIONS=--import), so no /usr/bin/time is needed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const RSS_PRELOAD = pathToFileURL(join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'rss.mjs')).href;
export const TASKSET = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * @param {string[]} argv arguments to node
 * @param {{ cwd?: string, env?: Record<string, string>, cpu?: number }} [options]
 * @returns {Promise<{ seconds: number, rss: number, code: number | null, stderr: string }>} rss in bytes (NaN if the process died before exit)
 */
export function measureNode(argv, options = {}) {
  const rssFile = join(tmpdir(), `fiscal-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const devnull = openSync('/dev/null', 'w');
  const cmd = TASKSET ? ['taskset', '-c', String(options.cpu ?? 0), process.execPath, ...argv] : [process.execPath, ...argv];
  const env = { ...process.env, ...options.env, BENCH_RSS_FILE: rssFile };
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${RSS_PRELOAD}`.trim();
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd[0], cmd.slice(1), { cwd: options.cwd, stdio: ['ignore', devnull, 'pipe'], env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => { if (stderr.length < 10000) stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      closeSync(devnull);
      let rss = NaN;
      try {
        rss = Number(readFileSync(rssFile, 'utf8')) * 1024;
        rmSync(rssFile);
      } catch { /* the process died before its exit handler */ }
      resolvePromise({ seconds, rss, code, stderr });
    });
  });
}
