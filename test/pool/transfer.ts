// Results marked `transferring` move back from a worker without a copy; `ownedBytes` never hands out a buffer that
// other Buffers share (Node's pool of small Buffers).
import t from 'tap';
import { ownedBytes, transferListOf, transferring } from '../../src/pool/transfer.js';

t.test('ownedBytes: large bytes at the start of their buffer move; small or offset bytes are copied', async (t) => {
  const big = Buffer.allocUnsafe(1 << 20).fill(7);
  const head = big.subarray(0, 100_000);
  t.equal(ownedBytes(head), head, 'a large prefix of its own buffer is itself');
  const small = Buffer.from('small');
  const a = ownedBytes(small);
  t.not(a.buffer, small.buffer, 'a small Buffer (from the shared pool) is copied');
  t.equal(a.byteLength, small.byteLength);
  t.equal(a.buffer.byteLength, small.byteLength, 'the copy owns exactly its bytes');
  const inner = big.subarray(10, 100_010);
  const b = ownedBytes(inner);
  t.not(b.buffer, big.buffer, 'bytes in the middle of a buffer are copied');
  t.ok(Buffer.from(b).equals(inner));
});

t.test('transferring marks a value without changing what is cloned', async (t) => {
  const bytes = new Uint8Array(70_000);
  const value = transferring({ bytes, n: 1 }, [bytes.buffer]);
  t.strictSame(transferListOf(value), [bytes.buffer]);
  t.strictSame(Object.keys(value), ['bytes', 'n'], 'the mark is not an own enumerable key');
  t.strictSame(structuredClone(value), { bytes, n: 1 }, 'a clone carries no mark');
  t.equal(transferListOf({ n: 1 }), null);
  t.equal(transferListOf(null), null);
});
