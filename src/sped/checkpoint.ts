/**
 * Resumable conversions (to-jsonl, to-csv, fix-totals of a file path): the checkpoint a run hands to its caller
 * every `checkpointEveryBytes` of input, and the checks a resumed run makes before it trusts one.
 *
 * A checkpoint is small plain JSON taken between two input lines, when every output byte before it has been
 * handed to the output: the offset and number of the next input line, the output length, and the state the rest
 * of the run needs (reader counters, encoding, layout and version, the writer's or the CSV tables' counts). A run
 * given `resumeFrom` reads the input from that offset and writes only what follows the output's first
 * `outputBytes` bytes, so kept prefix + resumed bytes = a clean run's bytes, with the same summary (docs/sped.md).
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { ioError, UsageError } from '../errors.js';
import type { ParserState, SpedParser, SpedSource } from './reader.js';

/** Any JSON value, as a checkpoint's state holds. */
export type CheckpointJson = null | boolean | number | string | CheckpointJson[] | { [key: string]: CheckpointJson };

export type SpedCheckpointKind = 'sped.to-jsonl' | 'sped.to-csv' | 'sped.fix-totals';

export const SPED_CHECKPOINT_VERSION = 1;

export type SpedCheckpoint = {
  version: typeof SPED_CHECKPOINT_VERSION;
  kind: SpedCheckpointKind;
  /** Byte offset of the next input line: the resumed run reads from here. */
  inputOffset: number;
  /** That line's number (1-based). */
  line: number;
  /** The input's size when the run started. */
  inputBytes: number;
  /** SHA-256 (hex) of the input's first 64 KiB followed by the 64 KiB before `inputOffset` (a cheap identity check). */
  inputSample: string;
  /** SHA-256 (hex) of the options that shape the output (layout, encoding, delimiter, …). */
  optionsDigest: string;
  /**
   * Bytes handed to the output stream before the checkpoint (to-jsonl, fix-totals): a resumed run is given an output
   * that holds exactly these bytes and writes the rest. For to-csv 0: the CSV files' lengths are in `state`.
   */
  outputBytes: number;
  /** What the rest of the run needs; its shape belongs to the conversion (`kind`). */
  state: { [key: string]: CheckpointJson };
};

export interface ResumableOptions {
  /** Input bytes between two checkpoints (default 64 MiB). Only path inputs are checkpointed. */
  checkpointEveryBytes?: number;
  /**
   * Receives each checkpoint and is awaited: the run waits while the caller makes the output durable (flush,
   * fsync) and records the checkpoint. Never called for a stream input or a byte range.
   */
  onCheckpoint?: (checkpoint: SpedCheckpoint) => Promise<void>;
  /** Continue an interrupted run from this checkpoint (same input path, same options; see docs/sped.md). */
  resumeFrom?: SpedCheckpoint;
  /**
   * Stops the run (its reason thrown, between two slices of input) when aborted: a path input has no stream the
   * caller could destroy. A to-csv run stopped after a checkpoint keeps its temporary folder for the resumed run.
   */
  signal?: AbortSignal;
}

/** A checkpoint that does not belong to this input, conversion or options (or is of another format version). */
export class SpedCheckpointError extends UsageError {
  constructor(message: string) {
    super(message, 'SPED_CHECKPOINT_MISMATCH');
  }
}

export const DEFAULT_CHECKPOINT_BYTES = 64 * 1024 * 1024;
const SAMPLE_BYTES = 64 * 1024;

/**
 * A run's checkpointing: null from `open` when the run neither checkpoints nor resumes (the fast path pays one
 * null test per slice).
 */
export class Checkpoints {
  private last: number;

  private constructor(
    private readonly kind: SpedCheckpointKind,
    private readonly path: string,
    private readonly size: number,
    private readonly optionsDigest: string,
    private readonly every: number,
    private readonly sink: ((checkpoint: SpedCheckpoint) => Promise<void>) | null,
    /** The checkpoint this run resumes from (checked), or null. */
    readonly from: SpedCheckpoint | null,
  ) {
    this.last = from?.inputOffset ?? 0;
  }

  /**
   * Checks `resumeFrom` against the input and the options (`shape`: the options that shape the output) and sets up
   * checkpointing. A SpedCheckpointError when the checkpoint does not fit; a UsageError when it is given with a
   * stream or a byte range.
   */
  static async open(
    kind: SpedCheckpointKind,
    source: SpedSource,
    options: ResumableOptions & { start?: number; end?: number },
    shape: { [key: string]: CheckpointJson },
  ): Promise<Checkpoints | null> {
    const { onCheckpoint, resumeFrom } = options;
    if (!onCheckpoint && !resumeFrom) return null;
    const every = options.checkpointEveryBytes ?? DEFAULT_CHECKPOINT_BYTES;
    if (!(Number.isSafeInteger(every) && every > 0)) {
      throw new UsageError(`checkpointEveryBytes must be a positive integer (got ${every})`, 'SPED_CHECKPOINT_OPTION');
    }
    const ranged = (options.start ?? 0) > 0 || options.end !== undefined;
    if (typeof source !== 'string' || ranged) {
      if (resumeFrom) throw new UsageError('resuming needs the input as a file path, read from its start (not a stream or a byte range)', 'SPED_CHECKPOINT_NEEDS_PATH');
      return null;
    }
    let size: number;
    try {
      size = (await fsp.stat(source)).size;
    } catch (err) {
      throw ioError(err, source, 'open');
    }
    const optionsDigest = sha256(JSON.stringify([kind, shape]));
    const plan = new Checkpoints(kind, source, size, optionsDigest, every, onCheckpoint ?? null, resumeFrom ?? null);
    if (resumeFrom) await plan.check(resumeFrom);
    return plan;
  }

  /** The state saved by the checkpoint resumed from (its conversion's shape), or null for a fresh run. */
  state<S>(): S | null {
    return this.from === null ? null : (this.from.state as unknown as S);
  }

  /** True when a checkpoint is due at input offset `bytes` (cheap: call it often). */
  due(bytes: number): boolean {
    return this.sink !== null && bytes - this.last >= this.every;
  }

  /**
   * The parser's state when a checkpoint is due and the parser stands where a run can resume (between lines, not
   * in an overlong line or the signature block), else null. Cheap: call it after every slice.
   */
  dueState(parser: SpedParser): ParserState | null {
    return this.due(parser.scanner.bytes) ? parser.snapshot() : null;
  }

  /** Makes a checkpoint at `offset` (the start of line `line`) and awaits the caller's `onCheckpoint`. */
  async take(offset: number, line: number, outputBytes: number, state: { [key: string]: CheckpointJson }): Promise<void> {
    if (this.sink === null || offset <= this.last) return;
    this.last = offset;
    await this.sink({
      version: SPED_CHECKPOINT_VERSION,
      kind: this.kind,
      inputOffset: offset,
      line,
      inputBytes: this.size,
      inputSample: await this.sample(offset),
      optionsDigest: this.optionsDigest,
      outputBytes,
      state,
    });
  }

  private async check(cp: SpedCheckpoint): Promise<void> {
    const refuse = (what: string): never => {
      throw new SpedCheckpointError(`cannot resume ${this.path} from this checkpoint: ${what}`);
    };
    if (typeof cp !== 'object' || cp === null || cp.version !== SPED_CHECKPOINT_VERSION) refuse(`checkpoint format ${String(cp?.version)}, expected ${SPED_CHECKPOINT_VERSION}`);
    if (cp.kind !== this.kind) refuse(`it was made by ${String(cp.kind)}, not ${this.kind}`);
    if (cp.optionsDigest !== this.optionsDigest) refuse('it was made with other options (layout, encoding, delimiter, …)');
    if (cp.inputBytes !== this.size) refuse(`the input has ${this.size} bytes, the checkpoint's had ${String(cp.inputBytes)}`);
    if (!(Number.isSafeInteger(cp.inputOffset) && cp.inputOffset > 0 && cp.inputOffset <= this.size) || !(Number.isSafeInteger(cp.line) && cp.line > 1)) {
      refuse('its offset or line is out of range');
    }
    if (!(Number.isSafeInteger(cp.outputBytes) && cp.outputBytes >= 0) || typeof cp.state !== 'object' || cp.state === null) refuse('it is malformed');
    if ((await this.sample(cp.inputOffset)) !== cp.inputSample) refuse('the input is not the same file (its bytes differ)');
  }

  /** SHA-256 of the input's first 64 KiB and of the 64 KiB before `offset`. */
  private async sample(offset: number): Promise<string> {
    const hash = createHash('sha256');
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(this.path, 'r');
    } catch (err) {
      throw ioError(err, this.path, 'read');
    }
    try {
      for (const [from, to] of [[0, Math.min(SAMPLE_BYTES, offset)], [Math.max(0, offset - SAMPLE_BYTES), offset]] as const) {
        const buf = Buffer.alloc(to - from);
        let got = 0;
        while (got < buf.length) {
          const { bytesRead } = await handle.read(buf, got, buf.length - got, from + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        hash.update(buf.subarray(0, got));
      }
    } catch (err) {
      throw ioError(err, this.path, 'read');
    } finally {
      await handle.close();
    }
    return hash.digest('hex');
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
