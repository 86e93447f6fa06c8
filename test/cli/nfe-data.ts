import t from 'tap';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import { generateNfeXml } from '../../src/nfe/generate.js';

async function run(argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b) => (out += b));
  stderr.on('data', (b) => (err += b));
  const code = await main(argv, { stdin: Readable.from([Buffer.from(stdin)]), stdout, stderr });
  return { code, out, err };
}

t.test('to-jsonl then build gives back the same bytes', async (t) => {
  const dir = t.testdir({ 'a.xml': generateNfeXml(1), 'b.xml': generateNfeXml(2), 'bad.xml': '<NFe><x></NFe>' });
  const r = await run(['nfe', 'to-jsonl', dir]);
  t.equal(r.code, 1, 'a bad document: exit 1, batch goes on');
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
  t.equal(lines.length, 2);
  t.same(Object.keys(lines[0]), ['source', 'kind', 'key', 'doc']);
  t.match(r.err, /bad\.xml:1:9: end tag <\/NFe> does not match <x> \[NFE_XML_MALFORMED\]/);
  const outDir = join(dir, 'out');
  const b = await run(['nfe', 'build', '-', '--out-dir', outDir], r.out);
  t.equal(b.code, 0, b.err);
  const files = readdirSync(outDir).sort();
  t.same(files, [`${lines[0].key}-nfe.xml`, `${lines[1].key}-nfe.xml`].sort());
  t.equal(readFileSync(join(outDir, `${lines[0].key}-nfe.xml`), 'utf8'), readFileSync(join(dir, 'a.xml'), 'utf8'));
  const one = await run(['nfe', 'build', '-'], JSON.stringify(lines[1].doc, null, 2));
  t.equal(one.out, readFileSync(join(dir, 'b.xml'), 'utf8'), 'a pretty JSON document on stdin');
  const several = await run(['nfe', 'build', '-'], r.out);
  t.equal(several.code, 2, 'several documents need --out-dir');
});

t.test('build --out-dir that cannot be created exits 2 at once', async (t) => {
  const dir = t.testdir({ 'a.xml': generateNfeXml(4) });
  const jsonl = (await run(['nfe', 'to-jsonl', dir])).out;
  const r = await run(['nfe', 'build', '-', '--out-dir', '/proc/nope/out'], jsonl);
  t.equal(r.code, 2, r.err);
  t.match(r.err, /\/proc\/nope/);
  t.equal(r.out, '');
  t.notMatch(r.err, /\n\s+at /, 'no stack trace');
});

t.test('--fail-fast stops at the first bad document; duplicates reported', async (t) => {
  const x = generateNfeXml(3);
  const r = await run(['nfe', 'to-jsonl', '-'], `${x}\n${x}\n<NFe>`);
  t.equal(r.code, 1);
  t.match(r.err, /-#2: key \d{44} already seen in -#1 \[NFE_DUPLICATE_KEY\]/);
  t.match(r.err, /-#3.*NFE_XML_MALFORMED/);
  const ff = await run(['nfe', 'to-jsonl', '--fail-fast', '-'], `<NFe>x\n${x}`);
  t.equal(ff.out, '');
});

t.test('to-csv: columns, items, decimal comma, filters, cancelled status', async (t) => {
  const dir = t.testdir({ 'a.xml': generateNfeXml(4, { items: 2 }), 'c.xml': generateNfeXml(5, { model: '65' }) });
  const r = await run(['nfe', 'to-csv', dir]);
  t.equal(r.code, 0, r.err);
  const rows = r.out.trim().split('\n');
  t.equal(rows.length, 3);
  t.match(rows[0], /^source,key,version,model,series,number,issued_at/);
  t.match(rows[1], /,unprotocolled$/);
  const items = await run(['nfe', 'to-csv', '--items', '--delimiter', ';', '--decimal-comma', '--bom', '--model', '55', dir]);
  const irows = items.out.trim().split('\n');
  t.equal(irows.length, 3, 'two items of the model-55 note');
  t.ok(items.out.startsWith('\ufeffsource;key;'));
  t.match(irows[1], /;\d+,\d{4};/, 'quantity with a comma');
  const none = await run(['nfe', 'to-csv', '--from', '2027-01-01', dir]);
  t.equal(none.out.trim().split('\n').length, 1, 'header only');
  const bad = await run(['nfe', 'to-csv', '--from', 'yesterday', dir]);
  t.equal(bad.code, 2);
});

t.test('validate: findings with paths and a summary; --json', async (t) => {
  const doc = generateNfeXml(6).replace(/<NCM>\d+<\/NCM>/, '<NCM>123</NCM>');
  const dir = t.testdir({ 'a.xml': doc });
  const r = await run(['nfe', 'validate', dir]);
  t.equal(r.code, 1);
  t.match(r.err, /\/NFe\/infNFe\/det\[1\]\/prod\/NCM: NCM "123" is not an NCM/);
  t.match(r.err, /1 document\(s\), 1 with findings/);
  const j = await run(['nfe', 'validate', '--json', dir]);
  t.equal(JSON.parse(j.out.split('\n')[0]!).code, 'NFE_FORMAT');
  const missing = await run(['nfe', 'validate', join(dir, 'nope.xml')]);
  t.equal(missing.code, 2);
  writeFileSync(join(dir, 'a.xml'), '<!DOCTYPE x><NFe/>');
  t.match((await run(['nfe', 'validate', dir])).err, /NFE_DOCTYPE_REFUSED/);
});
