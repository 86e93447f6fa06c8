/**
 * Zips for tests, written by python's zipfile (deflated), which writes entry names verbatim (`../x`, `/abs`) as an
 * attacker's archive would. False when python3 is not there: the caller skips what needs the zip.
 */
import { execFileSync } from 'node:child_process';

const SCRIPT = `import zipfile,sys,json,base64
z=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED)
for n,d in json.load(sys.stdin): z.writestr(n,base64.b64decode(d))
z.close()`;

/** Writes the entries (name, content) in order into a new zip at `path`. */
export function writeZip(path: string, entries: readonly (readonly [string, string | Uint8Array])[]): boolean {
  const input = JSON.stringify(entries.map(([n, d]) => [n, Buffer.from(d).toString('base64')]));
  try {
    execFileSync('python3', ['-c', SCRIPT, path], { input });
    return true;
  } catch {
    return false;
  }
}
