// What a compliance report says about one deployment: its actual settings (from roomguard.yaml and the
// policy set), the audit chain's verification and the checkpoint key's fingerprint. `factsOf` is pure;
// `gatherFacts` reads the policy directory and verifies the audit directory.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isValidInstance, KEYS_DIR } from '../audit/chain.js';
import { checkpointKeys } from '../audit/checkpoint.js';
import { verifyAuditDir, type VerifyReport } from '../audit/verify.js';
import { auditDirOf, policiesDirOf } from '../config/load.js';
import { isLoopbackHost } from '../config/net.js';
import type { Config } from '../config/schema.js';
import { loadPolicyDir } from '../policy/load.js';
import type { PolicySet } from '../policy/types.js';
import { claimMapping, profileNamed } from '../identity/profiles.js';

export interface RoomFacts {
  /** The policy's room names and globs. */
  rooms: string[];
  file: string;
  mfaRequired: boolean;
  methods: string[];
  /** Minutes. */
  mfaMaxAgeMinutes: number;
  /** Minutes: the room's own idle limit (risk: high makes it 15 unless the policy says otherwise). */
  idleMinutes?: number;
  guests: boolean;
}

export interface ChainFacts {
  dir: string;
  ok: boolean;
  records: number;
  instances: string[];
  problems: number;
  /** The first problem as `file:line: kind`. */
  firstProblem?: string;
  signatures: 'checked' | 'unchecked';
  /**
   * Checked against evidence kept off the host (a checkpoints.jsonl copy or the public key): only then can
   * the deletion of whole instance folders or of the directory itself show.
   */
  offHost: boolean;
  /** The directory is missing (a gateway that never ran, or a deleted log: only off-host evidence tells). */
  missing?: boolean;
  /** Entries of the directory that are neither an instance folder nor the keys folder. */
  unrecognised: string[];
  lastCheckpoint?: { instance: string; seq: number; ts: string; keyId: string };
}

export interface DeploymentFacts {
  configFile: string;
  generatedAt: string;
  publicUrl: string;
  mode: 'proxy' | 'forward-auth';
  forwardAuthProxy?: string;
  backend: string;
  /** Minutes. */
  session: { idleMinutes: number; absoluteMinutes: number; maxPerPerson: number };
  guests: { idleMinutes: number; absoluteMinutes: number };
  /** The IdP; `claims` the paths read in effect (the profile's, or `oidc.claims.*` where set), several as `a, b`. */
  oidc: { issuer: string; profile: string; claims: { email: string; name: string; groups: string }; trustAmr: string[]; scopes: string[] };
  mfa: { maxFailures: number; hardLockAfter: number; lockoutMinutes: number };
  /**
   * `loopback`: every configured node is on this host. `discovered`: the nodes in use are learnt at run
   * time (the Sentinel's primary, Cluster nodes), so configured loopback addresses prove nothing about them.
   */
  store: { kind: 'memory' | 'redis'; tls: boolean; host?: string; loopback: boolean; discovered: boolean };
  audit: {
    ip: string; identity: string; names: boolean; retentionDays: number; legalRetentionDays: number;
    checkpointEvery: number; checkpointIntervalMinutes: number; syslog?: string; stdout: boolean; reviewers: string[];
  };
  /** Undefined when the policy directory has problems (`policyProblems`). */
  policyVersion?: string;
  policyProblems: string[];
  highRiskRooms: RoomFacts[];
  /** Rooms that demand a second factor without being high risk. */
  mfaRooms: RoomFacts[];
  /** SHA-256 (hex) of the raw Ed25519 checkpoint public key, and its key id (the first 16 digits). */
  checkpointKey: { fingerprint: string; keyId: string };
  chain: ChainFacts;
}

const minutes = (ms: number): number => Math.round(ms / 60_000);

function roomFacts(policy: PolicySet['policies'][number]): RoomFacts {
  return {
    rooms: [...policy.rooms], file: policy.file, mfaRequired: policy.mfa.required, methods: [...policy.mfa.methods],
    mfaMaxAgeMinutes: minutes(policy.mfa.maxAge),
    ...(policy.sessionIdleTimeout !== undefined ? { idleMinutes: minutes(policy.sessionIdleTimeout) } : {}),
    guests: policy.guests?.invites ?? false,
  };
}

function storeFacts(config: Config): DeploymentFacts['store'] {
  const s = config.store;
  if (s.url === 'memory') return { kind: 'memory', tls: false, loopback: true, discovered: false };
  const nodes = s.sentinel.nodes.length > 0 ? s.sentinel.nodes : s.cluster.nodes;
  if (nodes.length > 0) {
    const hosts = nodes.map((n) => n.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''));
    return { kind: 'redis', tls: s.tls.enabled, host: hosts.join(', '), loopback: hosts.every((h) => isLoopbackHost(h)), discovered: true };
  }
  const url = new URL(s.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { kind: 'redis', tls: url.protocol === 'rediss:', host, loopback: isLoopbackHost(host), discovered: false };
}

export function chainFacts(dir: string, report: VerifyReport, extra: { offHost?: boolean; unrecognised?: string[] } = {}): ChainFacts {
  const first = report.problems[0];
  const cp = report.lastCheckpoint;
  return {
    dir, ok: report.ok, records: report.records, instances: [...report.instanceNames], problems: report.problems.length,
    ...(first ? { firstProblem: `${first.file}:${first.line}: ${first.kind}` } : {}),
    signatures: report.signatures, offHost: extra.offHost ?? false, unrecognised: extra.unrecognised ?? [],
    ...(cp ? { lastCheckpoint: { instance: cp.instance, seq: cp.seq, ts: cp.ts, keyId: cp.keyId } } : {}),
  };
}

export function checkpointKeyOf(signingKeyPem: string): DeploymentFacts['checkpointKey'] {
  const [keyId, key] = [...checkpointKeys(signingKeyPem)][0]!;
  const raw = Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
  return { fingerprint: createHash('sha256').update(raw).digest('hex'), keyId };
}

function claimsInEffect(config: Config): DeploymentFacts['oidc']['claims'] {
  const mapping = claimMapping(profileNamed(config.oidc.profile), config.oidc.claims);
  return { email: mapping.email.join(', '), name: mapping.name.join(', '), groups: mapping.groups.join(', ') };
}

export function factsOf(config: Config, policies: { set?: PolicySet; problems: string[] }, chain: ChainFacts, now: number): DeploymentFacts {
  const a = config.audit;
  const all = policies.set?.policies ?? [];
  return {
    configFile: config.sourceFile, generatedAt: new Date(now).toISOString(), publicUrl: config.publicUrl.origin,
    mode: config.forwardAuth.enabled ? 'forward-auth' : 'proxy',
    ...(config.forwardAuth.enabled && config.forwardAuth.proxy ? { forwardAuthProxy: config.forwardAuth.proxy } : {}),
    backend: config.backend.type,
    session: { idleMinutes: minutes(config.session.idleTimeout), absoluteMinutes: minutes(config.session.absoluteTimeout), maxPerPerson: config.session.maxPerPerson },
    guests: { idleMinutes: minutes(config.guests.idleTimeout), absoluteMinutes: minutes(config.guests.absoluteTimeout) },
    oidc: { issuer: config.oidc.issuer.href, profile: config.oidc.profile, claims: claimsInEffect(config), trustAmr: [...config.oidc.trustAmr], scopes: [...config.oidc.scopes] },
    mfa: { maxFailures: config.mfa.maxFailures, hardLockAfter: config.mfa.hardLockAfter, lockoutMinutes: minutes(config.mfa.lockout) },
    store: storeFacts(config),
    audit: {
      ip: a.ip, identity: a.identity, names: a.names, retentionDays: a.retentionDays, legalRetentionDays: a.legalRetentionDays,
      checkpointEvery: a.checkpointEvery, checkpointIntervalMinutes: minutes(a.checkpointInterval), ...(a.syslog ? { syslog: a.syslog } : {}), stdout: a.stdout, reviewers: [...a.reviewers],
    },
    ...(policies.set ? { policyVersion: policies.set.version } : {}),
    policyProblems: policies.problems,
    highRiskRooms: all.filter((p) => p.risk === 'high').map(roomFacts),
    mfaRooms: all.filter((p) => p.risk !== 'high' && p.mfa.required).map(roomFacts),
    checkpointKey: checkpointKeyOf(config.secrets.auditSigningKey.reveal()),
    chain,
  };
}

/**
 * Reads the policy set and verifies the audit chain (`auditDir`, default the configured one) for a report;
 * `chain` is a verification the caller already has (the reviewer page's, at most a minute old).
 */
export interface OffHostEvidence {
  /** Copies of checkpoints.jsonl kept off the host. */
  checkpointFiles?: string[];
  /** The checkpoint public key kept off the host. */
  publicKeyPem?: string;
}

export async function gatherFacts(config: Config, options: { auditDir?: string; reserved?: readonly string[]; now?: number; chain?: ChainFacts } & OffHostEvidence = {}): Promise<DeploymentFacts> {
  const now = options.now ?? Date.now();
  const loaded = loadPolicyDir(policiesDirOf(config), options.reserved ?? []);
  const dir = options.auditDir ?? auditDirOf(config);
  const chain = options.chain ?? await verifiedChain(config, dir, now, options);
  const problems = loaded.problems.map((p) => `${p.file}${p.line ? `:${p.line}` : ''}: ${p.field ? `${p.field}: ` : ''}${p.message}`);
  return factsOf(config, { ...(loaded.set ? { set: loaded.set } : {}), problems }, chain, now);
}

/** Entries of an audit directory that verify does not read: neither instance folders nor the keys folder. */
async function unrecognisedEntries(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => !(e.isDirectory() && isValidInstance(e.name)) && e.name !== KEYS_DIR && !e.name.startsWith('.')).map((e) => e.name).sort();
}

/**
 * `audit verify` over `dir`. A missing configured directory holds no records (a gateway that never ran, or
 * one whose log was deleted: said so). A directory verify cannot read is a failed verification, not a crash.
 */
async function verifiedChain(config: Config, dir: string, now: number, evidence: OffHostEvidence): Promise<ChainFacts> {
  const live = resolve(dir) === resolve(auditDirOf(config));
  const offHost = (evidence.checkpointFiles?.length ?? 0) > 0 || evidence.publicKeyPem !== undefined;
  if (live && !existsSync(dir)) return { dir, ok: true, records: 0, instances: [], problems: 0, signatures: 'checked', offHost, missing: true, unrecognised: [] };
  try {
    const unrecognised = await unrecognisedEntries(dir);
    const report = await verifyAuditDir(dir, {
      signingKeyPem: config.secrets.auditSigningKey.reveal(), live, now,
      ...(evidence.publicKeyPem !== undefined ? { publicKeyPem: evidence.publicKeyPem } : {}),
      ...(evidence.checkpointFiles ? { checkpointFiles: evidence.checkpointFiles } : {}),
    });
    return chainFacts(dir, report, { offHost, unrecognised });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return { dir, ok: false, records: 0, instances: [], problems: 1, firstProblem: `${dir}: cannot be read (${code})`, signatures: 'unchecked', offHost, unrecognised: [] };
  }
}
