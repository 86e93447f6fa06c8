/** A small JSON file a command is configured with (a mapping, a company file): read, then parsed. */
import { readFileSync } from 'node:fs';
import { ioError, UsageError } from '../errors.js';

/** SourceError (exit 2) when the file cannot be read; UsageError with `code` (exit 2) when it is not JSON. */
export function readJsonFile(path: string, code: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw ioError(err, path, 'read');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${path}: not JSON: ${(err as Error).message}`, code);
  }
}
