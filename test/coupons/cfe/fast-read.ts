/**
 * The CF-e fast lane (src/coupons/cfe/fast-read.ts) against the general reader it stands in for: on every
 * document, what the summary gets through couponsOfItem (the lane when it takes the document, else the general
 * reader) equals what the general reader alone gives — events, amounts to the cent, findings and their text.
 * Generated coupons of both profiles must take the lane; mutated ones (random bytes, markup, whitespace and
 * elements inserted, deleted or repeated) and hand-made odd ones go whichever way the lane decides, with the same
 * result. The lane's pruned tree keeps arrays exactly where the general tree has them (the schemas).
 */
import t from 'tap';
import { CFE_CANC_SPEC, CFE_SPEC, readCfeFast, type Spec } from '../../../src/coupons/cfe/fast-read.js';
import { cfeSchema } from '../../../src/coupons/cfe/model.js';
import { generateCfe, generateCfeCancellation, type CfeProduct } from '../../../src/coupons/cfe/generate.js';
import { couponsOfItem } from '../../../src/coupons/extract-job.js';
import { couponsOfDocument } from '../../../src/coupons/from-xml.js';
import { parseItem } from '../../../src/nfe/parse.js';
import { isRepeatingPath } from '../../../src/nfe/schema.js';
import { mulberry32 } from '../../../src/common/prng.js';
import { detectEncoding, type XmlSourceItem } from '../../../src/nfe/source.js';

const item = (bytes: Buffer): XmlSourceItem => ({ ok: true, source: 'doc.xml', bytes, encoding: detectEncoding(bytes) });
const show = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
const general = (it: XmlSourceItem, maxDepth?: number) => couponsOfDocument(parseItem(it, maxDepth === undefined ? {} : { maxDepth }));
const summaryOf = (it: XmlSourceItem, maxDepth?: number) => couponsOfItem(it, maxDepth === undefined ? {} : { maxDepth });
const takesLane = (bytes: Buffer, maxDepth = 64): boolean => readCfeFast('doc.xml', bytes, maxDepth) !== null;

const CATALOG: CfeProduct[] = Array.from({ length: 50 }, (_, i) => ({
  code: String(10000 + i), name: `PRODUTO ${['AÇÚCAR', 'FEIJÃO', 'PÃO', 'CAFÉ'][i % 4]} ${i}`, ncm: String(10000000 + i * 7919), unit: 'UN',
  gtin: i % 5 === 0 ? '' : `789${String(1000000000 + i).slice(0, 10)}`, cst: (['00', '20', '40', '60'] as const)[i % 4]!, rate: ['18.00', '12.00', '', ''][i % 4]!,
}));

function storeCoupon(seed: number): Buffer {
  return Buffer.from(generateCfe(seed, { items: 1 + (seed % 12), catalog: CATALOG, signatureShaped: seed % 2 === 0, nserieSAT: String(900100000 + (seed % 7)) }).xml, 'utf8');
}

t.test('the pruned tree has arrays where the general tree has them (the NF-e and CF-e schemas)', async (t) => {
  const variants: Record<string, string[]> = { ICMS: ['ICMS00', 'ICMS40', 'ICMSSN102', 'ICMSSN900'], PIS: ['PISAliq', 'PISQtde', 'PISNT', 'PISSN', 'PISOutr'], COFINS: ['COFINSAliq', 'COFINSQtde', 'COFINSNT', 'COFINSSN', 'COFINSOutr'] };
  let checked = 0;
  const walk = (spec: Spec, path: string[]): void => {
    const repeats = isRepeatingPath(path) || cfeSchema.isRepeatingPath(path);
    t.equal(repeats, spec.repeats, `/${path.join('/')}`);
    checked++;
    if (spec.kind === 2) for (const v of variants[spec.name]!) for (const l of spec.children) walk(l, [...path, v, l.name]);
    else for (const c of spec.children) walk(c, [...path, c.name]);
  };
  walk(CFE_SPEC, ['CFe']);
  walk(CFE_CANC_SPEC, ['CFeCanc']);
  t.ok(checked > 50, `${checked} paths`);
});

t.test('generated coupons and cancellations take the lane, with the general reader\'s result', async (t) => {
  for (let seed = 1; seed <= 120; seed++) {
    const docs = [storeCoupon(seed), Buffer.from(generateCfe(seed).xml, 'utf8'), Buffer.from(generateCfeCancellation(seed).xml, 'utf8')];
    for (const bytes of docs) {
      if (!takesLane(bytes)) return t.fail(`seed ${seed}: the lane refused a generated document`);
      const got = show(summaryOf(item(bytes)));
      const want = show(general(item(bytes)));
      if (got !== want) return t.equal(got, want, `seed ${seed}`);
    }
  }
  t.pass('360 generated documents');
});

const TOKENS = ['<', '>', '/', '"', "'", '=', ' ', '\r\n', '\t', '&amp;', '&', '<!-- c -->', '<![CDATA[x]]>', '<?pi x?>', ']]>', '<x/>', '<x a="1"/>',
  '<vProd>1.00</vProd>', '<vDesc>0.50</vDesc>', '<CFOP>5405</CFOP>', '<ICMS40><Orig>0</Orig><CST>40</CST></ICMS40>', '</det>', '<det nItem="9">', '<ide/>',
  '<total/>', '<ns:x/>', '<constructor/>', '<toString>1</toString>', '\u00e7', '\xff', 'CFe', '<CFe>', '</CFe>', '<vProd a="1">2</vProd>', '0', '.', '-'];

function mutate(bytes: Buffer, r: () => number): Buffer {
  let text = bytes.toString('latin1');
  const edits = 1 + Math.floor(r() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * text.length);
    const kind = r();
    if (kind < 0.4) {
      const tok = TOKENS[Math.floor(r() * TOKENS.length)]!;
      text = text.slice(0, at) + Buffer.from(tok, 'utf8').toString('latin1') + text.slice(at);
    } else if (kind < 0.6) {
      text = text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 8));
    } else if (kind < 0.8) {
      // an element repeated in place (a start tag to its end tag)
      const lt = text.indexOf('<', at);
      const m = lt === -1 ? null : /^<([A-Za-z][\w]*)[^>]*>[^<]*<\/\1>/.exec(text.slice(lt));
      if (m) text = text.slice(0, lt) + m[0] + text.slice(lt);
    } else {
      text = text.slice(0, at) + String.fromCharCode(Math.floor(r() * 128)) + text.slice(at + 1);
    }
  }
  return Buffer.from(text, 'latin1');
}

t.test('mutated documents: whichever way they go, the general reader\'s result', async (t) => {
  let lane = 0;
  let general_ = 0;
  for (let seed = 1; seed <= 1500; seed++) {
    const r = mulberry32(seed * 104729);
    const base = seed % 3 === 0 ? Buffer.from(generateCfeCancellation(seed).xml, 'utf8') : storeCoupon(seed);
    const bytes = mutate(base, r);
    const maxDepth = seed % 50 === 0 ? 4 : undefined;
    if (takesLane(bytes, maxDepth ?? 64)) lane++;
    else general_++;
    const got = show(summaryOf(item(bytes), maxDepth));
    const want = show(general(item(bytes), maxDepth));
    if (got !== want) return t.equal(got, want, `seed ${seed}: ${bytes.toString('latin1').slice(0, 400)}`);
  }
  // both ways taken often: the comparison covers documents the lane accepts after a mutation, not just refusals
  t.ok(lane > 200, `${lane} mutated documents took the lane`);
  t.ok(general_ > 200, `${general_} went the general way`);
});

t.test('odd documents: refused by the lane or read alike', async (t) => {
  const base = storeCoupon(7).toString('utf8');
  const cases: [string, string, boolean][] = [
    ['an entity in a description', base.replace(/<xProd>/, '<xProd>P&amp;G '), false],
    ['a comment', base.replace('<ide>', '<ide><!-- caixa 2 -->'), false],
    ['CRLF line ends and indentation', base.replace(/></g, '>\r\n  <'), true],
    ['a BOM', `\ufeff${base}`, true],
    ['whitespace inside end tags', base.replace(/<\/vProd>/g, '</vProd \n>'), true],
    ['a repeated vProd', base.replace(/(<vProd>[^<]*<\/vProd>)/, '$1$1'), false],
    ['an empty ide', base.replace(/<ide>[\s\S]*?<\/ide>/, '<ide/>'), true],
    ['an empty tax group', base.replace(/<ICMS>[\s\S]*?<\/ICMS>/, '<ICMS/>'), true],
    ['an empty det', base.replace(/<det nItem="1">[\s\S]*?<\/det>/, '<det/>'), true],
    ['two ICMS variants', base.replace(/(<ICMS>)/, '$1<ICMS40><Orig>0</Orig><CST>40</CST></ICMS40>'), false],
    ['an attribute on a value', base.replace('<vProd>', '<vProd moeda="BRL">'), false],
    ['a prefixed element', base.replace('<emit>', '<emit><ns:x xmlns:ns="urn:x"/>'), false],
    ['an element named constructor', base.replace('<emit>', '<emit><constructor/>'), false],
    ['a byte that is not UTF-8', base.replace('<xProd>', '<xProd>\ufffd'), true],
    ['a mismatched end tag', base.replace('</emit>', '</emitt>'), false],
    ['text after the root', `${base}x`, false],
    ['a det without its product', base.replace(/<det nItem="1">[\s\S]*?<\/det>/, '<det nItem="1"><x/></det>'), true],
    ['a value that is not a decimal', base.replace(/<vProd>[^<]*</, '<vProd>1,5<'), true],
    ['spaces around a value', base.replace(/<vDesc>/g, '<vDesc> ').replace(/<CFOP>/, '<CFOP>\t'), true],
    ['an ISO-8859-1 declaration', base.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'), false],
  ];
  for (const [what, text, lane] of cases) {
    let bytes = Buffer.from(text, what === 'an ISO-8859-1 declaration' ? 'latin1' : 'utf8');
    if (what === 'a byte that is not UTF-8') bytes = Buffer.from(text.replace('\ufffd', '\u00ff'), 'latin1');
    const it = item(bytes);
    const takes = it.ok && it.encoding === 'utf-8' && takesLane(bytes);
    // a byte that is not UTF-8 goes the general way (its warning); the case says whether the lane takes it
    t.equal(takes, lane && what !== 'a byte that is not UTF-8', `${what}: ${lane ? 'takes' : 'refuses'} the lane`);
    t.equal(show(summaryOf(it)), show(general(it)), `${what}: the same result`);
  }
  t.ok(takesLane(Buffer.from(base, 'utf8')), 'the base document takes the lane');
  t.notOk(takesLane(Buffer.from(base, 'utf8'), 3), 'nesting deeper than maxDepth goes the general way (its NFE_XML_TOO_DEEP)');
});
