/**
 * The catalog of the realistic synthetic files: products, participants, units and texts as a retailer's EFD has
 * them (Portuguese descriptions with their accents: Ç, Ã, É, Ô, …), each derived from its index and the seed, so
 * nothing is stored per product or participant; and a Zipf-like choice of which ones a document uses (a few in
 * most documents, a long tail in few).
 */

/** A 32-bit integer hash of (index, salt): the catalog's deterministic "random" attributes. */
export function mix(i: number, salt: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 0x27d4eb2f, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

const pick = <T>(list: readonly T[], h: number): T => list[h % list.length]!;

/**
 * Picks ranks in [0, n) with a density ∝ 1/rank (Zipf, s = 1) and spreads the ranks over the indexes with a
 * stride coprime to n, so that the popular ones are not simply the first of the catalog.
 */
export class ZipfPicker {
  private readonly logN: number;
  private readonly stride: number;
  constructor(private readonly n: number) {
    this.logN = Math.log(n + 1);
    this.stride = [7919, 104729, 1299709, 15485863].find((p) => n % p !== 0 && p % n !== 0) ?? 1;
  }
  /** An index in [0, n). */
  pick(rnd: () => number): number {
    const rank = Math.min(this.n - 1, Math.floor(Math.exp(rnd() * this.logN)) - 1);
    return (rank * this.stride) % this.n;
  }
}

// ---- units (0190) ----
/** Units of the catalog (0190 UNID / DESCR), the first the most used. */
export const UNITS: readonly (readonly [string, string])[] = [
  ['UN', 'UNIDADE'], ['KG', 'QUILOGRAMA'], ['CX', 'CAIXA'], ['PCT', 'PACOTE'], ['LT', 'LITRO'], ['FD', 'FARDO'],
  ['DZ', 'DÚZIA'], ['GL', 'GALÃO'], ['GF', 'GARRAFA'], ['BDJ', 'BANDEJA'], ['SC', 'SACO'], ['MÇ', 'MAÇO'],
];
const UNIT_WEIGHTS = [60, 15, 8, 6, 3, 2, 1, 1, 1, 1, 1, 1];
const UNIT_TOTAL = UNIT_WEIGHTS.reduce((a, b) => a + b, 0);

// ---- products (0200) ----
const PRODUCTS: readonly (readonly [string, string])[] = [
  ['AÇÚCAR CRISTAL', '17019900'], ['CAFÉ TORRADO E MOÍDO', '09012100'], ['PÃO FRANCÊS', '19059090'], ['FEIJÃO CARIOCA', '07133319'],
  ['MACARRÃO ESPAGUETE', '19021900'], ['LEITE UHT INTEGRAL', '04012010'], ['ÓLEO DE SOJA', '15079011'], ['REFRIGERANTE GUARANÁ', '22021000'],
  ['SABÃO EM PÓ', '34022000'], ['REQUEIJÃO CREMOSO', '04069090'], ['AÇAÍ COM GUARANÁ', '21069090'], ['PÊSSEGO EM CALDA', '20087010'],
  ['MAÇÃ FUJI', '08081000'], ['LIMÃO TAHITI', '08055000'], ['FILÉ DE TILÁPIA', '03046200'], ['PATÊ DE FRANGO', '16023220'],
  ['BISCOITO RECHEADO', '19053100'], ['CHOCOLATE AO LEITE', '18063210'], ['ARROZ AGULHINHA TIPO 1', '10063021'], ['SALSICHA HOT DOG', '16010000'],
  ['CERVEJA PILSEN', '22030000'], ['ÁGUA MINERAL SEM GÁS', '22011000'], ['DETERGENTE LÍQUIDO', '34022000'], ['PAPEL HIGIÊNICO FOLHA DUPLA', '48181000'],
  ['MELÃO AMARELO', '08071900'], ['CAMARÃO CINZA', '03061719'], ['PÃO DE QUEIJO CONGELADO', '19012000'], ['FARINHA DE MANDIOCA', '11062000'],
];
const VARIANTS = ['TRADICIONAL', 'INTEGRAL', 'LIGHT', 'ORGÂNICO', 'ZERO AÇÚCAR', 'SEM LACTOSE', 'PREMIUM', 'ECONÔMICO', 'EXTRA', 'FAMÍLIA'];
const BRANDS = ['BOA ESPERANÇA', 'SÃO JOÃO', 'DONA BENTA', 'TIO JOSÉ', 'CAMPO BELO', 'MONTE CASTELO', 'VALE DO PARAÍBA', 'ESTRELA DO SUL', 'IMPÉRIO', 'NOSSA SENHORA APARECIDA', 'CORAÇÃO DE MINAS', 'PIRACICABA'];
const SIZES = ['1KG', '500G', '2L', '350ML', '200G', '5KG', '900ML', '12X1L', '250G', '1,5L'];

/** Tax profile of a product: ICMS CST (origin + code) and rate in hundredths of a percent. */
export interface TaxProfile {
  cst: string;
  /** ICMS rate ×100 (1800 = 18,00 %); 0 for CSTs without own ICMS (060, 040). */
  rate: number;
  /** Share of the value that makes the ICMS base, in percent (100 but for CST 020). */
  basePct: number;
}

const TAX_PROFILES: readonly TaxProfile[] = [
  { cst: '000', rate: 1800, basePct: 100 }, { cst: '000', rate: 1800, basePct: 100 }, { cst: '000', rate: 1800, basePct: 100 },
  { cst: '000', rate: 1200, basePct: 100 }, { cst: '000', rate: 700, basePct: 100 }, { cst: '000', rate: 2500, basePct: 100 },
  { cst: '020', rate: 1800, basePct: 60 }, { cst: '060', rate: 0, basePct: 0 }, { cst: '060', rate: 0, basePct: 0 },
  { cst: '040', rate: 0, basePct: 0 },
];

export interface Product {
  code: string;
  description: string;
  unit: string;
  ncm: string;
  barcode: string;
  /** Unit price in cents. */
  price: number;
  tax: TaxProfile;
  /** Sold by weight (KG): quantities with decimals. */
  byWeight: boolean;
}

/** EAN-13 of a 12-digit body. */
function ean13(body: string): string {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (body.charCodeAt(i) - 48) * (i % 2 === 0 ? 1 : 3);
  return body + String((10 - (sum % 10)) % 10);
}

/** Product `i` of the catalog (the same for a given seed). */
export function product(i: number, seed: number): Product {
  const h = mix(i, seed);
  const [base, ncm] = PRODUCTS[i % PRODUCTS.length]!;
  const rest = Math.floor(i / PRODUCTS.length);
  const description = `${base} ${VARIANTS[rest % VARIANTS.length]} ${BRANDS[Math.floor(rest / VARIANTS.length) % BRANDS.length]} ${SIZES[h % SIZES.length]}`;
  let w = (h >>> 8) % UNIT_TOTAL;
  let u = 0;
  while (w >= UNIT_WEIGHTS[u]!) w -= UNIT_WEIGHTS[u++]!;
  const unit = UNITS[u]![0];
  // prices: most below R$ 30, a tail up to R$ 999
  const r = (mix(i, seed + 1) % 10000) / 10000;
  const price = 99 + Math.floor(Math.exp(r * Math.log(1000)) * 99);
  return {
    code: String(i + 1).padStart(6, '0'),
    description,
    unit,
    ncm,
    barcode: (h & 7) < 6 ? ean13(`789${String(100000000 + (mix(i, seed + 2) % 900000000)).slice(0, 9)}`) : '',
    price,
    tax: pick(TAX_PROFILES, mix(i, seed + 3)),
    byWeight: unit === 'KG',
  };
}

// ---- participants (0150) ----
/** Municipalities (IBGE code) with their state's IBGE code and abbreviation; São Paulo first (the company's). */
export const MUNICIPALITIES: readonly (readonly [string, string])[] = [
  ['3550308', 'SÃO PAULO'], ['3509502', 'CAMPINAS'], ['3548708', 'SÃO BERNARDO DO CAMPO'], ['3547809', 'SANTO ANDRÉ'],
  ['3543402', 'RIBEIRÃO PRETO'], ['3552205', 'SOROCABA'], ['3304557', 'RIO DE JANEIRO'], ['3106200', 'BELO HORIZONTE'],
  ['4106902', 'CURITIBA'], ['4314902', 'PORTO ALEGRE'], ['2927408', 'SALVADOR'], ['5300108', 'BRASÍLIA'],
  ['2611606', 'RECIFE'], ['4205407', 'FLORIANÓPOLIS'], ['5208707', 'GOIÂNIA'], ['1302603', 'MANAUS'],
];
const COMPANY_KIND = ['COMÉRCIO DE ALIMENTOS', 'DISTRIBUIDORA', 'INDÚSTRIA DE LATICÍNIOS', 'ATACADÃO', 'FRIGORÍFICO', 'PANIFICAÇÃO', 'TRANSPORTES', 'IMPORTAÇÃO E EXPORTAÇÃO', 'HORTIFRUTIGRANJEIROS', 'BEBIDAS'];
const COMPANY_CORE = ['SÃO JOÃO', 'BOA ESPERANÇA', 'PARANÁ', 'JOSÉ & FILHOS', 'IRMÃOS ARAÚJO', 'CONCEIÇÃO', 'SANTA LUZIA', 'VITÓRIA', 'GALVÃO', 'ITAÚNA', 'MARANHÃO', 'CEARÁ', 'LEÃO', 'FALCÃO', 'ASSUNÇÃO', 'BRAGANÇA'];
const COMPANY_SUFFIX = ['LTDA', 'S.A.', 'EIRELI', 'LTDA - ME', 'LTDA EPP'];
const FIRST_NAMES = ['JOÃO', 'MARIA', 'JOSÉ', 'ANTÔNIO', 'FRANCISCA', 'CONCEIÇÃO', 'SEBASTIÃO', 'LUÍS', 'MÁRCIA', 'ANDRÉ', 'VÂNIA', 'CÉLIA', 'INÊS', 'FÁBIO', 'TÂNIA', 'MÔNICA'];
const LAST_NAMES = ['DA SILVA', 'DOS SANTOS', 'DE ARAÚJO', 'GONÇALVES', 'CONCEIÇÃO', 'ROMÃO', 'BRANDÃO', 'DE ASSUNÇÃO', 'MAGALHÃES', 'PEIXOTO', 'GUIMARÃES', 'DE LIMA', 'SIMÕES', 'FALCÃO'];
const STREET_KIND = ['RUA', 'AVENIDA', 'PRAÇA', 'TRAVESSA', 'ALAMEDA', 'ESTRADA'];
const STREET_NAME = ['DA CONCEIÇÃO', 'JOÃO PESSOA', 'DOS ANDRADAS', 'SÃO BENTO', 'BARÃO DE MAUÁ', 'MARECHAL DEODORO', 'GETÚLIO VARGAS', 'DOM PEDRO II', 'TIRADENTES', 'DA CONSOLAÇÃO', 'PAULISTA', 'SÃO JOSÉ', 'DA LIBERDADE', 'JOSÉ BONIFÁCIO'];
const DISTRICTS = ['CENTRO', 'JARDIM AMÉRICA', 'VILA MARIANA', 'SÃO CRISTÓVÃO', 'BELA VISTA', 'CONSOLAÇÃO', 'JARDIM SÃO PAULO', 'VILA CONCEIÇÃO', 'DISTRITO INDUSTRIAL'];

export interface Participant {
  code: string;
  name: string;
  /** A company (CNPJ) or a person (CPF). */
  company: boolean;
  municipality: string;
  street: string;
  number: string;
  district: string;
}

/** Participant `j`: the first ones are suppliers (companies); the rest customers, most of them companies. */
export function participant(j: number, seed: number): Participant {
  const h = mix(j, seed + 10);
  const company = j % 5 !== 4;
  const name = company
    ? `${pick(COMPANY_KIND, h)} ${pick(COMPANY_CORE, h >>> 4)} ${pick(COMPANY_SUFFIX, h >>> 8)}`
    : `${pick(FIRST_NAMES, h)} ${pick(FIRST_NAMES, h >>> 4)} ${pick(LAST_NAMES, h >>> 8)}`;
  const m = mix(j, seed + 11) % 100;
  return {
    code: String(j + 1).padStart(5, '0'),
    name,
    company,
    // most partners in the company's city and state, a few elsewhere
    municipality: MUNICIPALITIES[m < 50 ? 0 : m < 80 ? 1 + (m % 5) : 6 + (m % (MUNICIPALITIES.length - 6))]![0],
    street: `${pick(STREET_KIND, h >>> 12)} ${pick(STREET_NAME, h >>> 16)}`,
    number: String(1 + (h % 3000)),
    district: pick(DISTRICTS, h >>> 20),
  };
}

// ---- texts ----
/** 0450 complementary information texts. */
export const INFO_TEXTS: readonly string[] = [
  'DOCUMENTO EMITIDO POR ME OU EPP OPTANTE PELO SIMPLES NACIONAL. NÃO GERA DIREITO A CRÉDITO FISCAL DE IPI.',
  'MERCADORIA DESTINADA A REVENDA. ICMS RECOLHIDO ANTECIPADAMENTE POR SUBSTITUIÇÃO TRIBUTÁRIA.',
  'OPERAÇÃO COM REDUÇÃO DE BASE DE CÁLCULO CONFORME ARTIGO 3º DO ANEXO II DO RICMS/SP.',
  'DEVOLUÇÃO PARCIAL REFERENTE À NOTA FISCAL Nº 4521 DE 12/12/2025.',
  'ENTREGA FUTURA - SIMPLES FATURAMENTO. PEDIDO Nº 98712.',
  'BONIFICAÇÃO CONCEDIDA CONFORME ACORDO COMERCIAL DE JANEIRO.',
];
/** 0460 observation texts. */
export const OBS_TEXTS: readonly string[] = [
  'ESTORNO DE CRÉDITO DE ICMS SOBRE MERCADORIA DETERIORADA.',
  'CRÉDITO EXTEMPORÂNEO AUTORIZADO PELA SECRETARIA DA FAZENDA.',
  'AJUSTE DE ALÍQUOTA CONFORME DECISÃO NORMATIVA CAT Nº 1/2025.',
];
/** Operation natures (0400). */
export const NATURES: readonly (readonly [string, string])[] = [
  ['1', 'VENDA DE MERCADORIA ADQUIRIDA DE TERCEIROS'], ['2', 'COMPRA PARA COMERCIALIZAÇÃO'], ['3', 'DEVOLUÇÃO DE VENDA'],
  ['4', 'TRANSFERÊNCIA ENTRE ESTABELECIMENTOS'], ['5', 'BONIFICAÇÃO, DOAÇÃO OU BRINDE'], ['6', 'AQUISIÇÃO DE SERVIÇO DE TRANSPORTE'],
];
/** Complementary descriptions of items (C170 DESCR_COMPL), appended to the product's description. */
export const ITEM_NOTES: readonly string[] = ['PROMOÇÃO LEVE 3 PAGUE 2', 'LOTE Nº 2026/01', 'VALIDADE MÊS 06', 'EMBALAGEM ECONÔMICA', 'REPOSIÇÃO DE GÔNDOLA', 'PRODUTO ORGÂNICO CERTIFICADO'];

// ---- ECD: chart of accounts and histories ----
/** Top of a chart of accounts: [code, nature (COD_NAT), name, parent] at level 1 and 2. */
const CHART_TOP: readonly (readonly [string, string, string, string | null])[] = [
  ['1', '01', 'ATIVO', null], ['1.1', '01', 'ATIVO CIRCULANTE', '1'], ['1.2', '01', 'ATIVO NÃO CIRCULANTE', '1'],
  ['2', '02', 'PASSIVO', null], ['2.1', '02', 'PASSIVO CIRCULANTE', '2'], ['2.2', '02', 'PASSIVO NÃO CIRCULANTE', '2'],
  ['2.3', '03', 'PATRIMÔNIO LÍQUIDO', '2'],
  ['3', '04', 'RECEITAS', null], ['3.1', '04', 'RECEITA BRUTA DE VENDAS', '3'], ['3.2', '04', 'RECEITAS FINANCEIRAS', '3'],
  ['4', '04', 'CUSTOS E DESPESAS', null], ['4.1', '04', 'CUSTO DAS MERCADORIAS VENDIDAS', '4'], ['4.2', '04', 'DESPESAS OPERACIONAIS', '4'],
  ['4.3', '04', 'DESPESAS FINANCEIRAS', '4'],
];
/** Level-3 groups under each level-2 account. */
const CHART_GROUPS: Readonly<Record<string, readonly string[]>> = {
  '1.1': ['DISPONIBILIDADES', 'CLIENTES', 'ESTOQUES', 'IMPOSTOS A RECUPERAR', 'ADIANTAMENTOS'],
  '1.2': ['IMOBILIZADO', 'DEPRECIAÇÃO ACUMULADA', 'INTANGÍVEL'],
  '2.1': ['FORNECEDORES', 'OBRIGAÇÕES TRABALHISTAS', 'OBRIGAÇÕES TRIBUTÁRIAS', 'EMPRÉSTIMOS E FINANCIAMENTOS'],
  '2.2': ['FINANCIAMENTOS DE LONGO PRAZO'],
  '2.3': ['CAPITAL SOCIAL', 'RESERVAS DE LUCROS'],
  '3.1': ['VENDAS DE MERCADORIAS', 'DEVOLUÇÕES DE VENDAS'],
  '3.2': ['RENDIMENTOS DE APLICAÇÕES'],
  '4.1': ['CUSTO DAS MERCADORIAS'],
  '4.2': ['DESPESAS COM PESSOAL', 'DESPESAS ADMINISTRATIVAS', 'DESPESAS COM OCUPAÇÃO', 'DESPESAS TRIBUTÁRIAS'],
  '4.3': ['JUROS E TARIFAS BANCÁRIAS'],
};
export interface ChartAccount {
  code: string;
  nature: string;
  name: string;
  level: number;
  parent: string | null;
}

/** The synthetic accounts of levels 1 and 2 (`tops`) and the level-3 groups the analytic accounts go under. */
export function chartOfAccounts(): { tops: ChartAccount[]; groups: (ChartAccount & { parent: string })[] } {
  const tops = CHART_TOP.map(([code, nature, name, parent]) => ({ code, nature, name, level: parent === null ? 1 : 2, parent }));
  const groups = tops.flatMap((t) =>
    (CHART_GROUPS[t.code] ?? []).map((name, i) => ({ code: `${t.code}.${String(i + 1).padStart(2, '0')}`, nature: t.nature, name, level: 3, parent: t.code })),
  );
  return { tops, groups };
}

const ACCOUNT_WORDS = ['BANCO DO BRASIL S.A.', 'CAIXA ECONÔMICA FEDERAL', 'ITAÚ UNIBANCO', 'ENERGIA ELÉTRICA', 'ÁGUA E ESGOTO', 'ALUGUÉIS', 'SALÁRIOS E ORDENADOS', 'FÉRIAS', '13º SALÁRIO', 'ICMS A RECUPERAR', 'PIS A RECOLHER', 'COFINS A RECOLHER', 'MÓVEIS E UTENSÍLIOS', 'VEÍCULOS', 'MANUTENÇÃO', 'PUBLICIDADE E PROPAGANDA', 'SEGUROS', 'COMBUSTÍVEIS', 'TELEFONIA E INTERNET', 'SERVIÇOS CONTÁBEIS'];

/** Name of analytic account `k` under a group. */
export function accountName(group: string, k: number, seed: number): string {
  return `${group} - ${pick(ACCOUNT_WORDS, mix(k, seed + 20))} ${k + 1}`;
}

/** Standard histories (I075) and free-text histories of entries (I250 HIST). */
export const HISTORIES: readonly string[] = [
  'VENDA DE MERCADORIAS CONFORME NF-E Nº', 'PAGAMENTO DE DUPLICATA AO FORNECEDOR - TÍTULO Nº', 'RECEBIMENTO DE CLIENTE - BOLETO Nº',
  'PROVISÃO DE FÉRIAS E 13º SALÁRIO DO MÊS', 'DEPRECIAÇÃO DO MÊS SOBRE MÓVEIS E UTENSÍLIOS', 'TARIFA BANCÁRIA S/ COBRANÇA',
  'APROPRIAÇÃO DE ICMS A RECUPERAR S/ COMPRAS', 'TRANSFERÊNCIA ENTRE CONTAS CORRENTES - DOC/TED Nº', 'PAGAMENTO DE ALUGUEL DO GALPÃO - COMPETÊNCIA',
  'JUROS S/ EMPRÉSTIMO - CONTRATO Nº', 'ENERGIA ELÉTRICA - CONTA Nº', 'AQUISIÇÃO DE MERCADORIAS PARA REVENDA - NF Nº',
];
