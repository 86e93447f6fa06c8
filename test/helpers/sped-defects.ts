/** Defects injected into a generated EFD ICMS/IPI file at a known line (test/sped/validator.ts, finding-text.ts). */
import { lineOf, setField } from './sped.js';

export interface Defect {
  name: string;
  code: string;
  /** Returns the mutated lines and the line the finding must be reported at. */
  apply(lines: string[]): number;
  /** Findings at other lines are expected too (e.g. totals after inserting a line). */
  cascades?: boolean;
  severity?: 'error' | 'warning';
}

export const defects: Defect[] = [
  { name: 'field dropped', code: 'SPED_FIELD_COUNT', apply: (l) => { const n = lineOf(l, 'C170', 4); l[n - 1] = l[n - 1]!.replace(/\|[^|]*\|$/, '|'); return n; } },
  { name: 'thousands separator', code: 'SPED_FIELD_DECIMALS', apply: (l) => { const n = lineOf(l, 'C100', 2); l[n - 1] = setField(l[n - 1]!, 12, '1.234,56'); return n; }, cascades: true },
  { name: 'too many decimals', code: 'SPED_FIELD_DECIMALS', apply: (l) => { const n = lineOf(l, 'C170', 1); l[n - 1] = setField(l[n - 1]!, 5, '1,123456'); return n; } },
  { name: 'dot as decimal separator', code: 'SPED_FIELD_DECIMALS', apply: (l) => { const n = lineOf(l, 'C170', 2); l[n - 1] = setField(l[n - 1]!, 5, '1.5'); return n; } },
  { name: 'date that does not exist', code: 'SPED_DATE_INVALID', apply: (l) => { const n = lineOf(l, 'C100', 3); l[n - 1] = setField(l[n - 1]!, 10, '30022026'); return n; } },
  { name: 'date after the period', code: 'SPED_DATE_OUT_OF_PERIOD', apply: (l) => { const n = lineOf(l, 'C100', 4); l[n - 1] = setField(l[n - 1]!, 10, '01032026'); return n; } },
  { name: 'E100 before the period', code: 'SPED_DATE_OUT_OF_PERIOD', apply: (l) => { const n = lineOf(l, 'E100'); l[n - 1] = setField(l[n - 1]!, 2, '31122025'); return n; } },
  { name: 'access key check digit', code: 'SPED_CHECK_DIGIT', apply: (l) => { const n = lineOf(l, 'C100', 5); const key = l[n - 1]!.split('|')[9]!; l[n - 1] = setField(l[n - 1]!, 9, key.slice(0, 43) + ((Number(key[43]) + 1) % 10)); return n; } },
  { name: 'CNPJ check digit', code: 'SPED_CHECK_DIGIT', apply: (l) => { const n = lineOf(l, '0150', 3); const c = l[n - 1]!.split('|')[5]!; l[n - 1] = setField(l[n - 1]!, 5, c.slice(0, 13) + ((Number(c[13]) + 1) % 10)); return n; } },
  { name: 'CPF check digit', code: 'SPED_CHECK_DIGIT', apply: (l) => { const n = lineOf(l, '0100'); l[n - 1] = setField(l[n - 1]!, 3, '52998224726'); return n; } },
  { name: 'reference to a missing item', code: 'SPED_REF_MISSING', apply: (l) => { const n = lineOf(l, 'C170', 7); l[n - 1] = setField(l[n - 1]!, 3, 'NOPE'); return n; } },
  { name: 'reference to a missing participant', code: 'SPED_REF_MISSING', apply: (l) => { const n = lineOf(l, 'C100', 6); l[n - 1] = setField(l[n - 1]!, 4, 'P999'); return n; } },
  { name: 'reference to a missing unit', code: 'SPED_REF_MISSING', apply: (l) => { const n = lineOf(l, 'C170', 3); l[n - 1] = setField(l[n - 1]!, 6, 'KG'); return n; } },
  { name: 'required field empty', code: 'SPED_FIELD_REQUIRED', apply: (l) => { const n = lineOf(l, 'C100', 7); l[n - 1] = setField(l[n - 1]!, 6, ''); return n; } },
  { name: 'exact size', code: 'SPED_FIELD_SIZE', apply: (l) => { const n = lineOf(l, 'C170', 5); l[n - 1] = setField(l[n - 1]!, 10, '00'); return n; }, cascades: true },
  { name: 'value not in the list', code: 'SPED_FIELD_VALUE', apply: (l) => { const n = lineOf(l, 'C100', 8); l[n - 1] = setField(l[n - 1]!, 6, '09'); return n; } },
  { name: 'letters in a numeric field', code: 'SPED_FIELD_TYPE', apply: (l) => { const n = lineOf(l, 'C170', 6); l[n - 1] = setField(l[n - 1]!, 2, 'A'); return n; } },
  { name: 'child before any parent', code: 'SPED_HIERARCHY', apply: (l) => { const n = lineOf(l, 'C001'); const c170 = l.splice(lineOf(l, 'C170') - 1, 1)[0]!; l.splice(n, 0, c170); return n + 1; }, cascades: true },
  { name: 'child in the wrong block', code: 'SPED_HIERARCHY', apply: (l) => { const n = lineOf(l, 'E110'); l.splice(n, 0, l[lineOf(l, 'C190') - 1]!); return n + 1; }, cascades: true },
  { name: 'unknown register', code: 'SPED_UNKNOWN_REGISTER', apply: (l) => { const n = lineOf(l, 'C190', 2); l.splice(n, 0, '|C999|1|'); return n + 1; }, cascades: true },
  { name: 'line without leading pipe', code: 'SPED_LINE_FORMAT', apply: (l) => { const n = lineOf(l, 'C170', 8); l[n - 1] = l[n - 1]!.slice(1); return n; }, cascades: true },
  { name: 'blank line', code: 'SPED_BLANK_LINE', apply: (l) => { const n = lineOf(l, 'C100', 9); l.splice(n - 1, 0, ''); return n; }, cascades: false },
  { name: 'block total', code: 'SPED_TOTAL_BLOCK', apply: (l) => { const n = lineOf(l, 'C990'); l[n - 1] = setField(l[n - 1]!, 2, '3'); return n; } },
  { name: '9900 count', code: 'SPED_TOTAL_9900', apply: (l) => { const n = l.findIndex((x) => x.startsWith('|9900|C170|')) + 1; l[n - 1] = setField(l[n - 1]!, 3, '1'); return n; } },
  { name: '9990 count', code: 'SPED_TOTAL_9990', apply: (l) => { const n = lineOf(l, '9990'); l[n - 1] = setField(l[n - 1]!, 2, '1'); return n; } },
  { name: '9999 count', code: 'SPED_TOTAL_9999', apply: (l) => { const n = lineOf(l, '9999'); l[n - 1] = setField(l[n - 1]!, 2, '7'); return n; } },
  { name: 'IND_MOV says no data', code: 'SPED_IND_MOV', apply: (l) => { const n = lineOf(l, 'C001'); l[n - 1] = setField(l[n - 1]!, 2, '1'); return n; } },
  { name: 'C190 that does not add up', code: 'SPED_CONSISTENCY', severity: 'warning', cascades: true, apply: (l) => { const n = lineOf(l, 'C100', 3); const c190 = lineOf(l, 'C190', 3); l[c190 - 1] = setField(l[c190 - 1]!, 7, '0,01'); return n; } },
  { name: 'sub-period too', code: 'SPED_OCCURRENCE', cascades: true, apply: (l) => { const n = lineOf(l, 'E110'); l.splice(n, 0, l[n - 1]!); return n + 1; } },
];
