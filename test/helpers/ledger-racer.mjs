// A child process of test/tasks/ledger-sqlite.ts: opens the SQLite ledger (dist/), says "ready", waits for "go" on
// stdin, then claims every key given and completes the ones it won; prints the keys it won as one JSON line.
// Usage: node ledger-racer.mjs DIST_LEDGER_SQLITE_JS DB_PATH OWNER KEY_COUNT
import { pathToFileURL } from 'node:url';

const [modulePath, dbPath, owner, count] = process.argv.slice(2);
const { openSqliteLedger } = await import(pathToFileURL(modulePath).href);
const ledger = await openSqliteLedger(dbPath);
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
const won = [];
for (let i = 0; i < Number(count); i++) {
  const key = `key-${i}`;
  const r = await ledger.claim({ key, type: 'sped.validate', payloadDigest: 'a'.repeat(64), owner, leaseMs: 60_000 });
  if (r.kind === 'claimed') {
    won.push(key);
    await ledger.complete(r.claim, { outputDigest: null, manifest: { owner } });
  }
}
await ledger.close();
process.stdout.write(`${JSON.stringify(won)}\n`);
process.stdin.destroy();
