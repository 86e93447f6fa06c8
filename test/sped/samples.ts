// The SPED samples in ../shared/samples/sped, judged as their MANIFEST notes say. Skipped when ../shared is absent.
import t from 'tap';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validateSped } from '../../src/sped/validator.js';
import { readSped } from '../../src/sped/reader.js';
import { SHARED } from '../helpers/sped.js';

const dir = fileURLToPath(new URL('samples/sped/', SHARED));
if (!existsSync(dir)) {
  t.plan(0, `samples not found at ${dir} (the shared folder beside the repository)`);
} else {
  const codesAt = <E extends { code: string }>(errors: E[], code: string): E[] => errors.filter((e) => e.code === code);

  t.test('EFD ICMS/IPI 020 synthetic: the CNPJ placeholder and the empty line after 9999', async (t) => {
    const r = await validateSped(`${dir}efd-icms-ipi-020-synthetic.txt`, { maxErrors: 0 });
    t.equal(r.layout, 'efd-icms-ipi');
    t.equal(r.version, '020');
    t.equal(r.encoding, 'ascii');
    t.ok(r.errors.some((e) => e.code === 'SPED_CHECK_DIGIT' && e.line === 1 && e.field === 'CNPJ'), '0000 CNPJ 99999999999999');
    t.ok(r.errors.some((e) => e.code === 'SPED_BLANK_LINE' && e.line === 104), 'empty line after 9999');
    t.same(codesAt(r.errors, 'SPED_TOTAL_9999'), [], 'its totals hold');
    t.same(codesAt(r.errors, 'SPED_TOTAL_9900'), []);
    t.same(codesAt(r.errors, 'SPED_FIELD_COUNT'), [], 'every register has the layout-020 field count');
    t.same(codesAt(r.errors, 'SPED_HIERARCHY'), []);
  });

  t.test('EFD-Contribuições 006 anonymised subset: totals disagree, Windows-1252 text read right', async (t) => {
    const path = `${dir}efd-contribuicoes-006-anonymized.txt`;
    const r = await validateSped(path, { maxErrors: 0 });
    t.equal(r.layout, 'efd-contribuicoes');
    t.equal(r.version, '006');
    t.equal(r.encoding, 'windows-1252');
    const totals = r.errors.filter((e) => /^SPED_TOTAL_/.test(e.code));
    t.ok(totals.length >= 25 && totals.length <= 40, `about 30 totals disagree (${totals.length})`);
    t.same(codesAt(r.errors, 'SPED_FIELD_COUNT'), [], 'layout clean');
    t.same(codesAt(r.errors, 'SPED_HIERARCHY'), []);
    const rr = readSped(path);
    let text = '';
    for await (const rec of rr.records) if (rec.line === 34) text = rec.get('DESCR_ITEM') ?? '';
    t.equal(text, '“aspas”, símbolo europeu (€) e traços fantasia (– e —)');
  });

  t.test('EFD ICMS/IPI 017 demo: UTF-8 detected and read, totals correct', async (t) => {
    const r = await validateSped(`${dir}efd-icms-ipi-017-demo-utf8.txt`, { maxErrors: 0 });
    t.equal(r.version, '017');
    t.equal(r.encoding, 'utf-8');
    t.ok(r.errors.some((e) => e.code === 'SPED_ENCODING' && e.severity === 'warning'));
    t.same(r.errors.filter((e) => /^SPED_TOTAL_/.test(e.code)), [], 'correct totals');
    t.same(codesAt(r.errors, 'SPED_FIELD_COUNT'), []);
    t.same(codesAt(r.errors, 'SPED_BLOCK_MISSING'), [], 'all blocks');
    const rr = readSped(`${dir}efd-icms-ipi-017-demo-utf8.txt`);
    const names: string[] = [];
    for await (const rec of rr.records) if (rec.register === '0150') names.push(rec.get('NOME') ?? '');
    t.ok(names.includes('INDÚSTRIAS DE ACESSÓRIOS EM GERAL LTDA'));
  });

  t.test('ECD leiaute 8 demo: its 9900 list omits K001 and K990', async (t) => {
    const r = await validateSped(`${dir}ecd-8-demo-utf8.txt`, { maxErrors: 0 });
    t.equal(r.layout, 'ecd');
    t.equal(r.version, '8.00');
    const t9900 = codesAt(r.errors, 'SPED_TOTAL_9900').map((e) => e.message);
    t.equal(t9900.length, 2);
    t.match(t9900.join('\n'), /K001/);
    t.match(t9900.join('\n'), /K990/);
    t.ok(r.errors.some((e) => e.code === 'SPED_VERSION' && e.severity === 'warning'), 'leiaute 8 is read, not modelled exactly');
    t.same(codesAt(r.errors, 'SPED_FIELD_COUNT'), [], 'layout clean');
    t.same(codesAt(r.errors, 'SPED_HIERARCHY'), []);
  });
}
