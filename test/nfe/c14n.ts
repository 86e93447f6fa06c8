/**
 * C14N 1.0 against the oracles: xmllint --c14n (whole documents, with comments) and xmlsec1 (subtrees with
 * inherited namespaces, via documents we sign and xmlsec1 verifies).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { canonicalize } from '../../src/nfe/c14n.js';
import { loadCertificate } from '../../src/nfe/cert.js';
import { signXml } from '../../src/nfe/sign.js';
import { verifyXml } from '../../src/nfe/verify.js';
import { XmlSyntaxError, tokenize } from '../../src/nfe/xml-tokens.js';
import { makeTestCerts, needTools } from '../helpers/certs.js';
import { nfeXml, tmpFile, xmlsecVerify } from '../helpers/sign-fixtures.js';

const c14nRoot = (xml: string, withComments = false): string => {
  const d = tokenize(xml);
  return canonicalize(d, d.root, { withComments });
};

t.test('C14N rules on small inputs', async (t) => {
  t.equal(c14nRoot('<a b="2"   a="1"/>'), '<a a="1" b="2"></a>', 'attributes sorted, empty element expanded');
  t.equal(c14nRoot('<a xmlns:z="urn:z" xmlns="urn:d" z:b="1" c="2"/>'), '<a xmlns="urn:d" xmlns:z="urn:z" c="2" z:b="1"></a>');
  t.equal(c14nRoot('<a>x &amp; &lt; &gt; &#13; &#x9;<![CDATA[<&>]]></a>'), '<a>x &amp; &lt; &gt; &#xD; \t&lt;&amp;&gt;</a>');
  t.equal(c14nRoot('<a t="&#9;&#10;&#13;&quot;&apos;&lt;&amp;>" u="a\nb"/>'), '<a t="&#x9;&#xA;&#xD;&quot;\'&lt;&amp;>" u="a b"></a>');
  t.equal(c14nRoot('<a>\r\nx\ry</a>'), '<a>\nx\ny</a>', 'line ends normalised');
  t.equal(c14nRoot('<a><!--c--><?pi  data ?></a>'), '<a><?pi data ?></a>', 'comments dropped, PI kept');
  t.equal(c14nRoot('<a><!--c--></a>', true), '<a><!--c--></a>');
  t.equal(c14nRoot('<a xmlns="urn:x"><b xmlns="urn:x"><c xmlns=""/></b></a>'), '<a xmlns="urn:x"><b><c xmlns=""></c></b></a>', 'superfluous redeclaration dropped; xmlns="" kept');
  t.equal(c14nRoot('<a><b xmlns=""/></a>'), '<a><b></b></a>', 'xmlns="" with no default in scope dropped');
  const d = tokenize('<r xmlns="urn:r" xmlns:p="urn:p" xml:lang="pt"><s><t p:x="1"/></s></r>');
  t.equal(canonicalize(d, 1), '<s xmlns="urn:r" xmlns:p="urn:p" xml:lang="pt"><t p:x="1"></t></s>', 'apex inherits namespaces and xml:*');
});

t.test('tokenizer refuses DOCTYPE, undeclared entities, bad nesting', async (t) => {
  t.throws(() => tokenize('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'), { code: 'NFE_DOCTYPE_REFUSED' });
  t.throws(() => tokenize('<a>&x;</a>'), { code: 'NFE_XML_MALFORMED' });
  t.throws(() => tokenize('<a>AT&T</a>'), { code: 'NFE_XML_MALFORMED' });
  t.throws(() => tokenize('<a><b></a></b>'), { code: 'NFE_XML_MALFORMED' });
  t.throws(() => tokenize('<a b="1" b="2"/>'), { code: 'NFE_XML_MALFORMED' });
  t.throws(() => tokenize(`${'<a>'.repeat(300)}${'</a>'.repeat(300)}`), { code: 'NFE_XML_TOO_DEEP' });
  const e = (() => { try { tokenize('<a>\n<b>\n</a>'); } catch (err) { return err; } return null; })();
  t.ok(e instanceof XmlSyntaxError);
  t.equal((e as XmlSyntaxError).line, 3);
});

const ADVERSARIAL = [
  '<r xmlns:b="urn:b" xmlns:a="urn:a" b:z="1" a:z="2" z="3" y="&amp;&lt;&gt;&quot;&#9;&#10;&#13;">' +
    'text &amp; &lt; &gt; &#13; <![CDATA[ <cdata> & ]]><!-- comment --><?pi some data?>' +
    '<e/><f   ></f><g xmlns="urn:g"><h xmlns="urn:g" xmlns:a="urn:a"><i xmlns=""/></h></g><j xml:lang="en" xml:space="preserve">\t</j></r>',
  '<r>\r\n  <a  b = "1"\n c=\'2\'>x</a>\r</r>',
];

t.test('whole-document C14N equals xmllint --c14n', needTools('xmllint'), async (t) => {
  for (const [i, xml] of ADVERSARIAL.entries()) {
    const p = tmpFile(`c14n-${i}.xml`, xml);
    const r = spawnSync('xmllint', ['--c14n', p], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    t.equal(c14nRoot(xml, true), r.stdout, `document ${i}`);
  }
});

t.test('signed adversarial documents: xmlsec1 accepts, a one-byte change fails both', needTools('xmlsec1', 'openssl'), async (t) => {
  const creds = loadCertificate(makeTestCerts().modernPfx, makeTestCerts().password);
  const cases: [string, string][] = [
    ['entities, CDATA, comment, PI in infNFe', nfeXml({ infCpl: 'A &amp; B &lt;C&gt; &#13;&#10; &quot;q&quot; <![CDATA[x < y & z]]><!-- nota --><?proc a="b"?>' })],
    ['attributes out of order, odd spacing', nfeXml({ infNFeAttrs: 'Id="{ID}"\n   versao = \'4.00\'' })],
    ['namespace redeclarations and prefixes', nfeXml({ extraInside: '<x:ext xmlns:x="urn:ext" xmlns="http://www.portalfiscal.inf.br/nfe" x:b="2" a="1"><y xmlns="urn:y"><z xmlns=""/></y></x:ext>' })],
    ['prefixed namespaces and xml:lang on ancestors', `<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:n="urn:n" xml:lang="pt-BR"><soap:Body><lote>${nfeXml()}</lote></soap:Body></soap:Envelope>`],
    ['CRLF line ends and self-closing tags', nfeXml({ extraInside: '<vazio/>\r\n<outro a="1"  />\r\n' }).replace(/></g, '>\r\n<')],
  ];
  for (const [name, xml] of cases) {
    const signed = signXml(xml, creds, { checkCertificate: false });
    const p = tmpFile(`adv-${name.replace(/\W+/g, '-')}.xml`, signed);
    const ox = xmlsecVerify(p);
    t.ok(ox.ok, `${name}: xmlsec1 accepts (${ox.output.trim().split('\n')[0]})`);
    t.ok(verifyXml(signed).ok, `${name}: we accept`);
    const tampered = signed.replace('PRODUTO DE TESTE', 'PRODUTO DE TESTF');
    const pt = tmpFile(`adv-${name.replace(/\W+/g, '-')}-x.xml`, tampered);
    t.notOk(xmlsecVerify(pt).ok, `${name}: xmlsec1 rejects the tampered copy`);
    t.same(verifyXml(tampered).findings.map((f) => f.code), ['NFE_DIGEST_MISMATCH'], `${name}: we reject it with a digest mismatch`);
  }
});
