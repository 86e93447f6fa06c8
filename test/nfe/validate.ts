import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseNfe } from '../../src/nfe/parse.js';
import { validateNfe } from '../../src/nfe/validate.js';
import { buildNfe } from '../../src/nfe/build.js';
import { generateNfe } from '../../src/nfe/generate.js';

const shared = fileURLToPath(new URL('../../../shared/samples/', import.meta.url));
const check = (xml: string | Buffer, source = 'x') => {
  const p = parseNfe({ source, bytes: Buffer.isBuffer(xml) ? xml : Buffer.from(xml) });
  return [...p.findings, ...validateNfe(p)];
};

t.test('generated documents have no findings', async (t) => {
  for (let s = 1; s <= 20; s++) t.same(check(buildNfe(generateNfe(s, { model: s % 2 ? '55' : '65' })).xml).filter((f) => f.code !== 'NFE_MISSING' || !f.path?.endsWith('infNFeSupl')), [], `seed ${s}`);
});

t.test('rules with XML paths', async (t) => {
  const doc = generateNfe(8, { items: 3 }) as any;
  doc.NFe.infNFe.det[2].prod.NCM = '1234';
  doc.NFe.infNFe.det[1].prod.vProd = '999.99';
  doc.NFe.infNFe.ide.serie = '7';
  delete doc.NFe.infNFe.transp;
  const f = check(buildNfe(doc).xml);
  t.ok(f.some((x) => x.code === 'NFE_FORMAT' && x.path === '/NFe/infNFe/det[3]/prod/NCM'));
  t.ok(f.some((x) => x.code === 'NFE_TOTALS_MISMATCH' && x.path === '/NFe/infNFe/total/ICMSTot/vProd'));
  t.ok(f.some((x) => x.code === 'NFE_KEY_MISMATCH' && x.path === '/NFe/infNFe/ide/serie'));
  t.ok(f.some((x) => x.code === 'NFE_MISSING' && x.path === '/NFe/infNFe/transp'));
  const bad = structuredClone(generateNfe(9)) as any;
  const id: string = bad.NFe.infNFe['@Id'];
  bad.NFe.infNFe['@Id'] = id.slice(0, -1) + String((Number(id.slice(-1)) + 1) % 10);
  t.ok(check(buildNfe(bad).xml).some((x) => x.code === 'NFE_KEY_CHECK_DIGIT'));
});

t.test('samples judged as MANIFEST.tsv says', { skip: existsSync(shared) ? false : `no ${shared}` }, async (t) => {
  const codes = (f: string) => check(readFileSync(shared + f), f).map((x) => `${x.code} ${x.path ?? ''}`);
  t.ok(codes('nfe/bfr_danfe_cnpj_alfanumerico.xml').includes('NFE_KEY_MISMATCH /NFe/infNFe/emit/CNPJ'), 'alphanumeric emitter vs numeric key');
  t.ok(codes('nfce/brdanfe_nfce-v400.xml').includes('NFE_KEY_MISMATCH /nfeProc/NFe/infNFe/ide/mod'), 'mod 65 vs key 55');
  t.ok(codes('nfce/brdanfe_nfce-v400.xml').includes('NFE_KEY_MISMATCH /nfeProc/NFe/infNFeSupl/qrCode'), 'QR code names another key');
  t.ok(codes('nfe/spednfe_nfe_PL_10b_v1.30-ibscbs.xml').length > 5, 'IBS/CBS template rejected');
  t.ok(codes('nfe/spednfe_procNFe_v4.00-allfields.xml').length > 5, 'allfields template rejected');
  t.ok(codes('events/spedda_cancelada_55_new.xml').includes('NFE_CANCELLED /nfeProc'), 'cancelled note flagged');
  for (const ok of ['nfe/nfelib_41170706117473000150550010000463201612756527-procNFe.xml', 'nfe/acbr_35150905481336000137550010000111291000111298-nfe.xml', 'events/spedda_110110-cce-procEventoNFe.xml', 'events/spednfe_req_cancelamento_110111.xml']) {
    t.same(codes(ok), [], `${ok} is clean`);
  }
});
