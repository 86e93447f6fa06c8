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
export type { SpedToJsonlResult, SpedFromJsonlOptions } from './sped/jsonl.js';
export type { FixTotalsOptions, FixTotalsResult } from './sped/fix-totals.js';
export type { SpedToCsvOptions, SpedToCsvResult, SpedCsvFile } from './sped/csv.js';
export type { ConvertOptions } from './sped/drain.js';
export { encodeCp1252, isCp1252, checkField, replaceField } from './sped/encode.js';

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
