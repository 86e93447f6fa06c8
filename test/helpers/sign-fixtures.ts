/**
 * Small hand-written NF-e 4.00 documents for the signature tests (schema-valid once signed), plus an event
 * and a batch. Until the project's generator lands these are the fixtures; they are written here, not copied.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAccessKey } from '../../src/nfe/key.js';
import { TEST_CNPJ } from './certs.js';
import { tempDir } from './temp-dir.js';

export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
export const NFE_XSD = join(SHARED, 'xsd/nfe/PL_010_V1.30/nfe_v4.00.xsd');

export interface NfeFixture {
  readonly cnpj?: string;
  readonly dhEmi?: string;
  readonly nNF?: string;
  readonly mod?: '55' | '65';
  /** Extra XML placed in infAdic/infCpl (raw, may hold entities/CDATA/comments). */
  readonly infCpl?: string;
  /** Attributes of infNFe as written (default `versao="4.00" Id="NFe…"`); `{ID}` is replaced by the Id. */
  readonly infNFeAttrs?: string;
  /** Raw XML inserted right after <infNFe …> (for c14n edge cases that need not validate). */
  readonly extraInside?: string;
  /** NFe start tag attributes (default the portalfiscal namespace). */
  readonly nfeAttrs?: string;
}

export function nfeKey(f: NfeFixture = {}): string {
  const dh = f.dhEmi ?? '2025-06-10T10:00:00-03:00';
  return buildAccessKey({
    cUF: '35', aamm: dh.slice(2, 4) + dh.slice(5, 7), cnpj: f.cnpj ?? TEST_CNPJ, mod: f.mod ?? '55', serie: '1',
    nNF: f.nNF ?? '1', tpEmis: '1', cNF: '12345678',
  });
}

/** An unsigned NFe (no XML declaration). */
export function nfeXml(f: NfeFixture = {}): string {
  const key = nfeKey(f);
  const id = `NFe${key}`;
  const attrs = (f.infNFeAttrs ?? 'versao="4.00" Id="{ID}"').replace('{ID}', id);
  const dh = f.dhEmi ?? '2025-06-10T10:00:00-03:00';
  return `<NFe ${f.nfeAttrs ?? 'xmlns="http://www.portalfiscal.inf.br/nfe"'}><infNFe ${attrs}>${f.extraInside ?? ''}` +
    `<ide><cUF>35</cUF><cNF>12345678</cNF><natOp>VENDA DE MERCADORIA</natOp><mod>${f.mod ?? '55'}</mod><serie>1</serie>` +
    `<nNF>${f.nNF ?? '1'}</nNF><dhEmi>${dh}</dhEmi><tpNF>1</tpNF><idDest>1</idDest><cMunFG>3550308</cMunFG><tpImp>1</tpImp>` +
    `<tpEmis>1</tpEmis><cDV>${key.slice(43)}</cDV><tpAmb>2</tpAmb><finNFe>1</finNFe><indFinal>1</indFinal><indPres>1</indPres>` +
    `<procEmi>0</procEmi><verProc>fiscal-engine-test</verProc></ide>` +
    `<emit><CNPJ>${f.cnpj ?? TEST_CNPJ}</CNPJ><xNome>EMPRESA TESTE LTDA</xNome><enderEmit><xLgr>RUA DAS FLORES</xLgr><nro>100</nro>` +
    `<xBairro>CENTRO</xBairro><cMun>3550308</cMun><xMun>SAO PAULO</xMun><UF>SP</UF><CEP>01001000</CEP></enderEmit>` +
    `<IE>111111111111</IE><CRT>3</CRT></emit>` +
    `<det nItem="1"><prod><cProd>0001</cProd><cEAN>SEM GTIN</cEAN><xProd>PRODUTO DE TESTE</xProd><NCM>22030000</NCM><CFOP>5102</CFOP>` +
    `<uCom>UN</uCom><qCom>1.0000</qCom><vUnCom>10.00</vUnCom><vProd>10.00</vProd><cEANTrib>SEM GTIN</cEANTrib><uTrib>UN</uTrib>` +
    `<qTrib>1.0000</qTrib><vUnTrib>10.00</vUnTrib><indTot>1</indTot></prod>` +
    `<imposto><ICMS><ICMS00><orig>0</orig><CST>00</CST><modBC>3</modBC><vBC>10.00</vBC><pICMS>18.00</pICMS><vICMS>1.80</vICMS></ICMS00></ICMS>` +
    `<PIS><PISNT><CST>07</CST></PISNT></PIS><COFINS><COFINSNT><CST>07</CST></COFINSNT></COFINS></imposto></det>` +
    `<total><ICMSTot><vBC>10.00</vBC><vICMS>1.80</vICMS><vICMSDeson>0.00</vICMSDeson><vFCP>0.00</vFCP><vBCST>0.00</vBCST><vST>0.00</vST>` +
    `<vFCPST>0.00</vFCPST><vFCPSTRet>0.00</vFCPSTRet><vProd>10.00</vProd><vFrete>0.00</vFrete><vSeg>0.00</vSeg><vDesc>0.00</vDesc>` +
    `<vII>0.00</vII><vIPI>0.00</vIPI><vIPIDevol>0.00</vIPIDevol><vPIS>0.00</vPIS><vCOFINS>0.00</vCOFINS><vOutro>0.00</vOutro><vNF>10.00</vNF></ICMSTot></total>` +
    `<transp><modFrete>9</modFrete></transp><pag><detPag><tPag>01</tPag><vPag>10.00</vPag></detPag></pag>` +
    (f.infCpl !== undefined ? `<infAdic><infCpl>${f.infCpl}</infCpl></infAdic>` : '') +
    `</infNFe></NFe>`;
}

/** A cancellation event request (envEvento with one evento 110111). */
export function envEventoXml(key: string = nfeKey(), cnpj = TEST_CNPJ): string {
  const id = `ID110111${key}01`;
  return `<envEvento xmlns="http://www.portalfiscal.inf.br/nfe" versao="1.00"><idLote>1</idLote>` +
    `<evento versao="1.00"><infEvento Id="${id}"><cOrgao>35</cOrgao><tpAmb>2</tpAmb><CNPJ>${cnpj}</CNPJ><chNFe>${key}</chNFe>` +
    `<dhEvento>2025-06-11T09:00:00-03:00</dhEvento><tpEvento>110111</tpEvento><nSeqEvento>1</nSeqEvento><verEvento>1.00</verEvento>` +
    `<detEvento versao="1.00"><descEvento>Cancelamento</descEvento><nProt>135250000000001</nProt>` +
    `<xJust>Cancelamento por erro de digitacao no pedido</xJust></detEvento></infEvento></evento></envEvento>`;
}

/** An enviNFe batch of `n` NFe. */
export function enviNFeXml(n: number): string {
  let body = '';
  for (let i = 1; i <= n; i++) body += nfeXml({ nNF: String(i) }).replace(' xmlns="http://www.portalfiscal.inf.br/nfe"', '');
  return `<enviNFe xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00"><idLote>1</idLote><indSinc>0</indSinc>${body}</enviNFe>`;
}

let tmp: string | null = null;
export function tmpFile(name: string, content: string | Buffer): string {
  tmp ??= tempDir('fiscal-sign-test-');
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
}

/** xmlsec1 --verify on a file; returns { ok, output }. */
export function xmlsecVerify(path: string, idAttr = 'infNFe'): { ok: boolean; output: string } {
  const r = spawnSync('xmlsec1', ['--verify', '--id-attr:Id', idAttr, '--insecure', '--enabled-key-data', 'x509', path], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** xmllint schema validation; returns { ok, output }. */
export function xmllintSchema(path: string, xsd: string = NFE_XSD): { ok: boolean; output: string } {
  const r = spawnSync('xmllint', ['--noout', '--schema', xsd, path], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

export function haveShared(): boolean {
  try {
    execFileSync('test', ['-f', NFE_XSD]);
    return true;
  } catch {
    return false;
  }
}
