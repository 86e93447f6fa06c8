import t from 'tap';
import { PassThrough, Readable, Writable } from 'node:stream';
import { Decimal } from '../../src/common/decimal.js';
import { InvalidInputError, UsageError } from '../../src/errors.js';
import { loadLayout } from '../../src/sped/layout.js';
import { readSped } from '../../src/sped/reader.js';
import { createSpedWriter, isBlockControl, SpedWriter } from '../../src/sped/writer.js';
import { recountTotals } from '../helpers/sped-totals.js';

/** A sink that keeps what is written. */
function sink(): { stream: PassThrough; bytes: () => Buffer } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, bytes: () => Buffer.concat(chunks) };
}

const HEADER_020 = ['0000', '020', '0', '01012026', '31012026', 'EMPRESA LTDA', '11222333000181', '', 'SP', '110042490114', '3550308', '', '', 'A', '1'];

function linesOf(buf: Buffer): string[] {
  const text = buf.toString('latin1');
  t.ok(text.endsWith('\r\n'), 'ends with CRLF');
  t.notOk(/[^\r]\n/.test(text), 'every line break is CRLF');
  return text.split('\r\n').slice(0, -1);
}

t.test('a minimal file gets every block, the 9900 list and the totals', async (t) => {
  const out = sink();
  const w = new SpedWriter(out.stream, { layout: 'efd-icms-ipi' });
  await w.writeFields(HEADER_020, 1);
  await w.writeFields(['0005', 'FANTASIA'], 2);
  await w.writeFields(['C100', '0', '1'], 3);
  await w.writeFields(['C100', '1', '0'], 4);
  const summary = await w.finish();
  const lines = linesOf(out.bytes());
  t.same(lines.slice(0, 10), [
    `|${HEADER_020.join('|')}|`,
    '|0001|0|',
    '|0005|FANTASIA|',
    '|0990|4|',
    '|B001|1|',
    '|B990|2|',
    '|C001|0|',
    '|C100|0|1|',
    '|C100|1|0|',
    '|C990|4|',
  ]);
  t.same(lines.slice(10, 22), ['|D001|1|', '|D990|2|', '|E001|1|', '|E990|2|', '|G001|1|', '|G990|2|', '|H001|1|', '|H990|2|', '|K001|1|', '|K990|2|', '|1001|1|', '|1990|2|']);
  t.equal(lines[22], '|9001|0|');
  t.same(recountTotals(lines), []);
  t.equal(lines.at(-1), `|9999|${lines.length}|`);
  t.equal(summary.lines, lines.length);
  t.equal(summary.bytes, out.bytes().length);
  t.equal(summary.registers.get('C100'), 2);
  t.equal(summary.version, '020');
  t.equal(summary.layout, 'efd-icms-ipi');
});

t.test('block B is not added before COD_VER 013; incoming totals are ignored', async (t) => {
  const out = sink();
  const w = createSpedWriter(out.stream);
  const header = [...HEADER_020];
  header[1] = '012';
  await w.writeFields(header);
  for (const f of [['0001', '0'], ['0990', '99'], ['C001', '1'], ['C100', '0'], ['C990', '7'], ['9001', '0'], ['9900', 'C100', '5'], ['9990', '1'], ['9999', '3']]) {
    await w.writeFields(f);
  }
  const summary = await w.finish();
  const lines = linesOf(out.bytes());
  t.notOk(lines.some((l) => l.startsWith('|B')), 'no block B in version 012');
  t.equal(lines[1], '|0001|1|', 'block 0 with only 0000 has no data');
  t.equal(lines.filter((l) => l === '|C001|0|').length, 1, 'C001 regenerated once, with data');
  t.equal(summary.regenerated, 8);
  t.same(recountTotals(lines), []);
});

t.test('typed values: Decimal with the layout decimals, dates, integers, COD_VER padded, names', async (t) => {
  const out = sink();
  const w = new SpedWriter(out.stream);
  await w.write('0000', {
    COD_VER: 20, COD_FIN: 0, DT_INI: '2026-01-01', DT_FIN: new Date(Date.UTC(2026, 0, 31)), NOME: 'AÇÚCAR € “DOCE”',
    CNPJ: '11222333000181', UF: 'SP', IE: '110042490114', COD_MUN: 3550308, IND_PERFIL: 'A', IND_ATIV: 1,
  });
  await w.write('C100', { IND_OPER: '0', VL_DOC: Decimal.from('12.5'), VL_MERC: new Decimal(1234n, 0), DT_DOC: '2026-01-05' });
  await w.write('C170', { NUM_ITEM: 1n, 'ALIQ_PIS#27': Decimal.from('1.65'), 'ALIQ_PIS#33': '', '#40': 'x' });
  await w.write('E100', [new Date(Date.UTC(2026, 0, 1)), '31012026']);
  await w.finish();
  const buf = out.bytes();
  const lines = linesOf(buf);
  const c100 = loadLayout('efd-icms-ipi').fieldsFor('C100', '020')!;
  const f0000 = lines[0]!.slice(1, -1).split('|');
  t.equal(f0000[1], '020', 'COD_VER padded to 3 digits');
  t.equal(f0000[3], '01012026');
  t.equal(f0000[4], '31012026');
  t.equal(f0000[10], '3550308');
  t.equal(f0000.length, loadLayout('efd-icms-ipi').fieldsFor('0000', '020')!.length, 'object form padded to the layout');
  const fc100 = lines.find((l) => l.startsWith('|C100|'))!.slice(1, -1).split('|');
  const pos = (name: string): number => c100.find((d) => d.name === name)!.pos - 1;
  t.equal(fc100[pos('VL_DOC')], '12,50', 'decimal with the layout decimals and a comma');
  t.equal(fc100[pos('VL_MERC')], '1234,00');
  t.equal(fc100[pos('DT_DOC')], '05012026', 'ISO date string in a date field → ddmmaaaa');
  const fc170 = lines.find((l) => l.startsWith('|C170|'))!.slice(1, -1).split('|');
  t.equal(fc170[26], '1,6500', 'ALIQ_PIS#27 by position, 4 decimals');
  t.equal(fc170[39], 'x', '#40 beyond the layout');
  t.equal(fc170.length, 40);
  t.ok(lines.includes('|E100|01012026|31012026|'));
  // Windows-1252 bytes: Ç = C7, € = 80, “ = 93, ” = 94
  const nome = buf.subarray(buf.indexOf(Buffer.from([0x41, 0xc7])));
  t.same([...nome.subarray(0, 16)], [0x41, 0xc7, 0xda, 0x43, 0x41, 0x52, 0x20, 0x80, 0x20, 0x93, 0x44, 0x4f, 0x43, 0x45, 0x94, 0x7c]);
});

t.test('values that cannot be written: clear errors, or replaced', async (t) => {
  const bad: [string, RegExp][] = [
    ['A|B', /0005 FANTASIA#2: value contains '\|'/],
    ['A\nB', /line break/],
    ['ő', /U\+0151 'ő'.*Windows-1252/],
    ['🙂', /U\+1F642/],
  ];
  for (const [value, message] of bad) {
    const w = new SpedWriter(sink().stream);
    await w.writeFields(HEADER_020, 1);
    let err: unknown = null;
    try {
      w.writeFields(['0005', value], 42);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof InvalidInputError, `${JSON.stringify(value)} is refused`);
    const e = err as InvalidInputError;
    t.equal(e.code, 'SPED_WRITE_VALUE');
    t.equal(e.line, 42);
    t.match(e.message, /^line 42: /);
    t.match(e.message, message);
  }
  const out = sink();
  const w = new SpedWriter(out.stream, { replace: true });
  await w.writeFields(HEADER_020);
  await w.writeFields(['0005', 'A|B', 'x\r\ny', 'ő🙂', 'a\u0301'], 2);
  const s = await w.finish();
  t.equal(linesOf(out.bytes())[2], '|0005|A/B|x y|o?|\xe1|', 'pipe → /, CRLF → space, ő → o, emoji → ?, NFD → NFC');
  t.equal(s.replaced, 3, 'NFC normalisation alone is not a replacement');
});

t.test('order and shape errors', async (t) => {
  const w1 = new SpedWriter(sink().stream);
  t.throws(() => w1.writeFields(['C100', '0']), { code: 'SPED_WRITE_FIRST' });
  const w2 = new SpedWriter(sink().stream);
  await w2.writeFields(HEADER_020, 1);
  await w2.writeFields(['C100', '0'], 2);
  t.throws(() => w2.writeFields(['0150', 'P1'], 3), { code: 'SPED_WRITE_ORDER', message: /line 3: 0150 \(block 0\) comes after block C/ });
  t.throws(() => w2.writeFields(['0000', ...HEADER_020.slice(1)], 4), { code: 'SPED_WRITE_ORDER' });
  t.throws(() => w2.writeFields(['Z100', 'x'], 5), { code: 'SPED_WRITE_REGISTER', message: /block 'Z'/ });
  t.throws(() => w2.writeFields(['c1', 'x'], 6), { code: 'SPED_WRITE_REGISTER' });
  t.throws(() => w2.write('C100', { NOPE: '1' }, { line: 7 }), { code: 'SPED_WRITE_FIELD', message: /line 7: C100: unknown field 'NOPE'/ });
  t.throws(() => w2.write('C100', [0.5]), { code: 'SPED_WRITE_VALUE', message: /never binary floats/ });
  await w2.finish();
  t.throws(() => w2.writeFields(['C100']), UsageError);
  const w3 = new SpedWriter(sink().stream);
  await t.rejects(w3.finish(), { code: 'SPED_WRITE_EMPTY' });
  const w4 = new SpedWriter(sink().stream);
  t.throws(() => w4.writeFields(['0000', 'x', 'y']), { code: 'SPED_WRITE_LAYOUT' });
  t.throws(() => new SpedWriter(sink().stream, { layout: 'nope' as 'ecd' }), { code: 'SPED_LAYOUT_UNKNOWN' });
  t.ok(isBlockControl('C001', 'C') && isBlockControl('0990', '0') && !isBlockControl('C100', 'C'));
});

t.test('ECD: layout from LECD, version from I010, no COD_VER padding', async (t) => {
  const out = sink();
  const w = new SpedWriter(out.stream);
  await w.writeFields(['0000', 'LECD', '01012025', '31122025', 'EMPRESA', '11222333000181', 'SP', '', '3550308', '', '', '0', '1', '0', '', '0', '0', '', '', 'N', 'N', '0', '']);
  await w.writeFields(['I010', 'G', '9.00']);
  await w.writeFields(['J900', 'TERMO']);
  const s = await w.finish();
  const lines = linesOf(out.bytes());
  t.equal(s.layout, 'ecd');
  t.equal(s.version, '9.00');
  // block C is optional in ECD: left out unless given
  t.same(lines.filter((l) => /^\|.(001|990)\|/.test(l)), ['|0001|1|', '|0990|3|', '|I001|0|', '|I990|3|', '|J001|0|', '|J990|3|', '|K001|1|', '|K990|2|', '|9001|0|', `|9990|${lines.length - lines.indexOf('|9001|0|')}|`]);
  t.same(recountTotals(lines), []);
});

/** Deterministic PRNG (mulberry32) so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('property: random records through writer then reader give the same fields and valid totals', async (t) => {
  const layout = loadLayout('efd-icms-ipi');
  const blocks = layout.data.blocks.map((b) => b.block);
  const registers = layout.data.registers.filter((r) => r.code !== '0000' && r.block !== '9' && !isBlockControl(r.code, r.block));
  const alphabet = 'ABCxyz 0123456789,.-/ÇÃéü€“”…';
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const records: string[][] = [];
    const n = Math.floor(rnd() * 60);
    for (let i = 0; i < n; i++) {
      const reg = pick(registers);
      const count = layout.fieldsFor(reg.code, '020')!.length;
      const fields = [reg.code];
      for (let k = 1; k < count; k++) {
        let v = '';
        const len = Math.floor(rnd() * 6);
        for (let c = 0; c < len; c++) v += pick([...alphabet]);
        fields.push(v);
      }
      records.push(fields);
    }
    records.sort((a, b) => blocks.indexOf(layout.register(a[0]!)!.block) - blocks.indexOf(layout.register(b[0]!)!.block));
    const out = sink();
    const w = new SpedWriter(out.stream, { chunkSize: 1 + Math.floor(rnd() * 300) });
    await w.writeFields(HEADER_020);
    for (const r of records) await w.writeFields(r);
    const summary = await w.finish();
    const bytes = out.bytes();
    const read = readSped(Readable.from([bytes]));
    const back: string[][] = [];
    for await (const r of read.records) back.push([...r.fields]);
    t.equal(read.info.encoding === 'utf-8', false, `seed ${seed}: never UTF-8`);
    t.same(back.filter((f) => f[0] !== '0000' && !isBlockControl(f[0]!, f[0]![0]!) && f[0]![0] !== '9'), records, `seed ${seed}: same records`);
    const problems = recountTotals(bytes.toString('latin1').split('\r\n').slice(0, -1));
    t.same(problems, [], `seed ${seed}: totals hold`);
    t.equal(summary.lines, back.length, `seed ${seed}: summary.lines`);
  }
});

t.test('backpressure: a slow output is waited for, never buffered without bound', async (t) => {
  let maxBuffered = 0;
  let received = 0;
  const slow = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      setImmediate(cb);
    },
  });
  const w = new SpedWriter(slow, { chunkSize: 4096 });
  await w.writeFields(HEADER_020);
  const long = 'X'.repeat(200);
  for (let i = 0; i < 20000; i++) {
    await w.writeFields(['C100', '0', long]);
    maxBuffered = Math.max(maxBuffered, slow.writableLength);
  }
  const s = await w.finish();
  await new Promise<void>((resolve) => slow.end(resolve));
  t.equal(received, s.bytes);
  t.ok(maxBuffered < 4096 * 3, `buffered at most ${maxBuffered} bytes in the output`);
});

t.test('an output that fails makes write/finish fail instead of hanging', async (t) => {
  const broken = new Writable({
    highWaterMark: 16,
    write(_c, _e, cb) {
      cb(Object.assign(new Error('EPIPE'), { code: 'EPIPE' }));
    },
  });
  const w = new SpedWriter(broken, { chunkSize: 10 });
  let error: unknown = null;
  try {
    await w.writeFields(HEADER_020);
    for (let i = 0; i < 100; i++) await w.writeFields(['C100', '0']);
    await w.finish();
  } catch (err) {
    error = err;
  }
  t.match(error, { code: 'EPIPE' });
});
