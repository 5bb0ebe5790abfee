// The manifest of an evidence package (`export.json`): which stretch of each instance's chain the package
// holds, and exactly which files (name, SHA-256, lines), signed by the audit signing key. A manifest says
// where chains may start and end, so `verify` honours one only where the reviewer says they verify an
// evidence package (`--export`), and then holds every file of the package against it: a genuine manifest
// copied next to other files (a deleted head, a cut or forged tail) explains nothing.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { CHECKPOINT_FILE, SEGMENT_PATTERN, isValidInstance, sha256Hex, type JsonValue } from './chain.js';
import { exportManifestMessage, verifySignedMessage, type CheckpointSigner } from './checkpoint.js';
import type { VerifyProblem } from './verify.js';

export const EXPORT_MANIFEST = 'export.json';

/** One file of an instance's folder in a package, as the manifest binds it. */
export interface PackagedFile {
  sha256: string;
  /** Complete lines (newline-terminated). */
  lines: number;
}

/** One instance's stretch of the chain in a package, and the files that hold it. */
export interface ExportedChain {
  firstSeq: number;
  /** `prev` of the first record: the hash of the record before the period (or the genesis). */
  firstPrev: string;
  lastSeq: number;
  lastHash: string;
  /** Every file of the instance's folder in the package, by name. */
  files: Record<string, PackagedFile>;
}

export interface ExportManifest {
  v: 2;
  since: string;
  until: string;
  createdAt: string;
  instances: Record<string, ExportedChain>;
  /** Key id and base64 Ed25519 signature over `exportManifestMessage` of the other fields. */
  keyId?: string;
  signature?: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The manifest's stretch of an instance's chain: its own entry only (a folder may be named `constructor`). */
export function exportedChain(manifest: ExportManifest, instance: string): ExportedChain | undefined {
  return Object.hasOwn(manifest.instances, instance) ? manifest.instances[instance] : undefined;
}

export function describeFile(bytes: Buffer): PackagedFile {
  let lines = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) lines++;
  return { sha256: sha256Hex(bytes), lines };
}

/** The manifest's fields without its signature: what `exportManifestMessage` signs. */
export function unsignedManifest(manifest: ExportManifest): Record<string, JsonValue> {
  const { keyId: _keyId, signature: _signature, ...rest } = manifest;
  return rest as unknown as Record<string, JsonValue>;
}

export function signManifest(manifest: ExportManifest, signer: CheckpointSigner): ExportManifest {
  const unsigned = { ...manifest };
  delete unsigned.keyId;
  delete unsigned.signature;
  return { ...unsigned, keyId: signer.keyId, signature: signer.signMessage(exportManifestMessage(unsignedManifest(unsigned))) };
}

function isCount(value: unknown, min: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= min;
}

/** One instance's entry, or what is wrong with it. */
function parseChain(instance: string, value: unknown): ExportedChain | string {
  if (!isValidInstance(instance)) return `instance ${JSON.stringify(instance)} is not an instance name`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `instance ${instance}: not an object`;
  const c = value as Partial<ExportedChain>;
  if (!isCount(c.firstSeq, 1) || !isCount(c.lastSeq, c.firstSeq) || typeof c.firstPrev !== 'string' || !HEX64.test(c.firstPrev) || typeof c.lastHash !== 'string' || !HEX64.test(c.lastHash)) {
    return `instance ${instance}: firstSeq, lastSeq, firstPrev or lastHash missing or malformed`;
  }
  if (typeof c.files !== 'object' || c.files === null || Array.isArray(c.files)) return `instance ${instance}: no files`;
  for (const [name, file] of Object.entries(c.files)) {
    if (name !== CHECKPOINT_FILE && !SEGMENT_PATTERN.test(name)) return `instance ${instance}: ${JSON.stringify(name)} is neither a segment nor ${CHECKPOINT_FILE}`;
    const f = file as Partial<PackagedFile> | null;
    if (typeof f?.sha256 !== 'string' || !HEX64.test(f.sha256) || !isCount(f.lines, 0)) return `instance ${instance}: file ${name} without sha256 and lines`;
  }
  return c as ExportedChain;
}

/** A manifest read from untrusted bytes, or what is wrong with it. */
export function parseManifest(text: string): ExportManifest | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const m = value as Partial<Record<keyof ExportManifest, unknown>>;
  if (m.v === 1) return 'a manifest of an older roomguard (v1), which binds none of the package\'s files; make the package again with `roomguard audit export`';
  if (m.v !== 2) return `unknown manifest version ${JSON.stringify(m.v)}`;
  if (typeof m.since !== 'string' || !DAY.test(m.since) || typeof m.until !== 'string' || !DAY.test(m.until) || typeof m.createdAt !== 'string') return 'since, until or createdAt missing';
  if (typeof m.instances !== 'object' || m.instances === null || Array.isArray(m.instances)) return 'no instances';
  for (const [instance, chain] of Object.entries(m.instances)) {
    const parsed = parseChain(instance, chain);
    if (typeof parsed === 'string') return parsed;
  }
  return value as ExportManifest;
}

/**
 * Whether the audit signing key signed the manifest (anyone who can write a directory can write an
 * export.json). Unchecked without keys, as every signature then is.
 */
export function manifestSignatureProblem(manifest: ExportManifest, file: string, keys: Map<string, KeyObject> | undefined): VerifyProblem | undefined {
  if (!keys) return undefined;
  const key = typeof manifest.keyId === 'string' ? keys.get(manifest.keyId) : undefined;
  if (key && typeof manifest.signature === 'string' && verifySignedMessage(exportManifestMessage(unsignedManifest(manifest)), manifest.signature, key)) return undefined;
  return { file, line: 1, kind: 'bad-signature', found: String(manifest.keyId), message: 'the export manifest is not signed by the audit signing key, so it explains no chain start (ignored)' };
}

/** The line of a pretty-printed manifest that names `keys` in order (each a JSON key), or line 1. */
function lineNaming(text: string, keys: string[]): number {
  const lines = text.split('\n');
  let at = 0;
  for (const key of keys) {
    const needle = `${JSON.stringify(key)}:`;
    const found = lines.findIndex((line, i) => i >= at && line.trimStart().startsWith(needle));
    if (found === -1) return 1;
    at = found;
  }
  return at + 1;
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

/**
 * Every file of the package held against the manifest: a file in an instance folder that it does not name
 * (a forged or copied-in segment, an instance folder it does not list) is `inserted`; a file it names that is
 * gone is `missing` at the manifest's line; a file whose bytes differ is `inserted` after its last signed line
 * when lines were appended, else `tampered` (the chain walk names the records).
 */
export async function packageFileProblems(dir: string, manifest: ExportManifest, manifestText: string, instanceFolders: string[]): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  const manifestFile = join(dir, EXPORT_MANIFEST);
  for (const instance of instanceFolders) {
    if (exportedChain(manifest, instance)) continue;
    for (const name of (await readdirOrEmpty(join(dir, instance))).sort()) {
      problems.push({ file: join(dir, instance, name), line: 1, kind: 'inserted', expected: `only the instances ${manifestFile} names (${Object.keys(manifest.instances).join(', ') || 'none'})`, found: `instance ${instance}`, message: 'a file of an instance the signed export manifest does not list' });
    }
  }
  for (const [instance, chain] of Object.entries(manifest.instances)) {
    const present = new Set(await readdirOrEmpty(join(dir, instance)));
    for (const name of [...present].sort()) {
      if (Object.hasOwn(chain.files, name)) continue;
      problems.push({ file: join(dir, instance, name), line: 1, kind: 'inserted', expected: `only the files ${manifestFile} names`, found: name, message: 'a file the signed export manifest does not name (not part of the evidence package)' });
    }
    for (const [name, signed] of Object.entries(chain.files)) {
      const file = join(dir, instance, name);
      if (!present.has(name)) {
        problems.push({ file: manifestFile, line: lineNaming(manifestText, ['instances', instance, 'files', name]), kind: 'missing', expected: `${instance}/${name}`, found: 'no such file', message: 'a file of the evidence package is gone' });
        continue;
      }
      const bytes = await readFile(file);
      const actual = describeFile(bytes);
      if (actual.sha256 === signed.sha256) continue;
      const prefix = describeFile(bytes.subarray(0, nthLineEnd(bytes, signed.lines)));
      if (actual.lines > signed.lines && prefix.sha256 === signed.sha256) {
        problems.push({ file, line: signed.lines + 1, kind: 'inserted', expected: `${signed.lines} lines (${manifestFile})`, found: `${actual.lines} lines`, message: 'lines added after the last line the signed export manifest names' });
      } else {
        problems.push({ file, line: 1, kind: 'tampered', expected: `SHA-256 ${signed.sha256}, ${signed.lines} lines (${manifestFile})`, found: `SHA-256 ${actual.sha256}, ${actual.lines} lines`, message: 'the file differs from the one the signed export manifest names' });
      }
    }
  }
  return problems;
}

/** Byte offset just after the n-th newline (the whole buffer when it has fewer). */
function nthLineEnd(bytes: Buffer, n: number): number {
  let end = 0;
  for (let k = 0; k < n; k++) {
    const i = bytes.indexOf(10, end);
    if (i === -1) return bytes.length;
    end = i + 1;
  }
  return end;
}

export async function readManifestText(dir: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, EXPORT_MANIFEST), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** export.json as written: pretty-printed for people (the signature covers the canonical JSON). */
export function manifestFileText(manifest: ExportManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
