// `roomguard audit export`: an evidence package for a data-protection officer or an auditor. It holds
// the whole-day segments covering a period, each instance's checkpoint file, a verification report, a
// README on how to verify it independently, and SHA256SUMS over every file (`sha256sum -c SHA256SUMS`).
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHECKPOINT_FILE, listInstances, listSegments, segmentDay, sha256Hex, utcDay } from './chain.js';
import { checkpointKeys, checkpointSigner, exportManifestMessage, publicKeyPem } from './checkpoint.js';
import { readLines } from './tail.js';
import { EXPORT_MANIFEST, unsignedManifest, verifyAuditDir, type ExportManifest, type VerifyReport } from './verify.js';

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
  export.json                     where each instance's stretch of the chain starts and ends
  public-key.pem                  the checkpoint public key roomguard knew at export time
  verification-report.json        roomguard's verification of the source log and of this package
  SHA256SUMS                      SHA-256 of every other file

How to verify
  1. File integrity:      sha256sum -c SHA256SUMS
  2. Hash chain and signed checkpoints, with the public key you keep OUTSIDE the server
     (do not rely on public-key.pem inside this package for that):
        roomguard audit verify <this folder> --public-key /path/to/audit-signing.pub.pem
     Exit code 0 means: every record matches its hash, each links to the one before it,
     sequence numbers are continuous, and every checkpoint signature is valid.
  3. By hand: each record's "hash" is SHA-256 (hex) of its "prev" value, a newline, and the
     record's canonical JSON without "hash" (keys sorted, no whitespace). Each checkpoint signs
     the text "roomguard-audit-checkpoint v1\\n<instance>\\n<seq>\\n<hash>" with Ed25519.

The package starts in the middle of the chain: the first record of each instance links to the
record before the period (export.json names it; its "signature" is an Ed25519 signature by the
same key over "roomguard-audit-export v1\\n" and the canonical JSON of export.json without
"keyId" and "signature", so nobody without the key can move where a chain starts). Checkpoints
outside the period are checked for their signature only. Record fields are described in roomguard's docs/audit.md.
${keyNote}`;

export async function exportEvidence(options: ExportOptions): Promise<ExportResult> {
  const now = options.now ?? Date.now();
  const until = options.until ?? now;
  if (!(options.since <= until)) throw new TypeError('--since must not be after --until');
  const sinceDay = utcDay(options.since);
  const untilDay = utcDay(until);
  await mkdir(options.out, { recursive: true, mode: 0o750 });
  if ((await readdir(options.out)).length > 0) throw new Error(`${options.out} is not empty`);

  const source = await verifyAuditDir(options.dir, { ...(options.publicKeyPem ? { publicKeyPem: options.publicKeyPem } : {}), ...(options.signingKeyPem ? { signingKeyPem: options.signingKeyPem } : {}) });
  const manifest: ExportManifest = { v: 1, since: sinceDay, until: untilDay, createdAt: new Date(now).toISOString(), instances: {} };
  const files: string[] = [];
  let segments = 0;
  let records = 0;
  for (const instance of await listInstances(options.dir)) {
    const chosen = (await listSegments(join(options.dir, instance))).filter((name) => {
      const day = segmentDay(name)!;
      return day >= sinceDay && day <= untilDay;
    });
    const parsed: Array<{ seq: number; prev: string; hash: string }> = [];
    const kept: string[] = [];
    for (const name of chosen) {
      const { lines } = await readLines(join(options.dir, instance, name));
      const recs = lines.flatMap((line) => {
        try {
          return [JSON.parse(line) as { seq: number; prev: string; hash: string }];
        } catch {
          return [];
        }
      });
      if (recs.length === 0) continue;
      parsed.push(...recs);
      kept.push(name);
    }
    if (kept.length === 0) continue;
    await mkdir(join(options.out, instance), { recursive: true, mode: 0o750 });
    for (const name of kept) {
      await copyFile(join(options.dir, instance, name), join(options.out, instance, name));
      files.push(`${instance}/${name}`);
    }
    try {
      await copyFile(join(options.dir, instance, CHECKPOINT_FILE), join(options.out, instance, CHECKPOINT_FILE));
      files.push(`${instance}/${CHECKPOINT_FILE}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const first = parsed[0]!;
    const last = parsed.at(-1)!;
    manifest.instances[instance] = { firstSeq: first.seq, firstPrev: first.prev, lastSeq: last.seq, lastHash: last.hash, segments: kept };
    segments += kept.length;
    records += parsed.length;
  }

  const signer = checkpointSigner(options.signingKeyPem);
  manifest.keyId = signer.keyId;
  manifest.signature = signer.signMessage(exportManifestMessage(unsignedManifest(manifest)));
  await writeFile(join(options.out, EXPORT_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  files.push(EXPORT_MANIFEST);
  const keyPem = options.publicKeyPem ?? options.signingKeyPem;
  const pems = [...checkpointKeys(keyPem).values()].map(publicKeyPem).join('');
  await writeFile(join(options.out, 'public-key.pem'), pems);
  files.push('public-key.pem');
  const keyNote = `\nKey id(s) of public-key.pem: ${[...checkpointKeys(pems).keys()].join(', ')} (first 16 hex digits of SHA-256 over the raw key).\n`;
  const pkg = await verifyAuditDir(options.out, { publicKeyPem: keyPem });
  await writeFile(join(options.out, 'verification-report.json'), `${JSON.stringify({ generatedAt: new Date(now).toISOString(), source, package: pkg }, null, 2)}\n`);
  files.push('verification-report.json');
  await writeFile(join(options.out, 'README.txt'), README(manifest, keyNote));
  files.push('README.txt');

  const sums: string[] = [];
  for (const file of files.sort()) sums.push(`${sha256Hex(await readFile(join(options.out, file)))}  ${file}\n`);
  await writeFile(join(options.out, 'SHA256SUMS'), sums.join(''));
  return { out: options.out, files, segments, records, source, package: pkg };
}
