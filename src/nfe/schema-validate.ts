/**
 * XSD validation with the xmllint binary (libxml2): the reference validator SEFAZ's schemas are written for,
 * no WebAssembly copy of libxml2 to load, and it compiles a schema once for many files. Documents are written
 * to a temporary folder and validated in groups per schema, so a batch costs a few processes, not one per
 * document. Findings: NFE_SCHEMA with the element named by xmllint and the line in the document.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { finding, type NfeFinding } from './findings.js';
import type { DocumentKind } from './types.js';

/** How to install xmllint, named in the error when it is missing. */
export const XMLLINT_INSTALL = 'apt-get install -y libxml2-utils';

/**
 * The schema file for a document kind and version (PL_009/PL_010 and CF-e SAT file names), or null when no
 * XSD is published for that kind (a lone evento or retEvento, whose schema depends on the event type; CFeCanc).
 * `version` is the note's `versao` (4.00, 3.10; 4.00 when absent), for CF-e its `versaoDadosEnt` (0.07, 0.08).
 */
export function schemaFileFor(kind: DocumentKind, version: string | null): string | null {
  const v = version !== null && /^\d\.\d\d$/.test(version) ? version : '4.00';
  const byVersion = VERSIONED_SCHEMAS[kind];
  if (byVersion) return `${byVersion}_v${v}.xsd`;
  if (kind === 'CFe') {
    // the layout of the SAT's output (CfeDadosVendaSAT), by versaoDadosEnt: 0.07 -> _0007, 0.08 -> _0008
    return version !== null && /^\d\.\d\d$/.test(version) ? `CfeDadosVendaSAT_${version.replace('.', '').padStart(4, '0')}.xsd` : 'CfeDadosVendaSAT_0008.xsd';
  }
  return FIXED_SCHEMAS[kind] ?? null;
}

/** Kinds whose schema file carries the document's versao (4.00, 3.10): `{name}_v{versao}.xsd`. */
const VERSIONED_SCHEMAS: Partial<Record<DocumentKind, string>> = {
  NFe: 'nfe', nfeProc: 'procNFe', enviNFe: 'enviNFe', procInutNFe: 'procInutNFe', inutNFe: 'inutNFe', retInutNFe: 'retInutNFe',
};
/** Kinds with one schema file whatever their version. */
const FIXED_SCHEMAS: Partial<Record<DocumentKind, string>> = {
  procEventoNFe: 'procEventoNFe_v1.00.xsd', envEvento: 'envEvento_v1.00.xsd', retEnvEvento: 'retEnvEvento_v1.00.xsd', resNFe: 'resNFe_v1.01.xsd',
};

/** Finds the xmllint binary on PATH (or XMLLINT). */
export function findXmllint(): string | null {
  if (process.env.XMLLINT && existsSync(process.env.XMLLINT)) return process.env.XMLLINT;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir || '.', 'xmllint');
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * Checks, before any document is read, that a schema check can run at all: xmllint is installed and every
 * schema folder exists. Throws UsageError (exit 2): NFE_XMLLINT_MISSING (with the install command),
 * NFE_SCHEMA_DIR. Returns the xmllint path.
 */
export function assertSchemaCheckCanRun(schemaDirs: readonly string[]): string {
  if (schemaDirs.length === 0) throw new UsageError('no schema folder given', 'NFE_SCHEMA_DIR');
  for (const dir of schemaDirs) {
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      throw new UsageError(`schema folder ${dir} does not exist`, 'NFE_SCHEMA_DIR');
    }
    if (!isDir) throw new UsageError(`schema folder ${dir} is not a directory`, 'NFE_SCHEMA_DIR');
  }
  const xmllint = findXmllint();
  if (!xmllint) throw new UsageError(`XSD validation needs the xmllint binary: ${XMLLINT_INSTALL}`, 'NFE_XMLLINT_MISSING');
  return xmllint;
}

export interface SchemaInput {
  readonly source: string;
  readonly kind: DocumentKind;
  readonly version: string | null;
  /** The document to validate (original bytes, or the rebuilt inner document of a wrapped one). */
  readonly bytes: Buffer | string;
}

/**
 * Validates documents against the schemas found in `schemaDirs` (searched in order); returns the findings per
 * source (every input has an entry). A document is never left unchecked in silence: when its schema file is
 * in none of the folders it gets an NFE_SCHEMA_UNAVAILABLE error naming the file looked for; when no XSD
 * exists for its kind, an NFE_SCHEMA_UNAVAILABLE warning; when xmllint fails it without a message we can
 * place, or gives no verdict on it, an NFE_SCHEMA error with what xmllint said.
 */
export async function validateSchemas(inputs: readonly SchemaInput[], schemaDirs: string | readonly string[]): Promise<Map<string, NfeFinding[]>> {
  const dirs = typeof schemaDirs === 'string' ? [schemaDirs] : schemaDirs;
  const xmllint = assertSchemaCheckCanRun(dirs);
  const out = new Map<string, NfeFinding[]>(inputs.map((i) => [i.source, []]));
  const groups = new Map<string, { file: string; input: SchemaInput }[]>();
  const dir = mkdtempSync(join(tmpdir(), 'fiscal-xsd-'));
  try {
    inputs.forEach((input, i) => {
      const add = (f: NfeFinding): void => void out.get(input.source)!.push(f);
      const xsd = schemaFileFor(input.kind, input.version);
      if (!xsd) {
        add(finding('NFE_SCHEMA_UNAVAILABLE', input.source, `no XSD is published for ${input.kind} documents: not XSD-validated`, { severity: 'warning' }));
        return;
      }
      const schemaPath = dirs.map((d) => join(d, xsd)).find((p) => existsSync(p));
      if (!schemaPath) {
        add(finding('NFE_SCHEMA_UNAVAILABLE', input.source, `schema ${xsd} (for ${input.kind}${input.version ? ` ${input.version}` : ''}) is not in ${dirs.join(', ')}: not XSD-validated`));
        return;
      }
      const file = join(dir, `${i}.xml`);
      writeFileSync(file, input.bytes);
      const g = groups.get(schemaPath) ?? [];
      g.push({ file, input });
      groups.set(schemaPath, g);
    });
    for (const [schemaPath, group] of groups) {
      const byFile = new Map(group.map((g) => [g.file, g.input]));
      const verdicts = new Map<string, 'validates' | 'fails'>();
      const unplaced = new Map<string, string[]>();
      const stderr = await runXmllint(xmllint, schemaPath, group.map((g) => g.file));
      for (const line of stderr.split('\n')) {
        const v = /^(.+?\.xml) (validates|fails to validate|validation generated an internal error)$/.exec(line);
        if (v && byFile.has(v[1]!)) {
          verdicts.set(v[1]!, v[2] === 'validates' ? 'validates' : 'fails');
          continue;
        }
        const m = /^(.+?\.xml):(\d+): (?:element (\S+): )?(.*)$/.exec(line);
        const file = m?.[1] ?? group.find((g) => line.startsWith(`${g.file}`))?.file;
        const input = file === undefined ? undefined : byFile.get(file);
        if (!input) continue;
        if (!m) {
          unplaced.set(file!, [...(unplaced.get(file!) ?? []), line.slice(file!.length).replace(/^[:\s]+/, '')]);
          continue;
        }
        const message = m[4]!.replace(/^Schemas validity error : /, '').replace(/\{http:\/\/www\.portalfiscal\.inf\.br\/nfe\}/g, '');
        out.get(input.source)!.push(finding('NFE_SCHEMA', input.source, message, { line: Number(m[2]), ...(m[3] ? { path: m[3] } : {}) }));
      }
      for (const { file, input } of group) {
        const found = out.get(input.source)!;
        const verdict = verdicts.get(file);
        const said = (unplaced.get(file) ?? []).join('; ');
        if (verdict === undefined) found.push(finding('NFE_SCHEMA', input.source, `xmllint gave no verdict against ${schemaPath}${said ? `: ${said}` : ''}`));
        else if (verdict === 'fails' && !found.some((f) => f.code === 'NFE_SCHEMA')) {
          found.push(finding('NFE_SCHEMA', input.source, `fails to validate against ${schemaPath}${said ? `: ${said}` : ''}`));
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

function runXmllint(bin: string, schema: string, files: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, ['--noout', '--nonet', '--schema', schema, ...files], { maxBuffer: 64 * 1024 * 1024 }, (err, _stdout, stderr) => {
      // exit 3/4: documents failed validation (reported on stderr); 5: the schema itself failed to compile
      const code = (err as { code?: number } | null)?.code;
      if (err && code === 5) reject(new UsageError(`xmllint cannot compile the schema ${schema}`, 'NFE_SCHEMA_UNUSABLE'));
      else if (err && typeof code !== 'number') reject(err);
      else resolve(stderr);
    });
  });
}
