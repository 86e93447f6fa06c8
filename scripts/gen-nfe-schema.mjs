#!/usr/bin/env node
// Derives formats/nfe/schema.json from the NF-e XSD package (default ../shared/xsd/nfe/PL_010_V1.30): for every
// document root the project reads, the tree of elements in schema order, and which elements may repeat
// (maxOccurs > 1). The parser uses it to decide which elements are arrays; the builder to write children in
// schema order. Run it when the schema package changes: `node scripts/gen-nfe-schema.mjs [XSD_DIR]`.
// The output is committed, so nothing at run time depends on ../shared.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';

const root = new URL('../', import.meta.url);
const xsdDir = process.argv[2] ?? fileURLToPath(new URL('../shared/xsd/nfe/PL_010_V1.30/', root));
const out = fileURLToPath(new URL('formats/nfe/schema.json', root));

const FILES = [
  'xmldsig-core-schema_v1.01.xsd',
  'tiposBasico_v4.00.xsd',
  'DFeTiposBasicos_v1.00.xsd',
  'leiauteNFe_v4.00.xsd',
  'leiauteEvento_v1.00.xsd',
  'resNFe_v1.01.xsd',
  'retEnvEvento_v1.00.xsd',
  'envEvento_v1.00.xsd',
  'procEventoNFe_v1.00.xsd',
  'nfe_v4.00.xsd',
  'procNFe_v4.00.xsd',
  'enviNFe_v4.00.xsd',
];
// Document roots and their schema types (resNFe has an anonymous type: its element is used directly).
const ROOTS = {
  NFe: 'TNFe',
  nfeProc: 'TNfeProc',
  enviNFe: 'TEnviNFe',
  procEventoNFe: 'TProcEvento',
  envEvento: 'TEnvEvento',
  evento: 'TEvento',
  retEvento: 'TRetEvento',
  retEnvEvento: 'TRetEnvEvento',
  resNFe: '#resNFe',
};

const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', removeNSPrefix: true, parseTagValue: false });
const complexTypes = new Map();
const topElements = new Map();
for (const f of FILES) {
  const tree = parser.parse(readFileSync(join(xsdDir, f), 'utf8'));
  const schema = tree.find((n) => n.schema);
  if (!schema) throw new Error(`${f}: no schema element`);
  for (const node of schema.schema) {
    const [tag] = Object.keys(node).filter((k) => k !== ':@');
    const name = node[':@']?.name;
    if (tag === 'complexType' && name && !complexTypes.has(name)) complexTypes.set(name, node.complexType);
    if (tag === 'element' && name && !topElements.has(name)) topElements.set(name, node);
  }
}

const types = {}; // id -> [[childName, flags, typeId|null], ...]
const tagOf = (n) => Object.keys(n).find((k) => k !== ':@');

/** Compiles the children (content model) of a complexType body into an ordered child list. */
function compileContent(body, id) {
  if (types[id]) return id;
  types[id] = []; // placeholder against recursion
  const list = [];
  const walk = (nodes, repeatOuter) => {
    for (const n of nodes) {
      const tag = tagOf(n);
      const a = n[':@'] ?? {};
      const repeats = repeatOuter || (a.maxOccurs !== undefined && a.maxOccurs !== '1');
      if (tag === 'sequence' || tag === 'choice' || tag === 'all') walk(n[tag], repeats);
      else if (tag === 'element') list.push(compileElement(n, id, repeats));
      else if (tag === 'complexContent' || tag === 'simpleContent') {
        for (const c of n[tag]) {
          const t = tagOf(c);
          if (t === 'extension' || t === 'restriction') {
            const base = c[':@']?.base?.replace(/^.*:/, '');
            if (tag === 'complexContent' && base && complexTypes.has(base)) {
              const baseId = compileContent(complexTypes.get(base), base);
              list.push(...types[baseId]);
            }
            walk(c[t], repeats);
          }
        }
      } else if (tag === 'any') list.push(['*', repeats ? 1 : 0, null]);
    }
  };
  walk(body, false);
  // the same child can appear in several branches of a choice: keep the first place, merge the flags
  const seen = new Map();
  const merged = [];
  for (const c of list) {
    const prev = seen.get(c[0]);
    if (prev) {
      prev[1] |= c[1];
      if (!prev[2]) prev[2] = c[2];
    } else {
      const copy = [...c];
      seen.set(c[0], copy);
      merged.push(copy);
    }
  }
  types[id] = merged;
  return id;
}

function compileElement(n, parentId, repeats) {
  const a = n[':@'] ?? {};
  let name = a.name;
  let typeId = null;
  if (a.ref) {
    name = a.ref.replace(/^.*:/, '');
    const top = topElements.get(name);
    if (!top) throw new Error(`unknown element ref ${a.ref}`);
    return compileElement(top, parentId, repeats);
  }
  if (a.type) {
    const t = a.type.replace(/^.*:/, '');
    if (complexTypes.has(t)) typeId = compileContent(complexTypes.get(t), t);
  } else {
    const ct = n.element.find((c) => tagOf(c) === 'complexType');
    if (ct) {
      const id = `${parentId}/${name}`;
      typeId = compileContent(ct.complexType, id);
      if (types[typeId].length === 0) typeId = null; // attributes or text only: a leaf
    }
  }
  return [name, repeats ? 1 : 0, typeId];
}

const roots = {};
for (const [name, type] of Object.entries(ROOTS)) {
  if (type.startsWith('#')) {
    roots[name] = compileElement(topElements.get(type.slice(1)), '', false)[2];
  } else {
    if (!complexTypes.has(type)) throw new Error(`unknown root type ${type}`);
    roots[name] = compileContent(complexTypes.get(type), type);
  }
}
// Not in the schema but in real archives: an nfeProc with the note's events appended (cancelled notes).
types.TNfeProc.push(['procEventoNFe', 1, 'TProcEvento'], ['retEvento', 1, 'TRetEvento'], ['evento', 1, 'TEvento']);

// drop types no root reaches (the xmldsig file defines many)
const reached = new Set();
const visit = (id) => {
  if (!id || reached.has(id)) return;
  reached.add(id);
  for (const [, , t] of types[id]) visit(t);
};
Object.values(roots).forEach(visit);
const kept = {};
for (const id of Object.keys(types).sort()) if (reached.has(id)) kept[id] = types[id];

const json = { source: 'PL_010_V1.30', note: 'generated by scripts/gen-nfe-schema.mjs; do not edit', roots, types: kept };
const text = `{\n  "source": ${JSON.stringify(json.source)},\n  "note": ${JSON.stringify(json.note)},\n  "roots": ${JSON.stringify(roots)},\n  "types": {\n${Object.entries(kept)
  .map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`)
  .join(',\n')}\n  }\n}\n`;
writeFileSync(out, text);
console.error(`gen-nfe-schema: ${Object.keys(kept).length} types, ${Object.keys(roots).length} roots -> ${out}`);
