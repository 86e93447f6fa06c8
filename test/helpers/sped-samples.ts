/** The shared SPED samples (../shared/samples/sped beside the repo), when present. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';

export const SAMPLES_DIR = fileURLToPath(new URL('../../../shared/samples/sped/', import.meta.url));
export const SAMPLES_MISSING = existsSync(SAMPLES_DIR) ? false : `no samples at ${SAMPLES_DIR} (the shared folder beside the repo)`;

export function samplePaths(): string[] {
  if (SAMPLES_MISSING) return [];
  return readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.txt')).sort().map((f) => `${SAMPLES_DIR}${f}`);
}

/** A sample's lines as text (UTF-8 when it decodes as such, else Windows-1252), blank lines left out. */
export function sampleLines(path: string): string[] {
  const bytes = readFileSync(path);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const decoded = text.includes('\ufffd') ? decodeCp1252(bytes) : text;
  return decoded.split(/\r?\n/).filter((l) => l.length > 0);
}

/** Registers the writer regenerates: X001, X990 and block 9. */
export function isRegenerated(line: string): boolean {
  return /^\|(.001|.990|9\d{3})\|/.test(line);
}

/** Windows-1252 → text by iconv-lite (Node's TextDecoder('windows-1252') decodes as ISO-8859-1). */
export function decodeCp1252(bytes: Buffer): string {
  return iconv.decode(bytes, 'win1252');
}
