/**
 * The bodies of `fiscal nfe to-jsonl | to-csv | validate | verify | sign`, one exported function per command:
 * the CLI action (src/cli/nfe-*.ts) and the task type (`nfe.<command>`, src/tasks/types.ts) both call them.
 * Sources are paths (files, directories, zips) or `-` with `stdin`; committing the output is the caller's.
 */
import type { FiscalPool } from '../pool/pool.js';
import { promises as fsp } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { EXIT_FINDINGS, EXIT_OK, UsageError, ioError, type ExitCode } from '../errors.js';
import { noDocumentsFinding, type NfeBatchOptions, type NfeBatchSummary } from '../nfe/batch.js';
import { nfeToCsv, nfeToJsonl } from '../nfe/batch-convert.js';
import { validateNfeSources } from '../nfe/batch-validate.js';
import { verifyNfeSources, type VerifiedDocument, type VerifyNfeSummary } from '../nfe/batch-verify.js';
import { loadCertificate, type SigningCredentials } from '../nfe/cert.js';
import type { CsvFilter } from '../nfe/csv.js';
import { formatFinding as formatNfeFinding, type NfeFinding } from '../nfe/findings.js';
import { assertSchemaCheckCanRun } from '../nfe/schema-validate.js';
import { signXml } from '../nfe/sign.js';
import type { TrustStore, VerifyReport } from '../nfe/verify.js';
import { writeChunk } from '../nfe/batch.js';
import type { CommandOutcome, CommandStreams, FindingCounts } from './types.js';

/** The reading options every batch command takes. */
export interface NfeReadCommandOptions {
  readonly maxBytes?: number;
  readonly maxDepth?: number;
  readonly failFast?: boolean;
  /** Worker threads for the batch (default: the available cores; 1 = this thread), or a pool to run on. */
  readonly threads?: number;
  readonly pool?: FiscalPool;
}

/** The pool options of a batch: a given pool wins over a thread count. */
export function poolOptions(o: { readonly pool?: FiscalPool; readonly threads?: number }): { pool?: FiscalPool; threads?: number } {
  if (o.pool) return { pool: o.pool };
  return o.threads ? { threads: o.threads } : {};
}

/** The NF-e sources of a command and the stream read for `-`. */
export interface NfeCommandSources {
  readonly sources: readonly string[];
  readonly stdin?: Readable;
}

/** Counts findings by severity, writing each one on `messages` (or handing it to `write`). */
function findingCounter(messages: Writable, write?: (f: NfeFinding) => Promise<void>): { counts: FindingCounts; onFinding: (f: NfeFinding) => void | Promise<void> } {
  const counts: FindingCounts = { errors: 0, warnings: 0 };
  return {
    counts,
    onFinding: (f) => {
      if (f.severity === 'error') counts.errors++;
      else counts.warnings++;
      if (write) return write(f);
      messages.write(`${formatNfeFinding(f)}\n`);
      return undefined;
    },
  };
}

function batchOptions(o: NfeReadCommandOptions, src: NfeCommandSources, streams: CommandStreams, onFinding: (f: NfeFinding) => void | Promise<void>): NfeBatchOptions {
  return {
    ...(o.maxBytes ? { maxBytes: o.maxBytes } : {}),
    ...(o.maxDepth ? { maxDepth: o.maxDepth } : {}),
    ...(o.failFast ? { failFast: true } : {}),
    ...poolOptions(o),
    ...(src.stdin ? { stdin: src.stdin } : {}),
    ...(streams.signal ? { signal: streams.signal } : {}),
    onFinding,
    ...(streams.onProgress ? { onProgress: streams.onProgress } : {}),
  };
}

/**
 * Sources that hold no document at all: NFE_NO_DOCUMENTS on `messages`, exit 1 (the sources could be read, but
 * there is nothing to convert or check).
 */
export function noDocuments(messages: Writable, sources: readonly string[]): ExitCode {
  messages.write(`${formatNfeFinding(noDocumentsFinding(sources))}\n`);
  return EXIT_FINDINGS;
}

function outcomeOf(streams: CommandStreams, sources: readonly string[], s: NfeBatchSummary, findings: FindingCounts, extra: Record<string, number> = {}): CommandOutcome {
  const exitCode = s.documents === 0 ? noDocuments(streams.messages, sources) : s.withErrors > 0 ? EXIT_FINDINGS : EXIT_OK;
  return { exitCode, counts: { documents: s.documents, withFindings: s.withFindings, withErrors: s.withErrors, ...extra }, findings: { ...findings } };
}

/** `nfe to-jsonl`: one JSON line per document to `output`; findings to `messages`. */
export async function nfeToJsonlCommand(src: NfeCommandSources, streams: CommandStreams, o: NfeReadCommandOptions): Promise<CommandOutcome> {
  const tally = findingCounter(streams.messages);
  const s = await nfeToJsonl(src.sources, streams.output, batchOptions(o, src, streams, tally.onFinding));
  return outcomeOf(streams, src.sources, s, tally.counts);
}

export interface NfeToCsvCommandOptions extends NfeReadCommandOptions {
  readonly items?: boolean;
  readonly delimiter?: string;
  readonly decimalComma?: boolean;
  readonly bom?: boolean;
  /** Emission date from (YYYY-MM-DD). */
  readonly from?: string;
  readonly to?: string;
  readonly cnpj?: string;
  /** 55, 65 or 59. */
  readonly model?: string;
}

/** `nfe to-csv`: one CSV row per note (or item) to `output`; findings to `messages`. Bad options: UsageError. */
export async function nfeToCsvCommand(src: NfeCommandSources, streams: CommandStreams, o: NfeToCsvCommandOptions): Promise<CommandOutcome> {
  for (const [name, v] of [['--from', o.from], ['--to', o.to]] as const) {
    if (v !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new UsageError(`${name} must be a date YYYY-MM-DD`);
  }
  if (o.model !== undefined && o.model !== '55' && o.model !== '65' && o.model !== '59') throw new UsageError('--model must be 55, 65 or 59');
  const delimiter = o.delimiter ?? ',';
  if (o.decimalComma && delimiter === ',') throw new UsageError('--decimal-comma needs another --delimiter (e.g. ";")');
  const filter: CsvFilter = { ...(o.from ? { from: o.from } : {}), ...(o.to ? { to: o.to } : {}), ...(o.cnpj ? { cnpj: o.cnpj } : {}), ...(o.model ? { model: o.model } : {}) };
  const tally = findingCounter(streams.messages);
  const s = await nfeToCsv(src.sources, streams.output, {
    ...batchOptions(o, src, streams, tally.onFinding),
    items: o.items === true, delimiter, decimalComma: o.decimalComma === true, bom: o.bom === true, filter,
  });
  return outcomeOf(streams, src.sources, s, tally.counts);
}

export interface NfeValidateCommandOptions extends NfeReadCommandOptions {
  /** XSD folders (xmllint). */
  readonly schemas?: readonly string[];
  readonly json?: boolean;
}

/**
 * `nfe validate`: findings one per line on `messages` and a summary line (or, with `json`, one JSON finding per
 * line on `output`). A schema check that cannot run throws before any document is read.
 */
export async function nfeValidateCommand(src: NfeCommandSources, streams: CommandStreams, o: NfeValidateCommandOptions): Promise<CommandOutcome> {
  if (o.schemas) assertSchemaCheckCanRun([...o.schemas]);
  const tally = findingCounter(streams.messages, o.json ? (f) => writeChunk(streams.output, `${JSON.stringify(f)}\n`) : undefined);
  const s = await validateNfeSources(src.sources, { ...batchOptions(o, src, streams, tally.onFinding), ...(o.schemas ? { schemas: [...o.schemas] } : {}) });
  if (s.documents > 0 && !o.json) streams.messages.write(`${s.documents} document(s), ${s.withFindings} with findings${s.notSchemaChecked ? `, ${s.notSchemaChecked} not checked against a schema` : ''}\n`);
  return outcomeOf(streams, src.sources, s, tally.counts, { notSchemaChecked: s.notSchemaChecked });
}

export interface NfeVerifyCommandOptions extends NfeReadCommandOptions {
  readonly json?: boolean;
  /** CA certificates (loaded by the caller from `--trust DIR`). */
  readonly trust?: TrustStore;
}

/** `nfe verify`: a result line per document (or one JSON report per document) on `output`; findings on `messages`. */
export async function nfeVerifyCommand(src: NfeCommandSources, streams: CommandStreams, o: NfeVerifyCommandOptions): Promise<CommandOutcome> {
  const { output, messages } = streams;
  let first = true;
  let findingErrors = 0;
  const onDocument = async (d: VerifiedDocument): Promise<void> => {
    const isFirst = first;
    first = false;
    if (d.readFailure) {
      const { code, message } = d.readFailure;
      findingErrors++;
      messages.write(`${d.source}: ${message} [${code}]\n`);
      if (o.json) await writeChunk(output, `${JSON.stringify({ source: d.source, ok: false, findings: [{ code, message }] })}\n`);
      return;
    }
    const r = d.report;
    findingErrors += r.findings.length;
    if (!r.ok) messages.write(findingLines(d.source, r));
    if (o.json) await writeChunk(output, `${JSON.stringify({ source: d.source, ...r })}\n`);
    else if (isFirst || r.ok) await writeChunk(output, `${resultLine(d.source, r)}\n`);
  };
  const s = await verifyNfeSources(src.sources, {
    ...(o.trust ? { trust: o.trust } : {}),
    ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}),
    ...(o.maxDepth !== undefined ? { maxDepth: o.maxDepth } : {}),
    ...(o.failFast ? { failFast: true } : {}),
    ...poolOptions(o),
    ...(src.stdin ? { stdin: src.stdin } : {}),
    ...(streams.signal ? { signal: streams.signal } : {}),
    onDocument,
    ...(streams.onProgress ? { onProgress: streams.onProgress } : {}),
  });
  if (s.documents > 1 && !o.json) await writeChunk(output, outcomeTable(s));
  const exitCode = s.documents === 0 ? noDocuments(messages, src.sources) : s.failed > 0 ? EXIT_FINDINGS : EXIT_OK;
  return { exitCode, counts: { documents: s.documents, failed: s.failed }, findings: { errors: findingErrors, warnings: 0 } };
}

/** A finding line: `source: where: message [CODE]`. */
function findingLines(source: string, r: VerifyReport): string {
  return r.findings.map((f) => `${source}:${f.where ? ` ${f.where}:` : ''} ${f.message} [${f.code}]\n`).join('');
}

/** The line for a verified document: `source: OK|FAILED root key | certificate facts`. */
function resultLine(source: string, r: VerifyReport): string {
  const cert = r.signatures[0]?.certificate;
  return `${source}: ${r.ok ? 'OK' : 'FAILED'} ${r.root}${r.key ? ` ${r.key}` : ''}` +
    (cert ? ` | ${cert.commonName} | CNPJ ${cert.cnpj ?? '-'} | valid ${cert.notBefore.toISOString().slice(0, 10)}..${cert.notAfter.toISOString().slice(0, 10)}` +
      `${cert.validAtDocumentDate === null ? '' : cert.validAtDocumentDate ? ' (valid at emission)' : ' (NOT valid at emission)'}` +
      `${cert.trusted === null ? '' : cert.trusted ? ' | trusted' : ' | untrusted'}` : '');
}

/** The summary table of a batch: documents per outcome, most frequent first, and the total. */
function outcomeTable(s: VerifyNfeSummary): string {
  const rows = [...s.outcomes.entries()].sort((a, b) => b[1] - a[1]);
  let table = `\n${'result'.padEnd(26)} documents\n`;
  for (const [k, v] of rows) table += `${k.padEnd(26)} ${String(v).padStart(9)}\n`;
  table += `${'total'.padEnd(26)} ${String(s.documents).padStart(9)}\n`;
  return table;
}

export interface NfeSignCommandOptions {
  /** RSA-SHA256 and a SHA-256 digest instead of SEFAZ's RSA-SHA1. */
  readonly sha256?: boolean;
  /** Check the certificate's dates and CNPJ (default true). */
  readonly checkCertificate?: boolean;
}

/** `nfe sign`: the signed XML to `output`. */
export async function nfeSignCommand(xml: Uint8Array, credentials: SigningCredentials, streams: Pick<CommandStreams, 'output'>, o: NfeSignCommandOptions): Promise<CommandOutcome> {
  const signed = signXml(xml, credentials, { algorithm: o.sha256 ? 'rsa-sha256' : 'rsa-sha1', checkCertificate: o.checkCertificate !== false });
  await writeChunk(streams.output, signed);
  return { exitCode: EXIT_OK, counts: { bytes: Buffer.byteLength(signed) }, findings: { errors: 0, warnings: 0 } };
}

/** A secret from an environment variable or a file (first line, without its line end). Never from argv. */
export async function readSecret(what: string, envName: string | undefined, file: string | undefined): Promise<string> {
  if ((envName === undefined) === (file === undefined)) {
    throw new UsageError(`give the ${what} with exactly one of --${what}-env NAME or --${what}-file PATH`);
  }
  if (envName !== undefined) {
    const v = process.env[envName];
    if (v === undefined) throw new UsageError(`environment variable ${envName} (the ${what}) is not set`);
    return v;
  }
  let text: string;
  try {
    text = await fsp.readFile(file as string, 'utf8');
  } catch (err) {
    throw ioError(err, file as string, 'read');
  }
  return text.replace(/\r?\n$/, '');
}

/** Signing credentials from a PKCS#12 file and its password (from exactly one of an environment variable or a file). */
export async function loadSigningCredentials(opts: { readonly pfx?: string; readonly passwordEnv?: string; readonly passwordFile?: string }): Promise<SigningCredentials> {
  if (!opts.pfx) throw new UsageError('--pfx CERT.pfx is required');
  const password = await readSecret('password', opts.passwordEnv, opts.passwordFile);
  let pfx: Buffer;
  if (opts.pfx === '-') {
    // the certificate on stdin (`--pfx -`), as the CLI has always read it
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
    pfx = Buffer.concat(chunks);
  } else {
    try {
      pfx = await fsp.readFile(opts.pfx);
    } catch (err) {
      throw ioError(err, opts.pfx, 'open');
    }
  }
  return loadCertificate(pfx, password);
}
