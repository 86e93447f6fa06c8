/**
 * Baseline of bench/nfe.mjs (issue 6): the plain raw-parse loop a user would write — every `.xml` of DIR (a tree,
 * sorted) read with readFileSync, or every entry of a ZIP read with yauzl one after another, each parsed with
 * fast-xml-parser keeping attributes and every value as a string (`parseTagValue: false`,
 * `parseAttributeValue: false`). Nothing is written. `fiscal nfe to-jsonl` is held to 70% of its speed.
 *
 *   node bench/baselines/nfe-raw-parse.mjs DIR|ZIP
 */
import { XMLParser } from 'fast-xml-parser';
import { forEachDocument } from '../lib/nfe-inputs.mjs';

const input = process.argv[2];
if (!input) throw new Error('usage: nfe-raw-parse.mjs DIR|ZIP');
const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, parseAttributeValue: false });
let parsed = 0;
const n = await forEachDocument(input, (bytes) => {
  if (parser.parse(bytes)) parsed++;
});
if (parsed !== n) throw new Error(`${n - parsed} documents gave no tree`);
process.stderr.write(`${n} parsed\n`);
