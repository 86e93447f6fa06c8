/**
 * Where one XML document ends and the next begins in a byte stream of concatenated documents (a day's coupons
 * appended to one file, notes piped on stdin): a document is an optional BOM and prolog (declaration, comments,
 * DOCTYPE — the parser refuses the last) followed by one root element. Bytes only (the markup characters are
 * ASCII in every supported encoding), one pass, chunk by chunk, its state carried from one chunk to the next.
 *
 * The scan is a plain loop over the chunk (no generator, no closure in it) and jumps with indexOf over text and
 * quoted attribute values, where nothing can end a document: it runs on the main thread of every pooled run,
 * so its speed bounds how fast the workers can be fed.
 */

import { indexOfNear } from '../common/byte-search.js';

const enum S {
  Text,
  Lt,
  StartTag,
  StartTagQuote,
  EndTag,
  Pi,
  Bang,
  BangDash,
  Comment,
  Cdata,
  Decl,
  DeclQuote,
}

/** A piece of a document found in a chunk: bytes [from, to) of the chunk, and whether the document ends there. */
export interface DocumentPieces {
  /** Flat triples: from, to, 1 when the document ends at `to` (else 0: it goes on in the next chunk). */
  readonly pieces: number[];
}

export class DocumentSplitter {
  #state = S.Text;
  #depth = 0;
  #inDoc = false;
  #quote = 0;
  #prev = 0; // previous byte (for ?>, /> and -->)
  #prev2 = 0;
  #declDepth = 0;

  /** Whether a document has begun and not ended (the stream ending now leaves it unfinished). */
  get inDocument(): boolean {
    return this.#inDoc;
  }

  /** Forgets the current document (after the caller gave up on it). */
  reset(): void {
    this.#state = S.Text;
    this.#depth = 0;
    this.#inDoc = false;
  }

  #laneDepth = 0;
  #laneEnded = false;

  /**
   * The fast lane of `scan`, from `from` (in a document, in character data or at a `<`): plain start and end tags
   * counted as the state machine counts them, up to the end of the document or the first thing it leaves to the
   * machine. Returns where the machine goes on (`from` when the lane did nothing); the depth it reached is in
   * #laneDepth, and #laneEnded says whether the document ended (its piece is then in `out`).
   */
  #plainTags(chunk: Uint8Array, from: number, depth: number, docFrom: number, out: number[]): number {
    const n = chunk.length;
    let p = from;
    this.#laneEnded = false;
    for (;;) {
      const lt = indexOfNear(chunk, 0x3c, p);
      if (lt === -1 || lt + 1 >= n) break;
      const c1 = chunk[lt + 1]!;
      if (c1 === 0x2f) {
        // an end tag: nothing in it but its `>` matters
        const gt = indexOfNear(chunk, 0x3e, lt + 2);
        if (gt === -1) break;
        p = gt + 1;
        depth--;
        if (depth <= 0) {
          out.push(docFrom, p, 1);
          depth = 0;
          this.#laneEnded = true;
          break;
        }
      } else if (c1 === 0x21 || c1 === 0x3f) {
        break;
      } else {
        // a start tag: its name and attributes up to the `>` that is not in a quoted value; the byte after `<` is
        // the name's first, whatever it is (as in the machine's Lt state)
        let j = lt + 2;
        if (j >= n) break;
        let c = chunk[j]!;
        for (;;) {
          while (c !== 0x3e && c !== 0x22 && c !== 0x27 && ++j < n) c = chunk[j]!;
          if (j >= n || c === 0x3e) break;
          const q = chunk.indexOf(c, j + 1);
          if (q === -1 || q + 1 >= n) {
            j = n;
            break;
          }
          j = q + 1;
          c = chunk[j]!;
        }
        if (j >= n) break;
        p = j + 1;
        if (chunk[j - 1] !== 0x2f) depth++;
        else if (depth === 0) {
          out.push(docFrom, p, 1);
          this.#laneEnded = true;
          break;
        }
      }
    }
    this.#laneDepth = depth;
    return p;
  }

  /**
   * Scans `chunk`, appending to `out` a triple (from, to, ended) per piece of a document in it: each document that
   * ends in the chunk, and the beginning of one that goes on past it. Whitespace between documents is in no piece.
   */
  scan(chunk: Uint8Array, out: number[]): void {
    let state = this.#state;
    let depth = this.#depth;
    let inDoc = this.#inDoc;
    let quote = this.#quote;
    let prev = this.#prev;
    let prev2 = this.#prev2;
    let declDepth = this.#declDepth;
    let docFrom = inDoc ? 0 : -1;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const b = chunk[i]!;
      switch (state) {
        case S.Text:
          if (!inDoc) {
            if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
            inDoc = true;
            docFrom = i;
          }
          if (i + 1 < n) {
            // the fast lane: whole start and end tags (and the text between them) in a tight loop, without a round
            // of the state machine per byte; it stops before anything else (`<!`, `<?`, a tag the chunk cuts, the
            // chunk's last text) and hands over to the machine there, in Text state: the same cuts at any chunking
            const p = this.#plainTags(chunk, i, depth, docFrom, out);
            if (p !== i) {
              depth = this.#laneDepth;
              if (this.#laneEnded) {
                inDoc = false;
                docFrom = -1;
              }
              i = p - 1;
              prev2 = p >= 2 ? chunk[p - 2]! : prev;
              prev = chunk[p - 1]!;
              continue;
            }
          }
          if (b === 0x3c) state = S.Lt;
          else {
            // character data: nothing in it matters but the next `<`
            const lt = chunk.indexOf(0x3c, i + 1);
            if (lt === -1) {
              i = n;
              prev2 = n >= 2 ? chunk[n - 2]! : prev;
              prev = chunk[n - 1]!;
              continue;
            }
            i = lt - 1;
            prev = chunk[lt - 1]!;
            continue;
          }
          break;
        case S.Lt:
          if (b === 0x2f) state = S.EndTag;
          else if (b === 0x3f) state = S.Pi;
          else if (b === 0x21) state = S.Bang;
          else state = S.StartTag;
          break;
        case S.StartTag:
        case S.EndTag: {
          // a tag's name and attributes: nothing but a quote (start tags) or the tag's end matters; a tight loop
          // (indexOf in an end tag) to the next of them instead of a switch round per byte
          const end = state === S.EndTag;
          let j = i;
          let c = b;
          if (end) {
            const gt = b === 0x3e ? i : chunk.indexOf(0x3e, i + 1);
            j = gt === -1 ? n : gt;
          } else while (c !== 0x3e && c !== 0x22 && c !== 0x27 && ++j < n) c = chunk[j]!;
          if (j > i) {
            prev2 = j - i >= 2 ? chunk[j - 2]! : prev;
            prev = chunk[j - 1]!;
          }
          if (j === n) {
            i = n;
            continue;
          }
          i = j;
          c = chunk[j]!;
          if (c === 0x22 || c === 0x27) {
            quote = c;
            state = S.StartTagQuote;
          } else if (end) {
            state = S.Text;
            depth--;
            if (depth <= 0) {
              out.push(docFrom, i + 1, 1);
              inDoc = false;
              depth = 0;
              docFrom = -1;
            }
          } else {
            state = S.Text;
            if (prev !== 0x2f) depth++;
            else if (depth === 0) {
              out.push(docFrom, i + 1, 1);
              inDoc = false;
              docFrom = -1;
            }
          }
          prev2 = prev;
          prev = c;
          continue;
        }
        case S.StartTagQuote: {
          // an attribute value: skip to its closing quote
          const q = b === quote ? i : chunk.indexOf(quote, i + 1);
          if (q === -1) {
            i = n;
            prev2 = n >= 2 ? chunk[n - 2]! : prev;
            prev = chunk[n - 1]!;
            continue;
          }
          i = q;
          state = S.StartTag;
          prev2 = q >= 1 ? chunk[q - 1]! : prev;
          prev = quote;
          continue;
        }
        case S.Pi:
          if (b === 0x3e && prev === 0x3f) state = S.Text;
          break;
        case S.Bang:
          if (b === 0x2d) state = S.BangDash;
          else if (b === 0x5b) state = S.Cdata;
          else {
            state = S.Decl;
            declDepth = 0;
          }
          break;
        case S.BangDash:
          state = b === 0x2d ? S.Comment : S.Decl;
          // reset so that `<!--` cannot be read as the end `-->`
          prev2 = 0;
          prev = 0;
          continue;
        case S.Comment:
          if (b === 0x3e && prev === 0x2d && prev2 === 0x2d) state = S.Text;
          break;
        case S.Cdata:
          if (b === 0x3e && prev === 0x5d && prev2 === 0x5d) state = S.Text;
          break;
        case S.Decl:
          if (b === 0x22 || b === 0x27) {
            quote = b;
            state = S.DeclQuote;
          } else if (b === 0x5b) declDepth++;
          else if (b === 0x5d) declDepth--;
          else if (b === 0x3e && declDepth <= 0) state = S.Text;
          break;
        case S.DeclQuote:
          if (b === quote) state = S.Decl;
          break;
      }
      prev2 = prev;
      prev = b;
    }
    if (inDoc && docFrom >= 0 && docFrom < n) out.push(docFrom, n, 0);
    this.#state = state;
    this.#depth = depth;
    this.#inDoc = inDoc;
    this.#quote = quote;
    this.#prev = prev;
    this.#prev2 = prev2;
    this.#declDepth = declDepth;
  }
}
