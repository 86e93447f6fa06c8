/**
 * What the reader needs to know of a CF-e tree: which elements repeat (formats/cfe/schema.json), the key, the
 * version and, for a cancellation, the key of the sale it cancels. No parsing here: src/nfe/parse.ts reads
 * CF-e documents with the same tokenizer, XML policy and parser as NF-e.
 */
import { createSchemaIndex, loadSchema, type SchemaIndex } from '../../nfe/schema.js';
import type { CfeDocument, CfeKind } from './types.js';

// src/coupons/cfe/model.ts and dist/coupons/cfe/model.js are both three levels below the package root
export const cfeSchema: SchemaIndex = createSchemaIndex(loadSchema(new URL('../../../formats/cfe/schema.json', import.meta.url)));

export function isCfeKind(name: string): name is CfeKind {
  return name === 'CFe' || name === 'CFeCanc';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const keyOf = (id: string | null): string | null => (id ? id.replace(/^CFe/, '') : null);

export interface CfeFacts {
  /** The document's own key (infCFe Id without `CFe`). */
  readonly key: string | null;
  /** infCFe `versao` (0.06, 0.07, 0.08). */
  readonly version: string | null;
  /** infCFe `versaoDadosEnt` of a sale (picks its XSD); null for a cancellation. */
  readonly dataVersion: string | null;
  /** For a CFeCanc: the key of the cancelled sale (chCanc without `CFe`). */
  readonly cancels: string | null;
}

/** Key, versions and cancelled key of a CF-e root element's value. */
export function describeCfe(kind: CfeKind, root: unknown): CfeFacts {
  const inf = isObj(root) && isObj(root.infCFe) ? root.infCFe : {};
  return {
    key: keyOf(str(inf['@Id'])),
    version: str(inf['@versao']),
    dataVersion: kind === 'CFe' ? str(inf['@versaoDadosEnt']) : null,
    cancels: kind === 'CFeCanc' ? keyOf(str(inf['@chCanc'])) : null,
  };
}

/** The facts of a parsed CF-e document. */
export function cfeFacts(doc: CfeDocument): CfeFacts {
  return 'CFe' in doc ? describeCfe('CFe', doc.CFe) : describeCfe('CFeCanc', doc.CFeCanc);
}
