/**
 * `validateNfeSources`: the project's own rules on every document of the sources, and with `schemas` the XSD
 * check (xmllint, one run per schema for a group of documents). The `fiscal nfe validate` command wraps it.
 */
import type { NfeFinding } from './findings.js';
import { DuplicateKeyTracker } from './duplicate-keys.js';
import { assertSchemaCheckCanRun, validateSchemas, type SchemaInput } from './schema-validate.js';
import { asBuffer } from './wire-document.js';
import type { ValidatedDocument } from './validate-job.js';
import { FindingTally, type NfeBatchOptions, type NfeBatchSummary, type NfeSources } from './batch.js';
import { runPooledDocuments } from './batch-pool.js';

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
  try {
    await runPooledDocuments<ValidatedDocument>({
      sources, options, counter: tally,
      job: 'nfe.validate',
      payload: { schema: schemaDirs !== undefined, ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}) },
      emit: async (d) => {
        const findings = [...d.parseFindings, ...dups.check(d), ...d.ruleFindings];
        const schema: SchemaInput | null = d.schema ? { source: d.source, kind: d.schema.kind, version: d.schema.version, bytes: typeof d.schema.bytes === 'string' ? d.schema.bytes : asBuffer(d.schema.bytes) } : null;
        batch.push({ source: d.source, findings, schema });
        batchBytes += schema ? schema.bytes.length : 0;
        if ((options.failFast && findings.some((f) => f.severity === 'error')) || batch.length >= maxDocs || batchBytes >= maxBytes) return flush();
        return false;
      },
    });
  } finally {
    dups.close();
  }
  if (!tally.stopped) await flush();
  return { ...tally.summary(), notSchemaChecked };
}
