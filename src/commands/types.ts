/**
 * What every command function shares: the CLI action and the task type of a command call the same function
 * (src/commands/sped.ts, src/commands/nfe.ts); only where the streams lead differs (stdout/stderr or `-o FILE`
 * for the CLI, the task's partial output for a task).
 */
import type { Readable, Writable } from 'node:stream';
import { InvalidInputError, type ExitCode } from '../errors.js';

/** One input: a name for messages and findings, a byte stream, and its size when known (progress). */
export interface CommandInput {
  readonly name: string;
  readonly stream: Readable;
  readonly size: number | null;
}

/** Where a command writes: its output (the converted data, or the report) and its messages (findings, notes). */
export interface CommandStreams {
  readonly output: Writable;
  /** Findings one per line and notes (the CLI's stderr). May be the output itself (validate's report). */
  readonly messages: Writable;
  /** Bytes (SPED) or documents (NF-e) read so far. */
  readonly onProgress?: (done: number) => void;
  readonly signal?: AbortSignal;
}

/** Finding counts by severity (a task's manifest carries them). */
export interface FindingCounts {
  errors: number;
  warnings: number;
}

/** What a command did: the CLI's exit code (0 ok, 1 findings), counts for a manifest, findings by severity. */
export interface CommandOutcome {
  readonly exitCode: ExitCode;
  readonly counts: Readonly<Record<string, number>>;
  readonly findings: Readonly<FindingCounts>;
}

/** An InvalidInputError whose message names the input (`FILE: line 3: …`); other errors unchanged. */
export function nameInput(err: unknown, name: string): unknown {
  if (err instanceof InvalidInputError && !err.message.startsWith(`${name}: `)) return new InvalidInputError(err.code, `${name}: ${err.message}`, err.line);
  return err;
}
