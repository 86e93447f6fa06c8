/**
 * The typed model of NF-e/NFC-e documents as `parseNfe` returns them and `buildNfe` accepts them.
 *
 * Conventions (the shape fast-xml-parser gives with the project's options):
 * - every value is a string exactly as written (no number conversion: `cEAN`, `NCM`, `CFOP`, `CEP` keep their
 *   leading zeros, decimals keep their digits);
 * - attributes are properties prefixed with `@` (`infNFe['@Id']`); the text of an element that also has
 *   attributes is under `#text`;
 * - an element the schema lets repeat (maxOccurs > 1) is always an array (`det`, `detPag`, `dup`, `vol`, …),
 *   even with one element; others are objects (or strings for leaves);
 * - an empty element is the empty string.
 * Optional groups are optional properties. Elements the interfaces do not name are still present (index
 * signatures): nothing of the document is dropped.
 */

import type { CfeDocument, CfeKind } from '../coupons/cfe/types.js';

/** A leaf value: the element's text exactly as written. */
export type Text = string;

/** Open-ended group: named fields plus whatever else the document holds. */
export interface Group {
  [name: string]: unknown;
}

export interface Ide extends Group {
  cUF: Text;
  cNF?: Text;
  natOp: Text;
  mod: Text;
  serie: Text;
  nNF: Text;
  dhEmi?: Text;
  /** 3.10 and earlier: date only. */
  dEmi?: Text;
  dhSaiEnt?: Text;
  tpNF: Text;
  idDest?: Text;
  cMunFG: Text;
  cMunFGIBS?: Text;
  tpImp: Text;
  tpEmis: Text;
  cDV?: Text;
  tpAmb: Text;
  finNFe: Text;
  tpNFDebito?: Text;
  tpNFCredito?: Text;
  indFinal?: Text;
  indPres?: Text;
  indIntermed?: Text;
  procEmi: Text;
  verProc: Text;
  dhCont?: Text;
  xJust?: Text;
  NFref?: Group[];
}

export interface Endereco extends Group {
  xLgr: Text;
  nro: Text;
  xCpl?: Text;
  xBairro: Text;
  cMun: Text;
  xMun: Text;
  UF: Text;
  CEP?: Text;
  cPais?: Text;
  xPais?: Text;
  fone?: Text;
}

export interface Emit extends Group {
  CNPJ?: Text;
  CPF?: Text;
  xNome: Text;
  xFant?: Text;
  enderEmit: Endereco;
  IE: Text;
  IEST?: Text;
  IM?: Text;
  CNAE?: Text;
  CRT: Text;
}

export interface Dest extends Group {
  CNPJ?: Text;
  CPF?: Text;
  idEstrangeiro?: Text;
  xNome?: Text;
  enderDest?: Endereco;
  indIEDest: Text;
  IE?: Text;
  ISUF?: Text;
  IM?: Text;
  email?: Text;
}

export interface Prod extends Group {
  cProd: Text;
  cEAN: Text;
  cBarra?: Text;
  xProd: Text;
  NCM: Text;
  NVE?: Text[];
  CEST?: Text;
  indEscala?: Text;
  CNPJFab?: Text;
  cBenef?: Text;
  EXTIPI?: Text;
  CFOP: Text;
  uCom: Text;
  qCom: Text;
  vUnCom: Text;
  vProd: Text;
  cEANTrib: Text;
  cBarraTrib?: Text;
  uTrib: Text;
  qTrib: Text;
  vUnTrib: Text;
  vFrete?: Text;
  vSeg?: Text;
  vDesc?: Text;
  vOutro?: Text;
  indTot: Text;
  DI?: Group[];
  detExport?: Group[];
  xPed?: Text;
  nItemPed?: Text;
  nFCI?: Text;
  rastro?: Group[];
  veicProd?: Group;
  med?: Group;
  arma?: Group[];
  comb?: Group;
  nRECOPI?: Text;
}

/** The fields of every ICMS/ICMSSN variant (ICMS00 … ICMS90, ICMSPart, ICMSST, ICMSSN101 … ICMSSN900). */
export interface IcmsDetail extends Group {
  orig: Text;
  CST?: Text;
  CSOSN?: Text;
  modBC?: Text;
  pRedBC?: Text;
  cBenefRBC?: Text;
  vBC?: Text;
  pICMS?: Text;
  vICMSOp?: Text;
  pDif?: Text;
  vICMSDif?: Text;
  vICMS?: Text;
  vBCFCP?: Text;
  pFCP?: Text;
  vFCP?: Text;
  pFCPDif?: Text;
  vFCPDif?: Text;
  vFCPEfet?: Text;
  modBCST?: Text;
  pMVAST?: Text;
  pRedBCST?: Text;
  vBCST?: Text;
  pICMSST?: Text;
  vICMSST?: Text;
  vBCFCPST?: Text;
  pFCPST?: Text;
  vFCPST?: Text;
  vICMSDeson?: Text;
  motDesICMS?: Text;
  indDeduzDeson?: Text;
  vICMSSTDeson?: Text;
  motDesICMSST?: Text;
  vBCSTRet?: Text;
  pST?: Text;
  vICMSSubstituto?: Text;
  vICMSSTRet?: Text;
  vBCFCPSTRet?: Text;
  pFCPSTRet?: Text;
  vFCPSTRet?: Text;
  vBCSTDest?: Text;
  vICMSSTDest?: Text;
  pRedBCEfet?: Text;
  vBCEfet?: Text;
  pICMSEfet?: Text;
  vICMSEfet?: Text;
  pBCOp?: Text;
  UFST?: Text;
  pCredSN?: Text;
  vCredICMSSN?: Text;
  qBCMono?: Text;
  adRemICMS?: Text;
  vICMSMono?: Text;
  qBCMonoReten?: Text;
  adRemICMSReten?: Text;
  vICMSMonoReten?: Text;
  qBCMonoRet?: Text;
  adRemICMSRet?: Text;
  vICMSMonoRet?: Text;
}

export const ICMS_VARIANTS = [
  'ICMS00', 'ICMS02', 'ICMS10', 'ICMS15', 'ICMS20', 'ICMS30', 'ICMS40', 'ICMS51', 'ICMS53', 'ICMS60', 'ICMS61',
  'ICMS70', 'ICMS90', 'ICMSPart', 'ICMSST', 'ICMSSN101', 'ICMSSN102', 'ICMSSN201', 'ICMSSN202', 'ICMSSN500',
  'ICMSSN900',
] as const;
export type IcmsVariant = (typeof ICMS_VARIANTS)[number];

/** Exactly one variant is present in a valid document. */
export type Icms = { [K in IcmsVariant]?: IcmsDetail };

export interface Ipi extends Group {
  CNPJProd?: Text;
  cSelo?: Text;
  qSelo?: Text;
  cEnq: Text;
  IPITrib?: { CST: Text; vBC?: Text; pIPI?: Text; qUnid?: Text; vUnid?: Text; vIPI: Text };
  IPINT?: { CST: Text };
}

export interface Ii extends Group {
  vBC: Text;
  vDespAdu: Text;
  vII: Text;
  vIOF: Text;
}

/** PISAliq / PISQtde / PISNT / PISOutr (COFINS the same with COFINS names). */
export interface PisDetail extends Group {
  CST: Text;
  vBC?: Text;
  pPIS?: Text;
  qBCProd?: Text;
  vAliqProd?: Text;
  vPIS?: Text;
}
export interface Pis {
  PISAliq?: PisDetail;
  PISQtde?: PisDetail;
  PISNT?: PisDetail;
  PISOutr?: PisDetail;
}
export interface CofinsDetail extends Group {
  CST: Text;
  vBC?: Text;
  pCOFINS?: Text;
  qBCProd?: Text;
  vAliqProd?: Text;
  vCOFINS?: Text;
}
export interface Cofins {
  COFINSAliq?: CofinsDetail;
  COFINSQtde?: CofinsDetail;
  COFINSNT?: CofinsDetail;
  COFINSOutr?: CofinsDetail;
}

export interface IcmsUfDest extends Group {
  vBCUFDest: Text;
  vBCFCPUFDest?: Text;
  pFCPUFDest?: Text;
  pICMSUFDest: Text;
  pICMSInter: Text;
  pICMSInterPart: Text;
  vFCPUFDest?: Text;
  vICMSUFDest: Text;
  vICMSUFRemet: Text;
}

/** IBS/CBS of the 2026 tax reform (PL_010): gIBSCBS with the UF and municipal IBS and the CBS. */
export interface IbsCbs extends Group {
  CST: Text;
  cClassTrib: Text;
  indDoacao?: Text;
  gIBSCBS?: {
    vBC: Text;
    gIBSUF?: { pIBSUF: Text; gDif?: Group; gDevTrib?: Group; gRed?: Group; vIBSUF: Text };
    gIBSMun?: { pIBSMun: Text; gDif?: Group; gDevTrib?: Group; gRed?: Group; vIBSMun: Text };
    vIBS?: Text;
    gCBS?: { pCBS: Text; gDif?: Group; gDevTrib?: Group; gRed?: Group; vCBS: Text };
    gTribRegular?: Group;
    gTribCompraGov?: Group;
    [name: string]: unknown;
  };
  gIBSCBSMono?: Group;
  gTransfCred?: Group;
  gCredPresIBSZFM?: Group;
}

export interface Imposto extends Group {
  vTotTrib?: Text;
  ICMS?: Icms;
  IPI?: Ipi;
  II?: Ii;
  ISSQN?: Group;
  PIS?: Pis;
  PISST?: Group;
  COFINS?: Cofins;
  COFINSST?: Group;
  ICMSUFDest?: IcmsUfDest;
  IS?: Group;
  IBSCBS?: IbsCbs;
}

export interface Det extends Group {
  '@nItem': Text;
  prod: Prod;
  imposto: Imposto;
  impostoDevol?: Group;
  infAdProd?: Text;
  obsItem?: Group;
  vItem?: Text;
  DFeReferenciado?: Group;
}

export interface IcmsTot extends Group {
  vBC: Text;
  vICMS: Text;
  vICMSDeson: Text;
  vFCPUFDest?: Text;
  vICMSUFDest?: Text;
  vICMSUFRemet?: Text;
  vFCP: Text;
  vBCST: Text;
  vST: Text;
  vFCPST: Text;
  vFCPSTRet: Text;
  qBCMono?: Text;
  vICMSMono?: Text;
  qBCMonoReten?: Text;
  vICMSMonoReten?: Text;
  qBCMonoRet?: Text;
  vICMSMonoRet?: Text;
  vProd: Text;
  vFrete: Text;
  vSeg: Text;
  vDesc: Text;
  vII: Text;
  vIPI: Text;
  vIPIDevol: Text;
  vPIS: Text;
  vCOFINS: Text;
  vOutro: Text;
  vNF: Text;
  vTotTrib?: Text;
}

export interface IbsCbsTot extends Group {
  vBCIBSCBS: Text;
  gIBS?: { gIBSUF: { vDif: Text; vDevTrib: Text; vIBSUF: Text }; gIBSMun: { vDif: Text; vDevTrib: Text; vIBSMun: Text }; vIBS: Text; vCredPres: Text; vCredPresCondSus: Text };
  gCBS?: { vDif: Text; vDevTrib: Text; vCBS: Text; vCredPres: Text; vCredPresCondSus: Text };
  gMono?: Group;
  gEstornoCred?: Group;
}

export interface Total extends Group {
  ICMSTot: IcmsTot;
  ISSQNtot?: Group;
  retTrib?: Group;
  ISTot?: Group;
  IBSCBSTot?: IbsCbsTot;
  vNFTot?: Text;
}

export interface Transp extends Group {
  modFrete: Text;
  transporta?: Group;
  retTransp?: Group;
  veicTransp?: Group;
  reboque?: Group[];
  vol?: Group[];
}

export interface Cobr extends Group {
  fat?: { nFat?: Text; vOrig?: Text; vDesc?: Text; vLiq?: Text };
  dup?: { nDup?: Text; dVenc?: Text; vDup: Text }[];
}

export interface DetPag extends Group {
  indPag?: Text;
  tPag: Text;
  xPag?: Text;
  vPag: Text;
  dPag?: Text;
  card?: Group;
}

export interface Pag extends Group {
  detPag: DetPag[];
  vTroco?: Text;
}

export interface InfAdic extends Group {
  infAdFisco?: Text;
  infCpl?: Text;
  obsCont?: Group[];
  obsFisco?: Group[];
  procRef?: Group[];
}

export interface InfRespTec extends Group {
  CNPJ: Text;
  xContato: Text;
  email: Text;
  fone: Text;
  idCSRT?: Text;
  hashCSRT?: Text;
}

export interface InfNFe extends Group {
  '@Id': Text;
  '@versao': Text;
  ide: Ide;
  emit: Emit;
  avulsa?: Group;
  dest?: Dest;
  retirada?: Group;
  entrega?: Group;
  autXML?: Group[];
  det: Det[];
  total: Total;
  transp: Transp;
  cobr?: Cobr;
  pag?: Pag;
  infIntermed?: Group;
  infAdic?: InfAdic;
  exporta?: Group;
  compra?: Group;
  cana?: Group;
  infRespTec?: InfRespTec;
}

/** NFC-e: the QR code and the consultation URL, outside the signed part. */
export interface InfNFeSupl extends Group {
  qrCode: Text;
  urlChave: Text;
}

export interface NFe extends Group {
  infNFe: InfNFe;
  infNFeSupl?: InfNFeSupl;
  Signature?: Group;
}

export interface InfProt extends Group {
  '@Id'?: Text;
  tpAmb: Text;
  verAplic: Text;
  chNFe: Text;
  dhRecbto: Text;
  nProt?: Text;
  digVal?: Text;
  cStat: Text;
  xMotivo: Text;
}

export interface ProtNFe extends Group {
  '@versao': Text;
  infProt: InfProt;
  Signature?: Group;
}

export interface InfEvento extends Group {
  '@Id': Text;
  cOrgao: Text;
  tpAmb: Text;
  CNPJ?: Text;
  CPF?: Text;
  chNFe: Text;
  dhEvento: Text;
  tpEvento: Text;
  nSeqEvento: Text;
  verEvento: Text;
  /** Cancellation (110111): descEvento, nProt, xJust; CC-e (110110): descEvento, xCorrecao, xCondUso; others raw. */
  detEvento: Group;
}

export interface Evento extends Group {
  '@versao': Text;
  infEvento: InfEvento;
  Signature?: Group;
}

export interface InfEventoRet extends Group {
  tpAmb: Text;
  verAplic: Text;
  cOrgao: Text;
  cStat: Text;
  xMotivo: Text;
  chNFe?: Text;
  tpEvento?: Text;
  xEvento?: Text;
  nSeqEvento?: Text;
  dhRegEvento: Text;
  nProt?: Text;
}

export interface RetEvento extends Group {
  '@versao': Text;
  infEvento: InfEventoRet;
}

export interface ProcEventoNFe extends Group {
  '@versao': Text;
  evento: Evento;
  retEvento: RetEvento;
}

export interface NfeProc extends Group {
  '@versao': Text;
  NFe: NFe;
  protNFe?: ProtNFe;
  /** Not in the schema, but how some archives store a cancelled note: its events appended. */
  procEventoNFe?: ProcEventoNFe[];
  retEvento?: RetEvento[];
  evento?: Evento[];
}

export interface EnviNFe extends Group {
  idLote: Text;
  indSinc?: Text;
  NFe: NFe[];
}

export interface EnvEvento extends Group {
  idLote: Text;
  evento: Evento[];
}

export interface ResNFe extends Group {
  chNFe: Text;
  CNPJ?: Text;
  CPF?: Text;
  xNome: Text;
  IE: Text;
  dhEmi: Text;
  tpNF: Text;
  vNF: Text;
  digVal?: Text;
  dhRecbto: Text;
  nProt: Text;
  cSitNFe: Text;
}

/** The request to void a range of unused numbers (inutilização, leiaute 4.00): signed by the issuer. */
export interface InfInut extends Group {
  /** `ID` + cUF + ano + CNPJ + mod + serie (3) + nNFIni (9) + nNFFin (9): 41 digits. */
  '@Id': Text;
  tpAmb: Text;
  xServ: Text;
  cUF: Text;
  /** The year of the inutilização, 2 digits. */
  ano: Text;
  CNPJ: Text;
  mod: Text;
  serie: Text;
  nNFIni: Text;
  nNFFin: Text;
  xJust: Text;
}

export interface InutNFe extends Group {
  '@versao': Text;
  infInut: InfInut;
  Signature?: Group;
}

/** SEFAZ's answer: cStat 102 homologates the inutilização; the range is repeated when it is. */
export interface InfInutRet extends Group {
  '@Id'?: Text;
  tpAmb: Text;
  verAplic: Text;
  cStat: Text;
  xMotivo: Text;
  cUF: Text;
  ano?: Text;
  CNPJ?: Text;
  mod?: Text;
  serie?: Text;
  nNFIni?: Text;
  nNFFin?: Text;
  dhRecbto: Text;
  nProt?: Text;
}

export interface RetInutNFe extends Group {
  '@versao': Text;
  infInut: InfInutRet;
  Signature?: Group;
}

/** The processed inutilização: the request and its answer (procInutNFe_v4.00.xsd, root element `ProcInutNFe`). */
export interface ProcInutNFe extends Group {
  '@versao': Text;
  inutNFe: InutNFe;
  retInutNFe: RetInutNFe;
}

export type NfeKind =
  | 'nfeProc' | 'NFe' | 'enviNFe' | 'procEventoNFe' | 'envEvento' | 'evento' | 'retEvento' | 'retEnvEvento' | 'resNFe'
  | 'procInutNFe' | 'inutNFe' | 'retInutNFe';

export const NFE_KINDS: readonly NfeKind[] = [
  'nfeProc', 'NFe', 'enviNFe', 'procEventoNFe', 'envEvento', 'evento', 'retEvento', 'retEnvEvento', 'resNFe',
  'procInutNFe', 'inutNFe', 'retInutNFe',
];

/** The kinds of the inutilização (unused number ranges). */
export type InutKind = 'procInutNFe' | 'inutNFe' | 'retInutNFe';
export const INUT_KINDS: readonly InutKind[] = ['procInutNFe', 'inutNFe', 'retInutNFe'];
export const isInutKind = (kind: string | null): kind is InutKind => (INUT_KINDS as readonly string[]).includes(kind ?? '');

/**
 * Root element names that are another spelling of a kind: the schema's processed inutilização is `ProcInutNFe`,
 * archives write both. The model always names it by the kind (`{ procInutNFe: … }`).
 */
export const ROOT_ALIASES: Readonly<Record<string, NfeKind>> = { ProcInutNFe: 'procInutNFe' };

/** The element a kind is written as when it is not the kind itself (the schema's spelling). */
export const ROOT_ELEMENTS: Readonly<Partial<Record<NfeKind, string>>> = { procInutNFe: 'ProcInutNFe' };

/** Every document kind the reader knows: NF-e's and CF-e SAT's (src/coupons/cfe/types.ts). */
export type DocumentKind = NfeKind | CfeKind;

/** Any document the reader returns: an NF-e document or a CF-e (`{ CFe }`, `{ CFeCanc }`). */
export type AnyDocument = NfeDocument | CfeDocument;

/** A document: one property, named after its root element. */
export type NfeDocument =
  | { nfeProc: NfeProc }
  | { NFe: NFe }
  | { enviNFe: EnviNFe }
  | { procEventoNFe: ProcEventoNFe }
  | { envEvento: EnvEvento }
  | { evento: Evento }
  | { retEvento: RetEvento }
  | { retEnvEvento: Group }
  | { resNFe: ResNFe }
  | { procInutNFe: ProcInutNFe }
  | { inutNFe: InutNFe }
  | { retInutNFe: RetInutNFe };
