/**
 * Reading SPED files: the parser core (chunks in, records and findings out) and thin wrappers for a path,
 * stdin or any Readable, and a byte range of a file. Layout and version are detected from the records
 * (0000, and I010 for ECD) unless given.
 */
import type { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { readChunks } from './chunks.js';
import { finding, type SpedFinding } from './findings.js';
import { detectLayout, isLayoutId, loadLayout, type Layout, type LayoutId } from './layout.js';
import { SpedRecord, splitLine } from './record.js';
import { decodeBytes, SpedScanner, type ScannerState, type SignatureBlock, type SpedEncoding } from './scanner.js';

export interface SpedReadOptions {
  /** Layout to use instead of detecting it from 0000. */
  layout?: LayoutId;
  /** Force an encoding instead of detecting it. */
  encoding?: SpedEncoding;
  /** Longest line accepted in bytes (default 32 MiB). */
  maxLineBytes?: number;
  /** Byte range of a file (path sources only): lines that start in [start, end). */
  start?: number;
  end?: number;
  /** Line number of the first line of the range (default 1; unknown in the middle of a file unless given). */
  firstLine?: number;
  /** Called with the bytes consumed so far, about every MiB (progress). */
  onProgress?: (bytes: number) => void;
}

export interface SpedReadInfo {
  layout: LayoutId | null;
  /** COD_VER (3 digits) or, for ECD, I010's version (e.g. "9.00"). */
  version: string | null;
  encoding: SpedEncoding;
  bytes: number;
  lines: number;
  records: number;
  blankLines: number;
  signature: SignatureBlock | null;
  /** The 0000 record's raw fields, when seen. */
  header: readonly string[] | null;
}

/** What a resumed parser needs (plain JSON): see `SpedParser.snapshot`. */
export type ParserState = {
  scanner: ScannerState;
  layout: LayoutId | null;
  version: string | null;
  records: number;
  header: string[] | null;
};

export type SpedSource = string | Readable | AsyncIterable<Uint8Array>;

export interface RawRecordHandler {
  /** A line that splits into fields; `text` is the decoded line. */
  (fields: string[], line: number, offset: number, text: string): void;
}

/**
 * The stream-agnostic parser: push chunks, receive raw records (field arrays) and findings. Layout and version
 * are tracked in `info`. Used by every reader, the validator and the CLI.
 */
export class SpedParser {
  readonly info: SpedReadInfo;
  readonly scanner: SpedScanner;
  private layoutObj: Layout | null = null;
  private readonly forcedLayout: boolean;
  /**
   * A consumer that can take a line on its bytes (the validator's byte path): when it returns true the line is
   * counted as a record and neither decoded nor split; false sends it down the usual path.
   */
  byteLine: ((buf: Buffer, start: number, end: number, line: number) => boolean) | null = null;

  constructor(
    private readonly onRecord: RawRecordHandler,
    private readonly onFinding: (f: SpedFinding) => void,
    options: SpedReadOptions & { baseOffset?: number; skipPartialFirstLine?: boolean } = {},
  ) {
    if (options.layout !== undefined && !isLayoutId(options.layout)) {
      throw new UsageError(`unknown layout '${options.layout}'`, 'SPED_LAYOUT_UNKNOWN');
    }
    this.forcedLayout = options.layout !== undefined;
    this.layoutObj = options.layout ? loadLayout(options.layout) : null;
    this.info = {
      layout: options.layout ?? null,
      version: null,
      encoding: options.encoding ?? 'ascii',
      bytes: 0,
      lines: 0,
      records: 0,
      blankLines: 0,
      signature: null,
      header: null,
    };
    this.scanner = new SpedScanner({
      onLine: (buf, start, end, line, offset) => this.line(buf, start, end, line, offset),
      onFinding,
      maxLineBytes: options.maxLineBytes,
      firstLine: options.firstLine,
      baseOffset: options.baseOffset,
      skipPartialFirstLine: options.skipPartialFirstLine,
      rangeEnd: options.end,
      encoding: options.encoding,
    });
  }

  get layout(): Layout | null {
    return this.layoutObj;
  }

  push(chunk: Buffer): void {
    this.scanner.push(chunk);
    this.sync();
  }

  end(): void {
    this.scanner.end();
    this.sync();
  }

  get done(): boolean {
    return this.scanner.done;
  }

  private sync(): void {
    const s = this.scanner;
    this.info.bytes = s.bytes;
    this.info.lines = s.lines;
    this.info.blankLines = s.blankLines;
    this.info.encoding = s.encoding;
    this.info.signature = s.signature;
  }

  private line(buf: Buffer, start: number, end: number, line: number, offset: number): void {
    if (this.byteLine !== null && this.byteLine(buf, start, end, line)) {
      this.info.records++;
      return;
    }
    const text = decodeBytes(buf, start, end, this.scanner.encoding);
    const fields = splitLine(text);
    if (fields === null) {
      this.onFinding(
        finding('SPED_LINE_FORMAT', text.charCodeAt(0) !== 124 ? 'line does not start with |' : 'line does not end with | (truncated?)', { line }),
      );
      return;
    }
    this.info.records++;
    const reg = fields[0]!;
    if (reg === '0000' && this.info.header === null) {
      this.info.header = fields;
      if (!this.forcedLayout) {
        const id = detectLayout(fields);
        this.info.layout = id;
        this.layoutObj = id ? loadLayout(id) : null;
      }
      this.detectVersion(fields);
    } else if (this.layoutObj && reg === this.layoutObj.data.version.register && this.info.version === null) {
      this.detectVersion(fields);
    }
    this.onRecord(fields, line, offset, text);
  }

  private detectVersion(fields: readonly string[]): void {
    const layout = this.layoutObj;
    if (!layout) return;
    const rule = layout.data.version;
    if (fields[0] !== rule.register) return;
    const pos = layout.register(rule.register)?.fields.find((f) => f.name === rule.field)?.pos;
    const raw = pos ? fields[pos - 1] : undefined;
    if (raw) this.info.version = rule.pad ? raw.padStart(rule.pad, '0') : raw;
  }

  /** The parser's state between two lines, for a resumable run; null where it cannot resume (`SpedScanner.snapshot`). */
  snapshot(): ParserState | null {
    const scanner = this.scanner.snapshot();
    if (scanner === null) return null;
    const { layout, version, records, header } = this.info;
    return { scanner, layout, version, records, header: header === null ? null : [...header] };
  }

  /** Continues from a snapshot: push the file's bytes from `state.scanner.offset` on. */
  restore(state: ParserState): void {
    this.scanner.restore(state.scanner);
    this.info.layout = state.layout;
    this.info.version = state.version;
    this.info.records = state.records;
    this.info.header = state.header === null ? null : [...state.header];
    if (!this.forcedLayout) this.layoutObj = state.layout ? loadLayout(state.layout) : null;
    this.sync();
  }

  /** Field definitions for a register at the detected version. */
  defsFor(register: string): SpedRecord['defs'] {
    return this.layoutObj?.fieldsFor(register, this.info.version);
  }
}

function chunksOf(source: SpedSource, options: SpedReadOptions): AsyncGenerator<Buffer> {
  if (typeof source !== 'string' && options.end !== undefined) {
    throw new UsageError('byte ranges (start/end) need a file path', 'SPED_RANGE_NEEDS_PATH');
  }
  // a range starts one byte early: the scanner skips to the first line that starts inside it
  return readChunks(source, options.start && options.start > 0 ? options.start - 1 : 0);
}

/** Drives a parser over a source to its end (or the end of the range). */
export async function feedParser(parser: SpedParser, source: SpedSource, options: SpedReadOptions = {}): Promise<void> {
  let lastReport = 0;
  for await (const chunk of chunksOf(source, options)) {
    parser.push(chunk);
    if (parser.done) break;
    if (options.onProgress && parser.info.bytes - lastReport >= 1 << 20) {
      lastReport = parser.info.bytes;
      options.onProgress(parser.info.bytes);
    }
  }
  parser.end();
}

export function parserOptions(options: SpedReadOptions): SpedReadOptions & { baseOffset: number; skipPartialFirstLine: boolean } {
  const start = options.start ?? 0;
  return { ...options, baseOffset: start > 0 ? start - 1 : 0, skipPartialFirstLine: start > 0 };
}

/** Bytes parsed at a time by `readSped` before its records are handed out. */
const BATCH_BYTES = 1 << 16;

export interface ReadSpedResult {
  /** Records in file order. */
  records: AsyncIterable<SpedRecord>;
  /** Counters and detections, complete once the iteration ends. */
  info: SpedReadInfo;
  /** Reader findings (line format, encoding, blank lines, overlong lines) in order. */
  findings: SpedFinding[];
}

/**
 * Reads records from a path, stdin or any Readable, in constant memory.
 *
 *   const { records, info } = readSped('efd.txt');
 *   for await (const r of records) if (r.register === 'C100') total = total.add(r.decimal('VL_DOC') ?? Decimal.ZERO);
 */
export function readSped(source: SpedSource, options: SpedReadOptions = {}): ReadSpedResult {
  const findings: SpedFinding[] = [];
  let batch: SpedRecord[] = [];
  const parser = new SpedParser(
    (fields, line, offset) => batch.push(new SpedRecord(line, offset, fields, parser.defsFor(fields[0]!))),
    (f) => findings.push(f),
    parserOptions(options),
  );
  async function* iterate(): AsyncGenerator<SpedRecord> {
    for await (const chunk of chunksOf(source, options)) {
      // parse a 1 MiB read in 64 KiB slices: the records waiting to be consumed stay few (they are the memory
      // a slow consumer holds: ~600 records instead of ~10,000, which kept to-jsonl's heap large)
      for (let at = 0; at < chunk.length && !parser.done; at += BATCH_BYTES) {
        parser.push(at === 0 && chunk.length <= BATCH_BYTES ? chunk : chunk.subarray(at, at + BATCH_BYTES));
        const out = batch;
        batch = [];
        yield* out;
      }
      if (parser.done) break;
      options.onProgress?.(parser.info.bytes);
    }
    parser.end();
    yield* batch;
    batch = [];
  }
  return { records: iterate(), info: parser.info, findings };
}
