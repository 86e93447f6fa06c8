/**
 * from-docs through the CF-e fast lane (FROM_DOCS_CFE_LANE): for every document, what the lane gives (or, when
 * it refuses, the general reader) books exactly what the general reader's tree books — C800, C850/C860 groups,
 * PIS/COFINS groups, cancellations, findings — in both layouts. Generated sales of the company (anonymous and
 * identified buyers, store-shaped catalogues), of another company and out of the period, cancellations, and
 * mutated ones.
 */
import t from 'tap';
import { readCfeFast } from '../../src/coupons/cfe/fast-read.js';
import { generateCfe, generateCfeCancellation, type CfeProduct } from '../../src/coupons/cfe/generate.js';
import { mulberry32 } from '../../src/common/prng.js';
import { parseItem } from '../../src/nfe/parse.js';
import { detectEncoding, type XmlSourceItem } from '../../src/nfe/source.js';
import { FROM_DOCS_CFE_LANE } from '../../src/sped/from-docs-coupon.js';
import { extractDocument, type ExtractContext, type FromDocsLayout } from '../../src/sped/from-docs-extract.js';
import { RecordMaker } from '../../src/sped/from-docs-records.js';
import { loadLayout } from '../../src/sped/layout.js';
import { COMPANY_CNPJ, company } from '../helpers/from-docs.js';

const show = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x && typeof x === 'object' && 'format' in x && typeof (x as { format: unknown }).format === 'function' ? String((x as { format: (s: string) => string }).format('.')) : x));
const item = (bytes: Buffer): XmlSourceItem => ({ ok: true, source: 'c.xml', bytes, encoding: detectEncoding(bytes) });

const CATALOG: CfeProduct[] = Array.from({ length: 30 }, (_, i) => ({
  code: String(2000 + i), name: `ITEM ${['AÇÚCAR', 'PÃO', 'CAFÉ'][i % 3]} ${i}`, ncm: String(20000000 + i), unit: 'UN', gtin: '',
  cst: (['00', '20', '40', '60'] as const)[i % 4]!, rate: ['18.00', '7.00', '', ''][i % 4]!,
}));

function sale(seed: number): Buffer {
  const day = `202603${String(1 + (seed % 28)).padStart(2, '0')}`;
  const other = seed % 17 === 0;
  const outside = seed % 19 === 0;
  const opts = { emitterCnpj: other ? '99888777000161' : COMPANY_CNPJ, dEmi: outside ? '20260415' : day, buyer: seed % 3 === 0, ...(seed % 2 === 0 ? { catalog: CATALOG, items: 1 + (seed % 9) } : {}) };
  return Buffer.from(generateCfe(seed, opts).xml, 'utf8');
}

function mutate(bytes: Buffer, r: () => number): Buffer {
  const tokens = ['<x/>', ' ', '\r\n', '<', '>', '"', '&amp;', '<dest/>', '<CPF>12345678909</CPF>', '<vDesc>0.10</vDesc>', '<ICMS40><Orig>0</Orig><CST>40</CST></ICMS40>', '<!--c-->', '</det>', '0'];
  let text = bytes.toString('latin1');
  for (let e = 0; e < 1 + Math.floor(r() * 2); e++) {
    const at = Math.floor(r() * text.length);
    if (r() < 0.6) text = text.slice(0, at) + tokens[Math.floor(r() * tokens.length)]! + text.slice(at);
    else text = text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 6));
  }
  return Buffer.from(text, 'latin1');
}

for (const layout of ['efd-icms-ipi', 'efd-contribuicoes'] as FromDocsLayout[]) {
  t.test(`${layout}: the lane books what the general reader books`, async (t) => {
    const ctx: ExtractContext = { layout, company: company(), period: { start: '2026-03-01', end: '2026-03-31' }, records: new RecordMaker(loadLayout(layout), layout === 'efd-icms-ipi' ? '020' : '006') };
    const r = mulberry32(layout.length);
    let lane = 0;
    for (let seed = 1; seed <= 600; seed++) {
      const base = seed % 5 === 0 ? Buffer.from(generateCfeCancellation(seed, { emitterCnpj: seed % 10 === 0 ? '99888777000161' : COMPANY_CNPJ }).xml, 'utf8') : sale(seed);
      const bytes = seed > 300 ? mutate(base, r) : base;
      const fast = readCfeFast('c.xml', bytes, 64, FROM_DOCS_CFE_LANE);
      if (seed <= 300 && !fast) return t.fail(`seed ${seed}: a generated document refused by the lane`);
      if (fast) lane++;
      const got = show(extractDocument(fast ?? parseItem(item(bytes)), ctx));
      const want = show(extractDocument(parseItem(item(bytes)), ctx));
      if (got !== want) return t.equal(got, want, `seed ${seed}: ${bytes.toString('latin1').slice(0, 300)}`);
    }
    t.ok(lane > 320, `${lane} of 600 through the lane (all 300 generated, and mutated ones)`);
  });
}
