/**
 * The project's structural rules for CF-e SAT (run by `validateNfe`, so `fiscal nfe validate` applies them):
 * the key against the document — its own check digit and model 59 (NFE_KEY_CHECK_DIGIT), and each key part
 * against the ide/emit field it repeats (ER SAT, chave de acesso: cUF, AAMM of dEmi, emit CNPJ, mod,
 * nserieSAT, nCFe, cNF, cDV; NFE_KEY_MISMATCH); a cancellation's chCanc must be a CF-e key too.
 */
import { finding, type NfeFinding } from '../../nfe/findings.js';
import { o, s } from '../../nfe/csv-fields.js';
import { parseCfeKey, type ParsedCfeKey } from './key.js';
import type { CfeKind } from './types.js';

function keyProblem(k: ParsedCfeKey): string | null {
  if (k.problems.includes('length')) return `has ${k.key.length} characters, not 44`;
  if (k.problems.includes('format')) return 'has characters out of place';
  if (k.problems.includes('check-digit')) return `check digit is ${k.cDV}, the first 43 characters give ${k.expectedCdv}`;
  if (k.problems.includes('model')) return `is of model ${k.mod}, not 59 (CF-e SAT)`;
  return null;
}

/** Findings of one CF-e root element's value; `base` is its XML path (`/CFe`). */
export function validateCfe(kind: CfeKind, root: unknown, base: string, source: string): NfeFinding[] {
  const out: NfeFinding[] = [];
  const inf = o(o(root).infCFe);
  const infPath = `${base}/infCFe`;
  const id = s(inf['@Id']);
  if (!id) {
    out.push(finding('NFE_MISSING', source, 'infCFe has no Id (the key)', { path: `${infPath}/@Id` }));
    return out;
  }
  const k = parseCfeKey(id);
  const bad = keyProblem(k);
  if (bad) out.push(finding('NFE_KEY_CHECK_DIGIT', source, `access key ${k.key} ${bad}`, { path: `${infPath}/@Id` }));
  if (kind === 'CFeCanc') {
    const c = parseCfeKey(s(inf['@chCanc']));
    const badCanc = keyProblem(c);
    if (badCanc) out.push(finding('NFE_KEY_CHECK_DIGIT', source, `chCanc ${c.key} ${badCanc}`, { path: `${infPath}/@chCanc` }));
  }
  if (k.problems.includes('length') || k.problems.includes('format')) return out;
  const ide = o(inf.ide);
  const dEmi = s(ide.dEmi);
  const parts: [string, string, string][] = [
    ['ide/cUF', s(ide.cUF), k.cUF],
    ['ide/dEmi', /^\d{8}$/.test(dEmi) ? dEmi.slice(2, 6) : dEmi, k.aamm],
    ['emit/CNPJ', s(o(inf.emit).CNPJ), k.cnpj],
    ['ide/mod', s(ide.mod), k.mod],
    ['ide/nserieSAT', s(ide.nserieSAT), k.nserieSAT],
    ['ide/nCFe', s(ide.nCFe), k.nCFe],
    ['ide/cNF', s(ide.cNF), k.cNF],
    ['ide/cDV', s(ide.cDV), k.cDV],
  ];
  for (const [field, inDoc, inKey] of parts) {
    if (inDoc === '' || inDoc.padStart(inKey.length, '0') === inKey) continue;
    const shown = field === 'ide/dEmi' ? `AAMM of dEmi is ${inDoc}` : `${field.split('/')[1]} is ${inDoc}`;
    out.push(finding('NFE_KEY_MISMATCH', source, `${shown} but the key says ${inKey}`, { path: `${infPath}/${field}` }));
  }
  return out;
}
