/** Settings of the task runner read from the environment (checkpoint intervals). */
import { UsageError } from '../errors.js';

/** A positive whole number from the environment variable `name` (undefined when unset); UsageError `code` otherwise. */
export function positiveEnv(name: string, code: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!(Number.isSafeInteger(n) && n > 0)) throw new UsageError(`${name} must be a positive integer (got '${raw}')`, code);
  return n;
}
