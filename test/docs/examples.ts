// The README's and docs' TypeScript examples, extracted from the Markdown, type-checked against src/ and run
// against fixtures (through dist/, as a user's program would import the package): they must compile, exit 0 and
// print what a user expects — never `null`, `undefined` or `NaN` where a finding or a value should be.
import t from 'tap';
import ts from 'typescript';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SpedWriter } from '../../src/sped/writer.js';
import { syntheticRecords } from '../../src/sped/synthetic.js';
import { collect } from '../helpers/sped.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Markdown files whose ```ts / ```js blocks are examples of this package (a block after `<!-- not run -->` is skipped). */
const DOCS = ['README.md', 'docs/sped.md', 'docs/ledger.md', 'docs/tasks.md', 'docs/queue.md'];
const DIST = join(ROOT, 'dist/index.js');

interface Example {
  doc: string;
  line: number;
  code: string;
}

function examples(doc: string): Example[] {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  const out: Example[] = [];
  const re = /^```(?:ts|typescript|js|javascript)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const before = text.slice(0, m.index).trimEnd();
    if (before.endsWith('<!-- not run -->')) continue;
    out.push({ doc, line: before.split('\n').length + 1, code: m[1]! });
  }
  return out;
}

const all = DOCS.flatMap(examples);

function workdir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'fiscal-examples-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('the docs have examples, each importing the package', async (t) => {
  t.ok(all.length >= 4, `${all.length} examples`);
  for (const e of all) t.match(e.code, /from 'fiscal-engine'/, `${e.doc}:${e.line}`);
});

t.test('every example type-checks against the library (strict)', async (t) => {
  const dir = workdir(t);
  const files = all.map((e, i) => {
    const path = join(dir, `example-${i}.ts`);
    writeFileSync(path, `${e.code}\nexport {};\n`);
    return path;
  });
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    baseUrl: ROOT,
    paths: { 'fiscal-engine': ['src/index.ts'] },
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules/@types')],
    skipLibCheck: true,
  });
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && files.includes(d.file.fileName))
    .map((d) => {
      const i = files.indexOf(d.file!.fileName);
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${all[i]!.doc}:${all[i]!.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  t.same(problems, [], 'no type errors');
});

/** Runs an example as a user's ES module, in `dir` (where EFD.txt is). */
function runExample(e: Example, dir: string, i: number): { status: number | null; stdout: string; stderr: string } {
  const js = ts.transpileModule(e.code.replace(/from 'fiscal-engine'/g, `from '${pathToFileURL(DIST).href}'`), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const file = join(dir, `example-${i}.mjs`);
  writeFileSync(file, js);
  const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'latin1', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const FIXTURES = join(ROOT, 'fixtures/sped/');

t.test('every example runs against a fixture', { skip: existsSync(DIST) ? false : 'dist/ not built (npm run build)' }, async (t) => {
  const dir = workdir(t);
  copyFileSync(join(FIXTURES, 'efd-icms-ipi-2026-01-broken.txt'), join(dir, 'EFD.txt'));
  for (const [i, e] of all.entries()) {
    const r = runExample(e, dir, i);
    t.equal(r.status, 0, `${e.doc}:${e.line} exits 0${r.stderr ? `: ${r.stderr.slice(0, 400)}` : ''}`);
    t.equal(r.stderr, '', `${e.doc}:${e.line}: nothing on stderr`);
    const printed = r.stdout.split('\n').filter((l) => !l.startsWith('|')); // SPED lines a writer example prints
    t.same(printed.filter((l) => /\b(null|undefined|NaN)\b|\[object /.test(l)), [], `${e.doc}:${e.line}: no missing value printed`);
  }
});

t.test('the README library example prints what a user expects', { skip: existsSync(DIST) ? false : 'dist/ not built (npm run build)' }, async (t) => {
  const readme = all.find((e) => e.doc === 'README.md' && e.code.includes('validateSped'))!;
  const dir = workdir(t);
  const run = (file: string | Buffer): string[] => {
    if (typeof file === 'string') copyFileSync(file, join(dir, 'EFD.txt'));
    else writeFileSync(join(dir, 'EFD.txt'), file);
    const r = runExample(readme, dir, 0);
    t.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('|'));
  };
  const broken = run(join(FIXTURES, 'efd-icms-ipi-2026-01-broken.txt'));
  t.match(broken[0], /^efd-icms-ipi 020 ascii \d+,\d\d$/, 'layout, version, encoding, the sum of VL_DOC');
  t.equal(broken[1], 'INVALID: 6 error(s), 1 warning(s)');
  t.equal(broken[2], "EFD.txt:82: C170 COD_ITEM#3: SPED_REF_MISSING COD_ITEM 'I999' has no 0200 record");
  t.equal(broken.length, 2 + 6, 'one line per error, the warning left out');
  const valid = run(join(FIXTURES, 'efd-icms-ipi-2026-01.txt'));
  t.same(valid.slice(1), ['valid: 0 error(s), 0 warning(s)']);
  // the issue's case: a UTF-8 file, whose file-level encoding warning printed `6 null null SPED_ENCODING …`
  const utf8 = await collect(async (out) => {
    const w = new SpedWriter(out, { layout: 'efd-icms-ipi', encoding: 'utf-8' });
    for (const rec of syntheticRecords({ layout: 'efd-icms-ipi', documents: 4, seed: 2 })) {
      await w.writeFields(rec[0] === '0005' ? rec.map((v, k) => (k === 1 ? 'AÇÚCAR' : v)) : rec);
    }
    await w.finish();
  });
  const u = run(utf8);
  t.match(u[0], /^efd-icms-ipi 020 utf-8 /);
  t.same(u.slice(1), ['valid: 0 error(s), 1 warning(s)'], 'the warning is counted, not listed as an error');
});
