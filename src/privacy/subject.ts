// Data subjects' rights (GDPR Art. 15 and 17) over what roomguard holds about one person: their live
// sessions, second factors (metadata only, never secrets), invitations they created and the admissions
// those granted, and their audit records. `collectSubject` gathers it for an access request;
// `eraseSubject` removes what may be removed and shreds the person's audit pseudonym key (person-keys.ts).
import { PersonKeys, pseudonymsOf } from '../audit/person-keys.js';
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

/** The person's records: the sub (clear identities), their e-mail addresses, or a pseudonym they go by. */
async function auditRecordsOf(src: SubjectSources, sub: string): Promise<AuditRecord[]> {
  const userPseudonyms = await pseudonymsOf(sub, { issuer: src.issuer, signingKeyPem: src.signingKeyPem, personKeys: src.personKeys });
  return queryAudit(src.auditDir, { user: sub, userPseudonyms });
}

/** Invitations the person created, found through their `guest.invite_created` records (the store has no index by creator). */
async function invitationsOf(src: SubjectSources, records: readonly AuditRecord[]): Promise<SubjectInvitation[]> {
  const wanted = new Map<string, Set<string>>();
  for (const r of records) {
    const id = r.details?.invitation;
    if (r.type !== 'guest.invite_created' || r.room === undefined || typeof id !== 'string') continue;
    if (!wanted.has(r.room)) wanted.set(r.room, new Set());
    wanted.get(r.room)!.add(id);
  }
  const out: SubjectInvitation[] = [];
  for (const [room, ids] of wanted) {
    for (const v of await src.invitations.list(room)) {
      if (!ids.has(v.id)) continue;
      out.push({
        id: v.id, room: v.room, note: v.note, createdAt: iso(v.createdAt), expiresAt: iso(v.expiresAt), maxUses: v.maxUses, used: v.used, state: v.state,
        admissions: v.admissions.map((a) => ({ at: iso(a.at), name: a.name })),
      });
    }
  }
  return out;
}

export async function collectSubject(src: SubjectSources, sub: string): Promise<SubjectData> {
  const sessions = (await src.sessions.listFor(sub)).map(({ hash, data }): SubjectSession => ({
    session: hash.slice(0, 16), createdAt: iso(data.createdAt), lastSeenAt: iso(data.lastSeenAt),
    ...(data.identity.email ? { email: data.identity.email } : {}), ...(data.identity.name ? { name: data.identity.name } : {}),
    groups: [...data.identity.groups],
    ...(data.mfa ? { secondFactor: data.mfa.method } : {}), ...(data.userAgent ? { userAgent: data.userAgent } : {}),
  }));
  const audit = await auditRecordsOf(src, sub);
  return { user: sub, generatedAt: iso(src.now()), sessions, factors: await src.mfa.list(sub), invitations: await invitationsOf(src, audit), audit };
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
  /** When the last held record leaves the legal retention period (ISO), if any are held. */
  heldUntil?: string;
  /** Invitations the person created whose creator is now forgotten (they stay usable for their guests). */
  invitationsForgotten: number;
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
  const keep = held.length > 0 && !options.force;
  const sessionsEnded = await src.sessions.destroyAllFor(sub);
  const factorsRemoved = await src.mfa.reset(sub);
  let invitationsForgotten = 0;
  for (const invitation of await invitationsOf(src, records)) {
    if (await src.invitations.forgetCreator(invitation.room, invitation.id)) invitationsForgotten++;
  }
  if (!keep) await src.personKeys.erase(sub);
  const unshredded = [...clear, ...records.filter((r) => r.actor !== undefined && 'pseudonym' in r.actor && r.actor.pseudonym !== own)];
  const newestKept = unshredded.map((r) => Date.parse(r.ts)).reduce((a, b) => Math.max(a, b), 0);
  const newestHeld = held.map((r) => Date.parse(r.ts)).reduce((a, b) => Math.max(a, b), 0);
  return {
    user: sub, sessionsEnded, factorsRemoved, invitationsForgotten,
    recordsShredded: keep ? 0 : ownRecords.length,
    recordsHeld: keep ? held.length : 0,
    ...(keep ? { heldUntil: iso(newestHeld + options.legalRetentionDays * DAY_MS) } : {}),
    recordsInClear: clear.length, recordsPseudonymous: global,
    ...(newestKept > 0 ? { purgedBy: iso((Math.floor(newestKept / DAY_MS) + options.retentionDays + 1) * DAY_MS) } : {}),
    forced: options.force,
  };
}
