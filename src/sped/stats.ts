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
import type { RangePlan } from './line-ranges.js';
import type { FiscalPool } from '../pool/pool.js';

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
  /** More than 1 (or a pool of more) reads a file path of 8 MiB or more in byte ranges on worker threads: the same summary. */
  threads?: number;
  pool?: FiscalPool;
  /** @internal Bytes per range (default: the file over 8 × threads, 4 to 32 MiB); given, any size goes to ranges (tests). */
  rangeBytes?: number;
  /** @internal Told how the file was split (not called when it was read on one thread). */
  onPlan?: (plan: RangePlan) => void;
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
/** Distinct register codes counted in a file; lines of codes past these are counted only as a whole. */
export const MAX_KEYS = TABLE_SIZE >> 1;

/**
 * Counts 4-byte keys without allocating: open addressing on typed arrays, insertion order kept. Past `MAX_KEYS`
 * distinct keys the lines are counted in `overflow`, or, with `spill` (a byte range of a file, whose merge applies
 * the file's limit), in a Map.
 */
export class KeyCounter {
  private readonly keys = new Int32Array(TABLE_SIZE);
  private readonly used = new Uint8Array(TABLE_SIZE);
  private readonly counts = new Float64Array(TABLE_SIZE);
  /** Slots in order of first appearance; a spilled key as -1 - its index in `spilled`. */
  private readonly order: number[] = [];
  private readonly spill: Map<number, number> | null;
  private readonly spilled: number[] = [];
  private tableKeys = 0;
  overflow = 0;

  constructor(options: { spill?: boolean } = {}) {
    this.spill = options.spill ? new Map() : null;
  }

  add(key: number): void {
    let h = Math.imul(key, 0x9e3779b1) >>> (32 - TABLE_BITS);
    for (;;) {
      if (this.used[h] === 0) {
        if (this.tableKeys >= MAX_KEYS) {
          this.addSpilled(key);
          return;
        }
        this.used[h] = 1;
        this.keys[h] = key;
        this.counts[h] = 1;
        this.order.push(h);
        this.tableKeys++;
        return;
      }
      if (this.keys[h] === key) {
        this.counts[h]!++;
        return;
      }
      h = (h + 1) & (TABLE_SIZE - 1);
    }
  }

  private addSpilled(key: number): void {
    if (this.spill === null) {
      this.overflow++;
      return;
    }
    const n = this.spill.get(key);
    if (n === undefined) {
      this.order.push(-1 - this.spilled.length);
      this.spilled.push(key);
    }
    this.spill.set(key, (n ?? 0) + 1);
  }

  entries(): [string, number][] {
    return this.order.map((h) => {
      const k = h >= 0 ? this.keys[h]! : this.spilled[-1 - h]!;
      const code = String.fromCharCode((k >>> 24) & 0xff, (k >>> 16) & 0xff, (k >>> 8) & 0xff, k & 0xff);
      return [code, h >= 0 ? this.counts[h]! : this.spill!.get(k)!];
    });
  }
}

const KEY_0000 = 0x30303030;

/**
 * The per-line work of `spedStats`: counts the line's register (or an invalid line), and decodes 0000 (layout,
 * header) and the version register. Shared by the one-thread run and the range job (stats-range-job.ts).
 */
export class StatsScan {
  readonly counter: KeyCounter;
  invalidLines = 0;
  layout: Layout | null = null;
  header: string[] | null = null;
  version: string | null = null;
  private versionKey = -1;
  private versionPos = 0;

  constructor(
    private readonly forcedLayout: LayoutId | undefined,
    private readonly report: (f: SpedFinding) => void,
    options: { spill?: boolean } = {},
  ) {
    this.counter = new KeyCounter(options);
    this.useLayout(forcedLayout ? loadLayout(forcedLayout) : null);
  }

  /** Continues from the detections of an earlier part of the file. */
  restore(state: { layout: LayoutId | null; version: string | null; header: readonly string[] | null }): void {
    if (!this.forcedLayout) this.useLayout(state.layout ? loadLayout(state.layout) : null);
    this.version = state.version;
    this.header = state.header === null ? null : [...state.header];
  }

  private useLayout(l: Layout | null): void {
    this.layout = l;
    if (!l) return;
    const rule = l.data.version;
    this.versionKey = keyOf(Buffer.from(rule.register, 'latin1'), 0);
    this.versionPos = l.register(rule.register)?.fields.find((f) => f.name === rule.field)?.pos ?? 0;
  }

  private takeVersion(fields: readonly string[]): void {
    const raw = this.versionPos > 0 ? fields[this.versionPos - 1] : undefined;
    if (raw) this.version = this.layout?.data.version.pad ? raw.padStart(this.layout.data.version.pad, '0') : raw;
  }

  line(buf: Buffer, start: number, end: number, line: number, encoding: SpedEncoding): void {
    if (
      end - start < 6 || buf[start] !== 124 || buf[start + 5] !== 124 ||
      CODE_CHAR[buf[start + 1]!] === 0 || CODE_CHAR[buf[start + 2]!] === 0 || CODE_CHAR[buf[start + 3]!] === 0 || CODE_CHAR[buf[start + 4]!] === 0
    ) {
      this.invalidLines++;
      this.report(finding('SPED_LINE_FORMAT', buf[start] !== 124 ? 'line does not start with |REG|' : 'register code is not 4 characters 0-9/A-Z', { line }));
      return;
    }
    const key = keyOf(buf, start + 1);
    this.counter.add(key);
    if (key === KEY_0000 && this.header === null) {
      this.header = splitLine(decodeBytes(buf, start, end, encoding));
      if (!this.header) return;
      if (!this.forcedLayout) {
        const id = detectLayout(this.header);
        this.useLayout(id ? loadLayout(id) : null);
      }
      if (this.versionKey === KEY_0000) this.takeVersion(this.header);
    } else if (key === this.versionKey && this.version === null && key !== KEY_0000) {
      const fields = splitLine(decodeBytes(buf, start, end, encoding));
      if (fields) this.takeVersion(fields);
    }
  }
}

/** What `spedStats` summarises, from one thread or merged ranges. */
export interface StatsTally {
  layout: Layout | null;
  header: readonly string[] | null;
  version: string | null;
  /** Lines per register code, in order of first appearance (at most MAX_KEYS codes). */
  entries: [string, number][];
  overflow: number;
  invalidLines: number;
  encoding: SpedEncoding;
  bytes: number;
  lines: number;
  signature: SignatureBlock | null;
}

/** A finding collector with the cap of `maxFindings`. */
function collector(options: SpedStatsOptions): { report: (f: SpedFinding) => void; findings: SpedFinding[]; count: () => number } {
  const maxFindings = options.maxFindings ?? 1000;
  const findings: SpedFinding[] = [];
  let findingCount = 0;
  return {
    findings,
    count: () => findingCount,
    report(f) {
      findingCount++;
      if (findings.length < maxFindings) findings.push(f);
      options.onFinding?.(f);
    },
  };
}

function checkLayoutOption(options: SpedStatsOptions): void {
  if (options.layout !== undefined && !isLayoutId(options.layout)) {
    throw new UsageError(`unknown layout '${options.layout}' (expected one of ${LAYOUT_IDS.join(', ')})`, 'SPED_LAYOUT_UNKNOWN');
  }
}

/** Summarises a SPED file from a path, stdin or any Readable; a path on several threads with `threads`/`pool`. */
export async function spedStats(source: SpedSource, options: SpedStatsOptions = {}): Promise<SpedStatsResult> {
  checkLayoutOption(options);
  const threads = options.pool?.threads ?? options.threads ?? 1;
  if (typeof source === 'string' && threads > 1) {
    const { statsInRanges } = await import('./stats-ranges.js');
    const c = collector(options);
    const tally = await statsInRanges(source, options, c.report);
    if (tally !== null) return summarize(tally, c);
  }
  const c = collector(options);
  const scan = new StatsScan(options.layout, c.report);
  const scanner: SpedScanner = new SpedScanner({
    maxLineBytes: options.maxLineBytes,
    onFinding: c.report,
    onLine: (buf, start, end, line) => scan.line(buf, start, end, line, scanner.encoding),
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
  return summarize(
    {
      layout: scan.layout, header: scan.header, version: scan.version, entries: scan.counter.entries(), overflow: scan.counter.overflow,
      invalidLines: scan.invalidLines, encoding: scanner.encoding, bytes: scanner.bytes, lines: scanner.lines, signature: scanner.signature,
    },
    c,
  );
}

function summarize(t: StatsTally, c: ReturnType<typeof collector>): SpedStatsResult {
  if (t.bytes === 0) c.report(finding('SPED_EMPTY', 'the file is empty'));
  else if (t.header === null) c.report(finding('SPED_NOT_SPED', 'no 0000 record: not a SPED file'));
  else if (t.layout === null) c.report(finding('SPED_NOT_SPED', '0000 matches no known layout (efd-icms-ipi, efd-contribuicoes, ecd)', { line: null }));

  const l = t.layout;
  const registers: Record<string, number> = {};
  const blocks: Record<string, number> = {};
  for (const [code, n] of t.entries) {
    registers[code] = n;
    const block = l?.register(code)?.block ?? code[0]!;
    blocks[block] = (blocks[block] ?? 0) + n;
  }
  if (t.overflow > 0) {
    c.report(finding('SPED_UNKNOWN_REGISTER', `more than ${MAX_KEYS} distinct register codes; ${t.overflow} lines not counted by register`));
  }
  const h = t.header;
  const field = (register: string, name: string | undefined): string | null => {
    if (!l || !h || !name || register !== '0000') return null;
    const pos = l.register('0000')?.fields.find((f) => f.name === name)?.pos;
    const v = pos ? h[pos - 1] : undefined;
    return v === undefined || v === '' ? null : v;
  };
  const date = (v: string | null): string | null => (v === null ? null : parseSpedDate(v) ?? v);
  const stats: SpedStats = {
    layout: l?.id ?? null,
    version: t.version,
    period: { start: date(field(l?.data.period.register ?? '', l?.data.period.start)), end: date(field(l?.data.period.register ?? '', l?.data.period.end)) },
    company: {
      name: field(l?.data.company.register ?? '', l?.data.company.name),
      cnpj: field(l?.data.company.register ?? '', l?.data.company.cnpj) ?? field(l?.data.company.register ?? '', l?.data.company.cpf),
    },
    encoding: t.encoding,
    bytes: t.bytes,
    lines: t.lines,
    signature: t.signature,
    registers,
    blocks,
    invalidLines: t.invalidLines,
  };
  return { stats, findings: c.findings, findingCount: c.count() };
}

function keyOf(buf: Buffer, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) | 0;
}
