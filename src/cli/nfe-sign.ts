/** `fiscal nfe key | sign | verify | qrcode` — thin wrappers over src/nfe/{key,sign,verify,qrcode}.ts. */
import { promises as fsp } from 'node:fs';
import type { Command } from 'commander';
import { EXIT_FINDINGS, EXIT_OK, UsageError, ioError } from '../errors.js';
import { parseAccessKey } from '../nfe/key.js';
import { addQrCodeToXml, checkQrCode, publicKeyOfCertificate, qrFieldsFromXml, type QrVersion } from '../nfe/qrcode.js';
import { loadSigningCredentials, nfeSignCommand, nfeVerifyCommand, readSecret } from '../commands/nfe.js';
import { loadTrustStore, type TrustStore } from '../nfe/verify.js';
import { childByLocal, textOf } from '../nfe/xml-tokens.js';
import { createCountProgress, withReportOutput, writeChunk, type ReportStreams } from './io.js';
import type { CommandContext } from './main.js';
import { addOptions, OPTIONS } from './options.js';

async function readBytes(path: string, stdin: NodeJS.ReadableStream): Promise<Buffer> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const c of stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
    return Buffer.concat(chunks);
  }
  try {
    return await fsp.readFile(path);
  } catch (err) {
    throw ioError(err, path, 'open');
  }
}

function writeOut(out: string | undefined, io: ReportStreams, text: string): Promise<void> {
  return withReportOutput(io, out, false, (to) => writeChunk(to.stdout, text));
}

function registerKey(nfe: Command, ctx: CommandContext): void {
  nfe.command('key')
    .description('parse and check a 44-character access key (exit 0 valid, 1 not)')
    .argument('<key>', 'access key (an NFe/CFe prefix is ignored)')
    .addOption(OPTIONS.json())
    .addOption(OPTIONS.output())
    .action((keyArg: string, opts: { json?: boolean; output?: string }) => ctx.run(() => withReportOutput(ctx.io, opts.output, false, async (io) => {
      const k = parseAccessKey(keyArg);
      if (opts.json) io.stdout.write(`${JSON.stringify(k)}\n`);
      else {
        const rows: [string, string][] = [
          ['key', k.key], ['cUF', k.cUF], ['AAMM', k.aamm], [k.emitterKind === 'cpf' ? 'CPF' : 'CNPJ', k.emitterKind === 'cpf' ? k.cnpj.slice(3) : k.cnpj],
          ['mod', k.mod], ['serie', k.serie], ['nNF', k.nNF], ['tpEmis', k.tpEmis], ['cNF', k.cNF], ['cDV', k.cDV],
        ];
        io.stdout.write(`${rows.map(([a, b]) => `${a.padEnd(6)} ${b}`).join('\n')}\n`);
      }
      if (k.valid) return EXIT_OK;
      const why = k.problems.includes('check-digit') ? `check digit is ${k.cDV}, expected ${k.expectedCdv} [NFE_KEY_CHECK_DIGIT]`
        : k.problems.includes('length') ? `has ${k.key.length} characters, not 44 [NFE_KEY_FORMAT]` : `has characters out of place [NFE_KEY_FORMAT]`;
      io.stderr.write(`${k.key}: access key ${why}\n`);
      return EXIT_FINDINGS;
    })));
}

function registerSign(nfe: Command, ctx: CommandContext): void {
  nfe.command('sign')
    .description('sign NFe (each NFe of an enviNFe), events and inutNFe with an A1 certificate (XMLDSig, RSA-SHA1, C14N)')
    .argument('<file>', 'XML document, or - for stdin')
    .addOption(OPTIONS.pfx())
    .addOption(OPTIONS.passwordEnv())
    .addOption(OPTIONS.passwordFile())
    .option('--sha256', 'RSA-SHA256 and SHA-256 digest instead of SEFAZ\'s RSA-SHA1')
    .option('--no-check-certificate', 'skip the certificate date and CNPJ checks')
    .addOption(OPTIONS.output())
    .action((file: string, opts: { pfx?: string; passwordEnv?: string; passwordFile?: string; sha256?: boolean; checkCertificate: boolean; output?: string }) => ctx.run(async () => {
      const creds = await loadSigningCredentials(opts);
      const xml = await readBytes(file, ctx.io.stdin);
      return withReportOutput(ctx.io, opts.output, false, async (io) => (await nfeSignCommand(xml, creds, { output: io.stdout }, opts)).exitCode);
    }));
}

function registerVerify(nfe: Command, ctx: CommandContext): void {
  const verify = addOptions(
    nfe.command('verify')
      .description('verify the signatures of NF-e/NFC-e, events and CF-e SAT on their original bytes (file, directory, zip, -); --json: one JSON report per document')
      .argument('<sources...>', 'files, directories, .zip archives, or - for stdin'),
    'json',
  )
    .option('--trust <dir>', 'directory of trusted CA certificates (PEM/DER): also judge the chain');
  addOptions(verify, 'maxBytes', 'maxDepth', 'output', 'failFast', 'progress', 'threads')
    .action((sources: string[], opts: { json?: boolean; trust?: string; maxBytes?: number; maxDepth?: number; output?: string; failFast?: boolean; progress: boolean; threads?: number }) => ctx.run(() => withReportOutput(ctx.io, opts.output, false, async (io) => {
      let trust: TrustStore | undefined;
      if (opts.trust) {
        try {
          trust = loadTrustStore(opts.trust);
        } catch (err) {
          throw ioError(err, opts.trust, 'read');
        }
        if (trust.anchors.length === 0) throw new UsageError(`no certificate found in ${opts.trust}`);
      }
      const progress = createCountProgress(opts.progress);
      try {
        const outcome = await nfeVerifyCommand({ sources, stdin: io.stdin }, { output: io.stdout, messages: io.stderr, onProgress: (n) => progress.update(n) }, { ...opts, trust });
        return outcome.exitCode;
      } finally {
        progress.stop();
      }
    })));
}

function registerQrcode(nfe: Command, ctx: CommandContext): void {
  nfe.command('qrcode')
    .description('add (or --check) the NFC-e QR code block infNFeSupl of a signed NFC-e (v3 offline, tpEmis 9: signed with --pfx, the emitter certificate)')
    .argument('<file>', 'NFC-e (NFe or nfeProc), or - for stdin')
    .option('--version <v>', 'QR code version: 2 (CSC hash) or 3 (NT 2025.001)', '2')
    .option('--csc-id <id>', 'CSC id (cIdToken), v2')
    .option('--csc-env <name>', 'environment variable holding the CSC, v2')
    .option('--csc-file <path>', 'file holding the CSC, v2')
    .option('--url <url>', 'QR code query URL (default: formats/nfe/qrcode-urls.json for the document\'s cUF and tpAmb)')
    .option('--url-chave <url>', 'urlChave (default: from the same table)')
    .addOption(OPTIONS.pfx())
    .addOption(OPTIONS.passwordEnv())
    .addOption(OPTIONS.passwordFile())
    .option('--check', 'check the document\'s existing qrCode instead of adding one (exit 1 on a mismatch)')
    .addOption(OPTIONS.output())
    .action((file: string, opts: {
      version: string; cscId?: string; cscEnv?: string; cscFile?: string; url?: string; urlChave?: string;
      pfx?: string; passwordEnv?: string; passwordFile?: string; check?: boolean; output?: string;
    }) => ctx.run(async () => {
      const version = Number(opts.version);
      if (version !== 2 && version !== 3) throw new UsageError('--version must be 2 or 3');
      const xml = await readBytes(file, ctx.io.stdin);
      const needCsc = version === 2 || (opts.check === true && (opts.cscEnv !== undefined || opts.cscFile !== undefined));
      const csc = needCsc ? await readSecret('csc', opts.cscEnv, opts.cscFile) : undefined;
      if (opts.check) {
        const { doc, fields, nfe } = qrFieldsFromXml(xml);
        const supl = childByLocal(doc, nfe, 'infNFeSupl');
        const qr = supl === -1 ? -1 : childByLocal(doc, supl, 'qrCode');
        if (qr === -1) {
          ctx.io.stderr.write(`${file}: no infNFeSupl/qrCode [NFE_QRCODE_MISSING]\n`);
          return EXIT_FINDINGS;
        }
        const sig = childByLocal(doc, nfe, 'Signature');
        const ki = sig === -1 ? -1 : childByLocal(doc, sig, 'KeyInfo');
        const xd = ki === -1 ? -1 : childByLocal(doc, ki, 'X509Data');
        const xc = xd === -1 ? -1 : childByLocal(doc, xd, 'X509Certificate');
        const publicKey = xc === -1 ? undefined : publicKeyOfCertificate(textOf(doc, xc).replace(/\s+/g, ''));
        const url = textOf(doc, qr).trim();
        const findings = checkQrCode(url, fields, { ...(csc !== undefined ? { csc } : {}), ...(publicKey ? { publicKey } : {}) });
        for (const f of findings) ctx.io.stderr.write(`${file}: ${f.message} [${f.code}]\n`);
        if (findings.length === 0) ctx.io.stdout.write(`${file}: qrCode OK ${url}\n`);
        return findings.length ? EXIT_FINDINGS : EXIT_OK;
      }
      let privateKey;
      if (version === 3 && opts.pfx) privateKey = (await loadSigningCredentials(opts)).privateKey;
      const result = addQrCodeToXml(xml, {
        version: version as QrVersion,
        ...(opts.cscId !== undefined ? { cscId: opts.cscId } : {}),
        ...(csc !== undefined ? { csc } : {}),
        ...(opts.url !== undefined ? { url: opts.url } : {}),
        ...(opts.urlChave !== undefined ? { urlChave: opts.urlChave } : {}),
        ...(privateKey ? { privateKey } : {}),
      });
      await writeOut(opts.output, ctx.io, result.xml);
      return EXIT_OK;
    }));
}

export function registerNfeSignCommands(nfe: Command, ctx: CommandContext): void {
  registerKey(nfe, ctx);
  registerSign(nfe, ctx);
  registerVerify(nfe, ctx);
  registerQrcode(nfe, ctx);
}

