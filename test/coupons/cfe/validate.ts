/** The CF-e key rules of `validateNfe` (src/coupons/cfe/validate.ts): real and generated coupons are clean; each broken part is named. */
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCfe, generateCfeCancellation } from '../../../src/coupons/cfe/generate.js';
import { parseNfe } from '../../../src/nfe/parse.js';
import { validateNfe } from '../../../src/nfe/validate.js';
import { parseCfe as fromIndex } from '../../../src/index.js';
import { parseCfe } from '../../../src/coupons/cfe/parse.js';
import { SHARED } from '../../helpers/sign-fixtures.js';

const check = (xml: string) => validateNfe(parseNfe({ source: 'c.xml', bytes: Buffer.from(xml) })).map((f) => `${f.code} ${f.path}`);
const samples = join(SHARED, 'samples/cfe');

t.test('real CF-e samples and generated coupons have no finding', async (t) => {
  if (existsSync(samples)) for (const f of readdirSync(samples)) t.same(check(readFileSync(join(samples, f), 'utf8')), [], f);
  for (const seed of [1, 2, 3, 40]) {
    t.same(check(generateCfe(seed).xml), [], `sale ${seed}`);
    t.same(check(generateCfeCancellation(seed).xml), [], `cancellation ${seed}`);
  }
  t.equal(fromIndex, parseCfe, 'the library exports the CF-e reader');
});

t.test('each key part that disagrees is named at its path', async (t) => {
  const { xml, key } = generateCfe(5, { items: 1 });
  const set = (tag: string, v: string): string => xml.replace(new RegExp(`<${tag}>[^<]*</${tag}>`), `<${tag}>${v}</${tag}>`);
  t.same(check(set('nCFe', '999999')), ['NFE_KEY_MISMATCH /CFe/infCFe/ide/nCFe']);
  t.same(check(set('nserieSAT', '123456789')), ['NFE_KEY_MISMATCH /CFe/infCFe/ide/nserieSAT']);
  t.same(check(set('dEmi', '20251231')), ['NFE_KEY_MISMATCH /CFe/infCFe/ide/dEmi']);
  t.same(check(xml.replace(/<emit><CNPJ>\d+<\/CNPJ>/, '<emit><CNPJ>11222333000181</CNPJ>')), ['NFE_KEY_MISMATCH /CFe/infCFe/emit/CNPJ']);
  const digit = String((Number(key[43]) + 1) % 10);
  t.same(check(xml.replace(`Id="CFe${key}"`, `Id="CFe${key.slice(0, 43)}${digit}"`)), ['NFE_KEY_CHECK_DIGIT /CFe/infCFe/@Id', 'NFE_KEY_MISMATCH /CFe/infCFe/ide/cDV']);
  const canc = generateCfeCancellation(5, { items: 1 });
  t.same(check(canc.xml.replace(`chCanc="CFe${canc.cancels}"`, 'chCanc="CFe123"')), ['NFE_KEY_CHECK_DIGIT /CFeCanc/infCFe/@chCanc']);
  t.same(check(xml.replace(/ Id="[^"]*"/, '')), ['NFE_MISSING /CFe/infCFe/@Id']);
});
