/**
 * Baseline of bench/nfe.mjs: fast-xml-parser's raw parse of the same bytes, in the same process shape as
 * `fiscal nfe to-jsonl DIR` — one process reads every `.xml` of DIR (sorted) and parses each file's bytes with
 * a default XMLParser that keeps attributes (`{ ignoreAttributes: false }`; every other option at its default).
 * Nothing is written: this is the parse alone, the ceiling a typed parse on top of fast-xml-parser is held to.
 *
 *   node bench/baselines/nfe-fast-xml-parser.mjs DIR
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';

const dir = process.argv[2];
if (!dir) throw new Error('usage: nfe-fast-xml-parser.mjs DIR');
const parser = new XMLParser({ ignoreAttributes: false });
let n = 0;
for (const name of (await readdir(dir)).filter((f) => f.endsWith('.xml')).sort()) {
  const tree = parser.parse(await readFile(join(dir, name)));
  if (tree) n++;
}
process.stderr.write(`${n} parsed\n`);
