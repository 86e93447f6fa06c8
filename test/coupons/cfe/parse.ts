/**
 * CF-e SAT through the reader: the real samples of ../shared/samples/cfe (arrays where the XSD repeats, values
 * as written, keys), and the project's generated coupons checked by the oracles: xmllint against
 * ../shared/xsd/cfe/CfeDadosVendaSAT_0008.xsd, xmlsec1 on the signature.
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { asParsedCfe, parseCfe, readCfe } from '../../../src/coupons/cfe/parse.js';
import { buildCfeKey, parseCfeKey } from '../../../src/coupons/cfe/key.js';
import { generateCfe, generateCfeCancellation } from '../../../src/coupons/cfe/generate.js';
import type { CFe, CFeCanc } from '../../../src/coupons/cfe/types.js';
import { loadCertificate } from '../../../src/nfe/cert.js';
import { sumDecimals } from '../../../src/nfe/decimal.js';
import { generateNfeXml } from '../../../src/nfe/generate.js';
import { parseNfe } from '../../../src/nfe/parse.js';
import { signXml } from '../../../src/nfe/sign.js';
import { verifyXml } from '../../../src/nfe/verify.js';
import { makeTestCerts, needTools } from '../../helpers/certs.js';
import { SHARED, xmlsecVerify } from '../../helpers/sign-fixtures.js';

const samples = join(SHARED, 'samples/cfe');
const xsd = join(SHARED, 'xsd/cfe/CfeDadosVendaSAT_0008.xsd');
const read = (name: string) => parseCfe({ source: name, bytes: readFileSync(join(samples, name)) });
const count = (text: string, tag: string): number => text.split(new RegExp(`<${tag}[\\s>]`)).length - 1;

t.test('real CF-e: kind, key, arrays where the XSD repeats, values as written', { skip: existsSync(samples) ? false : `no ${samples}` }, async (t) => {
  for (const f of readdirSync(samples)) {
    const text = readFileSync(join(samples, f), 'utf8');
    const p = read(f);
    t.same(p.findings, [], `${f}: no finding`);
    const id = /<infCFe[^>]*\bId="CFe(\d{44})"/.exec(text)![1];
    t.equal(p.key, id, `${f}: key from infCFe Id`);
    t.ok(parseCfeKey(p.key!).valid, `${f}: key check digit and model 59`);
    if (p.kind === 'CFe') {
      const inf = (p.doc as { CFe: CFe }).CFe.infCFe;
      t.ok(Array.isArray(inf.det), `${f}: det is an array`);
      t.equal(inf.det.length, count(text, 'det'), `${f}: every det`);
      t.ok(Array.isArray(inf.pgto.MP), `${f}: MP is an array`);
      t.equal(inf.pgto.MP.length, count(text, 'MP'), `${f}: every MP`);
      const obs = [...(inf.obsFisco ?? []), ...(inf.infAdic?.obsFisco ?? [])];
      t.equal(obs.length, count(text, 'obsFisco'), `${f}: obsFisco, in infAdic (0.07) or in infCFe (0.08), always arrays`);
      t.equal(inf.det[0]!.prod.qCom, /<qCom>([^<]*)</.exec(text)![1], `${f}: qCom kept as written`);
      const k = parseCfeKey(p.key!);
      t.same([k.nserieSAT, k.nCFe, k.cNF, k.cDV, k.mod], [inf.ide.nserieSAT, inf.ide.nCFe, inf.ide.cNF.padStart(6, '0'), inf.ide.cDV, inf.ide.mod], `${f}: key parts are the ide fields`);
    } else {
      t.equal(p.kind, 'CFeCanc', f);
      const inf = (p.doc as { CFeCanc: CFeCanc }).CFeCanc.infCFe;
      t.equal(p.cancels, inf['@chCanc'].slice(3), `${f}: the cancelled sale's key`);
      t.ok(Array.isArray(inf.infAdic?.obsFisco), `${f}: obsFisco of a cancellation is an array`);
    }
  }
  const acbr = read('acbr_AD35180911111111111111591234567890001684429520.xml');
  const inf = (acbr.doc as { CFe: CFe }).CFe.infCFe;
  t.same(inf.det[0]!.prod.obsFiscoDet, [{ '@xCampoDet': 'campo', xTextoDet: 'texto' }], 'obsFiscoDet is an array with its attribute');
  t.same(inf.det[1]!.imposto.PISST, { qBCProd: '3.3600', vAliqProd: '1.0223', vPIS: '3.43' }, 'the "all of the choice" pair is not an array');
  t.equal(typeof inf.det[1]!.imposto.PIS, 'object');
  const sale = read('zucchetti_cfe-sat-0.08.xml');
  t.equal((sale.doc as { CFe: CFe }).CFe.infCFe.dest, '', 'an anonymous buyer: the empty string');
});

t.test('CF-e key: built, split, checked', async (t) => {
  const key = buildCfeKey({ cUF: '35', aamm: '2601', cnpj: '11222333000181', nserieSAT: '900004019', nCFe: '42', cNF: '123456' });
  t.equal(key.length, 44);
  const k = parseCfeKey(`CFe${key}`);
  t.ok(k.valid);
  t.same([k.cUF, k.aamm, k.cnpj, k.mod, k.nserieSAT, k.nCFe, k.cNF], ['35', '2601', '11222333000181', '59', '900004019', '000042', '123456']);
  const wrongDigit = key.slice(0, 43) + String((Number(key[43]) + 1) % 10);
  t.same(parseCfeKey(wrongDigit).problems, ['check-digit']);
  const nfeKey = parseNfe({ source: 'n', bytes: Buffer.from(generateNfeXml(1)) }).key!;
  t.same(parseCfeKey(nfeKey).problems, ['model'], 'an NF-e key is not a CF-e key');
  t.throws(() => buildCfeKey({ cUF: '35', aamm: '2601', cnpj: '11222333000181', nserieSAT: '1234567890', nCFe: '1', cNF: '1' }), RangeError);
});

t.test('parseCfe and readCfe keep to CF-e', async (t) => {
  const nfe = parseCfe({ source: 'n.xml', bytes: Buffer.from(generateNfeXml(2)) });
  t.equal(nfe.kind, null);
  t.equal(nfe.findings[0]?.code, 'NFE_UNKNOWN_ROOT');
  t.equal(asParsedCfe(parseNfe({ source: 'n', bytes: Buffer.from(generateNfeXml(2)) })), null, 'an NF-e is not narrowed');
  const dir = t.testdir({ 'a.xml': generateCfe(1).xml, 'b.xml': generateNfeXml(3), 'c.xml': generateCfeCancellation(1).xml, 'd.xml': '<CFe><infCFe>' });
  const got = [];
  for await (const c of readCfe(dir)) got.push([c.kind, c.findings[0]?.code ?? null]);
  t.same(got, [['CFe', null], ['CFeCanc', null], [null, 'NFE_XML_MALFORMED']], 'NF-e skipped; a broken document stays a result');
});

t.test('generated coupons: consistent values, same bytes for the same seed', async (t) => {
  t.equal(generateCfe(7).xml, generateCfe(7).xml);
  t.not(generateCfe(7).xml, generateCfe(8).xml);
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const g = generateCfe(seed, { items: seed });
    const p = parseCfe({ source: `g${seed}`, bytes: Buffer.from(g.xml) });
    t.equal(p.key, g.key);
    const inf = (p.doc as { CFe: CFe }).CFe.infCFe;
    t.equal(inf.det.length, seed);
    t.equal(inf.total.ICMSTot!.vProd, sumDecimals(inf.det.map((d) => d.prod.vProd)), `seed ${seed}: vProd is the sum of the items`);
    t.equal(inf.total.vCFe, sumDecimals(inf.det.map((d) => d.prod.vItem)), `seed ${seed}: vCFe is the sum of vItem`);
    t.equal(inf.pgto.MP[0]!.vMP, inf.total.vCFe, `seed ${seed}: paid in full`);
    const k = parseCfeKey(g.key);
    t.ok(k.valid);
    t.same([k.nCFe, k.cNF, k.cDV], [inf.ide.nCFe, inf.ide.cNF, inf.ide.cDV]);
    const c = generateCfeCancellation(seed, { items: seed });
    const pc = parseCfe({ source: `c${seed}`, bytes: Buffer.from(c.xml) });
    t.equal(pc.cancels, g.key, `seed ${seed}: the cancellation names the sale`);
    t.ok(parseCfeKey(c.key).valid);
    t.not(c.key, g.key);
  }
});

const tools = needTools('openssl', 'xmlsec1', 'xmllint');
t.test('generated coupons, signed as a SAT signs: xmllint (CfeDadosVendaSAT_0008.xsd), xmlsec1 and our verify agree', { skip: tools.skip || (existsSync(xsd) ? false : `no ${xsd}`) }, async (t) => {
  const certs = makeTestCerts();
  const creds = loadCertificate(certs.modernPfx, certs.password);
  const dir = t.testdir({});
  const files: string[] = [];
  for (const seed of [1, 2, 3, 11, 12]) {
    const signed = signXml(generateCfe(seed, { items: seed, buyer: seed % 2 === 0 }).xml, creds, { units: 'cfe', algorithm: 'rsa-sha256', checkCertificate: false });
    const path = join(dir, `cfe-${seed}.xml`);
    writeFileSync(path, signed);
    files.push(path);
    t.ok(verifyXml(signed).ok, `seed ${seed}: our verify`);
    const x = xmlsecVerify(path, 'infCFe');
    t.ok(x.ok, `seed ${seed}: xmlsec1 ${x.output}`);
  }
  const r = spawnSync('xmllint', ['--noout', '--schema', xsd, ...files], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr.split('\n').filter((l) => l.endsWith(' validates')).length, files.length, 'every generated CF-e validates');
});
