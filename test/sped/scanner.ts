import t from 'tap';
import { SpedScanner } from '../../src/sped/scanner.js';

t.test('signature length counts exactly the bytes after 9999, with or without a line break in the block', async (t) => {
  const head = Buffer.from('|0000|x|\r\n|9999|2|\r\n', 'latin1');
  // a DER block has a 0x0A byte only by chance: both cases, and a block ending in one
  for (const tail of ['', '\n', 'ab\ncd', 'ab\r\n']) {
    const block = Buffer.from(`SBRCAAEPDR\x30\x82${tail}`, 'latin1');
    for (const size of [1, 3, 1 << 16]) {
      const lines: number[] = [];
      const sc = new SpedScanner({ onLine: (_b, _s, _e, line) => lines.push(line), onFinding: (f) => t.fail(f.message) });
      const all = Buffer.concat([head, block]);
      for (let i = 0; i < all.length; i += size) sc.push(all.subarray(i, i + size));
      sc.end();
      t.same(sc.signature, { offset: head.length, length: block.length }, `tail ${JSON.stringify(tail)}, chunks of ${size}`);
      t.same(lines, [1, 2]);
    }
  }
});
