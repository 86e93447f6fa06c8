import t from 'tap';
import { Readable } from 'node:stream';
import { generateKeyPairSync } from 'node:crypto';
import { statSync } from 'node:fs';
import forge from 'node-forge';
import { readSped, type SpedReadOptions } from '../../src/sped/reader.js';
import { SpedRecord } from '../../src/sped/record.js';
import { validateSped } from '../../src/sped/validator.js';
import { Decimal } from '../../src/common/decimal.js';
import { joinLines, linesOf, syntheticFile, writeTemp } from '../helpers/sped.js';

async function collect(source: Parameters<typeof readSped>[0], options: SpedReadOptions = {}) {
  const r = readSped(source, options);
  const records: SpedRecord[] = [];
  for await (const rec of r.records) records.push(rec);
  return { records, info: r.info, findings: r.findings };
}

/** Splits a buffer into chunks of the given size (to test every boundary). */
function chunked(buf: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

const file = await syntheticFile({ layout: 'efd-icms-ipi', documents: 6, seed: 3 });

t.test('records, typed access and info', async (t) => {
  const { records, info, findings } = await collect(Readable.from([file]));
  t.same(findings, []);
  t.equal(info.layout, 'efd-icms-ipi');
  t.equal(info.version, '020');
  t.equal(info.encoding, 'ascii');
  t.equal(info.lines, linesOf(file).length);
  t.equal(info.records, records.length);
  t.equal(info.bytes, file.length);
  const c100 = records.find((r) => r.register === 'C100')!;
  t.equal(c100.line, linesOf(file).findIndex((l) => l.startsWith('|C100|')) + 1);
  t.equal(c100.offset, file.indexOf('|C100|'));
  t.equal(c100.get('COD_MOD'), '55');
  t.equal(c100.get(5), '55');
  t.equal(c100.date('DT_DOC')?.slice(0, 7), '2026-01');
  t.type(c100.decimal('VL_DOC'), Decimal);
  t.equal(c100.int('NUM_DOC'), 1);
  // money sums exactly: the C190 of every document adds up to the C100 totals
  let docs = Decimal.ZERO;
  let analytic = Decimal.ZERO;
  for (const r of records) {
    if (r.register === 'C100') docs = docs.add(r.decimal('VL_ICMS')!);
    if (r.register === 'C190') analytic = analytic.add(r.decimal('VL_ICMS')!);
  }
  t.ok(docs.equals(analytic));
  t.throws(() => c100.int('COD_PART'), RangeError);
});

t.test('chunk boundaries never change what is read', async (t) => {
  const whole = (await collect(Readable.from([file]))).records.map((r) => [r.line, r.offset, r.fields.join('|')]);
  for (const size of [1, 2, 3, 5, 7, 13, 64, 1000]) {
    const got = (await collect(chunked(file, size))).records.map((r) => [r.line, r.offset, r.fields.join('|')]);
    t.same(got, whole, `chunks of ${size}`);
  }
});

t.test('LF and CRLF line ends; last line without a break', async (t) => {
  const lf = Buffer.from(file.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
  const a = await collect(Readable.from([lf]));
  const b = await collect(Readable.from([file.subarray(0, file.length - 2)]));
  const c = await collect(Readable.from([file]));
  t.same(a.records.map((r) => r.fields), c.records.map((r) => r.fields));
  t.same(b.records.map((r) => r.fields), c.records.map((r) => r.fields));
});

t.test('encodings: decided from the first line that tells', async (t) => {
  const lines = linesOf(file);
  lines[2] = '|0005|AÇÚCAR € “ASPAS”|01001000|RUA DO EXEMPLO|||CENTRO||||';
  const text = lines.map((l) => `${l}\r\n`).join('');
  // Windows-1252: € is 0x80, “ ” are 0x93 0x94
  const cp = Buffer.from(text.replace('€', '\x80').replace('“', '\x93').replace('”', '\x94'), 'latin1');
  const w = await collect(Readable.from([cp]));
  t.equal(w.info.encoding, 'windows-1252');
  t.equal(w.records[2]!.get('FANTASIA'), 'AÇÚCAR € “ASPAS”');
  t.same(w.findings, []);
  const u = await collect(Readable.from([Buffer.from(text, 'utf8')]));
  t.equal(u.info.encoding, 'utf-8');
  t.equal(u.records[2]!.get('FANTASIA'), 'AÇÚCAR € “ASPAS”');
  t.same(u.findings.map((f) => [f.code, f.severity, f.line]), [['SPED_ENCODING', 'warning', 3]]);
  // a UTF-8 file with a stray Latin-1 byte later: reported at that line
  const mixed = Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from('|9999|1|\r\n|X|\xe9|\r\n', 'latin1')]);
  const m = await collect(Readable.from([mixed]));
  t.ok(m.findings.some((f) => f.code === 'SPED_ENCODING' && f.severity === 'error' && f.line === lines.length + 2));
  const forced = await collect(Readable.from([cp]), { encoding: 'windows-1252' });
  t.equal(forced.records[2]!.get('FANTASIA'), 'AÇÚCAR € “ASPAS”');
});

t.test('a line over the cap is reported and skipped, without buffering it', async (t) => {
  const lines = linesOf(file);
  const huge = `|0450|1|${'X'.repeat(300_000)}|`;
  const buf = joinLines([...lines.slice(0, 5), huge, ...lines.slice(5)]);
  for (const size of [4096, 65536, 1 << 20]) {
    const r = await collect(chunked(buf, size), { maxLineBytes: 100_000 });
    t.same(r.findings.map((f) => [f.code, f.line]), [['SPED_LINE_TOO_LONG', 6]], `chunks of ${size}`);
    t.equal(r.records.length, lines.length);
    t.equal(r.records[5]!.line, 7, 'numbering continues after the skipped line');
  }
});

t.test('PVA signature block after 9999: exposed, not parsed', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date('2026-01-01T00:00:00Z');
  cert.validity.notAfter = new Date('2027-01-01T00:00:00Z');
  const attrs = [{ name: 'commonName', value: 'EMPRESA SINTETICA LTDA:10000042000186' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  cert.sign(key, forge.md.sha256.create());
  const p7 = forge.pkcs7.createSignedData();
  p7.content = forge.util.createBuffer(file.toString('binary'));
  p7.addCertificate(cert);
  p7.addSigner({ key, certificate: cert, digestAlgorithm: forge.pki.oids.sha256! });
  p7.sign({ detached: true });
  const der = Buffer.from(forge.asn1.toDer(p7.toAsn1()).getBytes(), 'binary');
  const block = Buffer.concat([Buffer.from('SBRCAAEPDR', 'latin1'), der]);
  const signed = Buffer.concat([file, block]);
  for (const size of [1, 100, 1 << 16]) {
    const r = await collect(chunked(signed, size));
    t.same(r.findings, [], `chunks of ${size}`);
    t.same(r.info.signature, { offset: file.length, length: block.length });
    t.equal(r.records.length, linesOf(file).length);
    t.equal(r.info.lines, linesOf(file).length, 'the signature block is not counted as a line');
  }
  const path = writeTemp('signed.txt', signed);
  const v = await validateSped(path);
  t.equal(v.valid, true, JSON.stringify(v.errors));
  t.same(v.signature, { offset: file.length, length: block.length });
});

t.test('byte ranges: each line belongs to exactly one range', async (t) => {
  const big = await syntheticFile({ layout: 'efd-contribuicoes', documents: 40, seed: 9 });
  const path = writeTemp('range.txt', big);
  const size = statSync(path).size;
  const all = (await collect(path)).records.map((r) => r.offset);
  for (const parts of [2, 3, 7]) {
    const cuts = [0];
    for (let i = 1; i < parts; i++) cuts.push(Math.floor((size * i) / parts) + (i % 2 ? 1 : -3));
    cuts.push(size);
    const offsets: number[] = [];
    for (let i = 0; i < parts; i++) {
      const r = await collect(path, { start: cuts[i], end: cuts[i + 1] });
      offsets.push(...r.records.map((x) => x.offset));
      t.same(r.findings, [], `range ${i} has no partial lines`);
    }
    t.same(offsets, all, `${parts} ranges cover every record once`);
  }
  // a range that starts exactly at a line start keeps that line
  const third = all[10]!;
  const r = await collect(path, { start: third, end: third + 1 });
  t.same(r.records.map((x) => x.offset), [third]);
  // line numbers in a range come from firstLine
  const numbered = await collect(path, { start: third, firstLine: 11 });
  t.equal(numbered.records[0]!.line, 11);
  await t.rejects(collect(Readable.from([big]), { start: 5 }), { code: 'SPED_RANGE_NEEDS_PATH' });
});

t.test('sources that cannot be read', async (t) => {
  await t.rejects(collect('/nonexistent/efd.txt'), { code: 'IO_ENOENT', exitCode: 2 });
  await t.rejects(validateSped('/nonexistent/efd.txt'), { code: 'IO_ENOENT' });
});
