/**
 * One SPED file validated on several threads, with exactly the result of one thread.
 *
 * The split: the main thread validates the head of the file itself (block 0: the reference targets, the period, the
 * version, the encoding decision), up to the first "cut" record — a register at level 2 or 3 outside blocks 0 and
 * 9, after every reference target in the layout's order, with no direction, document or limited-children register
 * above it (C100, D100, E110, C010/C100 in EFD-Contribuições, I150/I200 in ECD). From there the file is cut into
 * byte ranges of about `rangeBytes`, each starting at a cut record. Each range runs in a pool worker through the
 * same validator (`SpedValidator.forRange`), started in the state a well-formed file has at a cut record — the
 * head's reference keys, period, version, counts and encoding; open above it the cut register's parents; inside
 * its block's run — and hands back its findings in order, the checks it cannot make alone (deferred: a reference
 * to a key an earlier range may hold, the totals and IND_MOV of the block run it started in, the apuration sums,
 * where the previous document closes), and the compact state it leaves (open registers, block runs, counts, keys
 * added, sums). The merge takes the ranges in file order: it first checks that the state the worker assumed is the
 * real one (the open registers, the block, the encoding, no 9999 yet, no count-limited register counted twice, no
 * document or limited record continuing across the cut), then resolves the deferred checks against the real state
 * and places every finding at its file line. When an assumption does not hold (a disordered or truncated file can
 * break one), the whole file is validated again on one thread: the result is the same either way.
 */
import { promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { ioError } from '../errors.js';
import { mapInOrder, withPool, type FiscalPool } from '../pool/pool.js';
import { detectLayout, loadLayout, type Layout } from './layout.js';
import { feedParser, parserOptions, SpedParser, type SpedReadInfo } from './reader.js';
import { RangeMismatch, type MergeState, type RangeResult, type RangeStart } from './range-state.js';
import { splitLine } from './record.js';
import type { ValidateRangeJob } from './validate-range-job.js';
import { SpedValidator, validateOneThread, type ValidateOptions, type ValidationResult } from './validator.js';

// files smaller than this are validated on one thread (a worker costs more than it saves), unless `rangeBytes` is given
import { MIN_PARALLEL_BYTES } from './line-ranges.js';
export { MIN_PARALLEL_BYTES };
/** Default range size: about eight ranges per thread (load balance), within these bounds. */
const MIN_RANGE_BYTES = 4 << 20;
const MAX_RANGE_BYTES = 32 << 20;

export interface RangeValidateOptions extends ValidateOptions {
  /** @internal Bytes per range (default: the file over 8 × threads, 4 to 32 MiB); small values make small files many ranges (tests). */
  rangeBytes?: number;
  /** @internal Told how the file was split: the ranges, and why it went to one thread (null: it did not). */
  onPlan?: (plan: { ranges: number; fallback: string | null }) => void;
}

/** A byte range starting at a cut record. */
interface ByteRange {
  start: number;
  end: number;
  cut: string;
}

/** Validates the file at `path` in byte ranges on `pool`'s workers (see the module comment). */
export async function validateInRanges(path: string, options: RangeValidateOptions, pool: FiscalPool): Promise<ValidationResult> {
  const plan = await planFile(path, options, pool.threads);
  if (typeof plan === 'string') return oneThread(path, options, plan);
  try {
    return await validatePlan(path, plan, options, pool);
  } catch (err) {
    if (err instanceof RangeMismatch) return oneThread(path, options, err.message);
    throw err;
  }
}

/** `validateSped` with threads: ranges for a path on a pool, one thread otherwise. */
export async function validateWithPool(path: string, options: RangeValidateOptions & { threads?: number; pool?: FiscalPool }): Promise<ValidationResult> {
  // a small file goes to one thread before any worker is started for it (~40 ms of a short run)
  if (options.pool === undefined && options.rangeBytes === undefined) {
    const size = await fsp.stat(path).then((st) => st.size, () => null);
    if (size !== null && size < MIN_PARALLEL_BYTES) return oneThread(path, options, 'small file');
  }
  return withPool(options, (pool) => (pool.threads > 1 ? validateInRanges(path, options, pool) : validateOneThread(path, options)));
}

async function oneThread(path: string, options: RangeValidateOptions, why: string): Promise<ValidationResult> {
  options.onPlan?.({ ranges: 1, fallback: why });
  return validateOneThread(path, options);
}

interface FilePlan {
  layout: Layout;
  size: number;
  ranges: ByteRange[];
}

/** The layout, and the ranges after the head; a string says why the file goes to one thread. */
async function planFile(path: string, options: RangeValidateOptions, threads: number): Promise<FilePlan | string> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path, 'r');
  } catch (err) {
    throw ioError(err, path, 'open');
  }
  try {
    const size = (await handle.stat()).size;
    if (options.rangeBytes === undefined && size < MIN_PARALLEL_BYTES) return 'small file';
    const layout = options.layout ? loadLayout(options.layout) : await layoutOfFirstLine(handle);
    if (layout === null) return 'no layout in the first line';
    const isCut = cutRegisters(layout);
    const rangeBytes = Math.max(1, options.rangeBytes ?? Math.min(MAX_RANGE_BYTES, Math.max(MIN_RANGE_BYTES, Math.ceil(size / (threads * 8)))));
    const ranges: ByteRange[] = [];
    let cut = await nextCut(handle, 0, size, isCut);
    while (cut !== null) {
      const next = await nextCut(handle, cut.offset + rangeBytes, size, isCut);
      ranges.push({ start: cut.offset, end: next?.offset ?? size, cut: cut.reg });
      cut = next;
    }
    if (ranges.length === 0) return 'no cut record';
    return { layout, size, ranges };
  } catch (err) {
    throw ioError(err, path, 'read');
  } finally {
    await handle.close();
  }
}

async function layoutOfFirstLine(handle: fsp.FileHandle): Promise<Layout | null> {
  const buf = Buffer.alloc(4096);
  const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
  const nl = buf.subarray(0, bytesRead).indexOf(10);
  const fields = splitLine(buf.toString('latin1', 0, nl < 0 ? bytesRead : nl).replace(/\r$/, ''));
  const id = fields ? detectLayout(fields) : null;
  return id ? loadLayout(id) : null;
}

const cutSets = new WeakMap<Layout, Set<string>>();

/**
 * The registers a range may start at (see the module comment): level 2 or 3, outside blocks 0 and 9, after every
 * reference target, with no direction, document or limited-children register above them. Only speed depends on
 * this choice: the merge checks every assumption a cut makes.
 */
export function cutRegisters(layout: Layout): Set<string> {
  let set = cutSets.get(layout);
  if (set) return set;
  const data = layout.data;
  const targets = new Set(data.references.map((r) => r.target));
  const lastTarget = Math.max(-1, ...data.registers.map((r, i) => (targets.has(r.code) ? i : -1)));
  const docs = new Set([...(data.consistency.documentTotals ?? []).map((r) => r.document), ...(data.consistency.itemsVsAnalytic ?? []).map((r) => r.document)]);
  const stateful = (code: string): boolean =>
    docs.has(code) || (data.direction?.registers.includes(code) ?? false) || data.exceptions.some((x) => x.register === code && x.children !== undefined);
  set = new Set();
  for (let i = lastTarget + 1; i < data.registers.length; i++) {
    const def = data.registers[i]!;
    if (def.level < 2 || def.level > 3 || def.block === '0' || def.block === '9') continue;
    const parent = def.level === 3 ? layout.register(def.parent ?? '') : undefined;
    if (def.level === 3 && (parent === undefined || stateful(parent.code))) continue;
    set.add(def.code);
  }
  cutSets.set(layout, set);
  return set;
}

/** The first line starting at or after `from` whose register is a cut register: its offset and register. */
async function nextCut(handle: fsp.FileHandle, from: number, size: number, isCut: Set<string>): Promise<{ offset: number; reg: string } | null> {
  const window = Buffer.alloc(1 << 16);
  // pos: where the window is read; atStart: pos is a line start (else the first line break is looked for)
  let pos = from === 0 ? 0 : from - 1;
  let atStart = from === 0;
  while (pos < size) {
    const { bytesRead } = await handle.read(window, 0, window.length, pos);
    if (bytesRead === 0) break;
    const buf = window.subarray(0, bytesRead);
    let i = 0;
    if (!atStart) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        pos += bytesRead;
        continue;
      }
      i = nl + 1;
      atStart = true;
    }
    for (;;) {
      if (i + 6 > bytesRead) break;
      if (buf[i] === 124 && buf[i + 5] === 124) {
        const reg = buf.toString('latin1', i + 1, i + 5);
        if (isCut.has(reg)) return { offset: pos + i, reg };
      }
      const nl = buf.indexOf(10, i);
      if (nl < 0) break;
      i = nl + 1;
    }
    if (pos + i >= size) break;
    if (i === 0) {
      // a line longer than the window: look for its end
      atStart = false;
      pos += 1;
    } else pos += i;
    if (bytesRead < window.length && i + 6 > bytesRead && pos + 6 > size) break;
  }
  return null;
}

async function validatePlan(path: string, plan: FilePlan, options: RangeValidateOptions, pool: FiscalPool): Promise<ValidationResult> {
  const maxErrors = options.maxErrors ?? 1000;
  const first = plan.ranges[0]!;
  // the head, here: the state every range starts from
  const head = new SpedValidator({ maxErrors });
  const headOptions = { layout: options.layout, encoding: options.encoding, maxLineBytes: options.maxLineBytes, end: first.start };
  const parser = new SpedParser(
    (fields, line) => head.record(fields, line, parser.layout, parser.info.version),
    (f) => head.readerFinding(f),
    parserOptions(headOptions),
  );
  parser.byteLine = (buf, s, e, line) => head.recordBytes(buf, s, e, line, parser.info.version, parser.scanner.encoding);
  await feedParser(parser, path, headOptions);
  if (parser.info.layout !== plan.layout.id) throw new RangeMismatch('the layout is not the first line\'s');
  const start = head.rangeStart(parser.scanner.encodingState());
  if (start === null || parser.scanner.ended) throw new RangeMismatch('the head leaves no state to start ranges from');
  const merge: MergeState = {
    tail: head.closeTail(), childrenOpen: head.childrenOpenLevel, encoding: parser.scanner.encodingState(), scannerEnded: parser.scanner.ended,
  };
  const info: SpedReadInfo = { ...parser.info };
  options.onProgress?.(first.start);
  const nonce = randomBytes(6).toString('hex');
  const job = (r: ByteRange): ValidateRangeJob => ({ path, start: r.start, end: r.end, cut: r.cut, maxErrors, nonce, from: start, maxLineBytes: options.maxLineBytes });
  await mapInOrder(
    plan.ranges,
    (r) => pool.run<RangeResult>('sped.validate-range', job(r)),
    (result, i) => {
      const r = plan.ranges[i]!;
      head.absorbRange(result, r.cut, start, merge, info.lines + 1, nonce);
      info.lines += result.lines;
      info.blankLines += result.blankLines;
      info.records += result.records;
      info.encoding = result.encoding.encoding;
      if (result.signature !== null) info.signature = result.signature;
      options.onProgress?.(r.end);
    },
    pool.threads * 2,
  );
  info.bytes = plan.size;
  const result = head.finishRanges(merge, info);
  options.onPlan?.({ ranges: plan.ranges.length, fallback: null });
  if (options.onFinding) for (const f of result.errors) options.onFinding(f);
  return result;
}
