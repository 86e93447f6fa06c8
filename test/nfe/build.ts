import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNfe, escapeText, escapeAttribute, serializeElement } from '../../src/nfe/build.js';
import { parseNfe } from '../../src/nfe/parse.js';
import { generateNfe } from '../../src/nfe/generate.js';
import { needTools } from '../helpers/certs.js';

const shared = fileURLToPath(new URL('../../../shared/samples/', import.meta.url));
const SIGNED_OK = [
  'nfe/nfelib_41170706117473000150550010000463201612756527-procNFe.xml',
  'nfe/acbr_35150905481336000137550010000111291000111298-nfe.xml',
  'nfe/javanfe_IbsCbs-enviNFe.xml',
  'nfce/spedda_NFCeProd1-v310-untouched.xml',
];
const infNFe = (s: string): string => s.slice(s.indexOf('<infNFe'), s.indexOf('</infNFe>') + 9);

t.test('escaping as C14N writes it', async (t) => {
  t.equal(escapeText('a&b<c>d"e\'f\r'), 'a&amp;b&lt;c&gt;d"e\'f&#xD;');
  t.equal(escapeAttribute('a&b<c>"\t\n'), 'a&amp;b&lt;c>&quot;&#x9;&#xA;');
});

t.test('schema order, absent groups write nothing, key parts completed', async (t) => {
  const doc = generateNfe(5);
  const inf = doc.NFe.infNFe as unknown as Record<string, unknown>;
  // shuffle: put det first and ide last; the builder restores schema order
  const { ide, det, ...rest } = inf;
  const shuffled = { NFe: { infNFe: { det, ...rest, ide } } };
  const a = buildNfe(doc).xml;
  const b = buildNfe(shuffled).xml;
  t.equal(a, b);
  t.ok(a.indexOf('<ide>') < a.indexOf('<emit>') && a.indexOf('<emit>') < a.indexOf('<det '));
  t.notMatch(a, /<cobr>|\n|> </, 'compact, no absent groups');
  // without cNF/cDV/Id: computed, deterministically
  const bare = structuredClone(doc) as any;
  delete bare.NFe.infNFe['@Id'];
  delete bare.NFe.infNFe.ide.cNF;
  delete bare.NFe.infNFe.ide.cDV;
  const r1 = buildNfe(bare);
  const r2 = buildNfe(bare);
  t.equal(r1.xml, r2.xml, 'deterministic cNF');
  t.match(r1.key, /^\d{44}$/);
  t.equal(serializeElement('x', { '@a': '1', '#text': 'v&' }, null, null), '<x a="1">v&amp;</x>');
});

t.test('--compute-totals recomputes ICMSTot exactly', async (t) => {
  const doc = generateNfe(11, { items: 5 }) as any;
  const good = doc.NFe.infNFe.total.ICMSTot.vNF;
  doc.NFe.infNFe.total.ICMSTot.vNF = '0.01';
  const rebuilt = parseNfe({ source: 'x', bytes: Buffer.from(buildNfe(doc, { computeTotals: true }).xml) });
  t.equal((rebuilt.doc as any).NFe.infNFe.total.ICMSTot.vNF, good);
  t.ok((rebuilt.doc as any).NFe.infNFe.total.IBSCBSTot.gCBS.vCBS);
});

t.test('lossless: parse then build keeps infNFe and the signature verifies', { skip: existsSync(shared) ? false : `no ${shared}` }, async (t) => {
  const tools = needTools('xmlsec1');
  const dir = t.testdir({});
  for (const f of SIGNED_OK) {
    const bytes = readFileSync(shared + f);
    const p = parseNfe({ source: f, bytes });
    const xml = buildNfe(p.doc!).xml;
    if (!f.includes('NFCeProd1')) t.equal(infNFe(xml), infNFe(bytes.toString('utf8')), `${f}: same infNFe bytes`);
    if (tools.skip) continue;
    const out = join(dir, 'rebuilt.xml');
    writeFileSync(out, xml);
    const r = execFileSync('xmlsec1', ['--verify', '--id-attr:Id', 'infNFe', '--insecure', '--enabled-key-data', 'x509', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.ok(r !== undefined, `${f}: xmlsec1 verifies the rebuilt document`);
  }
});
