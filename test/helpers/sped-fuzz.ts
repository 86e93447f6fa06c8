/** Byte-level mutants of a SPED file (test/sped/fuzz.ts, finding-text.ts). */
const ALPHABET = Buffer.from('|\r\n0123456789,.-ABCZ \x00\xff\x80\xc3\xa7', 'latin1');

export function mutate(buf: Buffer, rnd: () => number): Buffer {
  const out = Buffer.from(buf);
  const edits = 1 + Math.floor(rnd() * 8);
  let result = out;
  for (let i = 0; i < edits; i++) {
    const pos = Math.floor(rnd() * result.length);
    const kind = rnd();
    if (kind < 0.5) result[pos] = ALPHABET[Math.floor(rnd() * ALPHABET.length)]!;
    else if (kind < 0.75) result = Buffer.concat([result.subarray(0, pos), result.subarray(pos + 1 + Math.floor(rnd() * 40))]);
    else result = Buffer.concat([result.subarray(0, pos), ALPHABET.subarray(Math.floor(rnd() * 5), 5 + Math.floor(rnd() * 10)), result.subarray(pos)]);
  }
  return result;
}

/** Text no finding message may contain: what a missing value prints as. */
export const BAD_TEXT = /\b(null|undefined|NaN)\b|\[object /;

/** The findings whose message shows a missing value, as `line: CODE message` strings (empty when all are clean). */
export function badMessages(findings: readonly { line: number | null; code: string; message: string }[]): string[] {
  return findings.filter((f) => BAD_TEXT.test(f.message)).map((f) => `${f.line}: ${f.code} ${f.message}`);
}
