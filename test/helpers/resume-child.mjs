#!/usr/bin/env node
/**
 * A resumable conversion in a process of its own, for the crash tests (test/sped/resume-crash.ts) and the 1 GB
 * script (scripts/resume-crash.mjs). Imports the BUILT library (../../dist).
 *
 *   node test/helpers/resume-child.mjs KIND INPUT OUTPUT CHECKPOINT.json [--every BYTES] [--resume] [--hold-at N]
 *
 * KIND: to-jsonl | fix-totals (OUTPUT a file) | to-csv (OUTPUT a folder). At each checkpoint the output is made
 * durable (its bytes written and fsynced; to-csv does that itself) and then the checkpoint is written to
 * CHECKPOINT.json (a temporary name, fsync, rename), and `checkpoint OFFSET` is printed. `--resume` continues from
 * CHECKPOINT.json: the output file is cut back to the checkpoint's `outputBytes` and appended to. `--hold-at N`:
 * at checkpoint N (after its output is written, before it is recorded) print `holding` and wait forever, for a
 * kill at a known place. At the end it prints one JSON line: `{"done": true, "resumedFrom", "rchar" (bytes the
 * process read, /proc/self/io), "outputBytesWritten", "startBytes", "checkpoints", "result"}`.
 */
import { createWriteStream, fsync, promises as fsp, readFileSync } from 'node:fs';
import { spedToCsv } from '../../dist/sped/csv.js';
import { fixTotals } from '../../dist/sped/fix-totals.js';
import { spedToJsonl } from '../../dist/sped/jsonl.js';

const [kind, input, output, cpFile, ...rest] = process.argv.slice(2);
const flag = (name) => {
  const i = rest.indexOf(name);
  return i === -1 ? undefined : rest[i + 1];
};
const every = Number(flag('--every') ?? 16 * 1024 * 1024);
const holdAt = Number(flag('--hold-at') ?? Infinity);
const resume = rest.includes('--resume');
const from = resume ? JSON.parse(readFileSync(cpFile, 'utf8')) : undefined;

const say = (line) => new Promise((resolve) => process.stdout.write(`${line}\n`, resolve));
const sync = (fd) => new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));

/** Writes the checkpoint durably: a temporary name, fsync, rename. */
async function record(cp) {
  const tmp = `${cpFile}.tmp`;
  const h = await fsp.open(tmp, 'w');
  await h.writeFile(JSON.stringify(cp));
  await h.sync();
  await h.close();
  await fsp.rename(tmp, cpFile);
}

let out = null;
let startBytes = 0;
if (kind !== 'to-csv') {
  if (from) {
    // keep exactly the bytes the checkpoint covers
    await fsp.truncate(output, from.outputBytes);
    startBytes = from.outputBytes;
    out = createWriteStream(output, { flags: 'r+', start: from.outputBytes });
  } else {
    out = createWriteStream(output);
  }
  await new Promise((resolve, reject) => out.once('open', resolve).once('error', reject));
}

/** Every byte handed to `out` so far is written and on disk. */
async function durable() {
  if (out === null) return;
  await new Promise((resolve, reject) => out.write(Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
  await sync(out.fd);
}

let checkpoints = 0;
const options = {
  checkpointEveryBytes: every,
  resumeFrom: from,
  async onCheckpoint(cp) {
    checkpoints++;
    await durable();
    if (checkpoints === holdAt) {
      await say('holding');
      await new Promise(() => {}); // until killed
    }
    await record(cp);
    await say(`checkpoint ${cp.inputOffset}`);
  },
};

let result;
if (kind === 'to-jsonl') result = await spedToJsonl(input, out, options);
else if (kind === 'fix-totals') result = await fixTotals(input, out, options);
else if (kind === 'to-csv') result = await spedToCsv(input, output, options);
else throw new Error(`unknown kind ${kind}`);
if (out !== null) {
  await durable();
  await new Promise((resolve) => out.end(resolve));
}
// bytes this process read (Linux /proc/self/io: input, modules, layouts): a resumed run reads less
const rchar = Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
await say(
  JSON.stringify({
    done: true,
    resumedFrom: from ? from.inputOffset : null,
    rchar,
    outputBytesWritten: out === null ? null : out.bytesWritten,
    startBytes,
    checkpoints,
    result: JSON.parse(JSON.stringify(result, (k, v) => (v instanceof Map ? [...v] : v))),
  }),
);
