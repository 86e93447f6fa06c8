/**
 * DocumentSplitter: concatenated documents found again whatever the chunking. Property test: random documents
 * with the markup that could fool a splitter (`>` and `/>` inside quoted attribute values, comments and CDATA
 * holding tags, processing instructions, self-closing roots, a DOCTYPE with an internal subset, Latin-1 bytes),
 * joined with random whitespace, cut into random chunks: the pieces put together are the documents, in order.
 */
import t from 'tap';
import { DocumentSplitter } from '../../src/nfe/split-documents.js';

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

const PIECES = [
  '<a x="1 > 2" y=\'/>\'>t</a>',
  '<b/>',
  '<!-- <c> --> -->',
  '<![CDATA[ </root> <x/> ]]>',
  '<?pi data > more ?>',
  '<d>caf\u00e9 p\u00e3o</d>',
  '<e attr="&quot;q&quot;"><f><g/></f></e>',
  'text &amp; more',
];

function randomDocument(r: () => number): string {
  const prolog = r() < 0.5 ? '<?xml version="1.0" encoding="ISO-8859-1"?>' : '';
  const comment = r() < 0.2 ? '<!-- before the root <root> -->' : '';
  const doctype = r() < 0.1 ? '<!DOCTYPE root [ <!ENTITY e "<root>"> ]>' : '';
  if (r() < 0.1) return `${prolog}${comment}${doctype}<root a="/>"/>`;
  let body = '';
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) body += PIECES[Math.floor(r() * PIECES.length)];
  return `${prolog}${comment}${doctype}<root id="r>1">${body}</root>`;
}

function split(input: Buffer, cuts: number[]): Buffer[] {
  const splitter = new DocumentSplitter();
  const docs: Buffer[] = [];
  let parts: Buffer[] = [];
  let from = 0;
  for (const to of [...cuts, input.length]) {
    const chunk = input.subarray(from, to);
    from = to;
    const out: number[] = [];
    splitter.scan(chunk, out);
    for (let p = 0; p < out.length; p += 3) {
      parts.push(chunk.subarray(out[p]!, out[p + 1]!));
      if (out[p + 2] === 1) {
        docs.push(Buffer.concat(parts));
        parts = [];
      }
    }
  }
  if (splitter.inDocument) docs.push(Buffer.concat(parts));
  return docs;
}

t.test('random documents, random chunks: the same documents back', async (t) => {
  for (let seed = 1; seed <= 300; seed++) {
    const r = rng(seed);
    const docs = Array.from({ length: 1 + Math.floor(r() * 8) }, () => randomDocument(r));
    const gaps = docs.map(() => ['', '\n', '\r\n', '  \t'][Math.floor(r() * 4)]!);
    const input = Buffer.from(docs.map((d, i) => gaps[i] + d).join('') + '\n', 'latin1');
    const cuts = Array.from({ length: Math.floor(r() * 12) }, () => Math.floor(r() * input.length)).sort((a, b) => a - b);
    const got = split(input, cuts).map((b) => b.toString('latin1'));
    if (JSON.stringify(got) !== JSON.stringify(docs)) {
      t.same(got, docs, `seed ${seed}, cuts ${cuts.join(',')}`);
      return;
    }
    // one byte at a time: every state carried across a chunk boundary
    if (seed % 30 === 0) {
      const bytewise = split(input, Array.from({ length: input.length - 1 }, (_, i) => i + 1)).map((b) => b.toString('latin1'));
      t.same(bytewise, docs, `seed ${seed}, one byte per chunk`);
    }
  }
  t.pass('300 random streams split back into their documents');
});

t.test('an unfinished document at the end is left open, whitespace alone is no document', async (t) => {
  const s = new DocumentSplitter();
  const out: number[] = [];
  s.scan(Buffer.from('  \n'), out);
  t.same(out, []);
  t.equal(s.inDocument, false);
  s.scan(Buffer.from('<a><b>'), out);
  t.same(out, [0, 6, 0]);
  t.equal(s.inDocument, true);
});

// The scan has a fast lane for plain tags that runs only where a chunk holds more than the current byte; with one
// byte per chunk it never runs, and the state machine alone is the oracle. Malformed markup soup (unbalanced tags,
// `<>`, `</>`, a quote right after `<`, stray quotes and `>`, `<!`/`<?` openers, bytes past 0x7f) must be cut the
// same way at any chunking.
const SOUP = ['<a>', '</a>', '<b/>', '<>', '</>', '<"x>', "<'", '"', "'", '>', '/>', '<', '</', '<!', '<?', '?>', '-->', '<!--',
  ']]>', '<![CDATA[', '<c k="v>/">', "<d k='<'/>", 'text', ' ', '\n', '\u00e7\u00e3o', '<e\n/>', '<f a=1/>'];

t.test('malformed markup soup: any chunking cuts where one byte per chunk cuts', async (t) => {
  for (let seed = 1; seed <= 400; seed++) {
    const r = rng(seed * 7919);
    const tokens = Array.from({ length: 1 + Math.floor(r() * 40) }, () => SOUP[Math.floor(r() * SOUP.length)]!);
    const input = Buffer.from(tokens.join(''), 'latin1');
    const oracle = split(input, Array.from({ length: Math.max(0, input.length - 1) }, (_, i) => i + 1)).map((b) => b.toString('latin1'));
    const cuts = Array.from({ length: Math.floor(r() * 6) }, () => Math.floor(r() * input.length)).sort((a, b) => a - b);
    for (const [how, at] of [['whole', []], ['random cuts', cuts]] as const) {
      const got = split(input, [...at]).map((b) => b.toString('latin1'));
      if (JSON.stringify(got) !== JSON.stringify(oracle)) {
        t.same(got, oracle, `seed ${seed}, ${how} ${at.join(',')}: ${JSON.stringify(input.toString('latin1'))}`);
        return;
      }
    }
  }
  t.pass('400 malformed streams cut alike at any chunking');
});
