// to-jsonl writes JSON from the bytes; it must give exactly what JSON.stringify of each record's toObject() gives,
// whatever the bytes: Windows-1252 and UTF-8 text, escapes, fields beyond the layout, broken lines.
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PassThrough, Readable } from 'node:stream';
import { spedToJsonl } from '../../src/sped/jsonl.js';
import { readSped } from '../../src/sped/reader.js';
import { joinLines, linesOf, prng, SHARED, syntheticFile } from '../helpers/sped.js';

async function viaBytes(input: Buffer, chunk = 1 << 20): Promise<string> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) pieces.push(input.subarray(i, i + chunk));
  await spedToJsonl(Readable.from(pieces), out);
  return Buffer.concat(parts).toString('utf8');
}

async function reference(input: Buffer): Promise<string> {
  const { records } = readSped(Readable.from([input]));
  let text = '';
  for await (const r of records) text += `${JSON.stringify({ line: r.line, register: r.register, fields: r.toObject() })}\n`;
  return text;
}

const base = await syntheticFile({ layout: 'efd-icms-ipi', documents: 8, seed: 4 });

t.test('generated files of every layout', async (t) => {
  for (const layout of ['efd-icms-ipi', 'efd-contribuicoes', 'ecd'] as const) {
    const buf = await syntheticFile({ layout, documents: 6, seed: 2 });
    t.equal(await viaBytes(buf), await reference(buf), layout);
  }
});

t.test('escapes, Windows-1252, UTF-8, extra fields, broken lines', async (t) => {
  const lines = linesOf(base);
  lines[2] = '|0005|A "QUOTED" \\ NAME\tTAB|01001000|RUA\x01CTRL|||CENTRO||||';
  lines[5] = `${lines[5]}EXTRA|MORE|`;
  lines[7] = lines[7]!.slice(0, -1); // no closing pipe
  lines.splice(9, 0, '', 'not a record', '|X|', '|C1|a|');
  const latin = Buffer.concat([joinLines(lines), Buffer.from('|0450|9|A\u00e7\u00e3o \x80 \x93aspas\x94 \x81|\r\n', 'latin1')]);
  t.equal(await viaBytes(latin), await reference(latin), 'windows-1252 bytes');
  const utf8 = Buffer.from(`${lines.join('\r\n')}\r\n|0450|9|Ação € “aspas”|\r\n|0450|10|bad \xff byte|\r\n`, 'utf8');
  t.equal(await viaBytes(utf8), await reference(utf8), 'utf-8 text');
  for (const size of [1, 7, 100]) t.equal(await viaBytes(latin, size), await reference(latin), `chunks of ${size}`);
});

t.test('random mutations', async (t) => {
  const rnd = prng(77);
  const alphabet = Buffer.from('|\r\n"\\\x00\x1f\x7f\x80\x9d\xc3\xa7\xffA0,', 'latin1');
  for (let round = 0; round < 200; round++) {
    const bad = Buffer.from(base);
    for (let k = 0; k < 1 + Math.floor(rnd() * 10); k++) bad[Math.floor(rnd() * bad.length)] = alphabet[Math.floor(rnd() * alphabet.length)]!;
    const got = await viaBytes(bad, 1 + Math.floor(rnd() * 5000));
    const want = await reference(bad);
    if (got !== want) {
      t.equal(got, want, `round ${round}`);
      break;
    }
  }
  t.pass('200 mutated files agree');
});

const samples = fileURLToPath(new URL('samples/sped/', SHARED));
t.test('shared samples', { skip: existsSync(samples) ? false : `no samples at ${samples}` }, async (t) => {
  for (const f of readdirSync(samples)) {
    const buf = readFileSync(`${samples}${f}`);
    t.equal(await viaBytes(buf), await reference(buf), f);
  }
});
