/**
 * A mixed NF-e batch for the thread-count tests: signed notes of many sizes (small ones share Node's Buffer pool,
 * big ones own their memory: both ways of handing bytes to a worker), with broken ones at known places —
 * malformed XML, a bad signature, a note re-indented after signing, one over the byte cap, a non-NF-e root, a
 * duplicate — and a signed cancellation event for one of the notes (to-csv's events pass). Written as a
 * directory tree, a zip of the same files, and the same documents concatenated for stdin.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadCertificate } from '../../src/nfe/cert.js';
import { generateNfeXml } from '../../src/nfe/generate.js';
import { signXml } from '../../src/nfe/sign.js';
import { TEST_CNPJ, makeTestCerts } from './certs.js';
import { envEventoXml } from './sign-fixtures.js';
import { writeZip } from './zip.js';

/** The byte cap the tests pass (`--max-bytes`, `maxBytes`): the `big` note is over it. */
export const MIXED_MAX_BYTES = 60_000;

export interface MixedBatch {
  readonly dir: string;
  /** Null when python3 is not there to write it. */
  readonly zip: string | null;
  /** Every document of the directory, in the walk's order, concatenated. */
  readonly stdin: Buffer;
  /** Documents in the batch, the broken ones included. */
  readonly documents: number;
}

/** The documents by relative path (sorted as the directory walk sorts them). */
export function mixedDocuments(notes = 40): [string, string][] {
  const certs = makeTestCerts();
  const creds = loadCertificate(certs.modernPfx, certs.password);
  const sign = (xml: string): string => signXml(xml, creds, { checkCertificate: false });
  const note = (i: number, items: number): string => sign(generateNfeXml(1000 + i, { items, emitterCnpj: TEST_CNPJ }));
  const docs: [string, string][] = [];
  const keys: string[] = [];
  for (let i = 0; i < notes; i++) {
    // 1 item is under 4 KiB (a pooled Buffer); 30 items is tens of KiB (its own ArrayBuffer)
    const xml = note(i, i % 10 === 0 ? 30 : 1 + (i % 4));
    keys.push(/Id="NFe(\d{44})"/.exec(xml)![1]!);
    docs.push([`${String(i % 3)}/n${String(i).padStart(3, '0')}.xml`, xml]);
  }
  const good = note(900, 2);
  docs.push(['1/bad-signature.xml', good.replace(/<xNome>([^<]*)<\/xNome>/, '<xNome>$1 X</xNome>')]);
  docs.push(['1/reindented.xml', good.replace(/><(?!\/)/g, '>\n  <')]);
  docs.push(['2/big.xml', note(901, 120)]);
  // balanced (so that stdin's splitter finds its end), but the end tags do not match
  docs.push(['2/malformed.xml', '<NFe><x></y></NFe>']);
  docs.push(['0/not-nfe.xml', '<?xml version="1.0"?><catalogo><livro/></catalogo>']);
  docs.push(['2/duplicate.xml', docs[3]![1]]);
  const cancelled = keys[5]!;
  const evento = sign(envEventoXml(cancelled, TEST_CNPJ).replace(/^[\s\S]*?(<evento )/, '$1').replace('</envEvento>', '').replace('<evento versao', '<evento xmlns="http://www.portalfiscal.inf.br/nfe" versao'));
  docs.push(['1/event-cancel.xml', `<procEventoNFe xmlns="http://www.portalfiscal.inf.br/nfe" versao="1.00">${evento.replace(' xmlns="http://www.portalfiscal.inf.br/nfe"', '')}` +
    `<retEvento versao="1.00"><infEvento><tpAmb>2</tpAmb><cStat>135</cStat><chNFe>${cancelled}</chNFe><tpEvento>110111</tpEvento>` +
    `<nProt>135250000000099</nProt></infEvento></retEvento></procEventoNFe>`]);
  return docs.sort((a, b) => walkOrder(a[0], b[0]));
}

/** The directory walk's order: by name within a directory, depth first (directories here are one level). */
function walkOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function writeMixedBatch(root: string, notes = 40): MixedBatch {
  const docs = mixedDocuments(notes);
  const dir = join(root, 'notes');
  for (const [name, xml] of docs) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), xml);
  }
  let zip: string | null = join(root, 'notes.zip');
  if (!writeZip(zip, docs)) zip = null;
  return { dir, zip, stdin: Buffer.from(docs.map(([, xml]) => xml).join('\n')), documents: docs.length };
}
