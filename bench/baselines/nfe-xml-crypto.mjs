/**
 * Baseline of bench/nfe.mjs (issue 6): xml-crypto (6.x, with @xmldom/xmldom) verifying every document of DIR (a
 * tree, readFileSync) or ZIP (yauzl, one entry after another): parse the text into a DOM, find the XMLDSig
 * Signature, take the certificate from its KeyInfo (xml-crypto's own SignedXml.getCertFromKeyInfo), and
 * `checkSignature` (the digest of the referenced infNFe and the RSA signature of SignedInfo). Exits 1 when a
 * document does not verify, so the bench never times a baseline that failed. `fiscal nfe verify` is held to
 * 12 times its speed.
 *
 *   node bench/baselines/nfe-xml-crypto.mjs DIR|ZIP [EVERY]
 *
 * With EVERY, only every EVERY-th document is read and verified (a spread sample: xml-crypto is the slow one);
 * the count on stderr is of the documents verified.
 */
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { forEachDocument } from '../lib/nfe-inputs.mjs';

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const input = process.argv[2];
if (!input) throw new Error('usage: nfe-xml-crypto.mjs DIR|ZIP [EVERY]');
const every = Number(process.argv[3] ?? 1);
let bad = 0;
const n = await forEachDocument(input, (bytes) => {
  const xml = bytes.toString('utf8');
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const signature = doc.getElementsByTagNameNS(DSIG, 'Signature')[0];
  const sig = new SignedXml({ getCertFromKeyInfo: SignedXml.getCertFromKeyInfo });
  let ok = false;
  try {
    sig.loadSignature(signature);
    ok = sig.checkSignature(xml);
  } catch { ok = false; }
  if (!ok) bad++;
}, every);
if (bad) {
  process.stderr.write(`${bad} of ${n} documents did not verify\n`);
  process.exit(1);
}
process.stderr.write(`${n} verified\n`);
