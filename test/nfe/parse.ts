import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeXmlText, parseNfe, parseNfeText } from '../../src/nfe/parse.js';
import { generateNfe, generateNfeXml } from '../../src/nfe/generate.js';
import { buildNfe } from '../../src/nfe/build.js';

const shared = fileURLToPath(new URL('../../../shared/samples/', import.meta.url));
const parse = (xml: string, source = 'x.xml') => parseNfe({ source, bytes: Buffer.from(xml) });

t.test('values stay strings exactly as written; arrays where the schema repeats', async (t) => {
  const xml = generateNfeXml(42, { items: 1 });
  const p = parse(xml);
  t.equal(p.kind, 'NFe');
  t.match(p.key, /^\d{44}$/);
  const inf = (p.doc as { NFe: { infNFe: Record<string, any> } }).NFe.infNFe;
  t.ok(Array.isArray(inf.det), 'det is an array even with one item');
  t.ok(Array.isArray(inf.pag.detPag));
  t.equal(typeof inf.ide.cNF, 'string');
  t.equal(inf.emit.enderEmit.CEP, '01001000', 'leading zero of CEP kept');
  t.equal(inf.det[0].prod.qCom.endsWith('.0000'), true, 'decimals keep their digits');
  t.equal(inf['@Id'], `NFe${p.key}`);
});

t.test('entities: five predefined and character references only', async (t) => {
  t.equal(decodeXmlText('a&amp;b&lt;&gt;&quot;&apos;&#233;&#xE9;'), 'a&b<>"\'éé');
  const p = parse('<resNFe><xNome>A&amp;B &#199;</xNome><chNFe>1</chNFe></resNFe>');
  t.equal((p.doc as any).resNFe.xNome, 'A&B Ç');
  const cdata = parse('<NFe><infNFeSupl><qrCode><![CDATA[https://x?a=1&amp;b=2]]></qrCode></infNFeSupl></NFe>');
  t.equal((cdata.doc as any).NFe.infNFeSupl.qrCode, 'https://x?a=1&amp;b=2', 'CDATA is not entity-decoded');
});

t.test('bad input: findings with line and column, never a throw', async (t) => {
  const cases: [string, string][] = [
    ['<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><NFe>&a;</NFe>', 'NFE_DOCTYPE_REFUSED'],
    ['<NFe><infNFe></NFe>', 'NFE_XML_MALFORMED'],
    ['<NFe>\n<a>&copy;</a></NFe>', 'NFE_XML_MALFORMED'],
    ['<NFe><a x=1/></NFe>', 'NFE_XML_MALFORMED'],
    ['<NFe/><NFe/>', 'NFE_XML_MALFORMED'],
    ['<NFe>', 'NFE_XML_MALFORMED'],
    ['<CTe><infCte/></CTe>', 'NFE_UNKNOWN_ROOT'],
    [`${'<a>'.repeat(200)}${'</a>'.repeat(200)}`, 'NFE_XML_TOO_DEEP'],
    ['', 'NFE_XML_MALFORMED'],
  ];
  for (const [xml, code] of cases) {
    const p = parse(xml, 'bad.xml');
    t.equal(p.kind, null, xml.slice(0, 30));
    t.equal(p.findings[0]?.code, code, xml.slice(0, 30));
    t.equal(p.findings[0]?.source, 'bad.xml');
  }
  const p = parseNfeText('<NFe>\n  <a>\n  </b></NFe>', 's');
  t.match(p.findings[0], { line: 3, column: 3 });
});

t.test('ISO-8859-1 when declared; invalid UTF-8 is a warning', async (t) => {
  const latin = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><resNFe><xNome>'), Buffer.from([0x47, 0xc1, 0x53]), Buffer.from('</xNome></resNFe>')]);
  t.equal((parse(latin.toString('latin1')).doc as any)?.resNFe?.xNome === undefined, false);
  const p = parseNfe({ source: 'l', bytes: latin });
  t.equal((p.doc as any).resNFe.xNome, 'GÁS');
  const bad = parseNfe({ source: 'u', bytes: Buffer.concat([Buffer.from('<resNFe><xNome>'), Buffer.from([0xc1]), Buffer.from('</xNome></resNFe>')]) });
  t.equal(bad.findings[0]?.severity, 'warning');
});

t.test('random mutations of generated documents never crash the reader', async (t) => {
  const base = generateNfeXml(7);
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const alphabet = ['<', '>', '&', '"', "'", '/', '!', '?', '[', ']', '-', '\u0000', 'é', ' ', 'x', '<!DOCTYPE', '<![CDATA[', ']]>', '&#0;'];
  let findings = 0;
  for (let i = 0; i < 400; i++) {
    let s = base;
    for (let m = 0; m < 1 + rnd(4); m++) {
      const at = rnd(s.length);
      const op = rnd(3);
      if (op === 0) s = s.slice(0, at) + s.slice(at + 1 + rnd(20));
      else if (op === 1) s = s.slice(0, at) + alphabet[rnd(alphabet.length)] + s.slice(at);
      else s = s.slice(0, at) + s.slice(at, at + rnd(50)) + s.slice(at);
    }
    const p = parse(s);
    if (p.findings.length) findings++;
    t.ok(p.kind !== null || p.findings.length > 0, 'a result either parses or has findings');
  }
  t.ok(findings > 100, `most mutations give findings (${findings})`);
});

t.test('every sample parses without crashing, with the expected kind', { skip: existsSync(shared) ? false : `no ${shared}` }, async (t) => {
  const expect: Record<string, string | null> = {
    'nfe/javanfe_IbsCbs-enviNFe.xml': 'enviNFe',
    'events/spednfe_req_cancelamento_110111.xml': 'envEvento',
    'events/spedda_110110-cce-procEventoNFe.xml': 'procEventoNFe',
    'events/spedda_cancelada_55_new.xml': 'nfeProc',
    'nfce/spednfe_nfce_com_qrcode-v400.xml': 'NFe',
    'nfe/spednfe_nfe_PL_10b_v1.30-ibscbs.xml': 'NFe',
    'nfe/spednfe_procNFe_v4.00-allfields.xml': 'nfeProc',
    'cfe/zucchetti_cfe-sat-cancelado.xml': 'CFeCanc',
  };
  for (const dir of ['nfe', 'nfce', 'events', 'cfe']) {
    for (const f of readdirSync(shared + dir)) {
      const p = parseNfe({ source: f, bytes: readFileSync(`${shared}${dir}/${f}`) });
      const want = expect[`${dir}/${f}`];
      if (want !== undefined) t.equal(p.kind, want, f);
      else t.equal(p.kind, dir === 'cfe' ? 'CFe' : p.kind ?? 'a kind', f);
    }
  }
  const wrapped = parseNfe({ source: 's', bytes: readFileSync(`${shared}events/spednfe_req_cancelamento_110111.xml`) });
  t.same(wrapped.wrappers, ['nfeDadosMsg']);
  t.equal(wrapped.key, '35150300822602000124550010009923461099234656');
});

t.test('generated model round-trips through build and parse', async (t) => {
  const doc = generateNfe(99, { model: '65' });
  const xml = buildNfe(doc).xml;
  const again = parse(xml).doc as { NFe: Record<string, unknown> };
  t.same(again, { NFe: { '@xmlns': 'http://www.portalfiscal.inf.br/nfe', ...doc.NFe } }, 'the namespace is the only addition');
  t.equal(buildNfe(again).xml, xml, 'build(parse(xml)) is byte-identical');
});
