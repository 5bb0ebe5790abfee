// `roomguard audit verify`: recomputes every record's hash, follows prev links across lines and
// segments, checks seq continuity, that time never runs backwards, checkpoint and purge signatures, that
// the chain starts at its genesis or where a signed purge of whole segments past retention (or, verifying
// an evidence package, its signed export manifest) says it does, that every entry of checkpoints.jsonl
// and of off-host copies of it still names a record of the chain, and that no record is dated after
// verify's clock or after the checkpoint that signed it. A torn final line (crash in the middle of a
// write) is told apart from tampering and can be repaired with `repairTail`.
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { AUDIT_RECORD_TYPES, type AuditRecord } from './record.js';
import { CHECKPOINT_FILE, CLOCK_TOLERANCE_MS, GENESIS, SEGMENT_PATTERN, canonicalJson, listInstances, listSegments, recordHash, retentionCutoff, segmentDay, utcDay, type JsonValue } from './chain.js';
import { checkpointKeys, purgeMessage, verifyCheckpointSignature, verifySignedMessage, type CheckpointEntry } from './checkpoint.js';
import { EXPORT_MANIFEST, exportedChain, manifestSignatureProblem, packageFileProblems, parseManifest, readManifestText, type ExportedChain, type ExportManifest } from './manifest.js';
import { readLines, repairTornTail, tornTailOf, type FileLines, type TornTail } from './tail.js';
import { acquireInstanceLock } from './lock.js';

export type ProblemKind =
  | 'tampered' | 'missing' | 'reordered' | 'inserted' | 'torn-tail' | 'bad-signature' | 'truncated-after-checkpoint'
  | 'bad-purge' | 'time-reversed' | 'time-future';

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
  /** Whether checkpoint, purge and manifest signatures were checked (only when a key was given). */
  signatures: 'checked' | 'unchecked';
  checkpoints: number;
  lastCheckpoint?: CheckpointSummary;
  /** Chain head of each instance. */
  heads: Record<string, { seq: number; hash: string }>;
  /** Set when the directory was verified as an evidence package whose signed manifest was honoured. */
  partial?: boolean;
  /** The period and each instance's stretch of the chain, as the honoured manifest states them. */
  evidencePackage?: { since: string; until: string; chains: Record<string, { firstSeq: number; lastSeq: number }> };
  /** Off-host checkpoint files compared with the chains (`--checkpoints`). */
  checkpointFiles?: string[];
  problems: VerifyProblem[];
}

export interface VerifyOptions {
  /** PEM with the checkpoint public key(s), ideally the copy kept off the host. */
  publicKeyPem?: string;
  /** The signing key (PKCS#8 PEM) to derive the public key from when no public key is given. */
  signingKeyPem?: string;
  /**
   * The directory is an evidence package written by `audit export` (`verify --export`): its `export.json`,
   * once its signature verifies, says where each chain starts and ends, and every file of the package must
   * be one it names, unchanged. Without this, an `export.json` is reported and ignored: a manifest found in
   * some directory must not excuse records missing from the start or the end of a chain.
   */
  evidencePackage?: boolean;
  /** The directory is the live audit directory: never an evidence package, whatever is asked. */
  live?: boolean;
  /**
   * Copies of checkpoints.jsonl kept off the host (any instance's entries, routed by their `instance`):
   * every entry must still name a record of the chain, as the directory's own checkpoint file's do.
   */
  checkpointFiles?: string[];
  /** Verify's clock (ms; default: now): records dated after it (beyond a small tolerance) are reported. */
  now?: number;
}

export { EXPORT_MANIFEST, type ExportManifest } from './manifest.js';

interface Located {
  record: AuditRecord;
  file: string;
  line: number;
}

/** A checkpoint entry and where it was read (the directory's checkpoints.jsonl or an off-host copy). */
interface CheckpointLine {
  entry: CheckpointEntry;
  file: string;
  line: number;
}

/** A signed purge of a whole segment whose statement holds: it may explain where a chain starts. */
interface ValidPurge {
  at: Located;
  segmentDay: string;
  firstSeq: number;
  firstPrev?: string;
  lastSeq: number;
  finalHash: string;
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
  if (!Number.isFinite(Date.parse(r.ts))) return `ts ${JSON.stringify(r.ts)} is not a time`;
  return r as AuditRecord;
}

function hashOf(record: AuditRecord): string {
  const { hash: _hash, ...body } = record;
  return recordHash(body);
}

/**
 * One segment line as a record of `instance` that matches its hash and is in canonical form, or what is
 * wrong with it (used by purge before it deletes a segment).
 */
export function parseRecordLine(text: string, instance: string): AuditRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not a JSON record';
  }
  const record = asRecord(value, instance);
  if (typeof record === 'string') return record;
  if (hashOf(record) !== record.hash) return 'the record does not match its hash (a field was changed)';
  if (canonicalJson(record) !== text) return 'the line is not the canonical JSON of its record';
  return record;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function keysFrom(options: VerifyOptions): Map<string, KeyObject> | undefined {
  if (options.publicKeyPem) return checkpointKeys(options.publicKeyPem);
  if (options.signingKeyPem) return checkpointKeys(options.signingKeyPem);
  return undefined;
}

/**
 * The export manifest the walk may rely on, if any: only when the reviewer verifies an evidence package,
 * and only a well-formed one the signing key signed. Problems with it (or with its absence) are pushed.
 */
async function honouredManifest(dir: string, options: VerifyOptions, keys: Map<string, KeyObject> | undefined, problems: VerifyProblem[]): Promise<{ manifest: ExportManifest; text: string } | undefined> {
  const file = join(dir, EXPORT_MANIFEST);
  const text = await readManifestText(dir);
  const asPackage = options.evidencePackage === true && options.live !== true;
  if (!asPackage) {
    if (text !== undefined) {
      problems.push({
        file, line: 1, kind: 'inserted',
        message: options.live
          ? 'an evidence-export manifest in the live audit directory (ignored)'
          : 'an evidence-export manifest in a directory verified as an audit log (ignored; an evidence package is verified with --export)',
      });
    }
    return undefined;
  }
  if (text === undefined) {
    problems.push({ file, line: 1, kind: 'missing', expected: 'the signed manifest of the evidence package', found: 'no such file', message: 'verified as an evidence package, but it has no export.json' });
    return undefined;
  }
  const manifest = parseManifest(text);
  if (typeof manifest === 'string') {
    problems.push({ file, line: 1, kind: 'tampered', message: `not an export manifest roomguard honours: ${manifest} (ignored)` });
    return undefined;
  }
  const unsigned = manifestSignatureProblem(manifest, file, keys);
  if (unsigned) {
    problems.push(unsigned);
    return undefined;
  }
  return { manifest, text };
}

/** Reads a checkpoint file: entries per instance, and problems with its lines. */
async function readCheckpointFile(file: string, expectInstance: string | undefined, problems: VerifyProblem[]): Promise<CheckpointLine[] | undefined> {
  const content = await readLines(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' && expectInstance !== undefined) return undefined;
    throw err;
  });
  if (!content) return undefined;
  const torn = tornTailOf(file, content);
  // An off-host copy may be caught while a line is still being shipped: its incomplete last line names
  // nothing yet and is left out. In the directory's own file it is a crash's torn tail.
  if (torn && expectInstance !== undefined) problems.push({ file, line: torn.line, kind: 'torn-tail', found: `${torn.bytes} bytes`, message: 'incomplete last line (crash while writing); repairable with --repair-tail' });
  const out: CheckpointLine[] = [];
  content.lines.forEach((text, i) => {
    if (torn && i + 1 === torn.line) return;
    let entry: CheckpointEntry;
    try {
      entry = JSON.parse(text) as CheckpointEntry;
    } catch {
      problems.push({ file, line: i + 1, kind: 'tampered', message: 'not a JSON line' });
      return;
    }
    const ofInstance = expectInstance === undefined ? typeof entry?.instance === 'string' : entry?.instance === expectInstance;
    if (!ofInstance || !Number.isSafeInteger(entry.seq) || typeof entry.hash !== 'string') {
      problems.push({ file, line: i + 1, kind: 'tampered', message: expectInstance === undefined ? 'not a checkpoint entry' : 'not a checkpoint of this instance' });
      return;
    }
    out.push({ entry, file, line: i + 1 });
  });
  return out;
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
  const now = options.now ?? Date.now();
  let instances: string[];
  try {
    instances = await listInstances(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new Error(`${dir}: no audit directory here`);
    throw err;
  }
  const early: VerifyProblem[] = [];
  const honoured = await honouredManifest(dir, options, keys, early);
  const manifest = honoured?.manifest;
  // A package holds exactly the files its manifest names, and the instances it lists (each checked below).
  if (honoured) early.push(...(await packageFileProblems(dir, honoured.manifest, honoured.text, instances)));
  // Off-host copies: their entries go to the instance they name; one naming no instance here is a finding
  // (in a package: no instance the manifest lists; the others are outside the package).
  const offHost = new Map<string, CheckpointLine[]>();
  for (const file of options.checkpointFiles ?? []) {
    for (const line of (await readCheckpointFile(file, undefined, early)) ?? []) {
      if (manifest && !exportedChain(manifest, line.entry.instance)) continue;
      if (!instances.includes(line.entry.instance)) {
        early.push({ file, line: line.line, kind: 'missing', expected: `the chain of instance ${line.entry.instance} up to seq ${line.entry.seq}`, found: 'no such instance folder', message: 'a checkpoint of an instance whose chain is gone' });
        continue;
      }
      offHost.set(line.entry.instance, [...(offHost.get(line.entry.instance) ?? []), line]);
    }
  }
  const report: VerifyReport = {
    ok: true, repairable: false, records: 0, segments: 0, instances: instances.length, instanceNames: instances,
    signatures: keys ? 'checked' : 'unchecked', checkpoints: 0, heads: {}, problems: early,
    ...(manifest ? { partial: true, evidencePackage: packageSummary(manifest) } : {}),
    ...(options.checkpointFiles?.length ? { checkpointFiles: options.checkpointFiles } : {}),
  };
  const allCheckpoints: CheckpointSummary[] = [];
  for (const instance of instances) {
    const extra = offHost.get(instance) ?? [];
    let result = await verifyInstance(dir, instance, keys, manifest, extra, now);
    // A torn last line in a live log may be a write in progress: look once more a moment later.
    if (result.problems.length > 0 && result.problems.every((p) => p.kind === 'torn-tail')) {
      await sleep(200);
      result = await verifyInstance(dir, instance, keys, manifest, extra, now);
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

function packageSummary(manifest: ExportManifest): NonNullable<VerifyReport['evidencePackage']> {
  const chains = Object.fromEntries(Object.entries(manifest.instances).map(([instance, c]) => [instance, { firstSeq: c.firstSeq, lastSeq: c.lastSeq }]));
  return { since: manifest.since, until: manifest.until, chains };
}

/** Details of a purge record without its signature: what `purgeMessage` signs. */
function purgeStatement(details: NonNullable<AuditRecord['details']>): Record<string, JsonValue> {
  const { keyId: _keyId, signature: _signature, ...rest } = details;
  return rest;
}

/**
 * What is wrong with a signed purge's statement of what it deleted, if anything: a purge removes whole
 * segments whose every record is older than the retention it states, and counts them without gaps.
 */
function purgeStatementProblem(item: Located): string | undefined {
  const { record } = item;
  const d = record.details!;
  const day = typeof d.segment === 'string' ? SEGMENT_PATTERN.exec(d.segment)?.[1] : undefined;
  if (day === undefined) return `segment ${JSON.stringify(d.segment)} is not a segment name`;
  const { firstSeq, lastSeq, records, retentionDays, finalHash, lastTs } = d;
  if (typeof firstSeq !== 'number' || typeof lastSeq !== 'number' || typeof records !== 'number' || typeof finalHash !== 'string' || !HEX64.test(finalHash)) {
    return 'firstSeq, lastSeq, records or finalHash missing';
  }
  if (records !== lastSeq - firstSeq + 1 || firstSeq < 1) return `${records} records do not fill seq ${firstSeq}–${lastSeq}: the segment was not whole when it was purged`;
  if (typeof retentionDays !== 'number' || !Number.isInteger(retentionDays) || retentionDays < 1) return 'no retention period stated';
  const cutoff = retentionCutoff(retentionDays, Date.parse(record.ts));
  if (day >= cutoff) return `segment ${d.segment} was not past the stated retention of ${retentionDays} day(s) at ${record.ts} (days before ${cutoff} are)`;
  const lastMs = typeof lastTs === 'string' ? Date.parse(lastTs) : Number.NaN;
  if (!Number.isFinite(lastMs) || utcDay(lastMs) >= cutoff) return `its last record's time ${String(lastTs)} was not past the stated retention (days before ${cutoff} are)`;
  const ownDay = segmentDay(item.file.split('/').pop() ?? '');
  if (ownDay !== undefined && ownDay <= day) return `a purge of ${d.segment} recorded in the segment of ${ownDay}`;
  return undefined;
}

async function verifyInstance(dir: string, instance: string, keys: Map<string, KeyObject> | undefined, manifest: ExportManifest | undefined, offHost: CheckpointLine[], now: number): Promise<InstanceResult> {
  return new InstanceVerifier(dir, instance, keys, manifest, now).run(offHost);
}

/** A record that passed its own checks (or not) and where it was read: one line of a segment. */
interface ParsedLine {
  item: Located | undefined;
  /** The line failed a check of its own (not JSON, wrong hash, not canonical…): it is not a chain link. */
  bad: boolean;
}

/**
 * One instance's chain, walked once: segments in order, each line checked on its own and then as a link;
 * afterwards where the chain starts and ends, and whether every checkpoint entry still names a record.
 */
class InstanceVerifier {
  private readonly instanceDir: string;
  private readonly problems: VerifyProblem[] = [];
  private readonly checkpoints: CheckpointSummary[] = [];
  /** This instance's stretch of the chain, when verifying an evidence package whose manifest was honoured. */
  private readonly exported: ExportedChain | undefined;
  /** In a package: its record at the manifest's lastSeq, and the first record after it. */
  private atLastSeq: Located | undefined;
  private beyondLastSeq: Located | undefined;
  /** Checkpoint entries of the file here and of off-host copies, each once. */
  private readonly cpEntries: CheckpointLine[] = [];
  /** The records checkpoint entries name, by seq. */
  private readonly atSeq = new Map<number, Located>();
  private wanted = new Set<number>();
  /** Nobody can have written a record dated after verify's clock (with its tolerance). */
  private readonly latest: number;
  private readonly future: Located[] = [];
  private head: Located | undefined;
  private beforeHead: Located | undefined;
  private anchor: Located | undefined;
  /** Records whose predecessor comes later in their segment, by the hash of that predecessor. */
  private readonly parked = new Map<string, Located>();
  /** Purge records of segments that name a cut (valid or not), by the hash they name. */
  private readonly purgeClaims = new Map<string, { item: Located; valid?: ValidPurge }>();
  private lastValidPurge: ValidPurge | undefined;
  private records = 0;
  private lastLocation: { file: string; line: number } = { file: '', line: 0 };

  constructor(dir: string, private readonly instance: string, private readonly keys: Map<string, KeyObject> | undefined, manifest: ExportManifest | undefined, private readonly now: number) {
    this.instanceDir = join(dir, instance);
    this.exported = manifest && exportedChain(manifest, instance);
    this.latest = now + CLOCK_TOLERANCE_MS;
  }

  async run(offHost: CheckpointLine[]): Promise<InstanceResult> {
    // The checkpoint file here and off-host copies: read first, so the walk can note the records they name.
    await this.readCheckpoints(offHost);
    const segments = await listSegments(this.instanceDir);
    this.lastLocation = { file: join(this.instanceDir, segments.at(-1) ?? ''), line: 0 };
    for (let s = 0; s < segments.length; s++) await this.walkSegment(segments[s]!, s === segments.length - 1);
    const purgedUpTo = this.checkStart();
    this.checkPackageEnd();
    this.checkCheckpointEntries(purgedUpTo);
    this.reportFuture();
    const order = (p: VerifyProblem) => `${p.file}\u0000${String(p.line).padStart(12, '0')}`;
    this.problems.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
    const { head } = this;
    return { problems: this.problems, records: this.records, segments: segments.length, checkpoints: this.checkpoints, ...(head ? { head: { seq: head.record.seq, hash: head.record.hash } } : {}) };
  }

  private problem(p: VerifyProblem): void {
    this.problems.push(p);
  }

  /** Checks a signature where keys were given; reports and returns false when it does not verify. */
  private checkSigned(file: string, line: number, what: string, message: string, keyId: unknown, signature: unknown): boolean {
    if (!this.keys) {
      if (typeof keyId === 'string' && typeof signature === 'string') return true;
      this.problem({ file, line, kind: 'bad-signature', message: `${what} carries no signature` });
      return false;
    }
    const key = typeof keyId === 'string' ? this.keys.get(keyId) : undefined;
    if (!key) {
      this.problem({ file, line, kind: 'bad-signature', expected: [...this.keys.keys()].join(' or '), found: String(keyId), message: `${what} signed with a key other than the given public key(s)` });
      return false;
    }
    if (typeof signature !== 'string' || !verifySignedMessage(message, signature, key)) {
      this.problem({ file, line, kind: 'bad-signature', message: `${what} signature does not verify with key ${keyId}` });
      return false;
    }
    return true;
  }

  private checkSignature(file: string, line: number, head: { seq: number; hash: string }, keyId: unknown, signature: unknown): void {
    if (!this.keys) return;
    const key = typeof keyId === 'string' ? this.keys.get(keyId) : undefined;
    if (!key) {
      this.problem({ file, line, kind: 'bad-signature', expected: [...this.keys.keys()].join(' or '), found: String(keyId), message: 'checkpoint signed with a key other than the given public key(s)' });
      return;
    }
    if (typeof signature !== 'string' || !verifyCheckpointSignature({ instance: this.instance, seq: head.seq, hash: head.hash }, signature, key)) {
      this.problem({ file, line, kind: 'bad-signature', message: `checkpoint signature over seq ${head.seq} does not verify with key ${keyId}` });
    }
  }

  private async readCheckpoints(offHost: CheckpointLine[]): Promise<void> {
    const ownFile = await readCheckpointFile(join(this.instanceDir, CHECKPOINT_FILE), this.instance, this.problems);
    const seenEntries = new Set<string>();
    for (const line of [...offHost, ...(ownFile ?? [])]) {
      // An off-host copy repeats the entries of the file here; each is checked once, and named where the
      // copy that cannot have been edited here says it.
      const id = `${line.entry.seq}\u0000${line.entry.hash}\u0000${String(line.entry.signature)}`;
      if (seenEntries.has(id)) continue;
      seenEntries.add(id);
      this.checkSignature(line.file, line.line, line.entry, line.entry.keyId, line.entry.signature);
      this.cpEntries.push(line);
    }
    this.wanted = new Set(this.cpEntries.map((c) => c.entry.seq));
  }

  /** Makes `item` the chain's head, and any parked records that continue it after it. */
  private accept(item: Located): void {
    if (!this.anchor) this.anchor = item;
    const steps = [item];
    for (let next = this.parked.get(item.record.hash); next; next = this.parked.get(next.record.hash)) {
      this.parked.delete(steps.at(-1)!.record.hash);
      steps.push(next);
    }
    for (const step of steps) {
      // Time never runs backwards within a chain (the writer sees to it): a record older than the one
      // before it was written by another process, or moved here.
      const { head } = this;
      if (head && Date.parse(step.record.ts) < Date.parse(head.record.ts)) {
        this.problem({ file: step.file, line: step.line, kind: 'time-reversed', expected: `${head.record.ts} or later (seq ${head.record.seq}, ${head.file}:${head.line})`, found: step.record.ts, message: 'the record\'s time runs backwards within the chain' });
      }
      this.beforeHead = head;
      this.head = step;
      if (this.exported && step.record.seq === this.exported.lastSeq) this.atLastSeq = step;
      if (this.exported && step.record.seq > this.exported.lastSeq) this.beyondLastSeq ??= step;
    }
  }

  /** A purge record: signed where it stands? If it removed a segment, does its statement hold? */
  private notePurge(item: Located): void {
    const { record } = item;
    const d = record.details ?? {};
    const signed = this.checkSigned(item.file, item.line, 'purge record', purgeMessage({ instance: this.instance, seq: record.seq, prev: record.prev, ts: record.ts, details: purgeStatement(d) }), d.keyId, d.signature);
    if (d.segment === undefined) return;
    const claim: { item: Located; valid?: ValidPurge } = { item };
    // A copy of a valid purge elsewhere (which does not verify there) does not hide the valid one.
    if (typeof d.finalHash === 'string' && !this.purgeClaims.get(d.finalHash)?.valid) this.purgeClaims.set(d.finalHash, claim);
    if (!signed) return;
    const wrong = purgeStatementProblem(item);
    if (wrong) {
      this.problem({ file: item.file, line: item.line, kind: 'bad-purge', message: wrong });
      return;
    }
    const valid: ValidPurge = {
      at: item, segmentDay: segmentDay(d.segment as string)!, firstSeq: d.firstSeq as number, lastSeq: d.lastSeq as number, finalHash: d.finalHash as string,
      ...(typeof d.firstPrev === 'string' ? { firstPrev: d.firstPrev } : {}),
    };
    // Purges go oldest first, each continuing the last: a gap between two is a deletion no purge recorded.
    const before = this.lastValidPurge;
    if (before && (valid.firstSeq !== before.lastSeq + 1 || (valid.firstPrev !== undefined && valid.firstPrev !== before.finalHash))) {
      this.problem({
        file: item.file, line: item.line, kind: 'missing', expected: `seq ${before.lastSeq + 1} after ${before.finalHash} (${before.at.file}:${before.at.line})`,
        found: `seq ${valid.firstSeq} after ${valid.firstPrev ?? '?'}`, message: 'this purge does not continue the one before it: records between them were deleted without a purge',
      });
    }
    if (valid.firstSeq === 1 && valid.firstPrev !== undefined && valid.firstPrev !== GENESIS) {
      this.problem({ file: item.file, line: item.line, kind: 'bad-purge', expected: GENESIS, found: valid.firstPrev, message: 'a purge from seq 1 must start at the genesis' });
    }
    claim.valid = valid;
    this.lastValidPurge = valid;
  }

  /** One segment: its tail and name, each line's own checks, then its lines as links of the chain. */
  private async walkSegment(name: string, isLast: boolean): Promise<void> {
    const file = join(this.instanceDir, name);
    const content: FileLines = await readLines(file);
    let torn: TornTail | undefined;
    if (isLast) {
      torn = tornTailOf(file, content);
      if (torn) this.problem({ file, line: torn.line, kind: 'torn-tail', found: `${torn.bytes} bytes`, message: 'incomplete last line (crash while writing); repairable with --repair-tail' });
    } else if (content.rest.length > 0) {
      this.problem({ file, line: content.lines.length + 1, kind: 'tampered', message: 'bytes after the last newline of a closed segment' });
    }
    const lineCount = torn && torn.line <= content.lines.length ? content.lines.length - 1 : content.lines.length;
    this.lastLocation = { file, line: lineCount };
    const day = segmentDay(name)!;
    if (day > utcDay(this.latest)) {
      this.problem({ file, line: 1, kind: 'time-future', expected: `a day up to ${utcDay(this.latest)} (verify's clock ${new Date(this.now).toISOString()})`, found: day, message: 'a segment named for a day that has not come yet (its records would outlive retention)' });
    }
    // Own checks of each line first; hashes of the segment are needed to recognise reordering.
    const parsed: ParsedLine[] = [];
    for (let i = 0; i < lineCount; i++) parsed.push(this.parseLine(file, i + 1, content.lines[i]!));
    this.chainSegment(file, parsed);
  }

  /** One line's own checks: a record of this instance, matching its hash, canonical; checkpoints and purges noted. */
  private parseLine(file: string, line: number, text: string): ParsedLine {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.problem({ file, line, kind: 'tampered', message: 'not a JSON record' });
      return { item: undefined, bad: true };
    }
    const record = asRecord(value, this.instance);
    if (typeof record === 'string') {
      this.problem({ file, line, kind: 'tampered', message: record });
      return { item: undefined, bad: true };
    }
    this.records++;
    const item = { record, file, line };
    let bad = false;
    const expected = hashOf(record);
    if (expected !== record.hash) {
      this.problem({ file, line, kind: 'tampered', expected, found: record.hash, message: 'the record does not match its hash (a field was changed)' });
      bad = true;
    } else if (canonicalJson(record) !== text) {
      this.problem({ file, line, kind: 'tampered', message: 'the line is not the canonical JSON of its record' });
      bad = true;
    }
    if (record.type === 'audit.checkpoint' && !this.noteCheckpointRecord(item)) bad = true;
    if (record.type === 'audit.purge' && !bad) this.notePurge(item);
    if (this.wanted.has(record.seq)) this.atSeq.set(record.seq, item);
    if (Date.parse(record.ts) > this.latest) this.future.push(item);
    return { item, bad };
  }

  /** A checkpoint record in the chain: it names the record before it and is signed; false when it does not name it. */
  private noteCheckpointRecord(item: Located): boolean {
    const { record, file, line } = item;
    const d = record.details ?? {};
    let named = true;
    if (d.seq !== record.seq - 1 || d.hash !== record.prev) {
      this.problem({ file, line, kind: 'tampered', expected: `seq ${record.seq - 1} hash ${record.prev}`, found: `seq ${String(d.seq)} hash ${String(d.hash)}`, message: 'checkpoint does not name the record before it' });
      named = false;
    } else {
      this.checkSignature(file, line, { seq: d.seq, hash: d.hash }, d.keyId, d.signature);
    }
    if (typeof d.keyId === 'string') this.checkpoints.push({ instance: this.instance, seq: d.seq as number, hash: String(d.hash), ts: record.ts, keyId: d.keyId });
    return named;
  }

  /** A segment's records as links, in file order: continued, reordered, inserted, missing or rewritten. */
  private chainSegment(file: string, parsed: ParsedLine[]): void {
    const positionOf = new Map<string, number>();
    parsed.forEach(({ item }, i) => {
      if (item) positionOf.set(item.record.hash, i);
    });
    const seen = new Set<string>();
    for (let i = 0; i < parsed.length; i++) {
      const { item, bad } = parsed[i]!;
      if (!item) continue;
      const r = item.record;
      const duplicate = seen.has(r.hash);
      seen.add(r.hash);
      const { head, beforeHead } = this;
      if (!head || (r.prev === head.record.hash && r.seq === head.record.seq + 1)) {
        this.accept(item);
        continue;
      }
      const h = head.record;
      if (bad) continue;
      const later = positionOf.get(r.prev);
      if (later !== undefined && later > i) {
        this.parked.set(r.prev, item);
        this.problem({ file, line: i + 1, kind: 'reordered', expected: `seq ${h.seq + 1} after ${h.hash}`, found: `seq ${r.seq}, whose predecessor is line ${later + 1}`, message: 'record out of order' });
        continue;
      }
      if (beforeHead && r.prev === beforeHead.record.hash && r.seq === beforeHead.record.seq + 1) {
        this.problem({ file: head.file, line: head.line, kind: 'inserted', expected: `seq ${r.seq} linking to ${beforeHead.record.hash}`, found: `seq ${h.seq} ${h.hash}`, message: 'a record was inserted here (the next record links past it)' });
        this.head = item;
        continue;
      }
      if (duplicate || r.seq <= h.seq) {
        this.problem({ file, line: i + 1, kind: 'inserted', expected: `seq ${h.seq + 1}`, found: `seq ${r.seq}`, message: duplicate ? 'a copy of an earlier record' : 'a record that does not belong here' });
        continue;
      }
      if (r.seq > h.seq + 1) {
        this.problem({ file, line: i + 1, kind: 'missing', expected: h.hash, found: r.prev, message: `${r.seq - h.seq - 1} record(s) missing before this one (seq ${h.seq + 1}${r.seq - h.seq > 2 ? `–${r.seq - 1}` : ''})` });
      } else {
        this.problem({ file, line: i + 1, kind: 'tampered', expected: h.hash, found: r.prev, message: 'prev does not match the hash of the record before (this or the previous record was rewritten)' });
      }
      this.accept(item);
    }
  }

  /**
   * Where the chain starts: the genesis, whole segments removed by a signed purge, or (in a signed export)
   * its first record. Returns the last seq a valid purge removed (0 if none).
   */
  private checkStart(): number {
    const { anchor, exported } = this;
    if (!anchor) return 0;
    const a = anchor.record;
    const fromGenesis = a.prev === GENESIS && a.seq === 1;
    const fromExport = exported?.firstPrev === a.prev && exported.firstSeq === a.seq;
    const claim = this.purgeClaims.get(a.prev);
    const purge = claim?.valid?.lastSeq === a.seq - 1 ? claim.valid : undefined;
    const wholeSegments = anchor.line === 1 && purge !== undefined && segmentDay(anchor.file.split('/').pop() ?? '')! > purge.segmentDay;
    if (fromGenesis || fromExport || (purge && wholeSegments)) return purge && wholeSegments ? purge.lastSeq : 0;
    const why = purge
      ? `the purge at ${purge.at.file}:${purge.at.line} removed whole segments up to ${purge.segmentDay}, but the chain now starts at line ${anchor.line} of ${anchor.file.split('/').pop()}: records were deleted from the start of this segment`
      : claim
        ? `the audit.purge record naming this cut (${claim.item.file}:${claim.item.line}) is not a signed purge of whole segments past retention`
        : 'no signed audit.purge record explains it';
    this.problem({ file: anchor.file, line: anchor.line, kind: 'missing', expected: `${GENESIS} (seq 1) or the final hash of a purged segment`, found: `${a.prev} (seq ${a.seq})`, message: `the chain does not start at its beginning and ${why}` });
    return 0;
  }

  /** A package ends exactly where its signed manifest says: nothing cut off, nothing appended or swapped in. */
  private checkPackageEnd(): void {
    const { exported, head, atLastSeq, beyondLastSeq, lastLocation } = this;
    const headSeq = head?.record.seq ?? 0;
    if (exported && head && exported.lastSeq > headSeq) {
      this.problem({ file: lastLocation.file, line: lastLocation.line + 1, kind: 'missing', expected: `seq ${exported.lastSeq} ${exported.lastHash}`, found: `end of chain at seq ${headSeq}`, message: 'the export ends before the record its manifest names' });
    }
    if (atLastSeq && atLastSeq.record.hash !== exported?.lastHash) {
      this.problem({ file: atLastSeq.file, line: atLastSeq.line, kind: 'tampered', expected: `${exported?.lastHash} (${EXPORT_MANIFEST})`, found: atLastSeq.record.hash, message: 'the last record of the package is not the one its signed manifest names' });
    }
    if (beyondLastSeq) {
      this.problem({ file: beyondLastSeq.file, line: beyondLastSeq.line, kind: 'inserted', expected: `the end of the package at seq ${exported?.lastSeq} (${EXPORT_MANIFEST})`, found: `seq ${beyondLastSeq.record.seq}`, message: 'a record after the last one the signed export manifest names' });
    }
  }

  /** Every checkpoint entry (here and off-host) must agree with the chain that remains. */
  private checkCheckpointEntries(purgedUpTo: number): void {
    const validPurges = [...this.purgeClaims.values()].flatMap((c) => (c.valid ? [c.valid] : []));
    for (const { entry, file: cpFile, line } of this.cpEntries) {
      if (entry.seq === 0) {
        if (entry.hash !== GENESIS) this.problem({ file: cpFile, line, kind: 'tampered', expected: GENESIS, found: entry.hash, message: 'checkpoint of an empty chain with a hash' });
        continue;
      }
      const signed = this.atSeq.get(entry.seq);
      if (signed !== undefined) {
        const found = signed.record.hash;
        if (found !== entry.hash) this.problem({ file: cpFile, line, kind: 'tampered', expected: entry.hash, found, message: `record seq ${entry.seq} differs from the one this checkpoint signed (history rewritten)` });
        else if (typeof entry.ts === 'string' && Date.parse(signed.record.ts) > Date.parse(entry.ts)) {
          this.problem({ file: signed.file, line: signed.line, kind: 'time-reversed', expected: `${entry.ts} or earlier (the checkpoint at ${cpFile}:${line} that signed it)`, found: signed.record.ts, message: 'the record is dated after the checkpoint that signed it' });
        }
        continue;
      }
      if (entry.seq <= purgedUpTo) {
        // Gone with a signed purge; where the purge names the record's hash, it must be the one signed here.
        const named = validPurges.find((p) => p.lastSeq === entry.seq);
        if (named && named.finalHash !== entry.hash) {
          this.problem({ file: cpFile, line, kind: 'tampered', expected: entry.hash, found: `${named.finalHash} (${named.at.file}:${named.at.line})`, message: `the purge names another final hash for seq ${entry.seq} than this checkpoint signed` });
        }
        continue;
      }
      this.checkEntryOutsideChain(entry, cpFile, line);
    }
  }

  /** A checkpoint entry whose record is not in the chain: outside a package's stretch, cut off, or missing. */
  private checkEntryOutsideChain(entry: CheckpointEntry, cpFile: string, line: number): void {
    const { exported, anchor, lastLocation } = this;
    const firstSeq = anchor?.record.seq ?? 1;
    const headSeq = this.head?.record.seq ?? 0;
    if (exported && (entry.seq < firstSeq - 1 || entry.seq > exported.lastSeq)) return;
    if (exported && entry.seq === firstSeq - 1) {
      if (anchor && entry.hash !== anchor.record.prev) this.problem({ file: cpFile, line, kind: 'tampered', expected: entry.hash, found: anchor.record.prev, message: 'the export does not continue the checkpointed record' });
      return;
    }
    if (entry.seq > headSeq) {
      this.problem({ file: lastLocation.file, line: lastLocation.line + 1, kind: 'truncated-after-checkpoint', expected: `seq ${entry.seq} ${entry.hash} (${cpFile}:${line})`, found: `end of chain at seq ${headSeq}`, message: 'records covered by a signed checkpoint were cut off the end of the chain' });
    } else {
      this.problem({ file: cpFile, line, kind: 'missing', expected: `seq ${entry.seq} ${entry.hash}`, found: 'no such record', message: 'the record this checkpoint signed is not in the chain' });
    }
  }

  /** Records dated after verify's clock: the first is reported, with how many follow it. */
  private reportFuture(): void {
    const [firstFuture] = this.future;
    if (!firstFuture) return;
    this.problem({
      file: firstFuture.file, line: firstFuture.line, kind: 'time-future', expected: `${new Date(this.latest).toISOString()} or earlier (verify's clock ${new Date(this.now).toISOString()})`, found: firstFuture.record.ts,
      message: `a record dated after verify's clock: nobody can have written it yet${this.future.length > 1 ? ` (and ${this.future.length - 1} later record(s) of this chain)` : ''}`,
    });
  }
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
