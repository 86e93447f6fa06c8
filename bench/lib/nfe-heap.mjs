/**
 * Preloaded into the node processes bench/nfe.mjs measures (`node --expose-gc --import=…/nfe-heap.mjs`): at exit,
 * after a full garbage collection, writes the V8 heap still in use (bytes) to $BENCH_HEAP_FILE. The difference
 * between a large and a small batch is what a command RETAINS per document, whatever V8's heap sizing does to
 * the peak RSS.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_HEAP_FILE;
if (file && typeof globalThis.gc === 'function') {
  process.on('exit', () => {
    globalThis.gc();
    writeFileSync(file, `${process.memoryUsage().heapUsed}\n`);
  });
}
