/**
 * Deterministic CF-e SAT documents (layout 0.08) for fixtures and tests: the same seed gives the same bytes.
 * A sale (`CFe`) validates against CfeDadosVendaSAT_0008.xsd once signed (the schema requires the Signature:
 * `signXml(xml, credentials, { units: 'cfe', algorithm: 'rsa-sha256' })`, as a SAT signs); a cancellation
 * (`CFeCanc`) names its sale in `chCanc`. Values are consistent: item values exact products, taxes exact
 * percentages, totals summed from the items, payment equal to the total, key and check digit from its parts.
 * Written as text in schema order (formats/cfe/schema.json).
 */
import { mulberry32 } from '../../common/prng.js';
import { multiplyDecimals, percentOf, sumDecimals } from '../../nfe/decimal.js';
import { cnpjFromNumber } from '../../nfe/generate.js';
import { buildCfeKey } from './key.js';

export interface CfeGenerateOptions {
  /** Number of items; default 1 to 6, chosen by the seed. */
  readonly items?: number;
  /** Emitter CNPJ (14 digits). Default: derived from the seed, valid digits. */
  readonly emitterCnpj?: string;
  /** Emission `AAAAMMDD`; default a day of 2026 chosen by the seed. */
  readonly dEmi?: string;
  /** A buyer identified by CNPJ (default: chosen by the seed; else `<dest/>`, an anonymous consumer). */
  readonly buyer?: boolean;
  /** The SAT's serial number (9 digits; default 900004019). */
  readonly nserieSAT?: string;
  /**
   * The store's products (default six staples, all taxed at 7% or 18%): items are drawn from it skewed, as
   * sales are — the first products in most coupons, the long tail in few.
   */
  readonly catalog?: readonly CfeProduct[];
  /**
   * Appends a `Signature` element of a real SAT signature's shape and size (SignedInfo with its digest, a 2048-bit
   * SignatureValue, the X509Certificate) whose values sign nothing: for benchmarks of what reads the whole
   * document; a verification fails on it.
   */
  readonly signatureShaped?: boolean;
}

/** A product of a generated store. */
export interface CfeProduct {
  readonly code: string;
  /** Description, any text (accents included: the document is UTF-8). */
  readonly name: string;
  readonly ncm: string;
  readonly unit: string;
  /** GTIN, or '' when the product has none. */
  readonly gtin: string;
  /** ICMS CST: `00` (taxed, with `rate`), `20`, `40` or `60` (no ICMS on the coupon: ICMS40 group, CFOP 5405 for 60). */
  readonly cst: '00' | '20' | '40' | '60';
  /** ICMS rate for CST 00/20 (`18.00`). */
  readonly rate: string;
}

const PRODUCTS = [
  ['ARROZ TIPO 1 5KG', '10063021', 'PCT', '7891000100103'],
  ['FEIJAO CARIOCA 1KG', '07133399', 'PCT', '7896006716112'],
  ['CAFE TORRADO E MOIDO 500G', '09012100', 'PCT', '7896005800027'],
  ['REFRIGERANTE LATA 350ML', '22021000', 'UN', '7894900011517'],
  ['SABAO EM PO 1KG', '34022000', 'CX', '7891024134702'],
  ['PAO FRANCES KG', '19059090', 'KG', ''],
] as const;

const esc = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** `<name>text</name>`, or `<name>children…</name>` for a list of already-written children. */
const el = (name: string, content: string | readonly string[], attrs = ''): string =>
  `<${name}${attrs}>${typeof content === 'string' ? esc(content) : content.join('')}</${name}>`;

interface Sale {
  readonly key: string;
  readonly xml: string;
  readonly ide: string;
  readonly emit: string;
  readonly vCFe: string;
}

const SAT_SERIAL = '900004019';

/** Base64 text of `n` characters, deterministic. */
const base64Of = (n: number, seed: number): string => Buffer.alloc(Math.ceil((n * 3) / 4), seed % 251).toString('base64').slice(0, n);

/** A Signature element of a real SAT signature's size (see CfeGenerateOptions.signatureShaped). */
function shapedSignature(key: string, seed: number): string {
  const alg = (name: string, uri: string): string => `<${name} Algorithm="${uri}"/>`;
  return `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>${alg('CanonicalizationMethod', 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315')}` +
    `${alg('SignatureMethod', 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256')}<Reference URI="#CFe${key}"><Transforms>` +
    `${alg('Transform', 'http://www.w3.org/2000/09/xmldsig#enveloped-signature')}${alg('Transform', 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315')}</Transforms>` +
    `${alg('DigestMethod', 'http://www.w3.org/2001/04/xmlenc#sha256')}<DigestValue>${base64Of(44, seed)}</DigestValue></Reference></SignedInfo>` +
    `<SignatureValue>${base64Of(344, seed + 1)}</SignatureValue><KeyInfo><X509Data><X509Certificate>${base64Of(1780, seed + 2)}</X509Certificate></X509Data></KeyInfo></Signature>`;
}

const DEFAULT_CATALOG: readonly CfeProduct[] = PRODUCTS.map(([name, ncm, unit, gtin], i) => ({ code: String(100 + i), name, ncm, unit, gtin, cst: '00', rate: '' }));
const SOFTWARE_HOUSE = '16716114000172';

function sale(seed: number, options: CfeGenerateOptions): Sale {
  const r = mulberry32(seed * 7919 + 59);
  const n = options.items ?? 1 + Math.floor(r() * 6);
  const cnpj = options.emitterCnpj ?? cnpjFromNumber(4000 + (seed % 500));
  const day = options.dEmi ?? `2026${String(1 + Math.floor(r() * 12)).padStart(2, '0')}${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
  const hEmi = `${String(8 + Math.floor(r() * 12)).padStart(2, '0')}${String(Math.floor(r() * 60)).padStart(2, '0')}${String(Math.floor(r() * 60)).padStart(2, '0')}`;
  const nCFe = String(1 + (seed % 999999)).padStart(6, '0');
  const cNF = String(Math.floor(r() * 1e6)).padStart(6, '0');
  const serial = options.nserieSAT ?? SAT_SERIAL;
  const key = buildCfeKey({ cUF: '35', aamm: day.slice(2, 6), cnpj, nserieSAT: serial, nCFe, cNF });
  const ide = el('ide', [
    el('cUF', '35'), el('cNF', cNF), el('mod', '59'), el('nserieSAT', serial), el('nCFe', nCFe), el('dEmi', day),
    el('hEmi', hEmi), el('cDV', key.slice(43)), el('tpAmb', '2'), el('CNPJ', SOFTWARE_HOUSE),
    el('signAC', 'SGR-SAT SISTEMA DE GESTAO E RETAGUARDA DO SAT'), el('assinaturaQRCODE', Buffer.alloc(256, seed % 251).toString('base64')),
    el('numeroCaixa', String(1 + (seed % 20)).padStart(3, '0')),
  ]);
  const enderEmit = el('enderEmit', [el('xLgr', 'RUA DAS FLORES'), el('nro', String(10 + (seed % 900))), el('xBairro', 'CENTRO'), el('xMun', 'SAO PAULO'), el('CEP', '01001000')]);
  const emit = el('emit', [el('CNPJ', cnpj), el('xNome', `MERCADO TESTE ${seed % 100} LTDA`), enderEmit, el('IE', '111111111111'), el('cRegTrib', '3'), el('indRatISSQN', 'N')]);
  const buyer = options.buyer ?? r() < 0.3;
  const dest = buyer ? el('dest', [el('CNPJ', cnpjFromNumber(9000 + (seed % 700))), el('xNome', 'CLIENTE IDENTIFICADO LTDA')]) : '<dest/>';
  const items: { vProd: string; vItem: string; vICMS: string; vPIS: string; vCOFINS: string; v12741: string; xml: string }[] = [];
  for (let i = 1; i <= n; i++) {
    // the default catalog draws uniformly, as it always did (the same seed, the same bytes); a store's skewed
    const catalog = options.catalog ?? DEFAULT_CATALOG;
    const pick = options.catalog ? Math.floor(r() ** 3 * catalog.length) : Math.floor(r() * catalog.length);
    const p = catalog[pick]!;
    const qCom = p.unit === 'KG' ? `${Math.floor(r() * 3)}.${String(Math.floor(r() * 1000)).padStart(3, '0')}0` : `${1 + Math.floor(r() * 5)}.0000`;
    const vUnCom = `${1 + Math.floor(r() * 40)}.${String(Math.floor(r() * 100)).padStart(2, '0')}`;
    const vProd = multiplyDecimals(qCom, vUnCom);
    const taxed = p.cst === '00' || p.cst === '20';
    const drawn = r() < 0.5 ? '18.00' : '7.00';
    const code = options.catalog ? p.code : String(100 + Math.floor(r() * 900));
    const pICMS = options.catalog ? p.rate : drawn;
    const vICMS = taxed ? percentOf(vProd, pICMS) : '0.00';
    const vPIS = multiplyDecimals(vProd, '0.0165');
    const vCOFINS = multiplyDecimals(vProd, '0.0760');
    const v12741 = percentOf(vProd, '31.45');
    const prod = el('prod', [
      el('cProd', code), ...(p.gtin ? [el('cEAN', p.gtin)] : []), el('xProd', p.name), el('NCM', p.ncm),
      el('CFOP', p.cst === '60' ? '5405' : '5102'), el('uCom', p.unit), el('qCom', qCom), el('vUnCom', vUnCom), el('vProd', vProd), el('indRegra', 'A'), el('vItem', vProd),
    ]);
    const icms = taxed
      ? el(`ICMS00`, [el('Orig', '0'), el('CST', p.cst), el('pICMS', pICMS), el('vICMS', vICMS)])
      : el('ICMS40', [el('Orig', '0'), el('CST', p.cst)]);
    const imposto = el('imposto', [
      el('vItem12741', v12741),
      el('ICMS', [icms]),
      el('PIS', [el('PISAliq', [el('CST', '01'), el('vBC', vProd), el('pPIS', '0.0165'), el('vPIS', vPIS)])]),
      el('COFINS', [el('COFINSAliq', [el('CST', '01'), el('vBC', vProd), el('pCOFINS', '0.0760'), el('vCOFINS', vCOFINS)])]),
    ]);
    items.push({ vProd, vItem: vProd, vICMS, vPIS, vCOFINS, v12741, xml: el('det', [prod, imposto], ` nItem="${i}"`) });
  }
  const sum = (k: 'vProd' | 'vItem' | 'vICMS' | 'vPIS' | 'vCOFINS' | 'v12741'): string => sumDecimals(items.map((x) => x[k]));
  const vCFe = sum('vItem');
  const total = el('total', [
    el('ICMSTot', [el('vICMS', sum('vICMS')), el('vProd', sum('vProd')), el('vDesc', '0.00'), el('vPIS', sum('vPIS')), el('vCOFINS', sum('vCOFINS')),
      el('vPISST', '0.00'), el('vCOFINSST', '0.00'), el('vOutro', '0.00')]),
    el('vCFe', vCFe), el('vCFeLei12741', sum('v12741')),
  ]);
  const pgto = el('pgto', [el('MP', [el('cMP', '01'), el('vMP', vCFe)]), el('vTroco', '0.00')]);
  const infAdic = el('infAdic', [el('infCpl', 'Documento de teste gerado por fiscal-engine')]);
  const inf = el('infCFe', [ide, emit, dest, ...items.map((x) => x.xml), total, pgto, infAdic], ` Id="CFe${key}" versao="0.08" versaoDadosEnt="0.08" versaoSB="010000"`);
  const signature = options.signatureShaped ? shapedSignature(key, seed) : '';
  return { key, xml: `<?xml version="1.0" encoding="UTF-8"?><CFe>${inf}${signature}</CFe>`, ide, emit, vCFe };
}

/** An unsigned CF-e sale (`<CFe>`, layout 0.08) and its key. */
export function generateCfe(seed: number, options: CfeGenerateOptions = {}): { key: string; xml: string } {
  const s = sale(seed, options);
  return { key: s.key, xml: s.xml };
}

/**
 * An unsigned cancellation (`<CFeCanc>`) of the sale `generateCfe(seed, options)` gives, issued by the same
 * SAT with the next coupon number a few minutes later; `cancels` is the sale's key.
 */
export function generateCfeCancellation(seed: number, options: CfeGenerateOptions = {}): { key: string; cancels: string; xml: string } {
  const s = sale(seed, options);
  const k = s.key;
  const nCFe = String((Number(k.slice(31, 37)) % 999999) + 1).padStart(6, '0');
  const cNF = String((Number(k.slice(37, 43)) + 1) % 1e6).padStart(6, '0');
  const key = buildCfeKey({ cUF: k.slice(0, 2), aamm: k.slice(2, 6), cnpj: k.slice(6, 20), nserieSAT: k.slice(22, 31), nCFe, cNF });
  const dEmi = /<dEmi>(\d{8})<\/dEmi>/.exec(s.ide)![1]!;
  const ide = s.ide.replace(/<cNF>\d+<\/cNF>/, `<cNF>${cNF}</cNF>`).replace(/<nCFe>\d+<\/nCFe>/, `<nCFe>${nCFe}</nCFe>`).replace(/<cDV>\d<\/cDV>/, `<cDV>${key.slice(43)}</cDV>`);
  const emit = s.emit.replace(/<cRegTrib>.*<\/indRatISSQN>/, '');
  const inf = el('infCFe', [el('dEmi', dEmi), el('hEmi', '235900'), ide, emit, '<dest/>', el('total', [el('vCFe', s.vCFe)])], ` Id="CFe${key}" versao="0.08" chCanc="CFe${k}"`);
  return { key, cancels: k, xml: `<?xml version="1.0" encoding="UTF-8"?><CFeCanc>${inf}</CFeCanc>` };
}
