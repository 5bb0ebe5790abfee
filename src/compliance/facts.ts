// What a compliance report says about one deployment: its actual settings (from roomguard.yaml and the
// policy set), the audit chain's verification and the checkpoint key's fingerprint. `factsOf` is pure;
// `gatherFacts` reads the policy directory and verifies the audit directory.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkpointKeys } from '../audit/checkpoint.js';
import { verifyAuditDir, type VerifyReport } from '../audit/verify.js';
import { auditDirOf, policiesDirOf } from '../config/load.js';
import { isLoopbackHost } from '../config/net.js';
import type { Config } from '../config/schema.js';
import { loadPolicyDir } from '../policy/load.js';
import type { PolicySet } from '../policy/types.js';

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
  oidc: { issuer: string; claims: { email: string; name: string; groups: string }; trustAmr: string[]; scopes: string[] };
  mfa: { maxFailures: number; hardLockAfter: number; lockoutMinutes: number };
  store: { kind: 'memory' | 'redis'; tls: boolean; host?: string; loopback: boolean };
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
  if (s.url === 'memory') return { kind: 'memory', tls: false, loopback: true };
  if (s.sentinel.nodes.length > 0 || s.cluster.nodes.length > 0) {
    const host = (s.sentinel.nodes[0] ?? s.cluster.nodes[0]!).replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    return { kind: 'redis', tls: s.tls.enabled, host, loopback: isLoopbackHost(host) };
  }
  const url = new URL(s.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { kind: 'redis', tls: url.protocol === 'rediss:', host, loopback: isLoopbackHost(host) };
}

export function chainFacts(dir: string, report: VerifyReport): ChainFacts {
  const first = report.problems[0];
  const cp = report.lastCheckpoint;
  return {
    dir, ok: report.ok, records: report.records, instances: [...report.instanceNames], problems: report.problems.length,
    ...(first ? { firstProblem: `${first.file}:${first.line}: ${first.kind}` } : {}),
    signatures: report.signatures,
    ...(cp ? { lastCheckpoint: { instance: cp.instance, seq: cp.seq, ts: cp.ts, keyId: cp.keyId } } : {}),
  };
}

export function checkpointKeyOf(signingKeyPem: string): DeploymentFacts['checkpointKey'] {
  const [keyId, key] = [...checkpointKeys(signingKeyPem)][0]!;
  const raw = Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
  return { fingerprint: createHash('sha256').update(raw).digest('hex'), keyId };
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
    oidc: { issuer: config.oidc.issuer.href, claims: { ...config.oidc.claims }, trustAmr: [...config.oidc.trustAmr], scopes: [...config.oidc.scopes] },
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
export async function gatherFacts(config: Config, options: { auditDir?: string; reserved?: readonly string[]; now?: number; chain?: ChainFacts } = {}): Promise<DeploymentFacts> {
  const now = options.now ?? Date.now();
  const loaded = loadPolicyDir(policiesDirOf(config), options.reserved ?? []);
  const dir = options.auditDir ?? auditDirOf(config);
  const chain = options.chain ?? await verifiedChain(config, dir, now);
  const problems = loaded.problems.map((p) => `${p.file}${p.line ? `:${p.line}` : ''}: ${p.field ? `${p.field}: ` : ''}${p.message}`);
  return factsOf(config, { ...(loaded.set ? { set: loaded.set } : {}), problems }, chain, now);
}

/** `audit verify` over `dir`; the configured directory not made yet (a gateway that never ran) holds no records. */
async function verifiedChain(config: Config, dir: string, now: number): Promise<ChainFacts> {
  const live = resolve(dir) === resolve(auditDirOf(config));
  if (live && !existsSync(dir)) return { dir, ok: true, records: 0, instances: [], problems: 0, signatures: 'checked' };
  return chainFacts(dir, await verifyAuditDir(dir, { signingKeyPem: config.secrets.auditSigningKey.reveal(), live, now }));
}
