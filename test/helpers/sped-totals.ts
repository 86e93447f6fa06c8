/**
 * An independent recount of a SPED file's totals for tests: X001 IND_MOV, X990, 9900 (incl. 9900/9990/9999),
 * 9990 and 9999, from the lines alone. Returns the list of disagreements (empty when every total holds).
 */
export function recountTotals(lines: readonly string[]): string[] {
  const problems: string[] = [];
  const fields = lines.map((l) => l.slice(1, -1).split('|'));
  const perRegister = new Map<string, number>();
  for (const f of fields) perRegister.set(f[0]!, (perRegister.get(f[0]!) ?? 0) + 1);
  let blockStart = 0;
  for (let i = 0; i < fields.length; i++) {
    const reg = fields[i]![0]!;
    if (reg.endsWith('001') && i > 0) {
      blockStart = i;
      const block = reg[0];
      let data = 0;
      for (let j = i + 1; j < fields.length && fields[j]![0] !== `${block}990`; j++) data++;
      const expected = data > 0 ? '0' : '1';
      if (fields[i]![1] !== expected) problems.push(`line ${i + 1}: ${reg} IND_MOV ${fields[i]![1]}, expected ${expected}`);
    }
    if (reg === '0001') blockStart = 0;
    if (reg.endsWith('990') && reg !== '9990') {
      const n = i - blockStart + 1;
      if (fields[i]![1] !== String(n)) problems.push(`line ${i + 1}: ${reg} says ${fields[i]![1]}, counted ${n}`);
    }
    if (reg === '9990') {
      const n = fields.length - blockStart;
      if (fields[i]![1] !== String(n)) problems.push(`line ${i + 1}: 9990 says ${fields[i]![1]}, counted ${n}`);
    }
    if (reg === '9999' && fields[i]![1] !== String(fields.length)) problems.push(`line ${i + 1}: 9999 says ${fields[i]![1]}, counted ${fields.length}`);
  }
  const listed = new Map<string, string>();
  for (const f of fields) if (f[0] === '9900') listed.set(f[1]!, f[2]!);
  for (const [reg, n] of perRegister) {
    if (listed.get(reg) !== String(n)) problems.push(`9900 ${reg}: listed ${listed.get(reg)}, counted ${n}`);
  }
  for (const reg of listed.keys()) if (!perRegister.has(reg)) problems.push(`9900 ${reg}: listed but absent`);
  return problems;
}
