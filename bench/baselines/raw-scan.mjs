/**
 * Baseline "raw scan": the practical limit of reading a file in Node. fs.createReadStream with 1 MiB chunks and a
 * Buffer.indexOf(10) loop counting lines; nothing decoded, nothing kept.
 *   node bench/baselines/raw-scan.mjs FILE   → prints {"bytes", "lines"}
 */
import { createReadStream } from 'node:fs';

const file = process.argv[2];
let bytes = 0;
let lines = 0;
for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
  bytes += chunk.length;
  let i = chunk.indexOf(10);
  while (i !== -1) {
    lines++;
    i = chunk.indexOf(10, i + 1);
  }
}
process.stdout.write(`${JSON.stringify({ bytes, lines })}\n`);
