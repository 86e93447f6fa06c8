/**
 * Reference point "reader floor": the project's SpedParser (built, ../../dist) with a record handler that does
 * nothing: byte scan, decode of each line (latin1) and split into field strings, no checks. What any validator
 * that materialises every field as a string costs at the least.
 *   node bench/baselines/reader-floor.mjs FILE   → prints {"records", "fields"}
 */
import { feedParser, SpedParser } from '../../dist/sped/reader.js';

let records = 0;
let fields = 0;
const parser = new SpedParser((f) => {
  records++;
  fields += f.length;
}, () => {});
await feedParser(parser, process.argv[2]);
process.stdout.write(`${JSON.stringify({ records, fields })}\n`);
