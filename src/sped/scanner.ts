/**
 * The SPED byte scanner: the stream-agnostic core every reader shares (file, stdin, a byte range in a worker).
 * Fed with Buffer chunks, it finds line boundaries (LF or CRLF), numbers lines, caps line length, decides the
 * encoding from the first line that tells, and recognises the PVA signature block after |9999|. It never decodes
 * what nobody asks for: handlers receive byte ranges.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { finding, type SpedFinding } from './findings.js';

export type SpedEncoding = 'ascii' | 'utf-8' | 'windows-1252';

export interface SignatureBlock {
  /** Absolute byte offset of the block (its `SBRCAAEPDR` marker). */
  readonly offset: number;
  readonly length: number;
}

/** Receives one line: `buf[start..end)` without the line break. */
export type LineHandler = (buf: Buffer, start: number, end: number, line: number, offset: number) => void;

export interface ScannerOptions {
  onLine: LineHandler;
  onFinding: (f: SpedFinding) => void;
  /** Longest line accepted, in bytes; longer lines are reported and skipped. Default 32 MiB. */
  maxLineBytes?: number;
  /** Line number of the first line fed (for ranges). Default 1. */
  firstLine?: number;
  /** Absolute offset of the first byte fed. Default 0. */
  baseOffset?: number;
  /** When feeding from the middle of a file: discard bytes up to and including the first line break. */
  skipPartialFirstLine?: boolean;
  /** Absolute offset: lines that start at or after it are not processed (byte ranges). */
  rangeEnd?: number;
  /** Force an encoding instead of detecting it. */
  encoding?: SpedEncoding;
}

/** What a resumed scanner needs (plain JSON): see `SpedScanner.snapshot`. */
export type ScannerState = {
  /** Byte offset of the next line. */
  offset: number;
  lines: number;
  blankLines: number;
  encoding: SpedEncoding;
  encodingDecided: boolean;
  ended: boolean;
  utf8Errors: number;
};

export const SIGNATURE_MARKER = Buffer.from('SBRCAAEPDR', 'latin1');
const END_PREFIX = Buffer.from('|9999|', 'latin1');
const DEFAULT_MAX_LINE = 32 * 1024 * 1024;

/** The scanner's encoding decision: the encoding, whether a line decided it, invalid UTF-8 lines reported. */
export interface EncodingState {
  readonly encoding: SpedEncoding;
  readonly decided: boolean;
  readonly utf8Errors: number;
}

export class SpedScanner {
  /** Bytes consumed (including skipped and signature bytes). */
  bytes = 0;
  /** Lines seen (including blank ones). */
  lines = 0;
  blankLines = 0;
  encoding: SpedEncoding = 'ascii';
  encodingDecided = false;
  signature: SignatureBlock | null = null;
  /** True once the |9999| line was seen. */
  ended = false;
  /** True once a range end was reached: further input is ignored. */
  done = false;

  private readonly onLine: LineHandler;
  private readonly onFinding: (f: SpedFinding) => void;
  private readonly maxLine: number;
  private readonly firstLine: number;
  private readonly baseOffset: number;
  private readonly rangeEnd: number;
  private skipping: boolean;
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private overlong = false;
  private inSignature = false;
  private utf8Errors = 0;

  constructor(options: ScannerOptions) {
    this.onLine = options.onLine;
    this.onFinding = options.onFinding;
    this.maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE;
    this.firstLine = options.firstLine ?? 1;
    this.baseOffset = options.baseOffset ?? 0;
    this.rangeEnd = options.rangeEnd ?? Infinity;
    this.skipping = options.skipPartialFirstLine ?? false;
    if (options.encoding) {
      this.encoding = options.encoding;
      this.encodingDecided = true;
    }
  }

  /** The encoding decision so far (a byte range of the file starts from the state its previous part ended in). */
  encodingState(): EncodingState {
    return { encoding: this.encoding, decided: this.encodingDecided, utf8Errors: this.utf8Errors };
  }

  /** Continues from an encoding decision made on an earlier part of the file (`encodingState`). */
  assumeEncoding(state: EncodingState): void {
    this.encoding = state.encoding;
    this.encodingDecided = state.decided;
    this.utf8Errors = state.utf8Errors;
  }

  /**
   * The scanner's state at the start of the next unprocessed line, for a resumable run (src/sped/checkpoint.ts);
   * null where a run cannot resume: inside an overlong line or the signature block, or in a byte range.
   */
  snapshot(): ScannerState | null {
    if (this.overlong || this.inSignature || this.skipping || this.done || this.baseOffset !== 0 || this.firstLine !== 1 || this.rangeEnd !== Infinity) return null;
    return this.current();
  }

  /**
   * The state as `snapshot` gives it, without its guards: right only between two lines of a scanner fed from a
   * restored state (a byte range of line-ranges.ts, which checks `snapshot() !== null` where it must resume).
   */
  current(): ScannerState {
    return {
      offset: this.bytes - this.carryBytes,
      lines: this.lines,
      blankLines: this.blankLines,
      encoding: this.encoding,
      encodingDecided: this.encodingDecided,
      ended: this.ended,
      utf8Errors: this.utf8Errors,
    };
  }

  /** Continues from a snapshot: the next byte pushed is the one at `state.offset` of the file. */
  restore(state: ScannerState): void {
    this.bytes = state.offset;
    this.lines = state.lines;
    this.blankLines = state.blankLines;
    this.encoding = state.encoding;
    this.encodingDecided = state.encodingDecided;
    this.ended = state.ended;
    this.utf8Errors = state.utf8Errors;
  }

  /** Absolute offset of the next unprocessed line and its number: a checkpoint to resume from. */
  checkpoint(): { offset: number; line: number } {
    return { offset: this.baseOffset + this.bytes - this.carryBytes, line: this.firstLine + this.lines };
  }

  push(chunk: Buffer): void {
    if (this.done) return;
    const chunkStart = this.bytes; // relative offset of chunk[0]
    this.bytes += chunk.length;
    if (this.inSignature) {
      this.growSignature(chunk.length);
      return;
    }
    let pos = 0;
    if (this.skipping) {
      const nl = chunk.indexOf(10);
      if (nl === -1) return;
      this.skipping = false;
      pos = nl + 1;
    }
    const asciiChunk = !this.encodingDecided || this.encoding === 'utf-8' ? isAscii(chunk) : true;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      if (nl === -1) {
        this.keep(chunk, pos, chunk.length);
        return;
      }
      if (this.carryBytes > 0 || this.overlong) {
        this.keep(chunk, pos, nl);
        const lineStart = chunkStart + nl - this.carryBytes - this.overlongBytes;
        if (this.overlong) this.reportOverlong(lineStart, nl + 1 - pos);
        else {
          const line = Buffer.concat(this.carry, this.carryBytes);
          this.emit(line, 0, line.length, lineStart, false);
        }
        this.carry = [];
        this.carryBytes = 0;
      } else {
        if (nl - pos > this.maxLine) {
          this.overlong = true;
          this.overlongBytes = nl - pos;
          this.reportOverlong(chunkStart + pos, nl - pos + 1);
        } else {
          this.emit(chunk, pos, nl, chunkStart + pos, asciiChunk);
        }
      }
      pos = nl + 1;
      if (this.done) return;
      if (this.inSignature) {
        this.growSignature(chunk.length - pos);
        return;
      }
    }
  }

  /** Flushes a last line without a line break. */
  end(): void {
    if (this.done || this.inSignature) return;
    if (this.overlong) {
      this.reportOverlong(this.bytes - this.overlongBytes, 0);
      return;
    }
    if (this.carryBytes > 0) {
      const line = Buffer.concat(this.carry, this.carryBytes);
      this.carry = [];
      const start = this.bytes - this.carryBytes;
      this.carryBytes = 0;
      this.emit(line, 0, line.length, start, false, false);
    }
  }

  private overlongBytes = 0;

  private keep(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    if (this.overlong) {
      this.overlongBytes += to - from;
      return;
    }
    if (this.carryBytes + (to - from) > this.maxLine) {
      this.overlong = true;
      this.overlongBytes = this.carryBytes + (to - from);
      this.carry = [];
      this.carryBytes = 0;
      return;
    }
    // copy: the chunk may be reused by the stream
    this.carry.push(Buffer.from(chunk.subarray(from, to)));
    this.carryBytes += to - from;
  }

  private reportOverlong(relStart: number, _consumed: number): void {
    if (!this.overlong) return;
    const lineNo = this.firstLine + this.lines;
    this.lines++;
    this.overlong = false;
    const length = this.overlongBytes;
    this.overlongBytes = 0;
    if (this.baseOffset + relStart >= this.rangeEnd) {
      this.done = true;
      return;
    }
    this.onFinding(finding('SPED_LINE_TOO_LONG', `line of ${length} bytes exceeds the limit of ${this.maxLine} bytes; skipped`, { line: lineNo }));
  }

  /** `terminated`: the line ended with a line break (false for a last line flushed by `end()`). */
  private emit(buf: Buffer, start: number, endExclusive: number, relStart: number, asciiKnown: boolean, terminated = true): void {
    const offset = this.baseOffset + relStart;
    if (offset >= this.rangeEnd) {
      this.done = true;
      return;
    }
    const lineNo = this.firstLine + this.lines;
    this.lines++;
    let end = endExclusive;
    if (end > start && buf[end - 1] === 13) end--;
    if (end === start) {
      this.blankLines++;
      this.onFinding(finding('SPED_BLANK_LINE', 'blank line', { line: lineNo }));
      return;
    }
    if (this.ended && buf[start] === 0x53 /* S */ && startsWith(buf, start, end, SIGNATURE_MARKER)) {
      // PVA signature: from the marker to the end of the input, binary; not a line
      this.lines--;
      this.inSignature = true;
      this.signature = { offset, length: 0 };
      this.growSignature(endExclusive - start + (terminated ? 1 : 0));
      return;
    }
    if (!asciiKnown) this.checkEncoding(buf, start, end, lineNo);
    if (!this.ended && buf[start] === 124 && startsWith(buf, start, end, END_PREFIX)) this.ended = true;
    this.onLine(buf, start, end, lineNo, offset);
  }

  private growSignature(n: number): void {
    if (this.signature && n > 0) this.signature = { offset: this.signature.offset, length: this.signature.length + n };
  }

  private checkEncoding(buf: Buffer, start: number, end: number, lineNo: number): void {
    if (this.encodingDecided && this.encoding !== 'utf-8') return;
    const slice = buf.subarray(start, end);
    if (isAscii(slice)) return;
    if (!this.encodingDecided) {
      this.encodingDecided = true;
      this.encoding = isUtf8(slice) ? 'utf-8' : 'windows-1252';
      if (this.encoding === 'utf-8') {
        this.onFinding(finding('SPED_ENCODING', 'file is UTF-8 (decided at this line); the SPED standard is ISO-8859-1/Windows-1252', { line: lineNo, severity: 'warning' }));
      }
      return;
    }
    if (!isUtf8(slice) && this.utf8Errors++ < 100) {
      this.onFinding(finding('SPED_ENCODING', 'invalid UTF-8 in a file decided as UTF-8', { line: lineNo }));
    }
  }
}

function startsWith(buf: Buffer, start: number, end: number, prefix: Buffer): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix[i]) return false;
  return true;
}

const CP1252_C1: Record<number, string> = {
  0x80: '\u20ac', 0x82: '\u201a', 0x83: '\u0192', 0x84: '\u201e', 0x85: '\u2026', 0x86: '\u2020', 0x87: '\u2021',
  0x88: '\u02c6', 0x89: '\u2030', 0x8a: '\u0160', 0x8b: '\u2039', 0x8c: '\u0152', 0x8e: '\u017d', 0x91: '\u2018',
  0x92: '\u2019', 0x93: '\u201c', 0x94: '\u201d', 0x95: '\u2022', 0x96: '\u2013', 0x97: '\u2014', 0x98: '\u02dc',
  0x99: '\u2122', 0x9a: '\u0161', 0x9b: '\u203a', 0x9c: '\u0153', 0x9e: '\u017e', 0x9f: '\u0178',
};
const C1_RE = /[\x80-\x9f]/g;

/** Decodes a line's bytes with the file's encoding (Windows-1252 maps 0x80–0x9F to €, curly quotes, …). */
export function decodeBytes(buf: Buffer, start: number, end: number, encoding: SpedEncoding): string {
  if (encoding === 'utf-8') return buf.toString('utf8', start, end);
  const s = buf.toString('latin1', start, end);
  if (encoding === 'ascii') return s;
  C1_RE.lastIndex = 0;
  return C1_RE.test(s) ? s.replace(C1_RE, (c: string) => CP1252_C1[c.charCodeAt(0)] ?? c) : s;
}
