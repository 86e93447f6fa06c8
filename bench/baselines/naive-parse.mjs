/**
 * Baseline "naive parse": what a first SPED reader usually is. readline over a latin1 stream, split('|') per line;
 * counts records and fields so the work cannot be skipped.
 *   node bench/baselines/naive-parse.mjs FILE   → prints {"lines", "fields"}
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

const file = process.argv[2];
const rl = createInterface({ input: createReadStream(file, { encoding: 'latin1', highWaterMark: 1 << 20 }), crlfDelay: Infinity });
let lines = 0;
let fields = 0;
for await (const line of rl) {
  lines++;
  fields += line.split('|').length;
}
process.stdout.write(`${JSON.stringify({ lines, fields })}\n`);
