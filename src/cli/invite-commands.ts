// `roomguard invite create|list|revoke`: the moderator page's invitations for admins at the shell, on the
// same store as the running gateways (so a revocation takes effect on every instance at once). The CLI
// writes its audit records to a chain of its own (`<instance>-cli`), next to the server's.
import { withStoreSessions } from './store-sessions.js';
import { userInfo } from 'node:os';
import { UsageError, parseFlags } from './cli-args.js';
import type { Config } from '../config/schema.js';
import { formatDuration, parseDuration } from '../config/duration.js';
import { loadConfigFile, policiesDirOf } from '../config/load.js';
import { formatProblem } from '../config/yaml-source.js';
import { loadPolicyDir } from '../policy/load.js';
import { policyFor } from '../policy/decide.js';
import type { GuestPolicy } from '../policy/types.js';
import { backendFor } from '../backends/from-config.js';
import { Invitations, type InvitationView } from '../guests/invitations.js';
import { roomFromSegments } from '../guests/room-path.js';

export const INVITE_USAGE = `  invite create --room R [--ttl 2d] [--uses 5] [--note TEXT] --config FILE [--json]
  invite list --room R --config FILE [--json]
  invite revoke --room R --id ID --config FILE
                                  guest invitations of a room whose policy has guests.invites (docs/guests.md)`;

/** Uses an invitation gets when neither the page nor --uses says otherwise (never more than the policy allows). */
export const DEFAULT_INVITATION_USES = 5;

interface Out {
  out(text: string): void;
  err(text: string): void;
}

/** Runs one invite command; returns the exit code (0 ok, 1 refused). Usage errors throw UsageError. */
export async function runInviteCommand(sub: string | undefined, args: string[], io: Out): Promise<number> {
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') throw new UsageError(`unknown command: invite ${sub ?? ''}`.trim());
  const { values } = parseFlags(args, {
    config: { type: 'string', short: 'c' }, room: { type: 'string' }, ttl: { type: 'string' }, uses: { type: 'string' }, note: { type: 'string' }, id: { type: 'string' }, json: { type: 'boolean' },
  });
  if (!values.room) throw new UsageError(`invite ${sub} needs --room NAME`);
  if (sub === 'revoke' && !values.id) throw new UsageError('invite revoke needs --id ID (from `roomguard invite list`)');
  const { config, problems } = loadConfigFile(values.config);
  if (!config) {
    for (const p of problems) io.out(`${formatProblem(p)}\n`);
    io.out(`${problems.length} problem${problems.length === 1 ? '' : 's'} found\n`);
    return 1;
  }
  const backend = backendFor(config);
  const room = roomFromSegments(values.room.split('/'));
  const roomPath = room === undefined ? undefined : backend.pathOf(room);
  if (!room || !roomPath) throw new UsageError(`--room: "${values.room}" is not a room of this ${config.backend.type} backend`);
  const loaded = loadPolicyDir(policiesDirOf(config), backend.reservedRooms);
  if (!loaded.set) {
    io.err(`roomguard: the policy directory has problems; run \`roomguard policy check --config ${config.sourceFile}\`\n`);
    return 1;
  }
  const match = policyFor(room, loaded.set);
  const guests = match.ties.length === 0 ? match.policy?.guests : undefined;
  if (!guests?.invites) {
    io.err(`roomguard: ${room}: ${match.policy ? `${match.policy.file} does not set guests.invites: true` : 'no policy matches this room'} (RG_GUEST_INVITES_OFF)\n`);
    return 1;
  }

  const { openStore } = await import('../store/open.js');
  const store = await openStore(config);
  try {
    const invitations = new Invitations(store);
    if (sub === 'list') {
      const list = await invitations.list(room);
      io.out(values.json ? `${JSON.stringify(list.map(publicView), null, 2)}\n` : formatList(room, list));
      return 0;
    }
    const by = `cli:${cliUser()}`;
    if (sub === 'create') {
      const options = createOptions(values, guests);
      const { token, invitation } = await invitations.create({ room, ...options, createdBy: by });
      try {
        await auditOnce(config, store, { type: 'guest.invite_created', outcome: 'success', actor: { sub: by, iss: 'roomguard-cli' }, room, details: { invitation: invitation.id, expires: new Date(invitation.expiresAt).toISOString(), maxUses: invitation.maxUses, ...(invitation.note ? { note: invitation.note } : {}) } });
      } catch (err) {
        // An invitation nobody can account for must not stay usable.
        await invitations.revoke(room, invitation.id, 'audit-unavailable');
        throw err;
      }
      const link = `${config.publicUrl.origin}/_roomguard/guest/${room}?${new URLSearchParams({ invite: token })}`;
      io.out(values.json
        ? `${JSON.stringify({ link, ...publicView({ ...invitation, used: 0, usesLeft: invitation.maxUses, state: 'active', admissions: [] }) }, null, 2)}\n`
        : `${link}\ninvitation ${invitation.id} for ${room}: ${invitation.maxUses} use(s) until ${new Date(invitation.expiresAt).toISOString()}\nThe link is shown only now; roomguard keeps only a hash of it.\n`);
      return 0;
    }
    const revoked = await invitations.revoke(room, values.id!.toLowerCase(), by);
    if (!revoked) {
      io.err(`roomguard: ${room} has no invitation ${values.id} (use the id from \`roomguard invite list\`)\n`);
      return 1;
    }
    const ended = await endSessions(config, store, revoked.sessions);
    await auditOnce(config, store, { type: 'guest.invite_revoked', outcome: 'success', actor: { sub: by, iss: 'roomguard-cli' }, room, details: { invitation: revoked.invitation.id, guestSessionsEnded: ended } });
    io.out(`revoked invitation ${revoked.invitation.id} of ${room}; ended ${ended} guest session(s) on every instance\n`);
    return 0;
  } finally {
    await store.close();
  }
}

function createOptions(values: { ttl?: string | undefined; uses?: string | undefined; note?: string | undefined }, guests: GuestPolicy): { ttlMs: number; maxUses: number; note: string } {
  const ttlMs = values.ttl === undefined ? guests.ttl : parseDuration(values.ttl);
  if (ttlMs === undefined || ttlMs < 5 * 60_000 || ttlMs > guests.ttl) throw new UsageError(`--ttl: a duration from 5m to ${formatDuration(guests.ttl)} (the room's guests.ttl)`);
  const maxUses = values.uses === undefined ? Math.min(DEFAULT_INVITATION_USES, guests.maxUses) : /^\d{1,4}$/.test(values.uses) ? Number(values.uses) : NaN;
  if (!(maxUses >= 1 && maxUses <= guests.maxUses)) throw new UsageError(`--uses: a whole number from 1 to ${guests.maxUses} (the room's guests.maxUses)`);
  const note = (values.note ?? '').replace(/[\p{Cc}\p{Cf}]/gu, '').trim();
  if (note.length > 200) throw new UsageError('--note: at most 200 characters');
  return { ttlMs, maxUses, note };
}

/** What the CLI prints about an invitation: everything but the names of the guests (the audit log has those where configured). */
function publicView(v: InvitationView) {
  return {
    id: v.id, room: v.room, note: v.note, state: v.state, createdAt: new Date(v.createdAt).toISOString(), createdBy: v.createdBy,
    expiresAt: new Date(v.expiresAt).toISOString(), maxUses: v.maxUses, used: v.used, usesLeft: v.usesLeft,
    ...(v.revokedAt !== undefined ? { revokedAt: new Date(v.revokedAt).toISOString(), revokedBy: v.revokedBy } : {}),
    admissions: v.admissions.map((a) => ({ at: new Date(a.at).toISOString(), name: a.name })),
  };
}

function formatList(room: string, list: InvitationView[]): string {
  const lines = [`${room}: ${list.length} invitation(s)`];
  for (const v of list) {
    lines.push(`  ${v.id}  ${v.state.padEnd(8)} ${String(v.usesLeft).padStart(4)}/${v.maxUses} left  until ${new Date(v.expiresAt).toISOString()}  ${v.note}`);
    for (const a of v.admissions) lines.push(`      used ${new Date(a.at).toISOString()} by ${a.name}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Who runs the CLI (the operating-system account), for `by` and the audit actor `cli:<name>`. */
export function cliUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

async function endSessions(config: Config, store: import('../store/store.js').Store, hashes: string[]): Promise<number> {
  // Ended sessions are announced to every running instance, which close their WebSockets at once.
  return withStoreSessions(config, store, async (sessions) => {
    let ended = 0;
    for (const hash of hashes) {
      const found = await sessions.byHash(hash);
      // Counted only when this call ended it (see endGuestSessions in the gateway's guest routes).
      if (found?.data.identity.guest && (await sessions.destroy(found))) ended++;
    }
    return ended;
  });
}

/** Appends one record to the CLI's own audit chain and closes it (the running server holds its own chain's lock). */
export async function auditOnce(config: Config, store: import('../store/store.js').Store, event: import('../audit/record.js').AuditEvent): Promise<void> {
  const { appendFromCli } = await import('../audit/config.js');
  await appendFromCli(config, store, [event]);
}
