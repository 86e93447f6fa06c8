/** fiscal-engine public API. Every CLI command is a thin wrapper over one of these. */
export * from './errors.js';
export * from './common/check-digits.js';
export { Decimal } from './common/decimal.js';

// SPED: registry, reader, validator, writer, conversions
export { LAYOUT_IDS, Layout, loadLayout, detectLayout, isLayoutId, compareVersions } from './sped/layout.js';
export type { LayoutId, LayoutData, RegisterDef, FieldDef, BlockDef, Occurrence } from './sped/layout.js';
export { SpedScanner, decodeBytes, SIGNATURE_MARKER } from './sped/scanner.js';
export type { SpedEncoding, SignatureBlock, ScannerOptions } from './sped/scanner.js';
export { SpedParser, readSped, feedParser } from './sped/reader.js';
export type { SpedReadOptions, SpedReadInfo, SpedSource, ReadSpedResult, RawRecordHandler } from './sped/reader.js';
export { SpedRecord, splitLine, parseSpedDate, formatSpedDate } from './sped/record.js';
export { SPED_CODES, formatFinding } from './sped/findings.js';
export type { SpedFinding, SpedCode, Severity } from './sped/findings.js';
export { SpedValidator, validateSped } from './sped/validator.js';
export type { ValidateOptions, ValidationResult } from './sped/validator.js';
export { SpedWriter, createSpedWriter } from './sped/writer.js';
export type { SpedValue, SpedValues, SpedWriterOptions, SpedWriteOptions, SpedWriteSummary, SpedOutputEncoding, SpedLineEnd } from './sped/writer.js';
export { spedStats } from './sped/stats.js';
export { spedToJsonl, spedFromJsonl } from './sped/jsonl.js';
export { fixTotals } from './sped/fix-totals.js';
export { spedToCsv } from './sped/csv.js';
export { syntheticRecords } from './sped/synthetic.js';
export type { SyntheticOptions } from './sped/synthetic.js';
export { isBlockControl } from './sped/writer.js';
export type { SpedStats, SpedStatsOptions, SpedStatsResult } from './sped/stats.js';
export type { SpedToJsonlResult, SpedToJsonlOptions, SpedFromJsonlOptions } from './sped/jsonl.js';
export { SpedCheckpointError, SPED_CHECKPOINT_VERSION, DEFAULT_CHECKPOINT_BYTES } from './sped/checkpoint.js';
export type { SpedCheckpoint, SpedCheckpointKind, ResumableOptions, CheckpointJson } from './sped/checkpoint.js';
export type { FixTotalsOptions, FixTotalsResult } from './sped/fix-totals.js';
export type { SpedToCsvOptions, SpedToCsvResult, SpedCsvFile } from './sped/csv.js';
export type { ConvertOptions } from './sped/drain.js';
export { encodeCp1252, isCp1252, checkField, replaceField } from './sped/encode.js';
export { spedFromDocs, versionFor } from './sped/from-docs.js';
export type { FromDocsOptions, FromDocsSummary } from './sped/from-docs.js';
export { loadCompany, parseCompany, COMPANY_SCHEMA } from './sped/from-docs-company.js';
export type { Company, ContribuicoesData, CouponMode } from './sped/from-docs-company.js';
export { FROM_DOCS_LAYOUTS } from './sped/from-docs-extract.js';
export type { DocFinding, FromDocsLayout } from './sped/from-docs-extract.js';
export type { ContributionSummary } from './sped/from-docs-contrib-m.js';

// CF-e SAT (model 59): read by the NF-e reader, typed, exported (the base of the coupon streams)
export { parseCfe, readCfe, asParsedCfe } from './coupons/cfe/parse.js';
export type { ParsedCfe } from './coupons/cfe/parse.js';
export { parseCfeKey, buildCfeKey } from './coupons/cfe/key.js';
export type { ParsedCfeKey } from './coupons/cfe/key.js';
export { describeCfe, cfeFacts, isCfeKind, cfeSchema } from './coupons/cfe/model.js';
export type { CfeFacts } from './coupons/cfe/model.js';
export { generateCfe, generateCfeCancellation } from './coupons/cfe/generate.js';
export type { CfeGenerateOptions } from './coupons/cfe/generate.js';
export { CFE_KINDS, CFE_ICMS_VARIANTS } from './coupons/cfe/types.js';
export type * from './coupons/cfe/types.js';
export { summarizeCoupons } from './coupons/summary.js';
export type { SummarizeCouponsOptions, CouponSummary, CouponTotals } from './coupons/summary.js';
export { summaryText, summaryJson, summaryCsv, SUMMARY_COLUMNS } from './coupons/summary-format.js';
export { DIMENSIONS as COUPON_DIMENSIONS, DEFAULT_DIMENSIONS as DEFAULT_COUPON_DIMENSIONS } from './coupons/aggregate.js';
export type { Dimension as CouponDimension, GroupRow as CouponGroupRow } from './coupons/aggregate.js';
export { parseCsvMapping, loadCsvMapping, CSV_MAPPING_SCHEMA } from './coupons/csv-mapping.js';
export type { CsvMapping } from './coupons/csv-mapping.js';
export { couponsOfDocument } from './coupons/from-xml.js';
export { readCsvCoupons } from './coupons/from-csv.js';
export { KeyStore } from './common/key-store.js';
export { formatCouponFinding } from './coupons/types.js';
export type { CouponEvent, CouponSale, CouponCancellation, CouponItem, CouponFinding, CouponFindingCode } from './coupons/types.js';

// NF-e / NFC-e: batch functions (what `fiscal nfe …` runs), reader, model, validator, builder, signatures
export { nfeToJsonl, nfeToCsv, collectEvents } from './nfe/batch-convert.js';
export type { NfeToCsvOptions } from './nfe/batch-convert.js';
export { validateNfeSources } from './nfe/batch-validate.js';
export type { ValidateNfeOptions, ValidateNfeSummary } from './nfe/batch-validate.js';
export { verifyNfeSources } from './nfe/batch-verify.js';
export type { VerifyNfeOptions, VerifyNfeSummary, VerifiedDocument } from './nfe/batch-verify.js';
export { noDocumentsFinding } from './nfe/batch.js';
export type { NfeSources, NfeBatchOptions, NfeBatchSummary } from './nfe/batch.js';
export { readXmlDocuments, detectEncoding, DEFAULT_MAX_DOCUMENT_BYTES } from './nfe/source.js';
export type { XmlDocument, XmlSourceFailure, XmlSourceItem, XmlEncoding, ReadXmlOptions } from './nfe/source.js';
export { readNfe, parseNfe, parseNfeText, parseItem, notesOf, ATTRIBUTE_PREFIX, TEXT_PROPERTY } from './nfe/parse.js';
export { DuplicateKeyTracker } from './nfe/duplicate-keys.js';
export type { ParsedNfe, ParseOptions } from './nfe/parse.js';
export { finding as nfeFinding, formatFinding as formatNfeFinding } from './nfe/findings.js';
export type { NfeFinding, NfeFindingCode, Severity as NfeSeverity } from './nfe/findings.js';
export { validateNfe } from './nfe/validate.js';
export type { EventStatus } from './nfe/validate.js';
export { validateSchemas, assertSchemaCheckCanRun, schemaFileFor } from './nfe/schema-validate.js';
export type { SchemaInput } from './nfe/schema-validate.js';
export { buildNfe } from './nfe/build.js';
export type { BuildOptions as NfeBuildOptions, BuildResult as NfeBuildResult } from './nfe/build.js';
export { computeTotals } from './nfe/totals.js';
export type { ComputedTotals } from './nfe/totals.js';
export { DOCUMENT_COLUMNS as NFE_DOCUMENT_COLUMNS, ITEM_COLUMNS as NFE_ITEM_COLUMNS, documentRows, itemRows } from './nfe/csv.js';
export type { CsvFilter as NfeCsvFilter, EventIndex } from './nfe/csv.js';
export { parseAccessKey, buildAccessKey, checkKeyAgainstDocument, AccessKeyError } from './nfe/key.js';
export type { AccessKeyParts, ParsedAccessKey, KeyProblem, KeyDocumentFields, KeyFinding } from './nfe/key.js';
export { generateNfe, generateNfeXml, generateNfeBatch, generateInutNFeXml, generateProcInutNFeXml } from './nfe/generate.js';
export type { GenerateOptions as NfeGenerateOptions, InutOptions, InutAnswer } from './nfe/generate.js';
export { readInut, INUT_HOMOLOGATED } from './nfe/inut.js';
export type { InutFacts, InutRange, InutProblem } from './nfe/inut.js';
export { signXml, SignError } from './nfe/sign.js';
export type { SignOptions } from './nfe/sign.js';
export { verifyXml, loadTrustStore } from './nfe/verify.js';
export type { VerifyReport, VerifyFinding, VerifyCode, VerifyOptions, SignatureReport, CertificateReport, ProtocolReport, TrustStore } from './nfe/verify.js';
export { loadCertificate, certificateInfo, CertificateError } from './nfe/cert.js';
export type { SigningCredentials, CertificateInfo, CertErrorCode } from './nfe/cert.js';
export { canonicalize, C14N_10, C14N_10_COMMENTS } from './nfe/c14n.js';
export type { C14nOptions } from './nfe/c14n.js';
export { tokenize, XmlSyntaxError, DEFAULT_MAX_DEPTH } from './nfe/xml-tokens.js';
export type { TokenDoc, XmlToken, TokenizeOptions } from './nfe/xml-tokens.js';
export { buildQrCode, addQrCodeToXml, checkQrCode, qrFieldsFromXml, qrCodeUrls, QrCodeError } from './nfe/qrcode.js';
export type { QrVersion, QrDocumentFields, QrBuildOptions, QrCheckFinding } from './nfe/qrcode.js';
export { NFE_KINDS, ICMS_VARIANTS, INUT_KINDS, isInutKind, ROOT_ALIASES as NFE_ROOT_ALIASES, ROOT_ELEMENTS as NFE_ROOT_ELEMENTS } from './nfe/types.js';
export type {
  NfeDocument, NfeKind, DocumentKind, AnyDocument, NfeProc, NFe, InfNFe, Ide, Emit, Dest, Endereco, Det, Prod, Imposto,
  Icms, IcmsDetail, IcmsVariant, Ipi, Ii, Pis, PisDetail, Cofins, CofinsDetail, IcmsUfDest, IbsCbs, Total, IcmsTot,
  IbsCbsTot, Transp, Cobr, Pag, DetPag, InfAdic, InfRespTec, InfNFeSupl, ProtNFe, InfProt, Evento, InfEvento,
  InfEventoRet, RetEvento, ProcEventoNFe, EnviNFe, EnvEvento, ResNFe, Group as NfeGroup,
  InutKind, ProcInutNFe, InutNFe, InfInut, RetInutNFe, InfInutRet,
} from './nfe/types.js';

// Tasks: the idempotency ledger (SQLite for one machine, PostgreSQL for fleets)
export { TaskLeaseLostError, TaskKeyConflictError } from './tasks/ledger.js';
export type { Ledger, LedgerEntry, Claim, ClaimRequest, ClaimResult, ListQuery, TaskStatus, TaskErrorInfo, JsonValue } from './tasks/ledger.js';
export { LedgerUrlError, LedgerUnavailableError, LedgerSchemaError } from './tasks/ledger-errors.js';
export { openSqliteLedger, SqliteLedger } from './tasks/ledger-sqlite.js';
export type { SqliteLedgerOptions } from './tasks/ledger-sqlite.js';
// PostgreSQL is reached through openLedger, which loads pg only for a postgres:// URL
export type { PostgresLedger, PostgresLedgerOptions } from './tasks/ledger-postgres.js';
export { openLedger, parseLedgerUrl, DEFAULT_LEDGER_URL } from './tasks/open-ledger.js';
export type { LedgerLocation, OpenLedgerOptions } from './tasks/open-ledger.js';
// Tasks: one CLI command as a JSON task, run at most once per key (docs/tasks.md)
export { runTask, failedManifest, MALFORMED_CODES } from './tasks/run-task.js';
export type { TaskManifest, RunTaskOptions, TaskProgress } from './tasks/run-task.js';
export { parseTask, parseTaskJson, taskKey, optionsWithDefaults, canonicalJson, TaskError, TASK_TYPES, TASK_SCHEMA, MANIFEST_SCHEMA, ENGINE_MAJOR } from './tasks/task.js';
export type { Task } from './tasks/task.js';
export { parseTaskList, runTaskList, exitCodeOf } from './tasks/task-list.js';
export type { TaskListEntry } from './tasks/task-list.js';
export { checkSchema } from './tasks/json-schema.js';
export type { JsonSchema, SchemaProblem } from './tasks/json-schema.js';
export type { TaskHandler, TaskHandlerContext, TaskInputFile, TaskOutputTarget } from './tasks/handler.js';
// The command functions the CLI and the task types share
export { spedValidateCommand, spedStatsCommand, spedToJsonlCommand, spedFromJsonlCommand, spedFixTotalsCommand, spedToCsvCommand } from './commands/sped.js';
export { nfeToJsonlCommand, nfeToCsvCommand, nfeValidateCommand, nfeVerifyCommand, nfeSignCommand, loadSigningCredentials } from './commands/nfe.js';
export { couponsSummaryCommand } from './commands/coupons.js';
export type { CouponsSummaryCommandOptions } from './commands/coupons.js';
export type { CommandInput, CommandStreams, CommandOutcome, FindingCounts } from './commands/types.js';
// The task queue and its worker (docs/queue.md, docs/celery.md): embedded (local:DIR), RabbitMQ, Celery interop
export type { TaskQueue, WorkerQueue, QueuedTask, QueueStats, DeadTask, Delivery, ConsumeOptions, Consumer, SubmitOptions } from './queue/types.js';
export { openQueue, queueUrl, queueRoute, DEFAULT_QUEUE_URL } from './queue/open-queue.js';
export type { OpenQueueOptions } from './queue/open-queue.js';
export { openLocalQueue, LocalQueue } from './queue/local.js';
export type { LocalQueueOptions } from './queue/local.js';
export { openAmqpQueue } from './queue/amqp.js';
export type { AmqpQueueOptions } from './queue/amqp.js';
export { openCeleryQueue, DEFAULT_CELERY_QUEUE } from './queue/celery.js';
export type { CeleryQueue, CeleryQueueOptions } from './queue/celery.js';
export { submitTasks, taskIdentity } from './queue/submit.js';
export type { SubmitTasksOptions, Submitted } from './queue/submit.js';
export { runWorker, retryDelay } from './queue/worker.js';
export type { WorkerOptions, WorkerSummary, WorkerEvent, WorkerLogLine } from './queue/worker.js';
export { queueStats } from './queue/stats.js';
export type { QueueStatsReport } from './queue/stats.js';
export { createWorkerMetrics, serveMetrics } from './queue/metrics.js';
export type { WorkerMetrics, MetricsServer } from './queue/metrics.js';
export { QueueUrlError, QueueRouteError, QueueUnavailableError, QUEUE_CODES } from './queue/errors.js';
export { QueueConnectionError } from './queue/amqp-errors.js';
