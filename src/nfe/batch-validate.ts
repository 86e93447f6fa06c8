/**
 * `validateNfeSources`: the project's own rules on every document of the sources, and with `schemas` the XSD
 * check (xmllint, one run per schema for a group of documents). The `fiscal nfe validate` command wraps it.
 */
import { buildNfe } from './build.js';
import { cfeFacts, isCfeKind } from '../coupons/cfe/model.js';
import type { CfeDocument } from '../coupons/cfe/types.js';
import type { NfeFinding } from './findings.js';
import { DuplicateKeyTracker, parseItem, type ParsedNfe } from './parse.js';
import { assertSchemaCheckCanRun, validateSchemas, type SchemaInput } from './schema-validate.js';
import type { NfeDocument } from './types.js';
import { validateNfe } from './validate.js';
import { FindingTally, batchItems, readOptionsOf, type NfeBatchOptions, type NfeBatchSummary, type NfeSources } from './batch.js';

export interface ValidateNfeOptions extends NfeBatchOptions {
  /** Folders searched, in order, for the XSD files: with it every document is also checked against its schema. */
  readonly schemas?: string | readonly string[];
  /** Documents checked by one xmllint run at most. Default 200. */
  readonly schemaBatchDocuments?: number;
  /** Bytes those documents may hold together (the group is checked when it reaches this). Default 16 MiB. */
  readonly schemaBatchBytes?: number;
}

export interface ValidateNfeSummary extends NfeBatchSummary {
  /** With `schemas`: documents not checked against a schema (unreadable, or no schema file for them). */
  readonly notSchemaChecked: number;
}

/** A document waiting for its schema check: only what the check and the report need, never the parsed model. */
interface Pending {
  readonly source: string;
  readonly findings: NfeFinding[];
  readonly schema: SchemaInput | null;
}

/**
 * Checks every document of the sources. Findings reach `onFinding` in document order, a document's own
 * findings and its schema findings together (so they come a group of documents at a time with `schemas`).
 * Throws NFE_SCHEMA_DIR / NFE_XMLLINT_MISSING (UsageError) before reading anything when the schema check cannot run.
 */
export async function validateNfeSources(sources: NfeSources, options: ValidateNfeOptions = {}): Promise<ValidateNfeSummary> {
  const schemaDirs = typeof options.schemas === 'string' ? [options.schemas] : options.schemas;
  if (schemaDirs) assertSchemaCheckCanRun(schemaDirs);
  const maxDocs = options.schemaBatchDocuments ?? 200;
  const maxBytes = options.schemaBatchBytes ?? 16 * 1024 * 1024;
  const tally = new FindingTally(options);
  const dups = new DuplicateKeyTracker();
  const parseOpts = readOptionsOf(options);
  let notSchemaChecked = 0;
  let batch: Pending[] = [];
  let batchBytes = 0;
  /** Reports the group; returns true when failFast must stop. */
  const flush = async (): Promise<boolean> => {
    const inputs = batch.flatMap((b) => (b.schema ? [b.schema] : []));
    const schemaFindings = schemaDirs && inputs.length ? await validateSchemas(inputs, schemaDirs) : new Map<string, NfeFinding[]>();
    let stop = false;
    for (const b of batch) {
      const schema = schemaFindings.get(b.source) ?? [];
      if (schemaDirs && (!b.schema || schema.some((f) => f.code === 'NFE_SCHEMA_UNAVAILABLE'))) notSchemaChecked++;
      if ((await tally.document([...b.findings, ...schema])) && options.failFast) stop = true;
    }
    batch = [];
    batchBytes = 0;
    return stop;
  };
  for await (const item of batchItems(sources, options, tally)) {
    const p = parseItem(item, parseOpts);
    const findings = [...p.findings, ...dups.check(p), ...validateNfe(p)];
    const schema = schemaDirs && item.ok ? schemaInput(p, item.bytes) : null;
    batch.push({ source: p.source, findings, schema });
    batchBytes += schema ? schema.bytes.length : 0;
    if ((options.failFast && findings.some((f) => f.severity === 'error')) || batch.length >= maxDocs || batchBytes >= maxBytes) {
      if (await flush()) {
        tally.stopped = true;
        break;
      }
    }
  }
  if (!tally.stopped) await flush();
  return { ...tally.summary(), notSchemaChecked };
}

/**
 * What xmllint validates for a parsed document: its original bytes, or for a wrapped one (SOAP) its inner
 * document rebuilt; a CF-e sale by its versaoDadosEnt. Null when the document could not be read.
 */
function schemaInput(p: ParsedNfe, bytes: Buffer): SchemaInput | null {
  if (!p.doc || !p.kind) return null;
  if (isCfeKind(p.kind)) return { source: p.source, kind: p.kind, version: cfeFacts(p.doc as CfeDocument).dataVersion, bytes };
  return { source: p.source, kind: p.kind, version: p.version, bytes: p.wrappers.length ? buildNfe(p.doc as NfeDocument).xml : bytes };
}
