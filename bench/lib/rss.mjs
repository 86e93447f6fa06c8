/**
 * Preloaded into every measured process (NODE_OPTIONS=--import=…/rss.mjs): at exit, writes the process's own peak
 * resident set size (getrusage ru_maxrss, via process.resourceUsage().maxRSS, in KiB) to $BENCH_RSS_FILE. The same
 * figure `/usr/bin/time -v` prints as "Maximum resident set size", without needing that tool.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    writeFileSync(file, `${process.resourceUsage().maxRSS}\n`);
  });
}
