/**
 * Regenerates one marked section of a Markdown page (docs/benchmarks.md): the text between `start` and `end`
 * markers is replaced; when the markers are missing, the block is appended under `heading`. Everything else in
 * the page (prose, other benchmarks' sections) is left as it is.
 */
import { existsSync, promises as fsp } from 'node:fs';

/** @param {{ path: string, start: string, end: string, heading: string, body: string }} o */
export async function writeDocSection({ path, start, end, heading, body }) {
  let doc = existsSync(path) ? await fsp.readFile(path, 'utf8') : '# Benchmarks\n';
  const block = `${start}\n${body}\n${end}`;
  const a = doc.indexOf(start);
  const z = doc.indexOf(end);
  if (a !== -1 && z > a) doc = doc.slice(0, a) + block + doc.slice(z + end.length);
  else doc = `${doc.trimEnd()}\n\n${heading}\n\n${block}\n`;
  await fsp.writeFile(path, doc);
}
