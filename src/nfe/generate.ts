/**
 * Deterministic NF-e/NFC-e 4.00 documents for fixtures and benchmarks: the same seed always gives the same
 * document, byte for byte. Documents carry the PL_010 IBS/CBS groups by default and validate against
 * PL_010_V1.30/nfe_v4.00.xsd once signed (the schema requires the Signature; see `signXml` of the signing
 * module). Values are consistent: item values are exact products, taxes exact percentages, totals computed
 * from the items, key and check digit from the key parts.
 */
import { cnpjCheckDigits } from '../common/check-digits.js';
import { buildNfe, completeNote } from './build.js';
import { multiplyDecimals, percentOf, sumDecimals } from './decimal.js';
import type { Det, InutNFe, NFe, NfeDocument, RetInutNFe } from './types.js';
import { mulberry32 } from '../common/prng.js';

export interface GenerateOptions {
  /** 55 (NF-e, default) or 65 (NFC-e). */
  readonly model?: '55' | '65';
  /** Number of items; default 1 to 5, chosen by the seed. */
  readonly items?: number;
  /** Emitter CNPJ (14 characters; numeric or alphanumeric). Default: derived from the seed, valid digits. */
  readonly emitterCnpj?: string;
  /** Emission date-time (`YYYY-MM-DDThh:mm:ss-03:00`); default: a day of 2026 chosen by the seed. */
  readonly dhEmi?: string;
  /** Include the IBS/CBS groups (PL_010). Default true. */
  readonly ibsCbs?: boolean;
  /** tpAmb: '2' homologation (default) or '1' production. */
  readonly tpAmb?: '1' | '2';
  /** UF code of the emitter (default '35', São Paulo). */
  readonly cUF?: string;
}


const PRODUCTS = [
  ['PARAFUSO SEXTAVADO ACO 10MM', '73181500', 'UN'],
  ['CABO USB 1,8M AB', '85444200', 'UN'],
  ['CAFE TORRADO E MOIDO 500G', '09012100', 'PCT'],
  ['CADERNO ESPIRAL 96 FOLHAS', '48202000', 'UN'],
  ['OLEO LUBRIFICANTE 1L', '27101932', 'LT'],
  ['TINTA ACRILICA BRANCA 18L', '32091010', 'GL'],
  ['ARROZ TIPO 1 5KG', '10063021', 'PCT'],
  ['DETERGENTE NEUTRO 500ML', '34022000', 'UN'],
] as const;

const CITIES = [
  ['3550308', 'SAO PAULO', 'SP', '01001000'],
  ['3509502', 'CAMPINAS', 'SP', '13015001'],
  ['3304557', 'RIO DE JANEIRO', 'RJ', '20010000'],
  ['4106902', 'CURITIBA', 'PR', '80010000'],
] as const;

/** A valid CNPJ from a number (12-digit base, computed check digits). */
export function cnpjFromNumber(n: number): string {
  const base = `${String(10000000 + (n % 89999999)).padStart(8, '0')}0001`;
  return base + cnpjCheckDigits(base);
}

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

/** The model of one generated note (`{ NFe: … }`), complete: Id, cNF, cDV and totals filled in. */
export function generateNfe(seed: number, options: GenerateOptions = {}): { NFe: NFe } {
  const r = mulberry32(seed * 2654435761);
  const model = options.model ?? '55';
  const nfce = model === '65';
  const ibsCbs = options.ibsCbs ?? true;
  const items = options.items ?? 1 + Math.floor(r() * 5);
  const cnpj = options.emitterCnpj ?? cnpjFromNumber(Math.floor(r() * 1e9));
  const day = 1 + Math.floor(r() * 28);
  const month = 1 + Math.floor(r() * 12);
  const hh = Math.floor(r() * 24);
  const mm = Math.floor(r() * 60);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const dhEmi = options.dhEmi ?? `2026-${p2(month)}-${p2(day)}T${p2(hh)}:${p2(mm)}:00-03:00`;
  const [cMun, xMun, UF, CEP] = pick(r, CITIES);
  const nNF = String(1 + (seed % 999999999));
  const dets: Det[] = [];
  for (let i = 0; i < items; i++) {
    const [xProd, NCM, uCom] = pick(r, PRODUCTS);
    const qCom = `${1 + Math.floor(r() * 50)}.0000`;
    const vUnCom = `${1 + Math.floor(r() * 500)}.${String(Math.floor(r() * 100)).padStart(2, '0')}`;
    const vProd = multiplyDecimals(qCom, vUnCom, 2);
    const cProd = String(Math.floor(r() * 100000)).padStart(6, '0');
    const imposto: Det['imposto'] = {
      vTotTrib: percentOf(vProd, '31.4500'),
      ICMS: nfce
        ? { ICMSSN102: { orig: '0', CSOSN: '102' } }
        : { ICMS00: { orig: '0', CST: '00', modBC: '3', vBC: vProd, pICMS: '18.0000', vICMS: percentOf(vProd, '18.0000') } },
      PIS: { PISAliq: { CST: '01', vBC: vProd, pPIS: '1.6500', vPIS: percentOf(vProd, '1.6500') } },
      COFINS: { COFINSAliq: { CST: '01', vBC: vProd, pCOFINS: '7.6000', vCOFINS: percentOf(vProd, '7.6000') } },
    };
    if (ibsCbs) {
      const vIBSUF = percentOf(vProd, '0.1000');
      const vIBSMun = '0.00';
      imposto.IBSCBS = {
        CST: '000',
        cClassTrib: '000001',
        gIBSCBS: {
          vBC: vProd,
          gIBSUF: { pIBSUF: '0.1000', vIBSUF },
          gIBSMun: { pIBSMun: '0.0000', vIBSMun },
          vIBS: sumDecimals([vIBSUF, vIBSMun]),
          gCBS: { pCBS: '0.9000', vCBS: percentOf(vProd, '0.9000') },
        },
      };
    }
    dets.push({
      '@nItem': String(i + 1),
      prod: {
        cProd,
        cEAN: 'SEM GTIN',
        xProd,
        NCM,
        CFOP: nfce ? '5102' : UF === 'SP' ? '5102' : '6102',
        uCom,
        qCom,
        vUnCom,
        vProd,
        cEANTrib: 'SEM GTIN',
        uTrib: uCom,
        qTrib: qCom,
        vUnTrib: vUnCom,
        indTot: '1',
      },
      imposto,
    });
  }
  const infNFe = {
    '@versao': '4.00',
    ide: {
      cUF: options.cUF ?? '35',
      natOp: 'VENDA DE MERCADORIA',
      mod: model,
      serie: String(1 + (seed % 3)),
      nNF,
      dhEmi,
      tpNF: '1',
      idDest: nfce || UF === 'SP' ? '1' : '2',
      cMunFG: '3550308',
      tpImp: nfce ? '4' : '1',
      tpEmis: '1',
      tpAmb: options.tpAmb ?? '2',
      finNFe: '1',
      indFinal: nfce ? '1' : '0',
      indPres: '1',
      procEmi: '0',
      verProc: 'fiscal-engine 0.1',
    },
    emit: {
      CNPJ: cnpj,
      xNome: `EMPRESA DE TESTE ${seed % 1000} LTDA`,
      enderEmit: { xLgr: 'RUA DAS FLORES', nro: String(1 + (seed % 2000)), xBairro: 'CENTRO', cMun: '3550308', xMun: 'SAO PAULO', UF: 'SP', CEP: '01001000', cPais: '1058', xPais: 'BRASIL' },
      IE: '111111111119',
      CRT: nfce ? '1' : '3',
    },
    ...(nfce
      ? {}
      : {
          dest: {
            CNPJ: cnpjFromNumber(Math.floor(r() * 1e9)),
            xNome: 'NF-E EMITIDA EM AMBIENTE DE HOMOLOGACAO - SEM VALOR FISCAL',
            enderDest: { xLgr: 'AVENIDA BRASIL', nro: '100', xBairro: 'JARDIM', cMun, xMun, UF, CEP, cPais: '1058', xPais: 'BRASIL' },
            indIEDest: '9',
          },
        }),
    det: dets,
    total: {},
    transp: { modFrete: '9' },
    pag: { detPag: [{ tPag: '01', vPag: '0.00' }] },
    infAdic: { infCpl: `Documento gerado pelo fiscal-engine (semente ${seed})` },
  };
  const doc = { NFe: { infNFe } } as unknown as { NFe: NFe };
  // cNF, cDV, Id and totals by the builder's own completion, so generated and built documents agree
  completeNote(doc.NFe as unknown as Record<string, unknown>, `seed ${seed}`, { computeTotals: true }, '/NFe');
  doc.NFe.infNFe.pag!.detPag[0]!.vPag = doc.NFe.infNFe.total.ICMSTot.vNF;
  return doc;
}

/** The compact, unsigned XML of a generated note (UTF-8, no BOM, with the XML declaration). */
export function generateNfeXml(seed: number, options: GenerateOptions = {}): string {
  return buildNfe(generateNfe(seed, options)).xml;
}

/** `count` generated notes for seeds `firstSeed`, `firstSeed + 1`, … (lazy). */
export function* generateNfeBatch(count: number, firstSeed = 1, options: GenerateOptions = {}): Generator<{ seed: number; key: string; xml: string }> {
  for (let i = 0; i < count; i++) {
    const seed = firstSeed + i;
    const b = buildNfe(generateNfe(seed, options));
    yield { seed, key: b.key ?? '', xml: b.xml };
  }
}

// --- inutilização (unused number ranges) -------------------------------------------------------------------

export interface InutOptions {
  /** The issuer's CNPJ (14 characters). */
  readonly cnpj: string;
  /** First and last number of the range (1 to 999999999); `last` defaults to `first`. */
  readonly first: number;
  readonly last?: number;
  /** 55 (default) or 65. */
  readonly model?: '55' | '65';
  /** Default '1'. */
  readonly serie?: string;
  /** UF code (default '35'). */
  readonly cUF?: string;
  /** Year of the inutilização, 2 digits; default the year of `dhRecbto`. */
  readonly ano?: string;
  /** Default '2' (homologation). */
  readonly tpAmb?: '1' | '2';
  /** The justification (15 to 255 characters). */
  readonly xJust?: string;
}

export interface InutAnswer {
  /** 102 homologates (default); anything else is a refusal. */
  readonly cStat?: string;
  readonly xMotivo?: string;
  /** When SEFAZ received it (`YYYY-MM-DDThh:mm:ss-03:00`), default 2026-03-10T09:00:00-03:00. */
  readonly dhRecbto?: string;
  /** Default derived from the range (15 digits). */
  readonly nProt?: string;
}

const DEFAULT_RECBTO = '2026-03-10T09:00:00-03:00';

/** The infInut fields of a range, in schema order, with its Id. */
function infInut(o: InutOptions, ano: string): InutNFe['infInut'] {
  const mod = o.model ?? '55';
  const serie = o.serie ?? '1';
  const cUF = o.cUF ?? '35';
  const first = String(o.first);
  const last = String(o.last ?? o.first);
  return {
    '@Id': `ID${cUF}${ano}${o.cnpj}${mod}${serie.padStart(3, '0')}${first.padStart(9, '0')}${last.padStart(9, '0')}`,
    tpAmb: o.tpAmb ?? '2', xServ: 'INUTILIZAR', cUF, ano, CNPJ: o.cnpj, mod, serie, nNFIni: first, nNFFin: last,
    xJust: o.xJust ?? 'Numeracao pulada por falha do sistema emissor',
  };
}

/**
 * The unsigned request to void a range (`<inutNFe>`, leiaute 4.00, compact, with the XML declaration); sign it
 * with `signXml` (the schema requires the Signature) and wrap it with `generateProcInutNFeXml`.
 */
export function generateInutNFeXml(options: InutOptions, answer: InutAnswer = {}): string {
  const ano = options.ano ?? (answer.dhRecbto ?? DEFAULT_RECBTO).slice(2, 4);
  return buildNfe({ inutNFe: { '@versao': '4.00', infInut: infInut(options, ano) } }).xml;
}

/**
 * The processed inutilização (`<ProcInutNFe>`): the request as given (signed or not: its bytes are kept) and
 * SEFAZ's answer for the same range.
 */
export function generateProcInutNFeXml(inutXml: string, options: InutOptions, answer: InutAnswer = {}): string {
  const dhRecbto = answer.dhRecbto ?? DEFAULT_RECBTO;
  const req = infInut(options, options.ano ?? dhRecbto.slice(2, 4));
  const cStat = answer.cStat ?? '102';
  const ret: RetInutNFe = {
    '@versao': '4.00',
    infInut: {
      tpAmb: req.tpAmb, verAplic: 'SP_NFE_PL009_V4', cStat, xMotivo: answer.xMotivo ?? (cStat === '102' ? 'Inutilizacao de numero homologado' : `status ${cStat}`),
      cUF: req.cUF, ano: req.ano, CNPJ: req.CNPJ, mod: req.mod, serie: req.serie, nNFIni: req.nNFIni, nNFFin: req.nNFFin, dhRecbto,
      ...(cStat === '102' ? { nProt: answer.nProt ?? `1${req.cUF}${dhRecbto.slice(2, 4)}${req.nNFIni.padStart(10, '0')}` } : {}),
    },
  };
  const shell = buildNfe({ procInutNFe: { '@versao': '4.00', inutNFe: { '@versao': '4.00', infInut: req }, retInutNFe: ret } } as NfeDocument).xml;
  // the request's own bytes (its signature covers them), the rest from the builder
  const inner = inutXml.replace(/^<\?xml[^>]*\?>/, '');
  return shell.replace(/<inutNFe[\s>][\s\S]*<\/inutNFe>/, () => inner);
}
