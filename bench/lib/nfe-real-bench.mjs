/**
 * `node bench/nfe.mjs --realistic`: the issue-6 measurements — whole processes on a directory tree and on a zip
 * of realistic signed notes (bench/lib/nfe-realistic.mjs), against the raw-parse loop
 * (bench/baselines/nfe-raw-parse.mjs) and xml-crypto (bench/baselines/nfe-xml-crypto.mjs) in the same run.
 *
 * Every process runs on one core (taskset -c 0, bench/lib/measure.mjs), stdout to /dev/null; wall time is
 * measured around the whole process (start-up included); peak RSS is the process's own ru_maxrss. Each round
 * runs every scenario once, dir then zip, so each figure sits next to its baseline; ratios are per round, then
 * the median. xml-crypto verifies every EVERY-th document (a spread sample) and its documents/s is over those.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { measureNode } from './measure.mjs';
import { writeRealisticBatch } from './nfe-realistic.mjs';

export const REAL_TARGETS = { parseRatio: 0.7, verifyVsXmlCrypto: 12 };

/** Generates the batch into DATA (reused when DATA/batch.json says the same count and emitters). */
export async function ensureBatch(root, o) {
  const manifest = join(o.data, 'batch.json');
  const want = { count: o.realCount, emitters: o.emitters, recipients: o.recipients, version: 2 };
  if (existsSync(manifest)) {
    const have = JSON.parse(readFileSync(manifest, 'utf8'));
    if (JSON.stringify(have.want) === JSON.stringify(want)) return have;
  }
  rmSync(o.data, { recursive: true, force: true });
  mkdirSync(o.data, { recursive: true });
  const lib = {
    ...(await import(join(root, 'dist', 'nfe', 'generate.js'))),
    ...(await import(join(root, 'dist', 'nfe', 'build.js'))),
    ...(await import(join(root, 'dist', 'nfe', 'sign.js'))),
    ...(await import(join(root, 'dist', 'nfe', 'cert.js'))),
    ...(await import(join(root, 'dist', 'nfe', 'qrcode.js'))),
    ...(await import(join(root, 'dist', 'common', 'prng.js'))),
  };
  const dir = join(o.data, 'notes');
  process.stderr.write(`generating ${o.realCount} signed notes (${o.emitters} emitters, one certificate each) into ${dir} …\n`);
  const t0 = Date.now();
  const r = writeRealisticBatch(lib, { dir, certDir: join(o.data, 'certs'), count: o.realCount, emitters: o.emitters, recipients: o.recipients });
  const zip = join(o.data, 'notes.zip');
  execFileSync('zip', ['-q', '-r', zip, '.'], { cwd: dir });
  const have = { want, dir, zip, bytes: r.bytes, items: r.items, genSeconds: (Date.now() - t0) / 1000 };
  writeFileSync(manifest, JSON.stringify(have));
  return have;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export async function runRealistic(root, o) {
  if (spawnSync('zip', ['-v'], { stdio: 'ignore' }).error) throw new Error('zip is needed for the zip input: apt-get install -y zip');
  const bin = join(root, 'bin', 'fiscal.js');
  const b = await ensureBatch(root, o);
  const every = o.xmlCryptoEvery;
  const sampled = Math.ceil(o.realCount / every);
  const scenarios = [
    { name: 'raw-parse', what: 'baseline: readFileSync (zip: yauzl, one entry after another) + fast-xml-parser, strings kept', argv: (i) => [join(root, 'bench', 'baselines', 'nfe-raw-parse.mjs'), i] },
    { name: 'to-jsonl', what: '`fiscal nfe to-jsonl`', argv: (i) => [bin, 'nfe', 'to-jsonl', i] },
    { name: 'to-csv', what: '`fiscal nfe to-csv`', argv: (i) => [bin, 'nfe', 'to-csv', i] },
    { name: 'validate', what: '`fiscal nfe validate`', argv: (i) => [bin, 'nfe', 'validate', i] },
    { name: 'verify', what: '`fiscal nfe verify`', argv: (i) => [bin, 'nfe', 'verify', i] },
    { name: 'xml-crypto', what: `baseline: xml-crypto checkSignature, every ${every}th document`, argv: (i) => [join(root, 'bench', 'baselines', 'nfe-xml-crypto.mjs'), i, String(every)], docs: sampled },
  ];
  const inputs = [{ label: 'dir', path: b.dir }, { label: 'zip', path: b.zip }];
  const runs = new Map();
  const loadStart = loadavg();
  const t0 = Date.now();
  for (let round = 0; round < o.runs; round++) {
    for (const input of inputs) {
      for (const s of scenarios) {
        const r = await measureNode(s.argv(input.path), { cwd: root });
        if (r.code !== 0) throw new Error(`${s.name} on ${input.label} exited ${r.code}:\n${r.stderr.slice(0, 1500)}`);
        const docs = s.docs ?? o.realCount;
        const k = `${input.label}/${s.name}`;
        runs.set(k, [...(runs.get(k) ?? []), { ...r, docs, dps: docs / r.seconds }]);
        process.stderr.write(`${input.label} ${s.name.padEnd(11)} ${r.seconds.toFixed(2).padStart(7)} s ${(docs / r.seconds).toFixed(0).padStart(6)} docs/s ${(r.rss / 2 ** 20).toFixed(0).padStart(4)} MiB\n`);
      }
    }
  }
  const ratio = (label, a, base) => {
    const ra = runs.get(`${label}/${a}`);
    const rb = runs.get(`${label}/${base}`);
    return median(ra.map((r, i) => r.dps / rb[i].dps));
  };
  const mark = (ok) => (ok ? 'met' : '**missed**');
  const cpu = cpus();
  const version = (name) => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  const L = [];
  L.push(`Run: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, \`node bench/nfe.mjs${process.argv.slice(2).map((a) => ` ${a}`).join('')}\`.`);
  L.push(`Machine: ${cpu.length} cores, ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}, fast-xml-parser ${version('fast-xml-parser')}, xml-crypto ${version('xml-crypto')}. ` +
    `Every process on one core; ${o.runs} rounds; load average at the start ${loadStart.map((x) => x.toFixed(1)).join(' ')} (a shared machine: compare the ratios, not the absolute times); bench time ${((Date.now() - t0) / 1000).toFixed(0)} s.`);
  L.push(`Batch: ${o.realCount} signed NF-e/NFC-e 4.00 (bench/lib/nfe-realistic.mjs: ${o.emitters} emitters each with its own certificate, ${o.recipients} recipients, accented names, 1 to 150 items, ${(b.items / o.realCount).toFixed(1)} on average; ${(b.bytes / 2 ** 20).toFixed(1)} MiB, ${(b.bytes / o.realCount / 1024).toFixed(1)} KiB per note), one file per note in one directory per month, and the same files in one zip.`);
  L.push('');
  L.push('| input | scenario | what | documents | wall s (median) | docs/s | vs baseline (median of rounds) | peak RSS MiB |');
  L.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const input of inputs) {
    for (const s of scenarios) {
      const rs = runs.get(`${input.label}/${s.name}`);
      const base = s.name === 'verify' ? 'xml-crypto' : s.name === 'raw-parse' || s.name === 'xml-crypto' ? null : 'raw-parse';
      const rel = base ? `${ratio(input.label, s.name, base).toFixed(2)} × ${base}` : '';
      L.push(`| ${input.label} | ${s.name} | ${s.what} | ${rs[0].docs} | ${median(rs.map((r) => r.seconds)).toFixed(2)} | ${median(rs.map((r) => r.dps)).toFixed(0)} | ${rel} | ${(Math.max(...rs.map((r) => r.rss)) / 2 ** 20).toFixed(0)} |`);
    }
  }
  L.push('');
  L.push('| target (one core) | dir | zip | |');
  L.push('| --- | ---: | ---: | --- |');
  let missed = false;
  for (const name of ['to-jsonl', 'to-csv', 'validate']) {
    const d = ratio('dir', name, 'raw-parse');
    const z = ratio('zip', name, 'raw-parse');
    const ok = d >= REAL_TARGETS.parseRatio && z >= REAL_TARGETS.parseRatio;
    missed ||= !ok;
    L.push(`| ${name} ≥ ${REAL_TARGETS.parseRatio} × the raw-parse loop | ${d.toFixed(2)} × | ${z.toFixed(2)} × | ${mark(ok)} |`);
  }
  const vd = ratio('dir', 'verify', 'xml-crypto');
  const vz = ratio('zip', 'verify', 'xml-crypto');
  const vok = vd >= REAL_TARGETS.verifyVsXmlCrypto && vz >= REAL_TARGETS.verifyVsXmlCrypto;
  missed ||= !vok;
  L.push(`| verify ≥ ${REAL_TARGETS.verifyVsXmlCrypto} × xml-crypto | ${vd.toFixed(1)} × | ${vz.toFixed(1)} × | ${mark(vok)} |`);
  return { report: L.join('\n'), missed };
}
