/**
 * Preloaded into a measured process (NODE_OPTIONS=--import=…/usage.mjs): at the main thread's exit, writes its peak
 * RSS (KiB) and the CPU time of all its threads (user + system, µs) to $BENCH_USAGE_FILE, as "RSS CPU".
 */
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.BENCH_USAGE_FILE;
if (file && isMainThread) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(file, `${u.maxRSS} ${u.userCPUTime + u.systemCPUTime}\n`);
  });
}
