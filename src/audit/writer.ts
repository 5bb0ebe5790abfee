// The one audit writer of an instance. `append` resolves only once the record is written and fsync'ed
// (DESIGN invariant 4: no join without an audit record); concurrent appends share one write and one
// fsync (group commit). A failed write rejects with RG_AUDIT_UNAVAILABLE and turns `healthy` false
// until a later write succeeds. Checkpoints are signed every N records or M milliseconds; purge records
// are signed one by one and followed at once by a checkpoint. Before and after each commit the writer
// checks that the instance lock is still its own; once it is not, it stops writing for good.
import { randomUUID } from 'node:crypto';
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { RoomguardError } from '../errors.js';
import { CHECKPOINT_FILE, CLOCK_TOLERANCE_MS, GENESIS, canonicalJson, isValidInstance, listSegments, recordLine, sealRecordLine, segmentDay, segmentName, utcDay } from './chain.js';
import { checkpointSigner, type CheckpointEntry, type CheckpointSigner } from './checkpoint.js';
import { DailyIpKeys } from './ip-keys.js';
import { acquireInstanceLock, LockLostError, type InstanceLock } from './lock.js';
import type { PersonKeys, PersonSeal } from './person-keys.js';
import { pseudonymKey, type IdentityMode, type IpMode } from './privacy.js';
import { AUDIT_RECORD_VERSION, toRecordBody, validateDetails, validateEvent, type AuditDetails, type AuditEvent, type AuditRecord, type AuditRecordBody, type PrivacySettings } from './record.js';
import type { AuditSink } from './sink.js';
import { SyslogSink } from './syslog.js';
import { readLines, repairTornTail, type TornTail } from './tail.js';

export interface AuditWriterOptions {
  /** The audit directory (`audit.dir`); the chain goes to `<dir>/<instance>/`. */
  dir: string;
  /** `audit.instance` (default: the host name). Letters, digits, `.`, `_`, `-`; not `keys`. */
  instance: string;
  /** `secrets.auditSigningKey`: Ed25519 private key (PKCS#8 PEM). Signs checkpoints; keys pseudonyms. */
  signingKeyPem: string;
  ip: IpMode;
  identity: IdentityMode;
  names: boolean;
  checkpointEvery: number;
  /** Milliseconds. */
  checkpointInterval: number;
  stdout?: boolean;
  /** `udp://host:port` or `tcp://host:port`. */
  syslog?: string;
  now?: () => number;
  /**
   * After a failed write, how often (ms, default 5000) to try writing a checkpoint, so that `healthy` turns
   * true again even when no traffic arrives (a load balancer stops sending it to an unready instance).
   */
  retryInterval?: number;
  /** Errors of the best-effort parts (sinks, the checkpoint file); they never fail an append. */
  onError?: (err: Error, where: 'syslog' | 'stdout' | 'checkpoints-file' | 'close' | 'internal' | 'lock') => void;
}

export interface AuditWriterStats {
  /** Write + fsync rounds on segment files (group commit: fewer than records under load). */
  flushes: number;
  records: number;
  checkpoints: number;
  /** The chain head: last durable record. */
  seq: number;
  hash: string;
  healthy: boolean;
  lastCheckpoint?: { seq: number; hash: string; ts: string; keyId: string };
  /** Set when open() repaired a torn final line left by a crash. */
  repairedTornTail?: TornTail;
}

type Pending =
  | { kind: 'event'; event: AuditEvent; person?: PersonSeal; resolve: (record: AuditRecord) => void; reject: (err: Error) => void }
  | { kind: 'purge'; details: AuditDetails; resolve: (record: AuditRecord) => void; reject: (err: Error) => void }
  | { kind: 'checkpoint'; note?: AuditDetails; resolve: (record: AuditRecord | undefined) => void; reject: (err: Error) => void };

/** The error every failed append rejects with: code RG_AUDIT_UNAVAILABLE, status 503. */
export function auditUnavailable(detail: string, cause?: unknown): RoomguardError {
  return new RoomguardError('RG_AUDIT_UNAVAILABLE', detail, cause === undefined ? undefined : { cause });
}

/** The lock, and the writer it reports its loss to (which exists only once the lock is taken). */
interface InstanceLockRef {
  lock?: InstanceLock;
  writer?: AuditWriter;
}

function laterDay(a: string, b: string | undefined): string {
  return b !== undefined && b > a ? b : a;
}

async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A group of records sealed onto the chain head in memory, before they are written. */
interface SealedGroup {
  sealed: Array<{ record: AuditRecord; line: string; item?: Pending }>;
  /** Checkpoints asked for when nothing was written since the last: answered without a record. */
  unresolved: Pending[];
  seq: number;
  hash: string;
  since: number;
}

export class AuditWriter implements AuditSink {
  readonly dir: string;
  readonly instance: string;
  readonly instanceDir: string;
  readonly #options: AuditWriterOptions;
  readonly #now: () => number;
  readonly #signer: CheckpointSigner;
  readonly #privacy: PrivacySettings;
  readonly #ipKeys: DailyIpKeys;
  readonly #lock: InstanceLock;
  readonly #syslog: SyslogSink | undefined;

  #seq = 0;
  #hash = GENESIS;
  /** Time of the chain head: a record's time never runs backwards within a chain, even when the clock does. */
  #lastTs = 0;
  #sinceCheckpoint = 0;
  #lastCheckpointAt: number;
  #lastCheckpoint: AuditWriterStats['lastCheckpoint'];
  #repaired: TornTail | undefined;

  #day: string | undefined;
  #handle: FileHandle | undefined;
  #path: string | undefined;
  #identity: { dev: number; ino: number } | undefined;
  /** Size of the open segment after its last successful fsync. */
  #size = 0;
  #broken = false;
  #healthy = true;
  #closed = false;
  /** Set when the instance lock was taken over: this writer never writes again. */
  #lockLost: RoomguardError | undefined;

  #queue: Pending[] = [];
  #draining: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #stats = { flushes: 0, records: 0, checkpoints: 0 };
  #personKeys: PersonKeys | undefined;

  private constructor(options: AuditWriterOptions, signer: CheckpointSigner, lock: InstanceLockRef) {
    this.#options = options;
    this.dir = options.dir;
    this.instance = options.instance;
    this.instanceDir = join(options.dir, options.instance);
    this.#now = options.now ?? Date.now;
    this.#signer = signer;
    this.#privacy = { ip: options.ip, identity: options.identity, names: options.names, pseudonymKey: pseudonymKey(options.signingKeyPem) };
    this.#ipKeys = new DailyIpKeys(options.dir);
    this.#lock = lock.lock!;
    lock.writer = this;
    this.#lastCheckpointAt = this.#now();
    this.#syslog = options.syslog ? new SyslogSink(options.syslog, (err) => this.#report(err, 'syslog')) : undefined;
  }

  /**
   * Opens (and if needed creates) the instance's chain, recovers its head from the last segment, and
   * repairs a torn final line left by a crash (copied to `<segment>.torn`, then noted in a checkpoint).
   * Rejects with RG_AUDIT_UNAVAILABLE when the directory cannot be used.
   */
  static async open(options: AuditWriterOptions): Promise<AuditWriter> {
    if (!isValidInstance(options.instance)) throw new TypeError(`audit instance "${options.instance}" may contain only letters, digits, . _ - (at most 64, not "keys")`);
    if (!Number.isInteger(options.checkpointEvery) || options.checkpointEvery < 1) throw new TypeError('audit checkpointEvery must be a positive whole number');
    if (!(options.checkpointInterval > 0)) throw new TypeError('audit checkpointInterval must be positive');
    const signer = checkpointSigner(options.signingKeyPem);
    const instanceDir = join(options.dir, options.instance);
    try {
      await mkdir(instanceDir, { recursive: true, mode: 0o750 });
    } catch (err) {
      throw auditUnavailable(`cannot create ${instanceDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
    }
    // The lock's loss is reported to the writer that holds it (known only once it is constructed).
    const ref: InstanceLockRef = {};
    let lock: InstanceLock;
    try {
      lock = await acquireInstanceLock(instanceDir, {
        onLost: (err) => {
          if (ref.writer) ref.writer.#stopForLostLock(err);
        },
      });
    } catch (err) {
      throw auditUnavailable((err as Error).message, err);
    }
    ref.lock = lock;
    const writer = new AuditWriter(options, signer, ref);
    try {
      await writer.#recover();
      await writer.#openSegment(laterDay(utcDay(writer.#now()), writer.#day));
    } catch (err) {
      await lock.release();
      if (err instanceof RoomguardError) throw err;
      throw auditUnavailable(`cannot open the audit chain in ${instanceDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
    }
    writer.#timer = setInterval(() => {
      if (writer.#sinceCheckpoint > 0) writer.checkpoint().catch(() => undefined);
    }, options.checkpointInterval);
    writer.#timer.unref();
    if (writer.#repaired) {
      const torn = writer.#repaired;
      writer.#enqueue({ kind: 'checkpoint', note: { repairedTornTail: true, tornFile: torn.file.split('/').pop()!, tornLine: torn.line, tornBytes: torn.bytes }, resolve: () => undefined, reject: () => undefined });
    }
    return writer;
  }

  /**
   * True while records can be written; false after a failed write until a later one succeeds, and for
   * good once the instance lock was taken over (for /readyz).
   */
  get healthy(): boolean {
    return this.#healthy && !this.#closed && !this.#lockLost;
  }

  stats(): AuditWriterStats {
    return {
      ...this.#stats, seq: this.#seq, hash: this.#hash, healthy: this.healthy,
      ...(this.#lastCheckpoint ? { lastCheckpoint: this.#lastCheckpoint } : {}),
      ...(this.#repaired ? { repairedTornTail: this.#repaired } : {}),
    };
  }

  /**
   * Appends one record. Resolves with the record once it is on disk (written and fsync'ed); rejects
   * with RG_AUDIT_UNAVAILABLE when it cannot be, and with a TypeError for a malformed event.
   */
  append(event: AuditEvent): Promise<AuditRecord> {
    try {
      validateEvent(event);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (this.#closed) return Promise.reject(auditUnavailable('the audit writer is closed'));
    if (this.#lockLost) return Promise.reject(this.#lockLost);
    if (this.#privacy.identity === 'erasable' && event.actor) return this.#appendErasable(event, event.actor.sub);
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'event', event, resolve, reject }));
  }

  /**
   * With `audit.identity: erasable` the store holds each person's pseudonym key (person-keys.ts); the
   * gateway hands it over once the store is open. Until then, and while the store cannot be read, an
   * append with a person in it is refused like any other failed write.
   */
  usePersonKeys(keys: PersonKeys): void {
    this.#personKeys = keys;
  }

  async #appendErasable(event: AuditEvent, sub: string): Promise<AuditRecord> {
    if (!this.#personKeys) throw auditUnavailable('audit.identity erasable: the person keys in the store are not connected');
    let person: PersonSeal;
    try {
      person = await this.#personKeys.sealFor(sub);
    } catch (err) {
      throw auditUnavailable(`audit.identity erasable: cannot read the person's key: ${(err as Error).message}`, err);
    }
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'event', event, person, resolve, reject }));
  }

  /**
   * Appends an `audit.purge` record. The writer signs it where it lands in the chain (instance, seq,
   * prev, time and these details; `keyId` and `signature` are added to the details) and writes a
   * checkpoint right after it, so the purge reaches the off-host checkpoint copy at once.
   */
  appendPurge(details: AuditDetails): Promise<AuditRecord> {
    try {
      if (details.keyId !== undefined || details.signature !== undefined) throw new TypeError('audit: the writer signs a purge itself');
      validateDetails({ ...details, keyId: 'k'.repeat(16), signature: 's'.repeat(88) });
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (this.#closed) return Promise.reject(auditUnavailable('the audit writer is closed'));
    if (this.#lockLost) return Promise.reject(this.#lockLost);
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'purge', details: { ...details }, resolve, reject }));
  }

  /** Appends a signed checkpoint now if records were added since the last one. */
  checkpoint(): Promise<AuditRecord | undefined> {
    if (this.#closed) return Promise.reject(auditUnavailable('the audit writer is closed'));
    if (this.#lockLost) return Promise.reject(this.#lockLost);
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'checkpoint', resolve, reject }));
  }

  /** Writes a final checkpoint, waits for pending records and closes files, sinks and the instance lock. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#timer) clearInterval(this.#timer);
    this.#stopRetry();
    // Without the lock there is no final checkpoint: the chain is another process's now.
    const final = this.#lockLost
      ? Promise.resolve(undefined)
      : new Promise<AuditRecord | undefined>((resolve, reject) => this.#enqueue({ kind: 'checkpoint', resolve, reject }));
    this.#closed = true;
    await final.catch((err: Error) => this.#report(err, 'close'));
    await this.#draining;
    await this.#handle?.close().catch(() => undefined);
    this.#handle = undefined;
    await this.#syslog?.close();
    await this.#lock.release();
  }

  #report(err: Error, where: Parameters<NonNullable<AuditWriterOptions['onError']>>[1]): void {
    this.#options.onError?.(err, where);
  }

  /**
   * Another process holds the chain now (it found our lock stale, or the lock file was removed): never
   * write again, refuse every append, report unhealthy. A restart recovers the head from the files.
   */
  #stopForLostLock(err: LockLostError): RoomguardError {
    if (this.#lockLost) return this.#lockLost;
    this.#lockLost = auditUnavailable(err.message, err);
    this.#stopRetry();
    if (this.#timer) clearInterval(this.#timer);
    // Close without truncating: whatever is in the file now may be the other writer's. Closed at once, even
    // under a commit that holds it: a write not yet begun then fails (reported as the lost lock) instead of
    // landing in a chain another process writes; one already running ends first (a FileHandle closes only
    // after its pending operations, so the descriptor cannot be reused under it).
    const handle = this.#handle;
    this.#handle = undefined;
    this.#broken = true;
    handle?.close().catch(() => undefined);
    this.#report(err, 'lock');
    return this.#lockLost;
  }

  /** Resolves while the instance lock is ours; otherwise stops this writer and rejects. */
  async #checkLock(): Promise<void> {
    if (this.#lockLost) throw this.#lockLost;
    try {
      await this.#lock.check();
    } catch (err) {
      if (err instanceof LockLostError) throw this.#stopForLostLock(err);
      throw err;
    }
  }

  #enqueue(item: Pending): void {
    this.#queue.push(item);
    this.#kick();
  }

  #kick(): void {
    if (this.#draining) return;
    // Start on the next microtask, so a burst of appends from one tick goes into one batch.
    this.#draining = Promise.resolve()
      .then(() => this.#drain())
      // #commitBatch settles every item itself; nothing may escape as an unhandled rejection.
      .catch((err: unknown) => this.#report(err as Error, 'internal'))
      .finally(() => {
        this.#draining = undefined;
        if (this.#queue.length > 0) this.#kick();
      });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0);
      await this.#commitBatch(batch);
    }
  }

  /**
   * Recovers seq, hash, time and the checkpoint counter from the newest non-empty segment; repairs a torn
   * tail. What it takes from there may be the unsigned tail after the last checkpoint, which anyone who
   * can write the directory can append to: a chain whose newest segment or record is dated beyond this
   * host's clock (and its small tolerance) is not continued, or every later record would carry that time
   * (time never runs backwards within a chain) and land in that day's segment, out of retention's reach.
   */
  async #recover(): Promise<void> {
    const segments = await listSegments(this.instanceDir);
    const now = this.#now();
    const last = segments.at(-1);
    if (last !== undefined) {
      const day = segmentDay(last)!;
      if (day > utcDay(now + CLOCK_TOLERANCE_MS)) throw this.#futureHead(join(this.instanceDir, last), 1, `is the segment of ${day}`, now);
      this.#day = day;
    }
    const checkpointsFile = join(this.instanceDir, CHECKPOINT_FILE);
    await repairTornTail(checkpointsFile).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    for (let i = segments.length - 1; i >= 0; i--) {
      const file = join(this.instanceDir, segments[i]!);
      const torn = await repairTornTail(file);
      if (torn) this.#repaired = torn;
      const { lines } = await readLines(file);
      if (lines.length === 0) continue;
      const lastRecord = JSON.parse(lines.at(-1)!) as Partial<AuditRecord>;
      if (typeof lastRecord.seq !== 'number' || typeof lastRecord.hash !== 'string') {
        throw new Error(`${file}:${lines.length}: the last record has no seq/hash; run \`roomguard audit verify\``);
      }
      const lastTs = typeof lastRecord.ts === 'string' ? Date.parse(lastRecord.ts) : Number.NaN;
      if (lastTs > now + CLOCK_TOLERANCE_MS) throw this.#futureHead(file, lines.length, `is dated ${lastRecord.ts}`, now);
      this.#seq = lastRecord.seq;
      this.#hash = lastRecord.hash;
      if (Number.isFinite(lastTs)) this.#lastTs = lastTs;
      let since = 0;
      for (let j = lines.length - 1; j >= 0 && !lines[j]!.includes('"type":"audit.checkpoint"'); j--) since++;
      this.#sinceCheckpoint = since;
      return;
    }
  }

  /** The refusal to continue a chain whose head is dated after this host's clock: where, why, what to do. */
  #futureHead(file: string, line: number, what: string, now: number): RoomguardError {
    return auditUnavailable(
      `${file}:${line}: the head of the audit chain ${what}, later than this host's clock (${new Date(now).toISOString()}) allows; ` +
      'the chain is not continued from there, or every new record would carry that time. Either this host\'s clock is wrong ' +
      '(correct it, or wait until that time) or the record or segment was added by someone without the signing key: ' +
      'run `roomguard audit verify --public-key <off-host key> --checkpoints <off-host copy>`, keep a copy of the directory ' +
      'as evidence, then move the segment, or cut it before that line, and start again',
    );
  }

  /** Opens (creating if needed) the segment of a day for appending. */
  async #openSegment(day: string): Promise<void> {
    await mkdir(this.instanceDir, { recursive: true, mode: 0o750 });
    const path = join(this.instanceDir, segmentName(day));
    const existed = await stat(path).then(() => true, () => false);
    const handle = await open(path, 'a', 0o640);
    try {
      const info = await handle.stat();
      // The lock check beside this reopening may have found the chain taken over: then the file may hold
      // the other writer's records (never cut them off), and a handle put in place now would stay open.
      if (this.#lockLost) throw this.#lockLost;
      const same = this.#path === path && this.#identity?.dev === info.dev && this.#identity.ino === info.ino;
      if (same && info.size > this.#size) {
        // A failed write may have left part of a batch that nobody was told about: cut it off.
        await handle.truncate(this.#size);
        await handle.sync();
      } else {
        this.#size = info.size;
      }
      if (!existed) await syncDir(this.instanceDir);
      if (this.#lockLost) throw this.#lockLost;
      await this.#handle?.close().catch(() => undefined);
      this.#handle = handle;
      this.#path = path;
      this.#identity = { dev: info.dev, ino: info.ino };
      this.#day = day;
      this.#broken = false;
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * The day's segment, once the lock is known to be still ours (its check costs one stat, so it runs
   * alongside the segment's own). Settles only when both steps have: a step left running after the other
   * failed would outlive its commit, and a reopening of the segment finishing then would close the handle
   * the next commit is writing to.
   */
  async #segmentWhileLocked(day: string): Promise<FileHandle> {
    const [segment, lock] = await Promise.allSettled([this.#segmentFor(day), this.#checkLock()]);
    if (lock.status === 'rejected') throw lock.reason;
    if (segment.status === 'rejected') throw segment.reason;
    return segment.value;
  }

  /** Makes sure the open segment is the day's and is still the file at its path (not removed or replaced). */
  async #segmentFor(day: string): Promise<FileHandle> {
    if (this.#broken || !this.#handle || this.#day !== day) await this.#openSegment(day);
    const info = await stat(this.#path!);
    if (info.dev !== this.#identity!.dev || info.ino !== this.#identity!.ino) {
      throw Object.assign(new Error(`${this.#path} was removed or replaced`), { code: 'ESTALE' });
    }
    return this.#handle!;
  }

  #checkpointBody(seq: number, hash: string, note: AuditDetails | undefined): AuditRecordBody {
    const signature = this.#signer.sign({ instance: this.instance, seq, hash });
    return { type: 'audit.checkpoint', outcome: 'success', details: { seq, hash, keyId: this.#signer.keyId, signature, ...(note ?? {}) } };
  }

  async #commitBatch(batch: Pending[]): Promise<void> {
    // Each item gets its time now (never before the chain head's: time does not run backwards within a
    // chain, so `verify` can report records whose time does); a batch spanning midnight becomes one group
    // per segment day.
    const timed = batch.map((item) => {
      this.#lastTs = Math.max(this.#now(), this.#lastTs);
      return { item, ts: this.#lastTs };
    });
    let index = 0;
    while (index < timed.length) {
      const day = laterDay(utcDay(timed[index]!.ts), this.#day);
      const group: typeof timed = [];
      while (index < timed.length && laterDay(utcDay(timed[index]!.ts), this.#day) === day) group.push(timed[index++]!);
      try {
        await this.#commitGroup(group, day);
      } catch (err) {
        const failure = err instanceof RoomguardError ? err : auditUnavailable(`cannot write ${this.#path ?? this.instanceDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
        for (const { item } of [...group, ...timed.slice(index)]) item.reject(failure);
        return;
      }
    }
  }

  async #commitGroup(group: Array<{ item: Pending; ts: number }>, day: string): Promise<void> {
    const { handle, ipKey } = await this.#openGroup(group, day);
    const { sealed, unresolved, seq, hash, since } = this.#sealGroup(group, ipKey);
    if (sealed.length > 0) await this.#writeDurably(handle, Buffer.from(sealed.map((s) => s.line).join('')));
    this.#healthy = true;
    this.#stopRetry();
    this.#seq = seq;
    this.#hash = hash;
    this.#sinceCheckpoint = since;
    await this.#settle(sealed, unresolved);
  }

  /** The day's segment (while the lock is ours) and, where addresses are keyed, the day's address key. */
  async #openGroup(group: Array<{ item: Pending; ts: number }>, day: string): Promise<{ handle: FileHandle; ipKey: Buffer | undefined }> {
    const needsIpKey = this.#privacy.ip === 'hmac' && group.some(({ item }) => item.kind === 'event' && item.event.client?.ip !== undefined);
    if (this.#lockLost) throw this.#lockLost;
    try {
      const ipKey = needsIpKey ? await this.#ipKeys.keyFor(day) : undefined;
      return { handle: await this.#segmentWhileLocked(day), ipKey };
    } catch (err) {
      if (this.#lockLost) throw this.#lockLost;
      await this.#fail();
      throw err;
    }
  }

  /**
   * Seals a group's records onto the chain head in memory: events, signed purges (each followed by a
   * checkpoint) and checkpoints when due. Nothing is written and the head does not move yet.
   */
  #sealGroup(group: Array<{ item: Pending; ts: number }>, ipKey: Buffer | undefined): SealedGroup {
    let seq = this.#seq;
    let hash = this.#hash;
    let since = this.#sinceCheckpoint;
    const sealed: SealedGroup['sealed'] = [];
    const seal = (body: AuditRecordBody, ts: number, item?: Pending): void => {
      const { record, line } = sealRecordLine({ v: AUDIT_RECORD_VERSION, id: randomUUID(), ts: new Date(ts).toISOString(), seq: seq + 1, instance: this.instance, ...body, prev: hash });
      seq = record.seq;
      hash = record.hash;
      sealed.push({ record, line, ...(item ? { item } : {}) });
    };
    const signedPurge = (details: AuditDetails, ts: number): AuditRecordBody => {
      const signature = this.#signer.signPurge({ instance: this.instance, seq: seq + 1, prev: hash, ts: new Date(ts).toISOString(), details });
      return { type: 'audit.purge', outcome: 'success', details: { ...details, keyId: this.#signer.keyId, signature } };
    };
    const checkpointDue = (ts: number) => since >= this.#options.checkpointEvery || (since > 0 && ts - this.#lastCheckpointAt >= this.#options.checkpointInterval);
    const unresolved: Pending[] = [];
    for (const { item, ts } of group) {
      if (item.kind === 'checkpoint') {
        if (since === 0 && !item.note) {
          unresolved.push(item);
          continue;
        }
        seal(this.#checkpointBody(seq, hash, item.note), ts, item);
        since = 0;
        continue;
      }
      if (item.kind === 'purge') {
        seal(signedPurge(item.details, ts), ts, item);
        seal(this.#checkpointBody(seq, hash, undefined), ts);
        since = 0;
        continue;
      }
      let body: AuditRecordBody;
      try {
        body = toRecordBody(item.event, this.#privacy, ipKey, item.person);
      } catch (err) {
        item.reject(err as Error);
        continue;
      }
      seal(body, ts, item);
      since++;
      if (checkpointDue(ts)) {
        seal(this.#checkpointBody(seq, hash, undefined), ts);
        since = 0;
      }
    }
    return { sealed, unresolved, seq, hash, since };
  }

  /** Appends the sealed lines, fsyncs, and checks the lock is still ours once they are durable. */
  async #writeDurably(handle: FileHandle, data: Buffer): Promise<void> {
    try {
      await writeAll(handle, data);
      await handle.sync();
    } catch (err) {
      if (this.#lockLost) throw this.#lockLost;
      await this.#fail();
      throw err;
    }
    this.#stats.flushes++;
    // Checked again once the batch is durable: a process paused between the check above and the
    // write (a VM pause) may have written into a chain another process took over meanwhile. Then
    // nobody is told these records are written (their joins are refused), and `verify` shows the fork.
    // A check that fails for another reason (the folder pulled away) leaves the lock unknown: the batch
    // is refused like a failed write and cut off again, or the next commit would repeat its seqs.
    try {
      await this.#checkLock();
    } catch (err) {
      if (this.#lockLost) throw this.#lockLost;
      await this.#fail();
      throw err;
    }
    this.#size += data.length;
  }

  /** Tells each caller its record is written; sinks and the checkpoint file get the new records. */
  async #settle(sealed: SealedGroup['sealed'], unresolved: Pending[]): Promise<void> {
    const checkpoints: AuditRecord[] = [];
    // A purge resolves once its checkpoint is in checkpoints.jsonl too: the caller deletes the segment
    // next, and the copy shipped off the host should already vouch for the record of that.
    const purges: Array<{ item: Extract<Pending, { kind: 'purge' }>; record: AuditRecord }> = [];
    for (const { record, item } of sealed) {
      if (record.type === 'audit.checkpoint') {
        checkpoints.push(record);
        this.#stats.checkpoints++;
        this.#lastCheckpointAt = Date.parse(record.ts);
        const d = record.details!;
        this.#lastCheckpoint = { seq: d.seq as number, hash: d.hash as string, ts: record.ts, keyId: d.keyId as string };
      } else {
        this.#stats.records++;
      }
      if (item?.kind === 'event' || item?.kind === 'checkpoint') item.resolve(record);
      else if (item?.kind === 'purge') purges.push({ item, record });
    }
    for (const item of unresolved) if (item.kind === 'checkpoint') item.resolve(undefined);
    for (const { record } of sealed) this.#toSinks(record);
    if (checkpoints.length > 0) await this.#writeCheckpointFile(checkpoints);
    for (const { item, record } of purges) item.resolve(record);
  }

  #stopRetry(): void {
    if (this.#retryTimer) clearInterval(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  async #fail(): Promise<void> {
    this.#healthy = false;
    this.#broken = true;
    if (!this.#retryTimer && !this.#closed && !this.#lockLost) {
      // Probe with a checkpoint (noting the outage in the chain) until a write succeeds again.
      this.#retryTimer = setInterval(() => {
        if (this.#queue.length === 0 && !this.#closed) this.#enqueue({ kind: 'checkpoint', note: { afterWriteFailure: true }, resolve: () => undefined, reject: () => undefined });
      }, this.#options.retryInterval ?? 5000);
      this.#retryTimer.unref();
    }
    const handle = this.#handle;
    this.#handle = undefined;
    if (!handle) return;
    // Best effort: drop what a failed write may have left, so nobody sees records that were refused.
    await handle.truncate(this.#size).catch(() => undefined);
    await handle.close().catch(() => undefined);
  }

  #toSinks(record: AuditRecord): void {
    if (!this.#options.stdout && !this.#syslog) return;
    const line = recordLine(record);
    if (this.#options.stdout) {
      try {
        process.stdout.write(line);
      } catch (err) {
        this.#report(err as Error, 'stdout');
      }
    }
    this.#syslog?.send(record, line);
  }

  /** Appends the checkpoints to `checkpoints.jsonl`, the file an admin ships off the host. */
  async #writeCheckpointFile(records: AuditRecord[]): Promise<void> {
    const lines = records.map((record) => {
      const d = record.details!;
      const entry: CheckpointEntry = { v: 1, instance: this.instance, seq: d.seq as number, hash: d.hash as string, ts: record.ts, keyId: d.keyId as string, signature: d.signature as string };
      return `${canonicalJson(entry)}\n`;
    });
    try {
      const handle = await open(join(this.instanceDir, CHECKPOINT_FILE), 'a', 0o640);
      try {
        await writeAll(handle, Buffer.from(lines.join('')));
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      this.#report(err as Error, 'checkpoints-file');
    }
  }
}
