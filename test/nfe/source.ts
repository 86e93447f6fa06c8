import t from 'tap';
import { existsSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { detectEncoding, isXmlOrZipName, readXmlDocuments, walkTree, zipEntryNameProblem, type XmlSourceItem } from '../../src/nfe/source.js';
import { tempDir } from '../helpers/temp-dir.js';
import { generateNfeXml } from '../../src/nfe/generate.js';
import { writeZip } from '../helpers/zip.js';

async function collect(src: string | string[], opts = {}): Promise<XmlSourceItem[]> {
  const out: XmlSourceItem[] = [];
  for await (const d of readXmlDocuments(src, opts)) out.push(d);
  return out;
}

t.test('concatenated documents on stdin split on document boundaries, bytes unchanged', async (t) => {
  const a = generateNfeXml(1);
  const b = '\ufeff<?xml version="1.0"?>\n<!-- c --><retEvento versao="1.00"><x a=">">t<![CDATA[</retEvento>]]></x><y/></retEvento>';
  const c = '<resNFe/>';
  const stream = Readable.from([Buffer.from(a + '\n' + b.slice(0, 30)), Buffer.from(b.slice(30) + '\r\n  '), Buffer.from(c)]);
  const docs = await collect('-', { stdin: stream });
  t.same(docs.map((d) => d.source), ['-#1', '-#2', '-#3']);
  t.same(docs.map((d) => (d.ok ? d.bytes.toString('utf8') : '')), [a, b, c]);
});

t.test('per-document cap on stdin is a finding and the stream goes on', async (t) => {
  const big = `<NFe>${'x'.repeat(2000)}</NFe>`;
  const docs = await collect('-', { stdin: Readable.from([Buffer.from(big + '<NFe/>')]), maxDocumentBytes: 1000 });
  t.equal(docs.length, 2);
  t.equal(docs[0]!.ok ? '' : docs[0]!.finding.code, 'NFE_TOO_LARGE');
  t.ok(docs[1]!.ok);
});

t.test('directory tree sorted, zip entries streamed, refused names and bombs are findings', async (t) => {
  const dir = t.testdir({ b: { 'z.xml': '<NFe/>', 'a.XML': '<NFe/>', 'skip.txt': 'x' }, 'a.xml': '<NFe/>' });
  const docs = await collect(dir);
  t.same(docs.map((d) => d.source.slice(dir.length + 1)), ['a.xml', 'b/a.XML', 'b/z.xml']);

  // build a zip with python's zipfile (writes `../` names verbatim), as an attacker would
  const zip = join(dir, 'batch.zip');
  const made = writeZip(zip, [['ok/1.xml', '<NFe/>'], ['../evil.xml', '<NFe/>'], ['/abs.xml', '<NFe/>'], ['bomb.xml', `<a>${'0'.repeat(5_000_000)}</a>`], ['readme.txt', 'x']]);
  if (!made) {
    t.comment('python3 not available to build the zip: zip checks not run');
    return;
  }
  const zdocs = await collect(zip, { maxDocumentBytes: 1_000_000 });
  t.same(zdocs.map((d) => [d.source.slice(dir.length + 1), d.ok ? 'ok' : d.finding.code]), [
    ['batch.zip!ok/1.xml', 'ok'],
    ['batch.zip!../evil.xml', 'NFE_ZIP_ENTRY_REFUSED'],
    ['batch.zip!/abs.xml', 'NFE_ZIP_ENTRY_REFUSED'],
    ['batch.zip!bomb.xml', 'NFE_TOO_LARGE'],
  ]);
  writeFileSync(join(dir, 'broken.zip'), 'PK not really');
  const broken = await collect(join(dir, 'broken.zip'));
  t.equal(broken[0]!.ok ? '' : broken[0]!.finding.code, 'NFE_ZIP_ERROR');
});

t.test('a missing path is a source error (exit 2)', async (t) => {
  await t.rejects(collect('/nonexistent/path.xml'), { code: 'IO_ENOENT' });
  mkdirSync(t.testdir({}), { recursive: true });
});

t.test('entry names and encodings', async (t) => {
  t.equal(zipEntryNameProblem('a/b.xml'), null);
  t.ok(zipEntryNameProblem('a/../../b.xml'));
  t.ok(zipEntryNameProblem('C:\\x.xml'));
  t.equal(detectEncoding(Buffer.from('\ufeff<a/>')), 'utf-8');
  t.equal(detectEncoding(Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><a/>')), 'iso-8859-1');
  t.equal(detectEncoding(Buffer.from("<?xml version='1.0' encoding='utf-8'?><a/>")), 'utf-8');
  t.equal(detectEncoding(Buffer.from('<?xml version="1.0" encoding="EBCDIC"?><a/>')), 'unsupported:ebcdic');
});

t.test('read-ahead: nested trees and zips in input order, failures at their place, same bytes whatever the limits', async (t) => {
  const xml = (n: number): string => generateNfeXml(n, { items: 1 + (n % 9) * 7 });
  const tree: Record<string, unknown> = {};
  for (let m = 1; m <= 3; m++) {
    const month: Record<string, unknown> = {};
    for (let i = 0; i < 12; i++) month[`n${String(i).padStart(2, '0')}.xml`] = xml(m * 100 + i);
    month['n05.xml'] = `<NFe>${'x'.repeat(3000)}</NFe>`; // over the cap below: a finding in the middle
    month.deeper = { 'a.xml': xml(m * 1000), 'b.xml': xml(m * 1000 + 1) };
    tree[`2026-0${m}`] = month;
  }
  const dir = t.testdir(tree as Parameters<typeof t.testdir>[0]);
  const zipOk = writeZip(join(dir, '2026-02', 'lote.zip'), [['x/1.xml', xml(7)], ['../evil.xml', '<NFe/>'], ['x/2.xml', xml(8)], ['x/3.xml', xml(9)]]);
  writeFileSync(join(dir, '2026-03', 'broken.zip'), 'PK not a zip');
  const reference = await collect(dir, { readAhead: 1, maxDocumentBytes: 200_000 });
  const summary = (items: XmlSourceItem[]): string[] => items.map((d) => `${d.source.slice(dir.length + 1)} ${d.ok ? d.bytes.length : d.finding.code}`);
  t.equal(reference.filter((d) => !d.ok && d.finding.code === 'NFE_TOO_LARGE').length, 0, 'the generated notes are under the cap');
  for (const [count, bytes] of [[1, 1], [3, 20_000], [8, 16 * 1024 * 1024], [32, 50_000]] as const) {
    const docs = await collect(dir, { readAhead: count, readAheadBytes: bytes, maxDocumentBytes: 2_000 + 200_000 * Number(count !== 32) });
    if (count === 32) {
      t.ok(summary(docs).some((l) => l.endsWith('NFE_TOO_LARGE')), 'a document over the cap is a finding at its place');
      continue;
    }
    t.same(summary(docs), summary(reference), `readAhead ${count}, readAheadBytes ${bytes}: same sequence`);
    for (let i = 0; i < docs.length; i++) {
      const a = docs[i]!;
      const b = reference[i]!;
      if (a.ok && b.ok && !a.bytes.equals(b.bytes)) t.fail(`${a.source}: bytes differ`);
    }
  }
  const names = summary(reference);
  t.same(names.slice(0, 4).map((n) => n.split(' ')[0]), ['2026-01/deeper/a.xml', '2026-01/deeper/b.xml', '2026-01/n00.xml', '2026-01/n01.xml'], 'sorted by name, depth first');
  t.equal(names[7], `2026-01/n05.xml ${3011}`, 'the big file is read whole under a higher cap');
  if (zipOk) {
    const z = names.filter((n) => n.includes('lote.zip'));
    t.same(z.map((n) => n.replace(/ \d+$/, ' ok')), ['2026-02/lote.zip!x/1.xml ok', '2026-02/lote.zip!../evil.xml NFE_ZIP_ENTRY_REFUSED', '2026-02/lote.zip!x/2.xml ok', '2026-02/lote.zip!x/3.xml ok']);
    const at = names.indexOf(z[0]!);
    t.match(names[at - 1]!, /^2026-02\/deeper\/b\.xml/, 'the zip comes at its name in the walk');
  } else t.comment('python3 not available to build the zip: zip read-ahead not checked');
  t.ok(names.includes('2026-03/broken.zip NFE_ZIP_ERROR'), 'a broken zip is a finding at its place');
});

t.test('read-ahead: a missing source throws after every document before it', async (t) => {
  const dir = t.testdir({ 'a.xml': '<NFe/>', 'b.xml': '<NFe/>' });
  const seen: string[] = [];
  await t.rejects(async () => {
    for await (const d of readXmlDocuments([dir, join(dir, 'missing.xml')])) seen.push(d.source.slice(dir.length + 1));
  }, { code: 'IO_ENOENT' });
  t.same(seen, ['a.xml', 'b.xml']);
  await t.rejects(collect(dir, { readAhead: 0 }), { code: 'NFE_OPTION_INVALID' });
  await t.rejects(collect(dir, { readAheadBytes: 1.5 }), { code: 'NFE_OPTION_INVALID' });
});

t.test('read-ahead: stopping early (--fail-fast) closes every file handle', { skip: existsSync('/proc/self/fd') ? false : 'needs /proc/self/fd' }, async (t) => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 60; i++) files[`f${String(i).padStart(2, '0')}.xml`] = generateNfeXml(i + 1);
  const dir = t.testdir(files);
  const entries: [string, string][] = Object.entries(files);
  const zip = join(dir, '..', `${dir.split('/').pop()}.zip`);
  const zipOk = writeZip(zip, entries);
  // handles on this test's own files only: a handle some earlier test leaked, closed by the garbage collector in
  // between, must not change the count
  const fds = (): number =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        return target.startsWith(`${dir}/`) || target === zip;
      } catch {
        return false; // closed while listing
      }
    }).length;
  const before = fds();
  t.equal(before, 0, 'none before');
  for (const src of zipOk ? [dir, zip] : [dir]) {
    let n = 0;
    for await (const d of readXmlDocuments(src, { readAhead: 16 })) {
      t.ok(d.ok);
      if (++n === 4) break;
    }
    t.equal(fds(), before, `${src.endsWith('.zip') ? 'zip' : 'directory'}: no handle left open after the early stop`);
  }
  let n = 0;
  for await (const d of readXmlDocuments(dir)) if (d.ok) n++;
  t.equal(n, 60);
  t.equal(fds(), before, 'none after a full read either');
});

t.test('tree walk: names in code-unit order with subdirectories at their place, against a readdir oracle', async (t) => {
  const root = tempDir('fiscal-walk-');
  // prefixes, case, digits, accents, a directory named like a file and files beside directories that sort around them
  const names = ['a.xml', 'a', 'a.xml.d', 'B.xml', 'b.xml', 'b', 'ab.xml', 'a-1.xml', 'a_1.xml', 'é.xml', 'e.xml', 'Z', 'z.zip', 'z', '10.xml', '9.xml', 'note.txt', '\u{1F600}.xml', '\uFF21.xml', 'ação.XML'];
  const build = (dir: string, depth: number): void => {
    for (const n of names) {
      const isDir = /^[a-zA-Z]$|\.d$/.test(n);
      if (isDir && depth < 2) {
        mkdirSync(join(dir, n));
        build(join(dir, n), depth + 1);
      } else if (!isDir) writeFileSync(join(dir, n), n.endsWith('.zip') ? Buffer.alloc(0) : '<x/>');
    }
  };
  build(root, 0);
  const oracle = (dir: string): string[] => {
    const out: string[] = [];
    const entries = readdirSync(dir, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    for (const e of entries) {
      if (e.isDirectory()) out.push(...oracle(join(dir, e.name)));
      else if (/\.(xml|zip)$/i.test(e.name)) out.push(join(dir, e.name));
    }
    return out;
  };
  const walked: string[] = [];
  for await (const f of walkTree(root, isXmlOrZipName)) walked.push('path' in f ? f.path : `error ${f.dir}`);
  t.same(walked, oracle(root));
  t.ok(walked.length > 100, `${walked.length} files`);
});
