// The package root as a user imports it: dist/index.js (after `npm run build`), an NF-e job run end to end through
// the library only — notes generated and signed, then verified, converted to JSON lines and CSV, and validated.
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeTestCerts, needTools, TEST_CNPJ } from './helpers/certs.js';
import { sink } from './helpers/sink.js';

const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
type Api = typeof import('../src/index.js');

const notBuilt = existsSync(DIST) ? false : 'dist/ not built (npm run build)';
const tools = needTools('openssl');

t.test('an NF-e job through the package root: generate, sign, verify, to-jsonl, to-csv, validate', { skip: notBuilt || tools.skip }, async (t) => {
  const api = (await import(pathToFileURL(DIST).href)) as Api;
  const certs = makeTestCerts();
  const creds = api.loadCertificate(certs.modernPfx, certs.password);
  const dir = t.testdir({});
  const notes = join(dir, 'notes');
  mkdirSync(notes);
  const keys: string[] = [];
  for (const seed of [1, 2]) {
    const xml = api.signXml(api.generateNfeXml(seed, { emitterCnpj: TEST_CNPJ }), creds);
    const parsed = api.parseNfeText(xml, `seed-${seed}`);
    t.equal(parsed.kind, 'NFe', 'the signed note parses as an NFe');
    t.ok(parsed.key && api.parseAccessKey(parsed.key).valid, 'its key is valid');
    keys.push(parsed.key!);
    writeFileSync(join(notes, `${seed}.xml`), xml);
  }
  writeFileSync(join(notes, '3-broken.xml'), '<NFe><infNFe>');

  // verify: both signatures hold against the test CA; the broken file fails as unreadable XML
  const outcomes: string[] = [];
  const verified = await api.verifyNfeSources(notes, {
    trust: api.loadTrustStore(certs.trustDir),
    onDocument: (d) => void outcomes.push(d.report ? `${d.source}: ${d.report.ok ? 'OK' : d.report.findings[0]!.code} ${d.report.key}` : `${d.source}: unread`),
  });
  t.equal(verified.documents, 3);
  t.equal(verified.failed, 1);
  t.same(Object.fromEntries(verified.outcomes), { OK: 2, NFE_XML_MALFORMED: 1 });
  t.same(outcomes, [`${join(notes, '1.xml')}: OK ${keys[0]}`, `${join(notes, '2.xml')}: OK ${keys[1]}`, `${join(notes, '3-broken.xml')}: NFE_XML_MALFORMED null`]);

  // to-jsonl: one line per readable note, the broken file a finding
  const jsonl = sink();
  const findings: string[] = [];
  const converted = await api.nfeToJsonl(notes, jsonl, { onFinding: (f) => void findings.push(`${f.code} ${f.source}`) });
  const lines = jsonl.text().trimEnd().split('\n').map((l) => JSON.parse(l) as { source: string; kind: string; key: string; doc: { NFe: { infNFe: { emit: { CNPJ: string } } } } });
  t.same(lines.map((l) => [l.kind, l.key]), [['NFe', keys[0]], ['NFe', keys[1]]]);
  t.equal(lines[0]!.doc.NFe.infNFe.emit.CNPJ, TEST_CNPJ, 'the model in the line');
  t.same(findings, [`NFE_XML_MALFORMED ${join(notes, '3-broken.xml')}`]);
  t.match(converted, { documents: 3, withFindings: 1, withErrors: 1, findings: 1, stopped: false });

  // to-csv: a header and one row per note
  const csv = sink();
  const csvSummary = await api.nfeToCsv(notes, csv, { delimiter: ';' });
  const rows = csv.text().trimEnd().split('\n');
  t.equal(rows.length, 3, 'header and two notes');
  t.equal(rows[0], api.NFE_DOCUMENT_COLUMNS.join(';'));
  t.ok(rows[1]!.includes(keys[0]!) && rows[2]!.includes(keys[1]!), 'each row holds its key');
  t.equal(csvSummary.withErrors, 1);

  // validate: the generated notes pass the project's rules; the broken file is the one document with an error
  const validateFindings: string[] = [];
  const validated = await api.validateNfeSources(notes, { onFinding: (f) => void validateFindings.push(api.formatNfeFinding(f)) });
  t.match(validated, { documents: 3, withErrors: 1, notSchemaChecked: 0 });
  t.equal(validateFindings.filter((l) => l.startsWith(join(notes, '3-broken.xml'))).length, validateFindings.filter((l) => !/warning:/.test(l)).length, 'errors only for the broken file');

  // with the XSDs (when the shared folder is there): groups bounded by bytes give the same verdicts as one group
  const xsd = fileURLToPath(new URL('../../shared/xsd/nfe/PL_010_V1.30/', import.meta.url));
  if (existsSync(xsd) && !needTools('xmllint').skip) {
    for (const schemaBatchBytes of [1, 1 << 24]) {
      const codes: string[] = [];
      const s = await api.validateNfeSources(notes, { schemas: xsd, schemaBatchBytes, onFinding: (f) => void codes.push(`${f.code} ${f.source}`) });
      t.match(s, { documents: 3, withErrors: 1, notSchemaChecked: 1 }, `schemaBatchBytes ${schemaBatchBytes}: the broken file alone is unchecked`);
      t.same(codes.filter((c) => c.startsWith('NFE_SCHEMA')), [], 'the signed notes are schema-valid');
    }
  }

  // failFast: the broken file first stops the run at once
  const first = await api.validateNfeSources([join(notes, '3-broken.xml'), notes], { failFast: true });
  t.match(first, { documents: 1, withErrors: 1, stopped: true });

  // a folder without documents: nothing read, the finding that says so
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  const none = await api.nfeToJsonl(empty, sink());
  t.equal(none.documents, 0);
  t.equal(api.formatNfeFinding(api.noDocumentsFinding(empty)), `${empty}: no documents found (no .xml file or .zip entry, nothing on stdin) [NFE_NO_DOCUMENTS]`);

  // cancelled: rejects with the signal's reason, nothing converted
  const aborted = sink();
  const ctl = new AbortController();
  let progress = 0;
  const run = api.nfeToJsonl(notes, aborted, { signal: ctl.signal, onProgress: (n) => { progress = n; if (n === 1) ctl.abort(new Error('stop')); } });
  await t.rejects(run, { message: 'stop' });
  t.equal(progress, 1);
  t.equal(aborted.text().split('\n').filter(Boolean).length, 1, 'only the first note written');
});

t.test('the package root exports the NF-e API', { skip: notBuilt }, async (t) => {
  const api = (await import(pathToFileURL(DIST).href)) as Api;
  for (const name of ['nfeToJsonl', 'nfeToCsv', 'validateNfeSources', 'verifyNfeSources', 'readXmlDocuments', 'readNfe', 'parseNfe', 'parseNfeText',
    'validateNfe', 'buildNfe', 'computeTotals', 'parseAccessKey', 'buildAccessKey', 'checkKeyAgainstDocument', 'signXml', 'verifyXml',
    'loadTrustStore', 'loadCertificate', 'canonicalize', 'buildQrCode', 'addQrCodeToXml', 'checkQrCode', 'validateSchemas', 'generateNfe',
    'generateNfeXml', 'formatNfeFinding', 'formatFinding'] as const) {
    t.type(api[name], 'function', name);
  }
  // a generated note rebuilt from its model gives the same key, and its totals recomputed match the ones it carries
  const doc = api.generateNfe(7);
  const built = api.buildNfe(doc);
  t.same(built.findings, []);
  const parsed = api.parseNfeText(built.xml, 'built');
  t.equal(parsed.key, built.key);
  t.same(api.validateNfe(parsed).filter((f) => f.severity === 'error'), []);
  const inf = doc.NFe.infNFe;
  t.equal(api.computeTotals(inf as unknown as Record<string, unknown>).ICMSTot.vNF, inf.total.ICMSTot.vNF);
  const k = api.parseAccessKey(built.key!);
  t.equal(api.buildAccessKey(k), built.key);
});

t.test('the queue through the package root: submit on the embedded queue, a worker until idle, stats', { skip: notBuilt }, async (t) => {
  const api = (await import(pathToFileURL(DIST).href)) as Api;
  const dir = t.testdir({ 'EFD.txt': readFileSync(fileURLToPath(new URL('../fixtures/sped/efd-icms-ipi-2026-01.txt', import.meta.url))) });
  const queue = await api.openQueue(`local:${join(dir, 'queue')}`);
  const ledger = await api.openLedger(`sqlite:${join(dir, 'ledger.db')}`);
  t.teardown(async () => { await queue.close(); await ledger.close(); });
  t.equal(queue.route, `v${api.ENGINE_MAJOR}`, 'the engine version line is the default route');
  const lines = [1, 2, 3].map((i) => JSON.stringify({ type: 'sped.validate', input: join(dir, 'EFD.txt'), output: join(dir, `r${i}.json`), options: { json: true } }));
  const entries = api.parseTaskList(`${lines.join('\n')}\n{"type": "nope"}\n`, 'tasks.jsonl');
  const submitted = await api.submitTasks(entries, queue);
  t.equal(submitted.filter((s) => 'id' in s).length, 3);
  const rejected = submitted[3];
  t.ok(rejected && 'rejected' in rejected && rejected.rejected.status === 'failed', 'the malformed task is rejected, not queued');
  const summary = await api.runWorker(queue, { ledger, exitWhenIdle: true });
  t.match(summary, { received: 3, done: 3, dead: 0, stoppedBy: 'idle' });
  t.same(await api.queueStats(queue, { ledger }), { pending: 0, running: 0, done: 3, failed: 0, dead: 0 });
  for (const i of [1, 2, 3]) t.match(JSON.parse(readFileSync(join(dir, `r${i}.json`), 'utf8')), { valid: true });
  await t.rejects(api.openQueue('ftp://x'), api.QueueUrlError);
});
