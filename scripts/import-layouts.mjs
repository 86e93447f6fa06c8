#!/usr/bin/env node
// Builds the project's SPED layout registry (formats/sped/<layout>.json) from the normalised layout facts in
// ../shared/layouts (tables of registers and fields) and the project's own rules (formats/sped/rules/<layout>.json).
// Run it when either changes: `node scripts/import-layouts.mjs [SHARED_LAYOUTS_DIR]`. The output is committed, so
// nothing at run time depends on ../shared. It fails loudly when a rule names a register or field that does not exist.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const sharedDir = process.argv[2] ?? fileURLToPath(new URL('../shared/layouts/', root));
const LAYOUTS = ['efd-icms-ipi', 'efd-contribuicoes', 'ecd'];

function fail(msg) {
  console.error(`import-layouts: ${msg}`);
  process.exit(1);
}

/** Occurrence as printed by the guides → {scope, min, max}. */
function normaliseOccurrence(raw, layout) {
  if (raw === '1') return { scope: 'file', min: 0, max: 1 };
  if (raw === 'V') return { scope: 'file', min: 0, max: null };
  const m = /^(\d+):(\d+|N)$/.exec(raw);
  if (!m) fail(`${layout}: unknown occurrence ${raw}`);
  const max = m[2] === 'N' ? null : Number(m[2]);
  // EFD guides print `1:1`, `1:N`, `1:4` meaning "per parent, up to"; presence is a register obligation the
  // tables do not carry, so the minimum is 0. ECD prints real `min:max`.
  const min = layout === 'ecd' ? Number(m[1]) : 0;
  return { scope: 'parent', min, max };
}

function compactField(f) {
  const out = { pos: f.pos, name: f.name, type: f.type };
  if (f.size != null) out.size = f.size;
  if (f.exact) out.exact = true;
  if (f.decimals != null) out.decimals = f.decimals;
  out.required = f.required;
  if (f.requiredIn && f.requiredIn !== f.required) out.requiredIn = f.requiredIn;
  if (f.requiredOut && f.requiredOut !== f.required) out.requiredOut = f.requiredOut;
  if (f.requiredIn && f.requiredOut && (f.requiredIn !== f.required || f.requiredOut !== f.required)) {
    out.requiredIn = f.requiredIn;
    out.requiredOut = f.requiredOut;
  }
  if (f.format) out.format = f.format;
  if (f.since) out.since = f.since;
  if (f.note) out.note = f.note;
  return out;
}

for (const layout of LAYOUTS) {
  const facts = JSON.parse(readFileSync(`${sharedDir}/${layout}.json`, 'utf8'));
  const rules = JSON.parse(readFileSync(new URL(`formats/sped/rules/${layout}.json`, root), 'utf8'));
  const registers = facts.registers.map((r) => {
    const reg = {
      code: r.code,
      block: r.block,
      level: r.level,
      parent: r.parent,
      occurrence: normaliseOccurrence(r.occurrence, layout),
      name: r.name,
    };
    if (r.since) reg.since = r.since;
    if (r.variableFields) reg.variableFields = true;
    reg.fields = r.fields.map(compactField);
    if (r.legacyFields) {
      reg.legacyFields = { maxVersion: r.legacyFields.maxCodVer, fields: r.legacyFields.fields.map(compactField) };
    }
    return reg;
  });
  const byCode = new Map(registers.map((r) => [r.code, r]));
  const needField = (code, name, what) => {
    const reg = byCode.get(code);
    if (!reg) fail(`${layout}: ${what} names unknown register ${code}`);
    const f = reg.fields.find((x) => x.name === name);
    if (!f) fail(`${layout}: ${what} names unknown field ${code}.${name}`);
    return f;
  };

  // rules → field annotations
  for (const [code, fields] of Object.entries(rules.periodFields)) {
    for (const [name, rule] of Object.entries(fields)) {
      const f = needField(code, name, 'periodFields');
      if (f.format !== 'date') fail(`${layout}: periodFields ${code}.${name} is not a date`);
      if (rule !== 'within' && rule !== 'notAfterEnd') fail(`${layout}: period rule ${rule}`);
      f.period = rule;
    }
  }
  for (const [code, fields] of Object.entries(rules.values)) {
    for (const [name, values] of Object.entries(fields)) needField(code, name, 'values').values = values;
  }
  for (const x of rules.exceptions ?? []) {
    const what = `exception of ${x.register} (${x.label})`;
    if (!x.source || !/Guia Prático/.test(x.source)) fail(`${layout}: ${what} does not cite the Guia Prático (source)`);
    for (const name of Object.keys(x.when)) needField(x.register, name, what);
    for (const key of ['required', 'optional', 'empty']) for (const n of x[key] ?? []) needField(x.register, n, what);
    for (const n of Object.keys(x.values ?? {})) needField(x.register, n, what);
    if (x.others !== undefined && x.others !== 'empty' && x.others !== 'optional') fail(`${layout}: ${what}: others must be empty or optional`);
    for (const c of [...(x.children?.allowed ?? []), ...(x.children?.forbidden ?? [])]) {
      if (byCode.get(c)?.parent !== x.register) fail(`${layout}: ${what}: ${c} is not a child register of ${x.register}`);
    }
  }
  for (const ref of rules.references) {
    needField(ref.target, ref.key, 'references');
    for (const code of ref.in ?? []) if (!byCode.has(code)) fail(`${layout}: reference in unknown register ${code}`);
    if (ref.match !== undefined && ref.match !== 'exact' && ref.match !== 'ignore-case') fail(`${layout}: reference match '${ref.match}' (exact or ignore-case)`);
  }
  if (rules.direction) for (const code of rules.direction.registers) needField(code, rules.direction.field, 'direction');
  needField(rules.version.register, rules.version.field, 'version');
  for (const k of ['start', 'end']) needField(rules.period.register, rules.period[k], 'period');

  const blocks = facts.blockOrder.map((b) => ({ block: b, ...(rules.blocks[b] ?? {}) }));
  // the rules may list versions the facts lack (ECD leiautes before 9, which the registry reads but does not model)
  const versions = rules.versions ?? facts.versions.map((v) => ({ version: v.codVer, from: v.from, to: v.to }));
  const out = {
    $comment: `Generated by scripts/import-layouts.mjs from the layout facts (${facts.source.slice(0, 160)}…) and formats/sped/rules/${layout}.json. Edit the rules or the facts, then re-run the script.`,
    layout: facts.layout,
    name: facts.name,
    layoutVersion: facts.layoutVersion,
    identify: rules.identify,
    version: rules.version,
    validatedFrom: rules.validatedFrom,
    versions,
    period: rules.period,
    company: rules.company,
    direction: rules.direction,
    blocks,
    exceptions: rules.exceptions ?? [],
    references: rules.references,
    consistency: rules.consistency,
    registers,
  };
  writeFileSync(new URL(`formats/sped/${layout}.json`, root), JSON.stringify(out, null, 1) + '\n');
  console.log(`${layout}: ${registers.length} registers, ${registers.reduce((n, r) => n + r.fields.length, 0)} fields`);
}
