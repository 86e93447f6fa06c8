/**
 * A CSV export's bytes as text, as iconv-lite decodes them from the mapping's encoding — ISO-8859-1 always, and
 * Windows-1252 without a byte in 0x80–0x9F (the only ones where the two differ), by Node's native Latin-1
 * decoder: some forty times faster than iconv-lite's table, and it gives a one-byte string, which the split and
 * the copy to the main thread handle faster again (test/coupons/csv-decode.ts checks it against iconv-lite).
 */
import iconv from 'iconv-lite';
import type { CsvMapping } from './csv-mapping.js';

/** Whether `bytes` has a byte where Windows-1252 differs from ISO-8859-1. */
function hasC1(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x80 && b < 0xa0) return true;
  }
  return false;
}

export function decodeCsv(bytes: Buffer, encoding: CsvMapping['encoding']): string {
  if (encoding === 'iso-8859-1' || (encoding === 'windows-1252' && !hasC1(bytes))) return bytes.toString('latin1');
  return iconv.decode(bytes, encoding);
}
