/**
 * The realistic NF-e batch of bench/nfe.mjs (issue 6): documents from the project's generator
 * (dist/nfe/generate.js `generateNfe`), reshaped the way a company's inbox of received notes looks —
 *  - item counts skewed as in real notes: most have 1 to 4 items, a fifth 5 to 20, a few tens, one in a hundred
 *    60 to 150 (`itemCount`);
 *  - many emitters, each with its own RSA-2048 A1 certificate carrying its CNPJ (bench/lib/nfe-cert.mjs), and
 *    many recipients, with a few of each in most notes and a long tail in few;
 *  - names, streets, districts and product descriptions with Portuguese accents (Ç, Ã, É, Ó, Ê, º), so the UTF-8
 *    decoder and the JSON writer see multi-byte characters;
 *  - mostly NF-e (model 55) with some NFC-e (model 65, no recipient, with its QR code v2);
 * each signed by its emitter with the library's signXml (certificate checks on: the CNPJ matches), one file
 * per document named `<key>-nfe.xml`, spread over one sub-directory per emission month (a nested tree, as
 * users file them).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBenchPfx } from './nfe-cert.mjs';

const NAMES = ['COMÉRCIO DE ALIMENTOS SÃO JOÃO', 'INDÚSTRIA METALÚRGICA PARAÍSO', 'DISTRIBUIDORA DE BEBIDAS CONCEIÇÃO',
  'AÇOUGUE E MERCEARIA BOM PREÇO', 'CONFECÇÕES ARAÚJO & FILHOS', 'FARMÁCIA POPULAR DO GRAJAÚ', 'PAPELARIA ÍCONE',
  'MATERIAIS DE CONSTRUÇÃO TIJUCÁ', 'AUTO PEÇAS GUARÁ', 'LATICÍNIOS SERRA DA CANASTRA', 'TÊXTIL MARAJÓ', 'ÓTICA VISÃO'];
const SUFFIX = ['LTDA', 'EIRELI', 'S.A.', 'ME', 'LTDA EPP'];
const STREETS = ['RUA SÃO BENTO', 'AVENIDA PAULISTA', 'RUA DA CONSOLAÇÃO', 'TRAVESSA DO COMÉRCIO', 'RUA JOSÉ BONIFÁCIO',
  'AVENIDA GETÚLIO VARGAS', 'RUA MARECHAL DEODORO', 'PRAÇA DA SÉ'];
const DISTRICTS = ['CENTRO', 'JARDIM AMÉRICA', 'VILA MARIANA', 'SANTA EFIGÊNIA', 'BOM RETIRO', 'CONSOLAÇÃO', 'JAÇANÃ'];
const PRODUCTS = ['FEIJÃO CARIOCA TIPO 1 1KG', 'AÇÚCAR CRISTAL 5KG', 'CAFÉ TORRADO E MOÍDO 500G', 'LEITE LONGA VIDA INTEGRAL 1L',
  'SABÃO EM PÓ 1KG', 'ÓLEO DE SOJA 900ML', 'MACARRÃO ESPAGUETE Nº 8 500G', 'PÃO DE FORMA INTEGRAL 500G',
  'PARAFUSO SEXTAVADO AÇO 10MM', 'TINTA ACRÍLICA BRANCA 18L', 'CABO ELÉTRICO FLEXÍVEL 2,5MM²', 'ÁGUA MINERAL SEM GÁS 500ML',
  'CHOCOLATE AO LEITE 90G', 'PRESUNTO COZIDO FATIADO KG', 'ESCOVA DENTAL MÉDIA', 'CADERNO UNIVERSITÁRIO 200 FOLHAS'];

const pick = (r, list) => list[Math.floor(r() * list.length)];
/** An index in [0, n) where a few values come up in most draws and the long tail in few (power law). */
const skewed = (r, n) => Math.min(n - 1, Math.floor(n * r() ** 3));

/** Items of one note: 70% 1-4, 22% 5-20, 7% 21-60, 1% 61-150. */
export function itemCount(r) {
  const x = r();
  if (x < 0.7) return 1 + Math.floor(r() * 4);
  if (x < 0.92) return 5 + Math.floor(r() * 16);
  if (x < 0.99) return 21 + Math.floor(r() * 40);
  return 61 + Math.floor(r() * 90);
}

/**
 * Writes COUNT signed documents under DIR (one sub-directory per month) and returns their paths (sorted as the
 * directory walk sorts them), the total bytes and the item counts.
 * @param {{ generateNfe: Function, buildNfe: Function, cnpjFromNumber: Function, signXml: Function, loadCertificate: Function, addQrCodeToXml: Function, mulberry32: Function }} lib (from dist/)
 * @param {{ dir: string, certDir: string, count: number, emitters: number, recipients: number, seed?: number }} o
 */
export function writeRealisticBatch(lib, o) {
  const r = lib.mulberry32(o.seed ?? 6); // the project's PRNG: the same options always give the same batch
  const emitters = Array.from({ length: o.emitters }, (_, i) => {
    const cnpj = lib.cnpjFromNumber(7000000 + i * 7919);
    const cert = makeBenchPfx(join(o.certDir, `e${i}`), cnpj);
    return {
      cnpj,
      creds: lib.loadCertificate(readFileSync(cert.pfx), cert.password),
      xNome: `${pick(r, NAMES)} ${i} ${pick(r, SUFFIX)}`,
      xLgr: pick(r, STREETS), xBairro: pick(r, DISTRICTS),
    };
  });
  const recipients = Array.from({ length: o.recipients }, (_, i) => ({
    CNPJ: lib.cnpjFromNumber(3000000 + i * 104729),
    xNome: `${pick(r, NAMES)} FILIAL ${i} ${pick(r, SUFFIX)}`,
    xLgr: pick(r, STREETS), xBairro: pick(r, DISTRICTS),
  }));
  const files = [];
  let bytes = 0;
  let items = 0;
  for (let n = 0; n < o.count; n++) {
    const seed = 100000 + n;
    const e = emitters[skewed(r, emitters.length)];
    const model = r() < 0.15 ? '65' : '55';
    const k = itemCount(r);
    items += k;
    const doc = lib.generateNfe(seed, { items: k, emitterCnpj: e.cnpj, model });
    const inf = doc.NFe.infNFe;
    inf.emit.xNome = e.xNome;
    inf.emit.xFant = e.xNome.split(' ').slice(0, 2).join(' ');
    inf.emit.enderEmit.xLgr = e.xLgr;
    inf.emit.enderEmit.xBairro = e.xBairro;
    if (inf.dest) {
      const d = recipients[skewed(r, recipients.length)];
      inf.dest.CNPJ = d.CNPJ;
      inf.dest.xNome = d.xNome;
      inf.dest.enderDest.xLgr = d.xLgr;
      inf.dest.enderDest.xBairro = d.xBairro;
    }
    for (const det of inf.det) det.prod.xProd = pick(r, PRODUCTS);
    inf.infAdic.infCpl = `Pedido nº ${seed}; ENTREGA À RUA ${e.xLgr}; tributação conforme legislação vigente`;
    // emit's children in schema order: xFant right after xNome
    const { CNPJ, xNome, xFant, ...rest } = inf.emit;
    inf.emit = { CNPJ, xNome, xFant, ...rest };
    const built = lib.buildNfe(doc);
    let signed = lib.signXml(built.xml, e.creds);
    // an NFC-e carries its QR code (v2, the emitter's CSC), added after signing as an emitter does
    if (model === '65') signed = lib.addQrCodeToXml(signed, { version: 2, cscId: '000001', csc: `CSC-BENCH-${e.cnpj}` }).xml;
    const month = inf.ide.dhEmi.slice(0, 7);
    const sub = join(o.dir, month);
    mkdirSync(sub, { recursive: true });
    const path = join(sub, `${built.key}-nfe.xml`);
    writeFileSync(path, signed);
    bytes += Buffer.byteLength(signed);
    files.push(path);
  }
  files.sort();
  return { files, bytes, items };
}

