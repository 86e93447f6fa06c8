/**
 * XSD validation with the xmllint binary (libxml2): the reference validator SEFAZ's schemas are written for,
 * no WebAssembly copy of libxml2 to load, and it compiles a schema once for many files. Documents are written
 * to a temporary folder and validated in groups per schema, so a batch costs a few processes, not one per
 * document. Findings: NFE_SCHEMA with the element named by xmllint and the line in the document.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { finding, type NfeFinding } from './findings.js';
import type { NfeKind } from './types.js';

/** The schema file for a document kind and version (PL_009/PL_010 file names). Null when there is none. */
export function schemaFileFor(kind: NfeKind, version: string | null): string | null {
  const v = version === '3.10' ? '3.10' : '4.00';
  switch (kind) {
    case 'NFe':
      return `nfe_v${v}.xsd`;
    case 'nfeProc':
      return `procNFe_v${v}.xsd`;
    case 'enviNFe':
      return `enviNFe_v${v}.xsd`;
    case 'procEventoNFe':
      return 'procEventoNFe_v1.00.xsd';
    case 'envEvento':
      return 'envEvento_v1.00.xsd';
    case 'retEnvEvento':
      return 'retEnvEvento_v1.00.xsd';
    case 'resNFe':
      return 'resNFe_v1.01.xsd';
    default:
      return null;
  }
}

/** Finds the xmllint binary on PATH (or XMLLINT). */
export function findXmllint(): string | null {
  if (process.env.XMLLINT && existsSync(process.env.XMLLINT)) return process.env.XMLLINT;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir || '.', 'xmllint');
    if (existsSync(p)) return p;
  }
  return null;
}

export interface SchemaInput {
  readonly source: string;
  readonly kind: NfeKind;
  readonly version: string | null;
  /** The document to validate (original bytes, or the rebuilt inner document of a wrapped one). */
  readonly bytes: Buffer | string;
}

/** Validates documents against the schemas in `schemaDir`; returns the findings per source (every input has an entry). */
export async function validateSchemas(inputs: readonly SchemaInput[], schemaDir: string): Promise<Map<string, NfeFinding[]>> {
  const xmllint = findXmllint();
  if (!xmllint) throw new UsageError('XSD validation needs the xmllint binary (apt-get install libxml2-utils)', 'NFE_XMLLINT_MISSING');
  const out = new Map<string, NfeFinding[]>(inputs.map((i) => [i.source, []]));
  const groups = new Map<string, { file: string; input: SchemaInput }[]>();
  const dir = mkdtempSync(join(tmpdir(), 'fiscal-xsd-'));
  try {
    inputs.forEach((input, i) => {
      const xsd = schemaFileFor(input.kind, input.version);
      if (!xsd) {
        out.get(input.source)!.push(finding('NFE_SCHEMA', input.source, `no schema for ${input.kind} documents; not XSD-validated`, { severity: 'warning' }));
        return;
      }
      const schemaPath = join(schemaDir, xsd);
      if (!existsSync(schemaPath)) {
        out.get(input.source)!.push(finding('NFE_SCHEMA', input.source, `schema ${xsd} not found in ${schemaDir}`, { severity: 'warning' }));
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
      const stderr = await runXmllint(xmllint, schemaPath, group.map((g) => g.file));
      for (const line of stderr.split('\n')) {
        const m = /^(.+?\.xml):(\d+): (?:element (\S+): )?(.*)$/.exec(line);
        if (!m) continue;
        const input = byFile.get(m[1]!);
        if (!input) continue;
        const message = m[4]!.replace(/^Schemas validity error : /, '').replace(/\{http:\/\/www\.portalfiscal\.inf\.br\/nfe\}/g, '');
        out.get(input.source)!.push(finding('NFE_SCHEMA', input.source, message, { line: Number(m[2]), ...(m[3] ? { path: m[3] } : {}) }));
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
