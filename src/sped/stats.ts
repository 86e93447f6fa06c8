/**
 * `spedStats`: a summary of a SPED file (layout, version, period, company, encoding, lines, signature, lines per
 * register and per block) at close to disk speed. It drives the byte scanner directly and counts registers by
 * the four bytes after the leading `|` in an open-addressing table; only 0000 (and the version register, I010
 * for ECD) is decoded and split.
 */
import { finding, type SpedFinding } from './findings.js';
import { detectLayout, isLayoutId, loadLayout, LAYOUT_IDS, type Layout, type LayoutId } from './layout.js';
import { parseSpedDate, splitLine } from './record.js';
import type { SpedSource } from './reader.js';
import { readChunks } from './chunks.js';
import { decodeBytes, SpedScanner, type SignatureBlock, type SpedEncoding } from './scanner.js';
import { UsageError } from '../errors.js';

export interface SpedStatsOptions {
  /** Layout instead of detecting it from 0000. */
  layout?: LayoutId;
  /** Longest line accepted in bytes (default 32 MiB). */
  maxLineBytes?: number;
  /** Findings kept in the result (default 1000); the rest are only counted. */
  maxFindings?: number;
  /** Called with each finding as it is found (all of them, not capped). */
  onFinding?: (f: SpedFinding) => void;
  /** Called with the bytes consumed so far, about every MiB. */
  onProgress?: (bytes: number) => void;
}

export interface SpedStats {
  layout: LayoutId | null;
  version: string | null;
  /** DT_INI/DT_FIN as ISO dates (the raw text when not a valid ddmmaaaa date). */
  period: { start: string | null; end: string | null };
  company: { name: string | null; cnpj: string | null };
  encoding: SpedEncoding;
  bytes: number;
  /** Physical lines (blank ones included; the signature block is not lines). */
  lines: number;
  signature: SignatureBlock | null;
  /** Lines per register, in order of first appearance. */
  registers: Record<string, number>;
  /** Lines per block (the register's first character), in order of first appearance. */
  blocks: Record<string, number>;
  /** Lines that are not `|XXXX|…` records. */
  invalidLines: number;
}

export interface SpedStatsResult {
  stats: SpedStats;
  /** The first `maxFindings` findings. */
  findings: SpedFinding[];
  /** All findings, including those not kept. */
  findingCount: number;
}

/** 1 for the bytes a register code is made of (0-9, A-Z). */
const CODE_CHAR = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) CODE_CHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) CODE_CHAR[c] = 1;

const TABLE_BITS = 10;
const TABLE_SIZE = 1 << TABLE_BITS; // far more than the ~270 registers a layout has
const MAX_KEYS = TABLE_SIZE >> 1;

/** Counts 4-byte keys without allocating: open addressing on typed arrays, insertion order kept. */
class KeyCounter {
  private readonly keys = new Int32Array(TABLE_SIZE);
  private readonly used = new Uint8Array(TABLE_SIZE);
  private readonly counts = new Float64Array(TABLE_SIZE);
  private readonly order: number[] = [];
  overflow = 0;

  add(key: number): void {
    let h = Math.imul(key, 0x9e3779b1) >>> (32 - TABLE_BITS);
    for (;;) {
      if (this.used[h] === 0) {
        if (this.order.length >= MAX_KEYS) {
          this.overflow++;
          return;
        }
        this.used[h] = 1;
        this.keys[h] = key;
        this.counts[h] = 1;
        this.order.push(h);
        return;
      }
      if (this.keys[h] === key) {
        this.counts[h]!++;
        return;
      }
      h = (h + 1) & (TABLE_SIZE - 1);
    }
  }

  entries(): [string, number][] {
    return this.order.map((h) => {
      const k = this.keys[h]!;
      const code = String.fromCharCode((k >>> 24) & 0xff, (k >>> 16) & 0xff, (k >>> 8) & 0xff, k & 0xff);
      return [code, this.counts[h]!];
    });
  }
}

/** Summarises a SPED file from a path, stdin or any Readable. */
export async function spedStats(source: SpedSource, options: SpedStatsOptions = {}): Promise<SpedStatsResult> {
  if (options.layout !== undefined && !isLayoutId(options.layout)) {
    throw new UsageError(`unknown layout '${options.layout}' (expected one of ${LAYOUT_IDS.join(', ')})`, 'SPED_LAYOUT_UNKNOWN');
  }
  const maxFindings = options.maxFindings ?? 1000;
  const findings: SpedFinding[] = [];
  let findingCount = 0;
  const report = (f: SpedFinding): void => {
    findingCount++;
    if (findings.length < maxFindings) findings.push(f);
    options.onFinding?.(f);
  };

  const counter = new KeyCounter();
  let invalidLines = 0;
  let layout: Layout | null = options.layout ? loadLayout(options.layout) : null;
  let header: string[] | null = null;
  let version: string | null = null;
  let versionKey = -1;
  let versionPos = 0;
  const KEY_0000 = 0x30303030;

  const takeVersion = (fields: readonly string[]): void => {
    const raw = versionPos > 0 ? fields[versionPos - 1] : undefined;
    if (raw) version = layout?.data.version.pad ? raw.padStart(layout.data.version.pad, '0') : raw;
  };
  const useLayout = (l: Layout | null): void => {
    layout = l;
    if (!l) return;
    const rule = l.data.version;
    versionKey = keyOf(Buffer.from(rule.register, 'latin1'), 0);
    versionPos = l.register(rule.register)?.fields.find((f) => f.name === rule.field)?.pos ?? 0;
  };
  useLayout(layout);

  const scanner: SpedScanner = new SpedScanner({
    maxLineBytes: options.maxLineBytes,
    onFinding: report,
    onLine(buf, start, end, line) {
      if (
        end - start < 6 || buf[start] !== 124 || buf[start + 5] !== 124 ||
        CODE_CHAR[buf[start + 1]!] === 0 || CODE_CHAR[buf[start + 2]!] === 0 || CODE_CHAR[buf[start + 3]!] === 0 || CODE_CHAR[buf[start + 4]!] === 0
      ) {
        invalidLines++;
        report(finding('SPED_LINE_FORMAT', buf[start] !== 124 ? 'line does not start with |REG|' : 'register code is not 4 characters 0-9/A-Z', { line }));
        return;
      }
      const key = keyOf(buf, start + 1);
      counter.add(key);
      if (key === KEY_0000 && header === null) {
        header = splitLine(decodeBytes(buf, start, end, scanner.encoding));
        if (!header) return;
        if (!options.layout) {
          const id = detectLayout(header);
          useLayout(id ? loadLayout(id) : null);
        }
        if (versionKey === KEY_0000) takeVersion(header);
      } else if (key === versionKey && version === null && key !== KEY_0000) {
        const fields = splitLine(decodeBytes(buf, start, end, scanner.encoding));
        if (fields) takeVersion(fields);
      }
    },
  });

  let lastReport = 0;
  for await (const chunk of readChunks(source)) {
    scanner.push(chunk);
    if (options.onProgress && scanner.bytes - lastReport >= 1 << 20) {
      lastReport = scanner.bytes;
      options.onProgress(scanner.bytes);
    }
  }
  scanner.end();

  if (scanner.bytes === 0) report(finding('SPED_EMPTY', 'the file is empty'));
  else if (header === null) report(finding('SPED_NOT_SPED', 'no 0000 record: not a SPED file'));
  else if (layout === null) report(finding('SPED_NOT_SPED', '0000 matches no known layout (efd-icms-ipi, efd-contribuicoes, ecd)', { line: null }));

  const registers: Record<string, number> = {};
  const blocks: Record<string, number> = {};
  for (const [code, n] of counter.entries()) {
    registers[code] = n;
    const block = (layout as Layout | null)?.register(code)?.block ?? code[0]!;
    blocks[block] = (blocks[block] ?? 0) + n;
  }
  if (counter.overflow > 0) {
    report(finding('SPED_UNKNOWN_REGISTER', `more than ${MAX_KEYS} distinct register codes; ${counter.overflow} lines not counted by register`));
  }

  const l = layout as Layout | null;
  const h = header as string[] | null;
  const field = (register: string, name: string | undefined): string | null => {
    if (!l || !h || !name || register !== '0000') return null;
    const pos = l.register('0000')?.fields.find((f) => f.name === name)?.pos;
    const v = pos ? h[pos - 1] : undefined;
    return v === undefined || v === '' ? null : v;
  };
  const date = (v: string | null): string | null => (v === null ? null : parseSpedDate(v) ?? v);
  const stats: SpedStats = {
    layout: l?.id ?? null,
    version,
    period: { start: date(field(l?.data.period.register ?? '', l?.data.period.start)), end: date(field(l?.data.period.register ?? '', l?.data.period.end)) },
    company: {
      name: field(l?.data.company.register ?? '', l?.data.company.name),
      cnpj: field(l?.data.company.register ?? '', l?.data.company.cnpj) ?? field(l?.data.company.register ?? '', l?.data.company.cpf),
    },
    encoding: scanner.encoding,
    bytes: scanner.bytes,
    lines: scanner.lines,
    signature: scanner.signature,
    registers,
    blocks,
    invalidLines,
  };
  return { stats, findings, findingCount };
}

function keyOf(buf: Buffer, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) | 0;
}
