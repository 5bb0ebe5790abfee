// `roomguard audit export`: an evidence package for a data-protection officer or an auditor. It holds
// the whole-day segments covering a period, each instance's checkpoint file, the signed manifest that
// binds them (export.json), a verification report, a README on how to verify it independently, and
// SHA256SUMS over every file (`sha256sum -c SHA256SUMS`).
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHECKPOINT_FILE, listInstances, listSegments, segmentDay, sha256Hex, utcDay } from './chain.js';
import { checkpointKeys, checkpointSigner, publicKeyPem } from './checkpoint.js';
import { EXPORT_MANIFEST, describeFile, manifestFileText, signManifest, type ExportedChain, type ExportManifest, type PackagedFile } from './manifest.js';
import { verifyAuditDir, type VerifyReport } from './verify.js';

export interface ExportOptions {
  dir: string;
  /** Milliseconds; segments from this UTC day on are included. */
  since: number;
  /** Milliseconds; segments up to and including this UTC day. Default: now. */
  until?: number;
  /** A new or empty directory. */
  out: string;
  publicKeyPem?: string;
  /**
   * Signs export.json: a package's chains start in the middle, and only a manifest signed by the audit
   * signing key may say where (anyone who can write a directory can write an export.json).
   */
  signingKeyPem: string;
  now?: number;
}

export interface ExportResult {
  out: string;
  /** Paths relative to `out`, as listed in SHA256SUMS. */
  files: string[];
  segments: number;
  records: number;
  /** Verification of the source directory at export time, and of the package as written. */
  source: VerifyReport;
  package: VerifyReport;
}

const README = (m: ExportManifest, keyNote: string) => `roomguard audit evidence package
================================

Period:   ${m.since} to ${m.until} (whole UTC days)
Created:  ${m.createdAt}

Contents
  <instance>/<YYYY-MM-DD>.jsonl   audit log segments, one JSON record per line, copied unchanged
  <instance>/checkpoints.jsonl    the instance's signed checkpoints (Ed25519)
  export.json                     signed manifest: where each instance's stretch of the chain starts
                                  and ends, and every file above with its SHA-256 and line count
  public-key.pem                  the checkpoint public key roomguard knew at export time
  verification-report.json        roomguard's verification of the source log and of this package
  SHA256SUMS                      SHA-256 of every other file

How to verify
  1. File integrity:      sha256sum -c SHA256SUMS
  2. Hash chain, signed checkpoints and the signed manifest, with the public key you keep
     OUTSIDE the server (do not rely on public-key.pem inside this package for that):
        roomguard audit verify <this folder> --export --public-key /path/to/audit-signing.pub.pem
     --export says the folder is an evidence package: only then is export.json honoured.
     Exit code 0 means: export.json is signed by the audit key and names exactly the files
     here, unchanged; every record matches its hash, each links to the one before it,
     sequence numbers are continuous, each chain starts and ends where export.json says,
     and every checkpoint signature is valid.
  3. By hand: each record's "hash" is SHA-256 (hex) of its "prev" value, a newline, and the
     record's canonical JSON without "hash" (keys sorted, no whitespace). Each checkpoint signs
     the text "roomguard-audit-checkpoint v1\\n<instance>\\n<seq>\\n<hash>" with Ed25519.

The package starts in the middle of the chain: the first record of each instance links to the
record before the period (export.json names it; its "signature" is an Ed25519 signature by the
same key over "roomguard-audit-export v2\\n" and the canonical JSON of export.json without
"keyId" and "signature", so nobody without the key can move where a chain starts or ends, nor
add, remove or change a file). Checkpoints outside the period are checked for their signature
only. Record fields are described in roomguard's docs/audit.md.
${keyNote}`;

/** A file as it is copied into the package: only whole lines (a write in progress ends in a part of one). */
async function wholeLines(file: string): Promise<Buffer> {
  const bytes = await readFile(file);
  return bytes.subarray(0, bytes.lastIndexOf(10) + 1);
}

function recordsOf(bytes: Buffer): Array<{ seq: number; prev: string; hash: string }> {
  return bytes.toString('utf8').split('\n').flatMap((line) => {
    if (line === '') return [];
    try {
      return [JSON.parse(line) as { seq: number; prev: string; hash: string }];
    } catch {
      return [];
    }
  });
}

export async function exportEvidence(options: ExportOptions): Promise<ExportResult> {
  const now = options.now ?? Date.now();
  const until = options.until ?? now;
  if (!(options.since <= until)) throw new TypeError('--since must not be after --until');
  const sinceDay = utcDay(options.since);
  const untilDay = utcDay(until);
  await mkdir(options.out, { recursive: true, mode: 0o750 });
  if ((await readdir(options.out)).length > 0) throw new Error(`${options.out} is not empty`);

  const keys = { ...(options.publicKeyPem ? { publicKeyPem: options.publicKeyPem } : {}), ...(options.signingKeyPem ? { signingKeyPem: options.signingKeyPem } : {}) };
  const source = await verifyAuditDir(options.dir, { ...keys, live: true, now });
  const chains: Array<[string, ExportedChain]> = [];
  const files: string[] = [];
  let segments = 0;
  let records = 0;
  for (const instance of await listInstances(options.dir)) {
    const chosen = (await listSegments(join(options.dir, instance))).filter((name) => {
      const day = segmentDay(name)!;
      return day >= sinceDay && day <= untilDay;
    });
    // Each file is read once: what is written to the package is exactly what the manifest describes.
    const packaged: Array<[string, PackagedFile]> = [];
    const parsed: Array<{ seq: number; prev: string; hash: string }> = [];
    const kept: Array<{ name: string; bytes: Buffer }> = [];
    for (const name of chosen) {
      const bytes = await wholeLines(join(options.dir, instance, name));
      const recs = recordsOf(bytes);
      if (recs.length === 0) continue;
      parsed.push(...recs);
      kept.push({ name, bytes });
    }
    if (kept.length === 0) continue;
    await mkdir(join(options.out, instance), { recursive: true, mode: 0o750 });
    for (const { name, bytes } of kept) {
      await writeFile(join(options.out, instance, name), bytes, { mode: 0o640 });
      packaged.push([name, describeFile(bytes)]);
      files.push(`${instance}/${name}`);
    }
    try {
      const bytes = await wholeLines(join(options.dir, instance, CHECKPOINT_FILE));
      await writeFile(join(options.out, instance, CHECKPOINT_FILE), bytes, { mode: 0o640 });
      packaged.push([CHECKPOINT_FILE, describeFile(bytes)]);
      files.push(`${instance}/${CHECKPOINT_FILE}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const first = parsed[0]!;
    const last = parsed.at(-1)!;
    chains.push([instance, { firstSeq: first.seq, firstPrev: first.prev, lastSeq: last.seq, lastHash: last.hash, files: Object.fromEntries(packaged) }]);
    segments += kept.length;
    records += parsed.length;
  }

  // fromEntries: own properties whatever the names (an instance may be called `__proto__`).
  const unsigned: ExportManifest = { v: 2, since: sinceDay, until: untilDay, createdAt: new Date(now).toISOString(), instances: Object.fromEntries(chains) };
  const manifest = signManifest(unsigned, checkpointSigner(options.signingKeyPem));
  await writeFile(join(options.out, EXPORT_MANIFEST), manifestFileText(manifest));
  files.push(EXPORT_MANIFEST);
  const keyPem = options.publicKeyPem ?? options.signingKeyPem;
  const pems = [...checkpointKeys(keyPem).values()].map(publicKeyPem).join('');
  await writeFile(join(options.out, 'public-key.pem'), pems);
  files.push('public-key.pem');
  const keyNote = `\nKey id(s) of public-key.pem: ${[...checkpointKeys(pems).keys()].join(', ')} (first 16 hex digits of SHA-256 over the raw key).\n`;
  const pkg = await verifyAuditDir(options.out, { publicKeyPem: keyPem, evidencePackage: true, now });
  await writeFile(join(options.out, 'verification-report.json'), `${JSON.stringify({ generatedAt: new Date(now).toISOString(), source, package: pkg }, null, 2)}\n`);
  files.push('verification-report.json');
  await writeFile(join(options.out, 'README.txt'), README(manifest, keyNote));
  files.push('README.txt');

  const sums: string[] = [];
  for (const file of files.sort()) sums.push(`${sha256Hex(await readFile(join(options.out, file)))}  ${file}\n`);
  await writeFile(join(options.out, 'SHA256SUMS'), sums.join(''));
  return { out: options.out, files, segments, records, source, package: pkg };
}
