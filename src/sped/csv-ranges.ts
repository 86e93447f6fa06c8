/**
 * `spedToCsv` on several threads for a file path: the file cut into byte ranges (line-ranges.ts) that each start at
 * a record of level 0 to 2 (0000, a block opener, C100, D100, …) or a document under an establishment
 * (`cutRegisters`); pool workers make each range's rows per register (`sped.to-csv-range`), and the merge appends
 * them to the register files in file order, so every file is byte for byte one thread's. Besides the reader's state a range depends on two things the merge checks:
 * - the records open above its first lines: a range's rows that read one it did not see itself (its first
 *   records' establishment in EFD-Contribuições, or a child before any parent of its own in a disordered file)
 *   were made from a guess (the last merged range's) and run again from the real ones when the guess was wrong;
 * - the tables: a register's cells are presented with the layout version its file was created at; a range that
 *   guessed another version for a register runs again with the real tables.
 * A file's header is the one made at its first record, which is in the first range that holds the register.
 * Checkpoints (a task's resumable run) are taken between two merged ranges in one thread's format (the files' lengths
 * on disk, the records open, the reader's state), so either kind of run resumes the other's.
 */
import { createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import { basename, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify/sync';
import { ioError } from '../errors.js';
import type { FiscalPool } from '../pool/pool.js';
import { makeDir } from '../common/make-dir.js';
import { csvTempDir, cutBackCsvFiles, flushToDisk, moveIntoPlace, syncDir, tooManyRegisters, type OpenRecord } from './csv-rows.js';
import type { Checkpoints } from './checkpoint.js';
import type { CsvRangeJob, CsvRangeResult } from './csv-range-job.js';
import type { CsvState, SpedCsvFile, SpedToCsvOptions, SpedToCsvResult } from './csv.js';
import type { ParserState } from './reader.js';
import { waitDrain } from './drain.js';
import type { SpedFinding } from './findings.js';
import { loadLayout, type Layout } from './layout.js';
import { rangeRun, readInfo, runLineRanges, startAndGuess, type LineRange, type RangeTotals } from './line-ranges.js';

/** Range sizes: rows of a range come back as one buffer, about the size of the range. */
const MIN_RANGE_BYTES = 1 << 20;
const MAX_RANGE_BYTES = 4 << 20;

interface CsvFile {
  register: string;
  file: string;
  out: WriteStream;
  done: Promise<void>;
  version: string | null;
  rows: number;
  /** The file's length when this run opened it (a resumed run appends). */
  base: number;
}

/**
 * The registers a range may start at: those of levels 0 to 2 (their own rows have no parent columns), and the
 * records of level 3 under a level-2 establishment register (`?010`: EFD-Contribuições' A010, C010, D010, F010, …,
 * under which whole blocks of documents sit), whose open establishment the range takes from the last merged range.
 */
function cutRegisters(layout: Layout): Set<string> {
  const establishment = (code: string | null | undefined): boolean => {
    const def = code ? layout.register(code) : undefined;
    return def !== undefined && def.level === 2 && def.code.endsWith('010');
  };
  return new Set(layout.data.registers.filter((r) => r.level <= 2 || (r.level === 3 && establishment(r.parent))).map((r) => r.code));
}

/** The conversion on `pool`, or null when the head names no layout (the cut registers are the layout's: one thread). */
export async function csvInRanges(
  path: string,
  size: number,
  outDir: string,
  options: SpedToCsvOptions & { delimiter: string; rangeBytes?: number },
  pool: FiscalPool,
  plan: Checkpoints | null,
): Promise<SpedToCsvResult | null> {
  const resumed = plan?.state<CsvState>() ?? null;
  const { from, guess } = resumed ? { from: resumed.parser, guess: resumed.parser } : await startAndGuess(path, size, options);
  const layoutId = options.layout ?? guess.layout;
  if (layoutId === null) return null;
  const layout = loadLayout(layoutId);
  const cuts = cutRegisters(layout);
  const cutAt = (buf: Buffer, i: number): boolean => buf[i] === 124 && buf[i + 5] === 124 && cuts.has(buf.toString('latin1', i + 1, i + 5));
  const maxRegisters = options.maxRegisters ?? 1000;
  const decimalComma = options.decimalComma ?? false;
  const bom = options.bom ?? false;

  await makeDir(outDir);
  const tmp = resumed ? join(outDir, resumed.dir) : await csvTempDir(outDir);
  /** True once this run made or resumed from a checkpoint: a failure then keeps the temporary folder. */
  let keep = resumed !== null;
  const files = new Map<string, CsvFile>();
  let opened: (OpenRecord | null)[] = resumed?.opened ?? [];
  let readerFindings = resumed?.findingCount ?? 0;
  let extraFindings = resumed?.extraFindings ?? 0;
  const report = (f: SpedFinding): void => void options.onFinding?.(f);
  const tables = (): CsvRangeJob['tables'] => [...files.values()].map((f) => [f.register, f.version]);

  /** A register's file: new with its header, or (resumed) the checkpoint's, appended to from its recorded length. */
  const open = (register: string, version: string | null, header: string[] | null, resume: { rows: number; base: number } | null): CsvFile => {
    const file = join(tmp, `${register}.csv`);
    const out = resume ? createWriteStream(file, { flags: 'r+', start: resume.base }) : createWriteStream(file, { flags: 'wx' });
    const f: CsvFile = { register, file, out, done: finished(out), version, rows: resume?.rows ?? 0, base: resume?.base ?? 0 };
    f.done.catch(() => {}); // observed at the end; no unhandled rejection meanwhile
    if (header !== null) out.write(stringify([header], { delimiter: options.delimiter, bom }));
    files.set(register, f);
    return f;
  };

  /** Every file's bytes on disk, their lengths known, and the checkpoint recorded: the run can resume after `range`. */
  const checkpoint = async (range: LineRange, at: ParserState, totals: RangeTotals): Promise<void> => {
    const list: CsvState['files'] = [];
    try {
      for (const f of files.values()) {
        await flushToDisk(f.out);
        list.push({ register: f.register, version: f.version, rows: f.rows, bytes: f.base + f.out.bytesWritten });
      }
      await syncDir(tmp);
    } catch (err) {
      throw ioError(err, outDir, 'write');
    }
    keep = true;
    const parser: ParserState = { ...at, records: totals.records, scanner: { ...at.scanner, blankLines: totals.blankLines } };
    await plan!.take(range.end, at.scanner.lines + 1, 0, {
      parser, dir: basename(tmp), files: list, opened, findingCount: readerFindings, extraFindings,
    } satisfies CsvState);
  };

  let ok = false;
  try {
    if (resumed) {
      await cutBackCsvFiles(tmp, outDir, resumed.dir, resumed.files);
      for (const f of resumed.files) open(f.register, f.version, null, { rows: f.rows, base: f.bytes });
    }
    const { state, totals } = await runLineRanges<CsvRangeResult>({
      ...rangeRun('sped.to-csv-range', pool, path, size, { from, guess }, options, MIN_RANGE_BYTES, MAX_RANGE_BYTES),
      cutAt,
      // the guess of the records open above a range: the last merged range's (the establishment under which it starts)
      extra: () => ({ delimiter: options.delimiter, decimalComma, tables: tables(), opened }),
      fits(result, extra) {
        const given = extra['opened'] as (OpenRecord | null)[];
        if (result.readsInherited.some((level) => JSON.stringify(given[level] ?? null) !== JSON.stringify(opened[level] ?? null))) return false;
        return result.parts.every((p) => {
          const f = files.get(p.register);
          return f === undefined || f.version === p.version;
        });
      },
      async emit(result, range, totals) {
        // past the limit of distinct registers the run stops at that register's first record, as one thread's does
        let count = files.size;
        const over = result.parts.find((p) => !files.has(p.register) && count++ >= maxRegisters);
        for (const f of result.findings) if (over === undefined || f.line === null || f.line <= over.firstLine) report(f);
        if (over !== undefined) throw tooManyRegisters(maxRegisters, over.firstLine);
        readerFindings += result.findings.length - result.extraFindings;
        extraFindings += result.extraFindings;
        const bytes = Buffer.from(result.bytes.buffer, result.bytes.byteOffset, result.bytes.byteLength);
        for (const p of result.parts) {
          const f = files.get(p.register) ?? open(p.register, p.version, p.header, null);
          f.rows += p.rows;
          if (!f.out.write(bytes.subarray(p.start, p.end))) await waitDrain(f.out);
        }
        if (result.localFrom !== Infinity) {
          // levels below localFrom: the records open before the range, which it did not change
          const next = [...result.opened];
          for (let level = 0; level < result.localFrom && level < next.length; level++) next[level] = opened[level] ?? null;
          opened = next;
        }
        options.onProgress?.(range.end);
        if (plan !== null && result.resumable && !range.last && plan.due(range.end)) await checkpoint(range, result.state, totals);
      },
    });
    try {
      for (const f of files.values()) f.out.end();
      await Promise.all([...files.values()].map((f) => f.done));
    } catch (err) {
      throw ioError(err, outDir, 'write');
    }
    const done: SpedCsvFile[] = await moveIntoPlace(outDir, files.values());
    ok = true;
    return { info: readInfo(state, totals, size), files: done, findingCount: readerFindings + extraFindings };
  } finally {
    for (const f of files.values()) f.out.destroy();
    // emptied by the move; a failed run's partial files, unless a checkpoint needs them
    if (ok || !keep) await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}
