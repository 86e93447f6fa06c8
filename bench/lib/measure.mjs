/**
 * Runs one measured process: `node ARGV` pinned to one core (`options.cpu`, default 0; `null` leaves it on every core; taskset, when installed),
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
 * Runs CMD (an argv array) with stdout to /dev/null; resolves with its wall seconds (measured here), exit code and
 * the start of its stderr. The measuring scripts add their own way of reading peak RSS around it.
 * @param {string[]} cmd
 * @param {{ cwd?: string, env?: Record<string, string | undefined> }} [options]
 * @returns {Promise<{ seconds: number, code: number | null, stderr: string }>}
 */
export function runTimed(cmd, options = {}) {
  const devnull = openSync('/dev/null', 'w');
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd[0], cmd.slice(1), { cwd: options.cwd, stdio: ['ignore', devnull, 'pipe'], env: options.env ?? process.env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => { if (stderr.length < 10000) stderr += d; });
    child.on('error', (err) => {
      closeSync(devnull);
      reject(err);
    });
    child.on('close', (code) => {
      closeSync(devnull);
      resolvePromise({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, code, stderr });
    });
  });
}

/** Runs a benchmark's async main, turning its result into the exit code and an error into one line and exit 2. */
export function runMain(name, main) {
  main().then(
    (code) => { process.exitCode = code; },
    (err) => {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exitCode = 2;
    },
  );
}

/**
 * @param {string[]} argv arguments to node
 * @param {{ cwd?: string, env?: Record<string, string>, cpu?: number | null }} [options] cpu null: not pinned (all cores)
 * @returns {Promise<{ seconds: number, rss: number, code: number | null, stderr: string }>} rss in bytes (NaN if the process died before exit)
 */
export async function measureNode(argv, options = {}) {
  const rssFile = join(tmpdir(), `fiscal-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const cmd = TASKSET && options.cpu !== null ? ['taskset', '-c', String(options.cpu ?? 0), process.execPath, ...argv] : [process.execPath, ...argv];
  const env = { ...process.env, ...options.env, BENCH_RSS_FILE: rssFile };
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${RSS_PRELOAD}`.trim();
  const r = await runTimed(cmd, { cwd: options.cwd, env });
  let rss = NaN;
  try {
    rss = Number(readFileSync(rssFile, 'utf8')) * 1024;
    rmSync(rssFile);
  } catch { /* the process died before its exit handler */ }
  return { ...r, rss };
}
