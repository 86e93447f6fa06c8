/**
 * The text form in which the from-docs store keeps lists of strings (records, analytic groups): every list as its
 * length then its strings, all joined by U+001F. One `split` reads it back, several times cheaper than JSON for
 * the store's short strings, and it is shorter. A string holding U+001F itself (which no well-formed XML text
 * holds, but a malformed document might) makes the whole value JSON instead; a packed text starts with a digit,
 * JSON with `[`, so `unpackLists` tells them apart. Either form gives back exactly the lists packed.
 */

const SEP = '\x1f';

/** The lists as one text. */
export function packLists(lists: readonly (readonly string[])[]): string {
  let out = '';
  for (let i = 0; i < lists.length; i++) {
    const list = lists[i]!;
    out += i === 0 ? String(list.length) : SEP + String(list.length);
    for (let j = 0; j < list.length; j++) {
      const v = list[j]!;
      if (v.includes(SEP)) return JSON.stringify(lists);
      out += SEP + v;
    }
  }
  return out;
}

/** The lists of a text of packLists. */
export function unpackLists(text: string): string[][] {
  if (text === '') return [];
  if (text.startsWith('[')) return JSON.parse(text) as string[][];
  const parts = text.split(SEP);
  const lists: string[][] = [];
  for (let i = 0; i < parts.length; ) {
    const n = Number(parts[i]);
    lists.push(parts.slice(i + 1, i + 1 + n));
    i += 1 + n;
  }
  return lists;
}
