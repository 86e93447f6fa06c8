import t from 'tap';
import { PassThrough } from 'node:stream';
import { readFileSync } from 'node:fs';
import { main } from '../../src/cli/main.js';
import { makeTestCerts, needTools } from '../helpers/certs.js';
import { nfeKey, nfeXml, tmpFile } from '../helpers/sign-fixtures.js';

async function run(argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
  let out = '';
  let err = '';
  io.stdout.on('data', (d) => { out += d; });
  io.stderr.on('data', (d) => { err += d; });
  io.stdin.end(stdin);
  const code = await main(argv, io);
  return { code, out, err };
}

t.test('fiscal nfe key', async (t) => {
  const ok = await run(['nfe', 'key', '35150905481336000137550010000111291000111298']);
  t.equal(ok.code, 0);
  t.match(ok.out, /CNPJ\s+05481336000137/);
  const bad = await run(['nfe', 'key', '35150905481336000137550010000111291000111297', '--json']);
  t.equal(bad.code, 1);
  t.equal(JSON.parse(bad.out).expectedCdv, '8');
  t.match(bad.err, /\[NFE_KEY_CHECK_DIGIT\]/);
});

t.test('fiscal nfe sign / verify / qrcode', needTools('openssl'), async (t) => {
  const c = makeTestCerts();
  const pfx = tmpFile('cli.pfx', c.legacyPfx);
  const pwFile = tmpFile('pw.txt', `${c.password}\n`);
  const doc = tmpFile('cli-nfe.xml', nfeXml({ mod: '65' }));
  const out = tmpFile('cli-signed.xml', '');
  process.env.FISCAL_TEST_PFX_PW = c.password;
  const s = await run(['nfe', 'sign', doc, '--pfx', pfx, '--password-env', 'FISCAL_TEST_PFX_PW', '-o', out]);
  t.equal(s.code, 0, s.err);
  t.notMatch(s.out + s.err, new RegExp(c.password), 'password never printed');
  const v = await run(['nfe', 'verify', out]);
  t.equal(v.code, 0, v.err);
  t.match(v.out, new RegExp(`OK NFe ${nfeKey({ mod: '65' })} \\| EMPRESA TESTE LTDA:11222333000181`));
  const wrong = await run(['nfe', 'sign', doc, '--pfx', pfx, '--password-file', tmpFile('bad.txt', 'nope')]);
  t.equal(wrong.code, 2);
  t.match(wrong.err, /\[CERT_PASSWORD\]/);
  t.equal((await run(['nfe', 'sign', doc, '--pfx', pfx])).code, 2, 'no password source');
  const stdinSigned = await run(['nfe', 'sign', '-', '--pfx', pfx, '--password-file', pwFile], nfeXml());
  t.equal(stdinSigned.code, 0);
  t.equal((await run(['nfe', 'verify', '-'], stdinSigned.out)).code, 0, 'verify from stdin');

  const tampered = tmpFile('cli-tampered.xml', readFileSync(out, 'utf8').replace('PRODUTO DE TESTE', 'PRODUTO ALTERADO'));
  const unsigned = tmpFile('cli-unsigned.xml', nfeXml());
  const batch = await run(['nfe', 'verify', out, tampered, unsigned]);
  t.equal(batch.code, 1);
  t.match(batch.err, /cli-tampered.xml: infNFe NFe\d+: digest .*\[NFE_DIGEST_MISMATCH\]/);
  t.match(batch.out, /OK\s+1\n/);
  t.match(batch.out, /NFE_DIGEST_MISMATCH\s+1\n/);
  t.match(batch.out, /total\s+3\n/);
  const json = await run(['nfe', 'verify', out, '--json', '--trust', c.trustDir]);
  t.equal(JSON.parse(json.out).signatures[0].certificate.trusted, true);

  process.env.FISCAL_TEST_CSC = 'ABCDEF0123456789ABCDEF0123456789ABCD';
  const qr = await run(['nfe', 'qrcode', out, '--csc-id', '1', '--csc-env', 'FISCAL_TEST_CSC']);
  t.equal(qr.code, 0, qr.err);
  t.match(qr.out, /<infNFeSupl><qrCode>https:\/\/www\.homologacao\.nfce\.fazenda\.sp\.gov\.br/);
  const withQr = tmpFile('cli-qr.xml', qr.out);
  t.equal((await run(['nfe', 'qrcode', withQr, '--check', '--csc-env', 'FISCAL_TEST_CSC'])).code, 0);
  process.env.FISCAL_TEST_CSC = 'WRONG';
  t.equal((await run(['nfe', 'qrcode', withQr, '--check', '--csc-env', 'FISCAL_TEST_CSC'])).code, 1);
  t.equal((await run(['nfe', 'verify', withQr])).code, 0, 'QR block does not break the signature');
});
