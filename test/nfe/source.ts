import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { detectEncoding, readXmlDocuments, zipEntryNameProblem, type XmlSourceItem } from '../../src/nfe/source.js';
import { generateNfeXml } from '../../src/nfe/generate.js';

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
  const script = `import zipfile,sys
z=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED)
z.writestr('ok/1.xml','<NFe/>')
z.writestr('../evil.xml','<NFe/>')
z.writestr('/abs.xml','<NFe/>')
z.writestr('bomb.xml','<a>'+'0'*5000000+'</a>')
z.writestr('readme.txt','x')
z.close()`;
  try {
    execFileSync('python3', ['-c', script, zip]);
  } catch {
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
