/**
 * The records of a CSV text without quotes, split as csv-parse splits them under csvParseOptions (from-csv.ts):
 * one record per non-empty line, its fields between the delimiters, its line number csv-parse's `info.lines`
 * (CRLF or LF counts one line; empty lines are skipped but counted). csv-parse reads bytes one at a time
 * through its general state machine; a POS export is nearly always plain text of this shape, and this split of
 * it costs about a seventh (test/coupons/csv-plain.ts checks it against csv-parse on random texts).
 *
 * Only for text where nothing but the delimiter and the line ends mean anything to csv-parse: null (csv-parse
 * reads it then) when there is a quote, a carriage return that is not part of a CRLF, a CRLF in a text whose
 * lines also end in a bare LF, a byte order mark, a lone surrogate (csv-parse's round trip through UTF-8 would
 * change it), or a delimiter that is not one ASCII character.
 */

export interface PlainRecord {
  /** csv-parse's `info.lines` for the record: 1-based, counted from the text's start. */
  readonly line: number;
  readonly cells: string[];
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether every CR of `text` starts a CRLF and every LF ends one (true also when there is no CR at all). */
function crlfOnly(text: string, firstCr: number): boolean {
  let crs = 0;
  for (let i = firstCr; i !== -1; i = text.indexOf('\r', i + 1)) {
    if (text.charCodeAt(i + 1) !== 10) return false;
    crs++;
  }
  let lfs = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lfs++;
  return crs === lfs;
}

/** The records of `text` as csv-parse gives them, or null when the text is not plain (see above). */
export function plainRecords(text: string, delimiter: string): PlainRecord[] | null {
  if (delimiter.length !== 1 || delimiter.charCodeAt(0) > 127 || delimiter === '"' || delimiter === '\r' || delimiter === '\n') return null;
  if (text.indexOf('"') !== -1 || text.charCodeAt(0) === 0xfeff || LONE_SURROGATE.test(text)) return null;
  const firstCr = text.indexOf('\r');
  const crlf = firstCr !== -1;
  if (crlf && !crlfOnly(text, firstCr)) return null;
  const out: PlainRecord[] = [];
  const eol = crlf ? 2 : 1;
  let line = 1;
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl + 1 - eol;
    if (end > start) out.push({ line, cells: text.slice(start, end).split(delimiter) });
    if (nl === -1) return out;
    start = nl + 1;
    line++;
  }
}
