/**
 * XSD validation never skips a document in silence. xmllint run directly is the oracle: on every sample of
 * ../shared/samples (NF-e 4.00 and 3.10, NFC-e, events, CF-e), against PL_009_V4, PL_010_V1.30 and the CF-e
 * folder, `fiscal nfe validate --schemas` fails exactly the documents xmllint fails.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNfe } from '../../src/nfe/parse.js';
import { schemaFileFor, validateSchemas } from '../../src/nfe/schema-validate.js';
import { cfeFacts, isCfeKind } from '../../src/coupons/cfe/model.js';
import type { CfeDocument } from '../../src/coupons/cfe/types.js';
import { generateNfeXml } from '../../src/nfe/generate.js';
import { needTools } from '../helpers/certs.js';
import { run } from '../helpers/cli.js';
import { SHARED } from '../helpers/sign-fixtures.js';

const SAMPLES = join(SHARED, 'samples');
const FOLDERS = ['xsd/nfe/PL_009_V4', 'xsd/nfe/PL_010_V1.30', 'xsd/cfe'].map((d) => join(SHARED, d));
const skip = needTools('xmllint').skip || (existsSync(SAMPLES) ? false : `no ${SAMPLES}`);
const ACBR_310 = join(SAMPLES, 'nfe/acbr_35150905481336000137550010000111291000111298-nfe.xml');

/** The samples xmllint can judge directly: not wrapped (a SOAP-wrapped document is validated rebuilt). */
function judgeable(): { path: string; kind: string; version: string | null }[] {
  const out: { path: string; kind: string; version: string | null }[] = [];
  for (const dir of ['nfe', 'nfce', 'events', 'cfe']) {
    for (const f of readdirSync(join(SAMPLES, dir))) {
      const path = join(SAMPLES, dir, f);
      const p = parseNfe({ source: path, bytes: readFileSync(path) });
      if (!p.kind || p.wrappers.length) continue;
      out.push({ path, kind: p.kind, version: isCfeKind(p.kind) ? cfeFacts(p.doc as CfeDocument).dataVersion : p.version });
    }
  }
  return out;
}

t.test('our verdict is xmllint\'s on every sample, per schema folder', { skip }, async (t) => {
  for (const folder of FOLDERS) {
    const docs = judgeable();
    const r = await run(['nfe', 'validate', '--json', '--schemas', folder, ...docs.map((d) => d.path)]);
    const findings = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { source: string; code: string; severity: string; message: string });
    for (const d of docs) {
      const mine = findings.filter((f) => f.source === d.path && (f.code === 'NFE_SCHEMA' || f.code === 'NFE_SCHEMA_UNAVAILABLE'));
      const xsd = schemaFileFor(d.kind as Parameters<typeof schemaFileFor>[0], d.version);
      const name = `${folder.split('/').slice(-1)[0]} ${d.path.split('/').slice(-2).join('/')}`;
      if (!xsd) {
        t.ok(mine.some((f) => f.code === 'NFE_SCHEMA_UNAVAILABLE' && f.severity === 'warning'), `${name}: no XSD exists, said as a warning`);
        continue;
      }
      if (!existsSync(join(folder, xsd))) {
        t.ok(mine.some((f) => f.code === 'NFE_SCHEMA_UNAVAILABLE' && f.severity === 'error' && f.message.includes(xsd)), `${name}: ${xsd} is not in the folder: an error naming it`);
        continue;
      }
      const oracle = spawnSync('xmllint', ['--noout', '--nonet', '--schema', join(folder, xsd), d.path], { encoding: 'utf8' });
      const xmllintFails = oracle.status !== 0;
      t.equal(mine.some((f) => f.code === 'NFE_SCHEMA' && f.severity === 'error'), xmllintFails, `${name}: xmllint says ${xmllintFails ? 'fails' : 'validates'}`);
    }
  }
});

t.test('NF-e 3.10 is checked against its own 3.10 schema, which must be in the folder', { skip }, async (t) => {
  const checked = await validateSchemas([{ source: 'acbr', kind: 'nfeProc', version: '3.10', bytes: readFileSync(ACBR_310) }], join(SHARED, 'xsd/nfe/PL_009_V4'));
  t.same(checked.get('acbr'), [], 'procNFe_v3.10.xsd validates it (as xmllint does)');
  const only400 = t.testdir({});
  const r = await run(['nfe', 'validate', '--schemas', only400, ACBR_310]);
  t.equal(r.code, 1, 'a schema that is not there is a finding, exit 1');
  t.match(r.stderr, /schema procNFe_v3\.10\.xsd \(for nfeProc 3\.10\) is not in .*: not XSD-validated \[NFE_SCHEMA_UNAVAILABLE\]/);
  t.match(r.stderr, /1 document\(s\), 1 with findings, 1 not checked against a schema/);
  const two = await run(['nfe', 'validate', '--schemas', only400, '--schemas', join(SHARED, 'xsd/nfe/PL_009_V4'), ACBR_310]);
  t.equal(two.code, 0, `--schemas is searched in order: ${two.stderr}`);
  t.match(two.stderr, /1 document\(s\), 0 with findings\n$/);
});

t.test('a schema check that cannot run stops at once (exit 2)', { skip }, async (t) => {
  const missing = await run(['nfe', 'validate', '--schemas', '/nonexistent/xsd', '/nonexistent/doc.xml']);
  t.equal(missing.code, 2);
  t.equal(missing.stderr, 'fiscal: schema folder /nonexistent/xsd does not exist [NFE_SCHEMA_DIR]\n', 'before any source is opened');
  const file = join(t.testdir({ 'a.xml': generateNfeXml(1) }), 'a.xml');
  const notDir = await run(['nfe', 'validate', '--schemas', file, file]);
  t.equal(notDir.code, 2);
  t.match(notDir.stderr, /is not a directory \[NFE_SCHEMA_DIR\]/);
  await t.rejects(validateSchemas([], '/nonexistent/xsd'), { code: 'NFE_SCHEMA_DIR' });

  const folder = t.testdir({});
  mkdirSync(join(folder, 'x'), { recursive: true });
  const saved = { PATH: process.env.PATH, XMLLINT: process.env.XMLLINT };
  process.env.PATH = folder;
  delete process.env.XMLLINT;
  try {
    const noTool = await run(['nfe', 'validate', '--schemas', folder, file]);
    t.equal(noTool.code, 2);
    t.equal(noTool.stderr, 'fiscal: XSD validation needs the xmllint binary: apt-get install -y libxml2-utils [NFE_XMLLINT_MISSING]\n');
  } finally {
    process.env.PATH = saved.PATH;
    if (saved.XMLLINT !== undefined) process.env.XMLLINT = saved.XMLLINT;
  }
});
