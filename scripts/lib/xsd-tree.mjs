// Compiles XSD content models into the project's schema trees (formats/nfe/schema.json, formats/cfe/schema.json):
// for every type, its child elements in schema order, whether each may repeat (maxOccurs > 1) and the type of
// its children. Shared by scripts/gen-nfe-schema.mjs and scripts/gen-cfe-schema.mjs.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';

const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', removeNSPrefix: true, parseTagValue: false });
const tagOf = (n) => Object.keys(n).find((k) => k !== ':@');

/** Reads the named XSD files of a folder: their top-level complex types and elements (first definition wins). */
export function loadXsd(xsdDir, files) {
  const complexTypes = new Map();
  const topElements = new Map();
  for (const f of files) {
    const tree = parser.parse(readFileSync(join(xsdDir, f), 'utf8'));
    const schema = tree.find((n) => n.schema);
    if (!schema) throw new Error(`${f}: no schema element`);
    for (const node of schema.schema) {
      const tag = tagOf(node);
      const name = node[':@']?.name;
      if (tag === 'complexType' && name && !complexTypes.has(name)) complexTypes.set(name, node.complexType);
      if (tag === 'element' && name && !topElements.has(name)) topElements.set(name, node);
    }
  }
  return { complexTypes, topElements };
}

/**
 * A `<choice minOccurs="N" maxOccurs="N">` over exactly N single elements is the CF-e SAT schemas' way of
 * saying "all N of them, in any order" (PIS/COFINS: vBC and pPIS, or qBCProd and vAliqProd): each element
 * appears once, so none of them repeats.
 */
function isAllOfChoice(tag, node) {
  if (tag !== 'choice') return false;
  const a = node[':@'] ?? {};
  const kids = node.choice.filter((c) => tagOf(c) !== '#comment');
  return a.maxOccurs !== undefined && a.maxOccurs === a.minOccurs && Number(a.maxOccurs) === kids.length &&
    kids.every((c) => tagOf(c) === 'element' && (c[':@']?.maxOccurs ?? '1') === '1');
}

/** A compiler over one set of loaded schema files. */
export function createCompiler({ complexTypes, topElements }) {
  const types = {}; // id -> [[childName, flags, typeId|null], ...]

  function compileContent(body, id) {
    if (types[id]) return id;
    types[id] = []; // placeholder against recursion
    const list = [];
    const walk = (nodes, repeatOuter) => {
      for (const n of nodes) {
        const tag = tagOf(n);
        const a = n[':@'] ?? {};
        const repeats = repeatOuter || (a.maxOccurs !== undefined && a.maxOccurs !== '1' && !isAllOfChoice(tag, n));
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

  /** Compiles document roots: name -> schema type name, or `#element` for a top-level element's own type. */
  function compileRoots(rootTypes) {
    const roots = {};
    for (const [name, type] of Object.entries(rootTypes)) {
      if (type.startsWith('#')) {
        const top = topElements.get(type.slice(1));
        if (!top) throw new Error(`unknown root element ${type}`);
        roots[name] = compileElement(top, '', false)[2];
      } else {
        if (!complexTypes.has(type)) throw new Error(`unknown root type ${type}`);
        roots[name] = compileContent(complexTypes.get(type), type);
      }
    }
    return roots;
  }

  return { types, compileRoots };
}

/** The types some root reaches, sorted by id. */
export function reachedTypes(types, roots) {
  const reached = new Set();
  const visit = (id) => {
    if (!id || reached.has(id)) return;
    reached.add(id);
    for (const [, , t] of types[id]) visit(t);
  };
  Object.values(roots).forEach(visit);
  const kept = {};
  for (const id of Object.keys(types).sort()) if (reached.has(id)) kept[id] = types[id];
  return kept;
}

/** Writes the schema tree JSON in the committed layout (one type per line). */
export function writeSchemaJson(out, source, note, roots, kept) {
  const text = `{\n  "source": ${JSON.stringify(source)},\n  "note": ${JSON.stringify(note)},\n  "roots": ${JSON.stringify(roots)},\n  "types": {\n${Object.entries(kept)
    .map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(',\n')}\n  }\n}\n`;
  writeFileSync(out, text);
}
