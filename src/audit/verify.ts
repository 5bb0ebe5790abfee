// `roomguard audit verify`: recomputes every record's hash, follows prev links across lines and
// segments, checks seq continuity, checkpoint signatures, and that every entry of checkpoints.jsonl
// (the copy shipped off-host) still names a record of the chain. A torn final line (crash in the
// middle of a write) is told apart from tampering and can be repaired with `repairTail`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { AUDIT_RECORD_TYPES, type AuditRecord } from './record.js';
import { CHECKPOINT_FILE, GENESIS, canonicalJson, listInstances, listSegments, recordHash } from './chain.js';
import { checkpointKeys, verifyCheckpointSignature, type CheckpointEntry } from './checkpoint.js';
import { readLines, repairTornTail, tornTailOf, type FileLines, type TornTail } from './tail.js';
import { acquireInstanceLock } from './lock.js';

export type ProblemKind = 'tampered' | 'missing' | 'reordered' | 'inserted' | 'torn-tail' | 'bad-signature' | 'truncated-after-checkpoint';

export interface VerifyProblem {
  file: string;
  /** 1-based line number. */
  line: number;
  kind: ProblemKind;
  expected?: string;
  found?: string;
  message: string;
}

export interface CheckpointSummary {
  instance: string;
  seq: number;
  hash: string;
  ts: string;
  keyId: string;
}

export interface VerifyReport {
  /** No problem at all. */
  ok: boolean;
  /** Every problem is a torn final line, which `repairTail` (`--repair-tail`) fixes. */
  repairable: boolean;
  records: number;
  segments: number;
  instances: number;
  instanceNames: string[];
  /** Whether checkpoint signatures were checked (only when a key was given). */
  signatures: 'checked' | 'unchecked';
  checkpoints: number;
  lastCheckpoint?: CheckpointSummary;
  /** Chain head of each instance. */
  heads: Record<string, { seq: number; hash: string }>;
  /** Set when the directory is an evidence export (a stretch of the chain, not from its start). */
  partial?: boolean;
  problems: VerifyProblem[];
}

export interface VerifyOptions {
  /** PEM with the checkpoint public key(s), ideally the copy kept off the host. */
  publicKeyPem?: string;
  /** The signing key (PKCS#8 PEM) to derive the public key from when no public key is given. */
  signingKeyPem?: string;
  /**
   * The directory is the live audit directory (not an evidence export): an `export.json` found there is
   * reported and ignored, so it cannot excuse records missing from the start of a chain.
   */
  live?: boolean;
}

/** `export.json` of an evidence package: where each instance's stretch of the chain starts and ends. */
export interface ExportManifest {
  v: 1;
  since: string;
  until: string;
  createdAt: string;
  instances: Record<string, { firstSeq: number; firstPrev: string; lastSeq: number; lastHash: string; segments: string[] }>;
}
export const EXPORT_MANIFEST = 'export.json';

interface Located {
  record: AuditRecord;
  file: string;
  line: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

function asRecord(value: unknown, instance: string): AuditRecord | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const r = value as Partial<AuditRecord>;
  if (r.v !== 1) return `unknown record version ${JSON.stringify(r.v)}`;
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return 'seq is not a positive whole number';
  if (typeof r.prev !== 'string' || !HEX64.test(r.prev) || typeof r.hash !== 'string' || !HEX64.test(r.hash)) return 'prev or hash is not a SHA-256 hex digest';
  if (r.instance !== instance) return `record of instance ${JSON.stringify(r.instance)} in the folder of ${instance}`;
  if (!(AUDIT_RECORD_TYPES as readonly string[]).includes(r.type as string)) return `unknown type ${JSON.stringify(r.type)}`;
  if (typeof r.ts !== 'string' || typeof r.id !== 'string' || typeof r.outcome !== 'string') return 'id, ts or outcome missing';
  return r as AuditRecord;
}

function hashOf(record: AuditRecord): string {
  const { hash: _hash, ...body } = record;
  return recordHash(body);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function keysFrom(options: VerifyOptions): Map<string, KeyObject> | undefined {
  if (options.publicKeyPem) return checkpointKeys(options.publicKeyPem);
  if (options.signingKeyPem) return checkpointKeys(options.signingKeyPem);
  return undefined;
}

async function readExportManifest(dir: string): Promise<ExportManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, EXPORT_MANIFEST), 'utf8')) as ExportManifest;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

interface InstanceResult {
  problems: VerifyProblem[];
  records: number;
  segments: number;
  checkpoints: CheckpointSummary[];
  head?: { seq: number; hash: string };
}

/** Verifies every instance's chain in an audit directory (or an evidence export). */
export async function verifyAuditDir(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const keys = keysFrom(options);
  let instances: string[];
  try {
    instances = await listInstances(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new Error(`${dir}: no audit directory here`);
    throw err;
  }
  let manifest = await readExportManifest(dir);
  const early: VerifyProblem[] = [];
  if (manifest && options.live) {
    early.push({ file: join(dir, EXPORT_MANIFEST), line: 1, kind: 'inserted', message: 'an evidence-export manifest in the live audit directory (ignored)' });
    manifest = undefined;
  }
  const report: VerifyReport = {
    ok: true, repairable: false, records: 0, segments: 0, instances: instances.length, instanceNames: instances,
    signatures: keys ? 'checked' : 'unchecked', checkpoints: 0, heads: {}, problems: early,
    ...(manifest ? { partial: true } : {}),
  };
  const allCheckpoints: CheckpointSummary[] = [];
  for (const instance of instances) {
    let result = await verifyInstance(dir, instance, keys, manifest);
    // A torn last line in a live log may be a write in progress: look once more a moment later.
    if (result.problems.length > 0 && result.problems.every((p) => p.kind === 'torn-tail')) {
      await sleep(200);
      result = await verifyInstance(dir, instance, keys, manifest);
    }
    report.problems.push(...result.problems);
    report.records += result.records;
    report.segments += result.segments;
    report.checkpoints += result.checkpoints.length;
    allCheckpoints.push(...result.checkpoints);
    if (result.head) report.heads[instance] = result.head;
  }
  const last = allCheckpoints.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0)).at(-1);
  if (last) report.lastCheckpoint = last;
  report.ok = report.problems.length === 0;
  report.repairable = !report.ok && report.problems.every((p) => p.kind === 'torn-tail');
  return report;
}

async function verifyInstance(dir: string, instance: string, keys: Map<string, KeyObject> | undefined, manifest: ExportManifest | undefined): Promise<InstanceResult> {
  const instanceDir = join(dir, instance);
  const problems: VerifyProblem[] = [];
  const problem = (p: VerifyProblem) => problems.push(p);
  const checkpoints: CheckpointSummary[] = [];

  const checkSignature = (file: string, line: number, head: { seq: number; hash: string }, keyId: unknown, signature: unknown) => {
    if (!keys) return;
    const key = typeof keyId === 'string' ? keys.get(keyId) : undefined;
    if (!key) {
      problem({ file, line, kind: 'bad-signature', expected: [...keys.keys()].join(' or '), found: String(keyId), message: 'checkpoint signed with a key other than the given public key(s)' });
      return;
    }
    if (typeof signature !== 'string' || !verifyCheckpointSignature({ instance, seq: head.seq, hash: head.hash }, signature, key)) {
      problem({ file, line, kind: 'bad-signature', message: `checkpoint signature over seq ${head.seq} does not verify with key ${keyId}` });
    }
  };

  // The off-host checkpoint file: read first, so the walk can note the hashes its entries name.
  const cpFile = join(instanceDir, CHECKPOINT_FILE);
  const cpEntries: Array<{ entry: CheckpointEntry; line: number }> = [];
  const cpContent = await readLines(cpFile).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (cpContent) {
    const torn = tornTailOf(cpFile, cpContent);
    if (torn) problem({ file: cpFile, line: torn.line, kind: 'torn-tail', found: `${torn.bytes} bytes`, message: 'incomplete last line (crash while writing); repairable with --repair-tail' });
    cpContent.lines.forEach((text, i) => {
      if (torn && i + 1 === torn.line) return;
      let entry: CheckpointEntry;
      try {
        entry = JSON.parse(text) as CheckpointEntry;
      } catch {
        problem({ file: cpFile, line: i + 1, kind: 'tampered', message: 'not a JSON line' });
        return;
      }
      if (entry.instance !== instance || !Number.isSafeInteger(entry.seq) || typeof entry.hash !== 'string') {
        problem({ file: cpFile, line: i + 1, kind: 'tampered', message: 'not a checkpoint of this instance' });
        return;
      }
      checkSignature(cpFile, i + 1, entry, entry.keyId, entry.signature);
      cpEntries.push({ entry, line: i + 1 });
    });
  }
  const wanted = new Set(cpEntries.map((c) => c.entry.seq));
  const hashAtSeq = new Map<number, string>();

  const segments = await listSegments(instanceDir);
  let head: Located | undefined;
  let beforeHead: Located | undefined;
  let anchor: Located | undefined;
  const parked = new Map<string, Located>();
  const purged = new Map<string, number>();
  let purgedUpTo = 0;
  let records = 0;
  let lastLocation = { file: join(instanceDir, segments.at(-1) ?? ''), line: 0 };

  const accept = (item: Located) => {
    if (!anchor) anchor = item;
    beforeHead = head;
    head = item;
    for (let next = parked.get(head.record.hash); next; next = parked.get(head.record.hash)) {
      parked.delete(head.record.hash);
      beforeHead = head;
      head = next;
    }
  };

  for (let s = 0; s < segments.length; s++) {
    const file = join(instanceDir, segments[s]!);
    const isLast = s === segments.length - 1;
    const content: FileLines = await readLines(file);
    let torn: TornTail | undefined;
    if (isLast) {
      torn = tornTailOf(file, content);
      if (torn) problem({ file, line: torn.line, kind: 'torn-tail', found: `${torn.bytes} bytes`, message: 'incomplete last line (crash while writing); repairable with --repair-tail' });
    } else if (content.rest.length > 0) {
      problem({ file, line: content.lines.length + 1, kind: 'tampered', message: 'bytes after the last newline of a closed segment' });
    }
    const lineCount = torn && torn.line <= content.lines.length ? content.lines.length - 1 : content.lines.length;
    lastLocation = { file, line: lineCount };

    // Own checks of each line first; hashes of the segment are needed to recognise reordering.
    const parsed: Array<Located | undefined> = [];
    const ownProblem: boolean[] = [];
    for (let i = 0; i < lineCount; i++) {
      const text = content.lines[i]!;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        problem({ file, line: i + 1, kind: 'tampered', message: 'not a JSON record' });
        parsed.push(undefined);
        ownProblem.push(true);
        continue;
      }
      const record = asRecord(value, instance);
      if (typeof record === 'string') {
        problem({ file, line: i + 1, kind: 'tampered', message: record });
        parsed.push(undefined);
        ownProblem.push(true);
        continue;
      }
      records++;
      const item = { record, file, line: i + 1 };
      parsed.push(item);
      let bad = false;
      const expected = hashOf(record);
      if (expected !== record.hash) {
        problem({ file, line: i + 1, kind: 'tampered', expected, found: record.hash, message: 'the record does not match its hash (a field was changed)' });
        bad = true;
      } else if (canonicalJson(record) !== text) {
        problem({ file, line: i + 1, kind: 'tampered', message: 'the line is not the canonical JSON of its record' });
        bad = true;
      }
      if (record.type === 'audit.checkpoint') {
        const d = record.details ?? {};
        if (d.seq !== record.seq - 1 || d.hash !== record.prev) {
          problem({ file, line: i + 1, kind: 'tampered', expected: `seq ${record.seq - 1} hash ${record.prev}`, found: `seq ${String(d.seq)} hash ${String(d.hash)}`, message: 'checkpoint does not name the record before it' });
          bad = true;
        } else {
          checkSignature(file, i + 1, { seq: d.seq, hash: d.hash }, d.keyId, d.signature);
        }
        if (typeof d.keyId === 'string') checkpoints.push({ instance, seq: d.seq as number, hash: String(d.hash), ts: record.ts, keyId: d.keyId });
      }
      if (record.type === 'audit.purge' && typeof record.details?.finalHash === 'string' && typeof record.details.lastSeq === 'number') {
        purged.set(record.details.finalHash, record.details.lastSeq);
        purgedUpTo = Math.max(purgedUpTo, record.details.lastSeq);
      }
      if (wanted.has(record.seq)) hashAtSeq.set(record.seq, record.hash);
      ownProblem.push(bad);
    }
    const positionOf = new Map<string, number>();
    parsed.forEach((item, i) => {
      if (item) positionOf.set(item.record.hash, i);
    });
    const seen = new Set<string>();

    // The chain, in file order.
    for (let i = 0; i < parsed.length; i++) {
      const item = parsed[i];
      if (!item) continue;
      const r = item.record;
      const duplicate = seen.has(r.hash);
      seen.add(r.hash);
      if (!head) {
        accept(item);
        continue;
      }
      const h = head.record;
      if (r.prev === h.hash && r.seq === h.seq + 1) {
        accept(item);
        continue;
      }
      if (ownProblem[i]) continue;
      const later = positionOf.get(r.prev);
      if (later !== undefined && later > i) {
        parked.set(r.prev, item);
        problem({ file, line: i + 1, kind: 'reordered', expected: `seq ${h.seq + 1} after ${h.hash}`, found: `seq ${r.seq}, whose predecessor is line ${later + 1}`, message: 'record out of order' });
        continue;
      }
      if (beforeHead && r.prev === beforeHead.record.hash && r.seq === beforeHead.record.seq + 1) {
        problem({ file: head.file, line: head.line, kind: 'inserted', expected: `seq ${r.seq} linking to ${beforeHead.record.hash}`, found: `seq ${h.seq} ${h.hash}`, message: 'a record was inserted here (the next record links past it)' });
        head = item;
        continue;
      }
      if (duplicate || r.seq <= h.seq) {
        problem({ file, line: i + 1, kind: 'inserted', expected: `seq ${h.seq + 1}`, found: `seq ${r.seq}`, message: duplicate ? 'a copy of an earlier record' : 'a record that does not belong here' });
        continue;
      }
      if (r.seq > h.seq + 1) {
        problem({ file, line: i + 1, kind: 'missing', expected: h.hash, found: r.prev, message: `${r.seq - h.seq - 1} record(s) missing before this one (seq ${h.seq + 1}${r.seq - h.seq > 2 ? `–${r.seq - 1}` : ''})` });
      } else {
        problem({ file, line: i + 1, kind: 'tampered', expected: h.hash, found: r.prev, message: 'prev does not match the hash of the record before (this or the previous record was rewritten)' });
      }
      accept(item);
    }
  }

  // Where the chain starts: the genesis, a segment deleted by a purge, or (in an export) its first record.
  if (anchor) {
    const a = anchor.record;
    const fromGenesis = a.prev === GENESIS && a.seq === 1;
    const fromPurge = purged.get(a.prev) === a.seq - 1;
    const fromExport = manifest?.instances[instance]?.firstPrev === a.prev && manifest.instances[instance]?.firstSeq === a.seq;
    if (!fromGenesis && !fromPurge && !fromExport) {
      problem({ file: anchor.file, line: anchor.line, kind: 'missing', expected: `${GENESIS} (seq 1) or the final hash of a purged segment`, found: `${a.prev} (seq ${a.seq})`, message: 'the chain does not start at its beginning and no audit.purge record explains it' });
    }
  }
  const headSeq = head?.record.seq ?? 0;
  if (manifest?.instances[instance] && head && manifest.instances[instance]!.lastSeq > headSeq) {
    const m = manifest.instances[instance]!;
    problem({ file: lastLocation.file, line: lastLocation.line + 1, kind: 'missing', expected: `seq ${m.lastSeq} ${m.lastHash}`, found: `end of chain at seq ${headSeq}`, message: 'the export ends before the record its manifest names' });
  }

  // Every entry of the off-host checkpoint file must still be in the chain.
  const firstSeq = anchor?.record.seq ?? 1;
  for (const { entry, line } of cpEntries) {
    if (entry.seq === 0) {
      if (entry.hash !== GENESIS) problem({ file: cpFile, line, kind: 'tampered', expected: GENESIS, found: entry.hash, message: 'checkpoint of an empty chain with a hash' });
      continue;
    }
    const found = hashAtSeq.get(entry.seq);
    if (found !== undefined) {
      if (found !== entry.hash) problem({ file: cpFile, line, kind: 'tampered', expected: entry.hash, found, message: `record seq ${entry.seq} differs from the one this checkpoint signed (history rewritten)` });
      continue;
    }
    if (entry.seq <= purgedUpTo) continue;
    if (manifest && (entry.seq < firstSeq - 1 || entry.seq > (manifest.instances[instance]?.lastSeq ?? headSeq))) continue;
    if (manifest && entry.seq === firstSeq - 1) {
      if (anchor && entry.hash !== anchor.record.prev) problem({ file: cpFile, line, kind: 'tampered', expected: entry.hash, found: anchor.record.prev, message: 'the export does not continue the checkpointed record' });
      continue;
    }
    if (entry.seq > headSeq) {
      problem({ file: lastLocation.file, line: lastLocation.line + 1, kind: 'truncated-after-checkpoint', expected: `seq ${entry.seq} ${entry.hash} (${CHECKPOINT_FILE}:${line})`, found: `end of chain at seq ${headSeq}`, message: 'records covered by a signed checkpoint were cut off the end of the chain' });
    } else {
      problem({ file: cpFile, line, kind: 'missing', expected: `seq ${entry.seq} ${entry.hash}`, found: 'no such record', message: 'the record this checkpoint signed is not in the chain' });
    }
  }

  const order = (p: VerifyProblem) => `${p.file}\u0000${String(p.line).padStart(12, '0')}`;
  problems.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return { problems, records, segments: segments.length, checkpoints, ...(head ? { head: { seq: head.record.seq, hash: head.record.hash } } : {}) };
}

/**
 * Moves torn final lines (of each instance's last segment and checkpoint file) to `<file>.torn` and cuts
 * them off. Only while no writer runs on the instance (it holds the instance lock, and repairs on start anyway).
 */
export async function repairTail(dir: string): Promise<TornTail[]> {
  const repaired: TornTail[] = [];
  for (const instance of await listInstances(dir)) {
    const instanceDir = join(dir, instance);
    const lock = await acquireInstanceLock(instanceDir);
    try {
      const last = (await listSegments(instanceDir)).at(-1);
      for (const file of [last ? join(instanceDir, last) : undefined, join(instanceDir, CHECKPOINT_FILE)]) {
        if (!file) continue;
        const torn = await repairTornTail(file).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return undefined;
          throw err;
        });
        if (torn) repaired.push(torn);
      }
    } finally {
      await lock.release();
    }
  }
  return repaired;
}
