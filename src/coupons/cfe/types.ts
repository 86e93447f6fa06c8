/**
 * The typed model of CF-e SAT documents (modelo 59): the sale (`CFe`) and its cancellation (`CFeCanc`), as the
 * NF-e reader returns them (`readNfe`, `parseCfe`). The conventions are the NF-e model's (src/nfe/types.ts):
 * - every value is a string exactly as written (`qCom` "1.0000", `CEP` "00000000", `nCFe` "000048");
 * - attributes are `@`-prefixed properties (`infCFe['@Id']`, `det['@nItem']`);
 * - an element the CF-e XSD lets repeat is always an array, even with one element: `det`, `MP`, `obsFisco`,
 *   `obsFiscoDet` (formats/cfe/schema.json, derived from CfeDadosVendaSAT_0007/_0008 by
 *   scripts/gen-cfe-schema.mjs);
 * - an empty element is the empty string (a sale without a buyer has `dest: ''`).
 * Elements the interfaces do not name are still present: nothing of the document is dropped.
 *
 * Field names follow the Especificação de Requisitos do SAT (ER SAT), groups A (infCFe) to Z (infAdic).
 */
import type { Group, Text } from '../../nfe/types.js';

export type CfeKind = 'CFe' | 'CFeCanc';

export const CFE_KINDS: readonly CfeKind[] = ['CFe', 'CFeCanc'];

/** Group B: identification. The key is cUF AAMM CNPJ mod nserieSAT nCFe cNF cDV (see key.ts). */
export interface CfeIde extends Group {
  cUF: Text;
  cNF: Text;
  /** Always 59. */
  mod: Text;
  /** Serial number of the SAT device (9 digits). */
  nserieSAT: Text;
  /** Coupon number (6 digits). */
  nCFe: Text;
  /** Emission date `AAAAMMDD`. */
  dEmi: Text;
  /** Emission time `HHMMSS`. */
  hEmi: Text;
  cDV: Text;
  /** 1 production, 2 testing (absent from some cancellations). */
  tpAmb?: Text;
  /** CNPJ of the software house (the application's developer). */
  CNPJ: Text;
  signAC: Text;
  assinaturaQRCODE: Text;
  numeroCaixa: Text;
}

export interface CfeEnderEmit extends Group {
  xLgr: Text;
  nro?: Text;
  xCpl?: Text;
  xBairro: Text;
  xMun: Text;
  CEP: Text;
}

/** Group C: the emitter (the shop). */
export interface CfeEmit extends Group {
  CNPJ: Text;
  xNome: Text;
  xFant?: Text;
  enderEmit: CfeEnderEmit;
  IE: Text;
  IM?: Text;
  cRegTrib?: Text;
  cRegTribISSQN?: Text;
  indRatISSQN?: Text;
}

/** Group E: the buyer, when identified (else the empty string). */
export interface CfeDest extends Group {
  CNPJ?: Text;
  CPF?: Text;
  xNome?: Text;
}

export interface CfeObsFiscoDet extends Group {
  '@xCampoDet': Text;
  xTextoDet: Text;
}

/** Group I: the product. */
export interface CfeProd extends Group {
  cProd: Text;
  cEAN?: Text;
  xProd: Text;
  NCM?: Text;
  CEST?: Text;
  CFOP: Text;
  uCom: Text;
  qCom: Text;
  vUnCom: Text;
  vProd: Text;
  /** A rounding, T truncation. */
  indRegra: Text;
  vDesc?: Text;
  vOutro?: Text;
  /** Net item value (vProd − vDesc + vOutro, less the apportioned discount, plus the apportioned surcharge). */
  vItem: Text;
  vRatDesc?: Text;
  vRatAcr?: Text;
  obsFiscoDet?: CfeObsFiscoDet[];
}

/** ICMS00, ICMS40, ICMSSN102, ICMSSN900: origin (capital `Orig` in the CF-e), CST or CSOSN, rate and value. */
export interface CfeIcmsDetail extends Group {
  Orig: Text;
  CST?: Text;
  CSOSN?: Text;
  pICMS?: Text;
  vICMS?: Text;
}

export const CFE_ICMS_VARIANTS = ['ICMS00', 'ICMS40', 'ICMSSN102', 'ICMSSN900'] as const;
export type CfeIcms = { [K in (typeof CFE_ICMS_VARIANTS)[number]]?: CfeIcmsDetail };

/** PISAliq, PISQtde, PISNT, PISSN, PISOutr (COFINS alike, with pCOFINS/vCOFINS). */
export interface CfePisCofinsDetail extends Group {
  CST?: Text;
  vBC?: Text;
  qBCProd?: Text;
  vAliqProd?: Text;
}

export interface CfeIssqn extends Group {
  vDeducISSQN: Text;
  vBC: Text;
  vAliq: Text;
  vISSQN: Text;
  cMunFG?: Text;
  cListServ?: Text;
  cServTribMun?: Text;
  cNatOp: Text;
  indIncFisc: Text;
}

/** Group M: taxes of the item. */
export interface CfeImposto extends Group {
  /** Approximate taxes of the item (Lei 12.741/2012). */
  vItem12741?: Text;
  ICMS?: CfeIcms;
  ISSQN?: CfeIssqn;
  PIS: Record<string, CfePisCofinsDetail>;
  PISST?: CfePisCofinsDetail;
  COFINS: Record<string, CfePisCofinsDetail>;
  COFINSST?: CfePisCofinsDetail;
}

/** Group H: an item (1 to 500). */
export interface CfeDet extends Group {
  '@nItem': Text;
  prod: CfeProd;
  imposto: CfeImposto;
  infAdProd?: Text;
}

export interface CfeIcmsTot extends Group {
  vICMS: Text;
  vProd: Text;
  vDesc: Text;
  vPIS: Text;
  vCOFINS: Text;
  vPISST: Text;
  vCOFINSST: Text;
  vOutro: Text;
}

/** Group W: totals. */
export interface CfeTotal extends Group {
  ICMSTot?: CfeIcmsTot;
  /** The coupon's value. */
  vCFe: Text;
  ISSQNtot?: Group;
  DescAcrEntr?: { vDescSubtot?: Text; vAcresSubtot?: Text } & Group;
  vCFeLei12741?: Text;
}

/** Group WA: a means of payment (1 to 10): cMP 01 money, 03 credit card, 04 debit card, … */
export interface CfeMp extends Group {
  cMP: Text;
  vMP: Text;
  cAdmC?: Text;
}

export interface CfePgto extends Group {
  MP: CfeMp[];
  vTroco: Text;
}

export interface CfeObsFisco extends Group {
  '@xCampo': Text;
  xTexto: Text;
}

/** Group Z: additional information (in layout 0.07 obsFisco sits here; in 0.08 under infCFe). */
export interface CfeInfAdic extends Group {
  infCpl?: Text;
  obsFisco?: CfeObsFisco[];
}

export interface InfCFe extends Group {
  /** `CFe` + the 44-character key. */
  '@Id': Text;
  /** Layout version of the CF-e (0.06, 0.07, 0.08). */
  '@versao': Text;
  /** Layout version of the sale data the application sent (picks the XSD: 0.07 → _0007, 0.08 → _0008). */
  '@versaoDadosEnt': Text;
  '@versaoSB': Text;
  ide: CfeIde;
  emit: CfeEmit;
  dest: CfeDest | '';
  entrega?: Group;
  det: CfeDet[];
  total: CfeTotal;
  pgto: CfePgto;
  infAdic?: CfeInfAdic;
  obsFisco?: CfeObsFisco[];
}

export interface CFe extends Group {
  infCFe: InfCFe;
  Signature?: Group;
}

/** The cancellation of a CF-e: its own key in `@Id`, the cancelled sale's in `@chCanc`. */
export interface InfCFeCanc extends Group {
  '@Id': Text;
  '@versao': Text;
  /** `CFe` + the key of the cancelled sale. */
  '@chCanc': Text;
  /** Date and time of the cancellation. */
  dEmi: Text;
  hEmi: Text;
  ide: CfeIde;
  emit: CfeEmit;
  dest: CfeDest | '';
  total: { vCFe: Text } & Group;
  infAdic?: CfeInfAdic;
}

export interface CFeCanc extends Group {
  infCFe: InfCFeCanc;
  Signature?: Group;
}

/** A CF-e document: one property, named after its root element. */
export type CfeDocument = { CFe: CFe } | { CFeCanc: CFeCanc };
