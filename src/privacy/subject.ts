// Data subjects' rights (GDPR Art. 15 and 17) over what roomguard holds about one person: their live
// sessions, second factors (metadata only, never secrets), invitations they created and the admissions
// those granted, and their audit records. `collectSubject` gathers it for an access request;
// `eraseSubject` removes what may be removed and shreds the person's audit pseudonym key (person-keys.ts).
import { isSealed, PersonKeys, pseudonymsOf } from '../audit/person-keys.js';
import { userKey } from '../identity/user-key.js';
import { queryAudit } from '../audit/query.js';
import type { AuditRecord } from '../audit/record.js';
import type { FactorSummary, MfaAdmin } from '../mfa/admin.js';
import type { Invitations } from '../guests/invitations.js';
import type { Sessions } from '../session/sessions.js';

const DAY_MS = 86_400_000;

export interface SubjectSources {
  sessions: Sessions;
  mfa: MfaAdmin;
  invitations: Invitations;
  personKeys: PersonKeys;
  auditDir: string;
  /** `oidc.issuer` (pseudonyms of `audit.identity: pseudonymous` include it). */
  issuer: string;
  signingKeyPem: string;
  now: () => number;
}

export interface SubjectSession {
  session: string;
  createdAt: string;
  lastSeenAt: string;
  email?: string;
  name?: string;
  groups: string[];
  secondFactor?: string;
  userAgent?: string;
}

export interface SubjectInvitation {
  id: string;
  room: string;
  note: string;
  createdAt: string;
  expiresAt: string;
  maxUses: number;
  used: number;
  state: string;
  /** Guests admitted with it: when, and the name they gave. */
  admissions: Array<{ at: string; name: string }>;
}

/** Everything roomguard holds about one person (the subject-access export). */
export interface SubjectData {
  user: string;
  generatedAt: string;
  sessions: SubjectSession[];
  factors: FactorSummary;
  invitations: SubjectInvitation[];
  /** The person's audit records: by `sub` or e-mail where identities are clear, else by their pseudonyms. */
  audit: AuditRecord[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The person's records, matched by subject only: clear records with exactly this `sub` from the configured
 * issuer, and records under a pseudonym worked out for this sub. The input is never taken as a pseudonym or
 * an e-mail address, so nobody's records are found by a string that merely looks like theirs.
 */
async function auditRecordsOf(src: SubjectSources, sub: string): Promise<AuditRecord[]> {
  const pseudonyms = await pseudonymsOf(sub, { issuer: src.issuer, signingKeyPem: src.signingKeyPem, personKeys: src.personKeys });
  const issuers = [...new Set([src.issuer, src.issuer.replace(/\/$/, '')])];
  return queryAudit(src.auditDir, { subject: { sub, issuers, pseudonyms } });
}

/** Client fields sealed under the person's key, opened for their own export (they are theirs to see). */
async function openClientFields(src: SubjectSources, sub: string, records: AuditRecord[]): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for (const r of records) {
    if (!r.client || (!isSealed(r.client.ip) && !isSealed(r.client.userAgent))) {
      out.push(r);
      continue;
    }
    const ip = r.client.ip !== undefined && isSealed(r.client.ip) ? await src.personKeys.open(sub, 'client.ip', r.client.ip) : r.client.ip;
    const userAgent = r.client.userAgent !== undefined && isSealed(r.client.userAgent) ? await src.personKeys.open(sub, 'client.userAgent', r.client.userAgent) : r.client.userAgent;
    out.push({ ...r, client: { ...(ip !== undefined ? { ip } : {}), ...(userAgent !== undefined ? { userAgent } : {}) } });
  }
  return out;
}

/** Invitations made before they carried a store name, found through the person's `guest.invite_created` records. */
function legacyInvitationIds(records: readonly AuditRecord[]): Array<{ room: string; id: string }> {
  return records.flatMap((r) => (r.type === 'guest.invite_created' && r.room !== undefined && typeof r.details?.invitation === 'string' ? [{ room: r.room, id: r.details.invitation }] : []));
}

/** Invitations that name the person as creator or revoker, found by their store name (never by display name). */
async function invitationsOf(src: SubjectSources, sub: string, records: readonly AuditRecord[]): Promise<SubjectInvitation[]> {
  const views = await src.invitations.ofPerson(userKey(sub));
  for (const { room, id } of legacyInvitationIds(records)) {
    if (views.some((v) => v.id === id)) continue;
    views.push(...(await src.invitations.list(room)).filter((v) => v.id === id && v.creator === undefined));
  }
  return views.map((v) => ({
    id: v.id, room: v.room, note: v.note, createdAt: iso(v.createdAt), expiresAt: iso(v.expiresAt), maxUses: v.maxUses, used: v.used, state: v.state,
    admissions: v.admissions.map((a) => ({ at: iso(a.at), name: a.name })),
  }));
}

export async function collectSubject(src: SubjectSources, sub: string): Promise<SubjectData> {
  const sessions = (await src.sessions.listFor(sub)).map(({ hash, data }): SubjectSession => ({
    session: hash.slice(0, 16), createdAt: iso(data.createdAt), lastSeenAt: iso(data.lastSeenAt),
    ...(data.identity.email ? { email: data.identity.email } : {}), ...(data.identity.name ? { name: data.identity.name } : {}),
    groups: [...data.identity.groups],
    ...(data.mfa ? { secondFactor: data.mfa.method } : {}), ...(data.userAgent ? { userAgent: data.userAgent } : {}),
  }));
  const audit = await openClientFields(src, sub, await auditRecordsOf(src, sub));
  return { user: sub, generatedAt: iso(src.now()), sessions, factors: await src.mfa.list(sub), invitations: await invitationsOf(src, sub, audit), audit };
}

/** What an erasure did, and what it could not do and why. */
export interface ErasureReport {
  user: string;
  sessionsEnded: number;
  factorsRemoved: number;
  /** Records under the person's own key, now unlinkable (0 when the key was kept). */
  recordsShredded: number;
  /** Records under the person's own key inside `audit.legalRetentionDays`: the key was kept (no --force). */
  recordsHeld: number;
  /** The key was kept for the legal retention period (no --force): decided from the records and the key's own age. */
  keyHeld: boolean;
  /** When the last held record leaves the legal retention period (ISO), if any are held. */
  heldUntil?: string;
  /** Invitations that named the person (creator, revoker) and now name nobody (they stay usable for their guests). */
  invitationsForgotten: number;
  /** The person had a key but no record under it was found (another audit.dir?): said, never silent. */
  keyWithoutRecords: boolean;
  /** Records naming the person in clear (`audit.identity: clear` when written): they go with retention only. */
  recordsInClear: number;
  /** Records under the deployment-wide pseudonym (`pseudonymous`): linkable while the signing key lasts. */
  recordsPseudonymous: number;
  /** When the newest record that could not be shredded is purged by retention (ISO), if any. */
  purgedBy?: string;
  forced: boolean;
}

export interface ErasureOptions {
  force: boolean;
  legalRetentionDays: number;
  retentionDays: number;
}

export async function eraseSubject(src: SubjectSources, sub: string, options: ErasureOptions): Promise<ErasureReport> {
  const records = await auditRecordsOf(src, sub);
  const own = await src.personKeys.existingPseudonym(sub);
  const now = src.now();
  const ownRecords = records.filter((r) => r.actor !== undefined && 'pseudonym' in r.actor && r.actor.pseudonym === own);
  const clear = records.filter((r) => r.actor !== undefined && 'sub' in r.actor);
  const global = records.length - ownRecords.length - clear.length;
  const holdStart = now - options.legalRetentionDays * DAY_MS;
  const held = options.legalRetentionDays > 0 ? ownRecords.filter((r) => Date.parse(r.ts) > holdStart) : [];
  // The hold is decided from the key as well as from the records found: a record under it can be up to a
  // day younger than its last renewal, wherever the log is (a config naming another audit.dir finds none).
  const renewedAt = await src.personKeys.renewedAt(sub);
  const keyInHold = options.legalRetentionDays > 0 && renewedAt !== undefined && renewedAt + DAY_MS > holdStart;
  const keep = (held.length > 0 || keyInHold) && !options.force;
  const sessionsEnded = await src.sessions.destroyAllFor(sub);
  const factorsRemoved = await src.mfa.reset(sub);
  let invitationsForgotten = await src.invitations.forgetPerson(userKey(sub));
  for (const { room, id } of legacyInvitationIds(records)) {
    if (await src.invitations.forgetLegacyCreator(room, id)) invitationsForgotten++;
  }
  if (!keep) await src.personKeys.erase(sub);
  const unshredded = [...clear, ...records.filter((r) => r.actor !== undefined && 'pseudonym' in r.actor && r.actor.pseudonym !== own)];
  const newestKept = unshredded.map((r) => Date.parse(r.ts)).reduce((a, b) => Math.max(a, b), 0);
  const newestHeld = Math.max(held.map((r) => Date.parse(r.ts)).reduce((a, b) => Math.max(a, b), 0), keyInHold ? renewedAt! + DAY_MS : 0);
  return {
    user: sub, sessionsEnded, factorsRemoved, invitationsForgotten,
    recordsShredded: keep ? 0 : ownRecords.length,
    recordsHeld: keep ? held.length : 0,
    keyHeld: keep,
    keyWithoutRecords: own !== undefined && ownRecords.length === 0,
    ...(keep ? { heldUntil: iso(newestHeld + options.legalRetentionDays * DAY_MS) } : {}),
    recordsInClear: clear.length, recordsPseudonymous: global,
    ...(newestKept > 0 ? { purgedBy: iso((Math.floor(newestKept / DAY_MS) + options.retentionDays + 1) * DAY_MS) } : {}),
    forced: options.force,
  };
}
