// Guests without an account (issue 10), the pure parts: the `guests:` policy field (every problem with
// file:line:field), decide() for a guest identity (each allow paired with its deny side), display names,
// the room path a guest is sent to, and the backend admissions of role guest (Jitsi token, BBB join).
import { describe, expect, it } from 'vitest';
import { decide } from '../../src/policy/decide.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { explainText } from '../../src/policy/explain.js';
import { formatProblem } from '../../src/config/yaml-source.js';
import type { Policy, PolicySet } from '../../src/policy/types.js';
import type { GuestGrant, Identity } from '../../src/identity/types.js';
import { guestDisplayName, guestIdentity } from '../../src/guests/guest-identity.js';
import { roomFromSegments } from '../../src/guests/room-path.js';
import { GenericBackend } from '../../src/backends/generic.js';
import { JitsiBackend } from '../../src/backends/jitsi.js';
import { BbbBackend } from '../../src/backends/bbb.js';
import { prosodyAllowsJoin, type ProsodyVerdict } from '../helpers/prosody.js';

const yaml = (...lines: string[]) => lines.join('\n') + '\n';
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;

function policy(file: string, ...lines: string[]): Policy {
  const { policy: parsed, problems } = parsePolicyText(file, yaml(...lines));
  if (!parsed) throw new Error(`test policy ${file} does not parse:\n${problems.map(formatProblem).join('\n')}`);
  return parsed;
}
const problemsOf = (...lines: string[]) => parsePolicyText('p.yaml', yaml(...lines)).problems.map(formatProblem);
const setOf = (...policies: Policy[]): PolicySet => ({ policies, version: 'test' });

const townHall = policy('town-hall.yaml', 'rooms: [town-hall]', 'allow:', '  - anyone: true', 'moderators:', '  - groups: [chair]', 'guests: { invites: true, ttl: 2d, maxUses: 3, lobby: true, requireName: false }');
const closed = policy('closed.yaml', 'rooms: [closed]', 'allow:', '  - anyone: true', 'guests: { invites: false }');
const plain = policy('plain.yaml', 'rooms: ["staff-*"]', 'allow:', '  - anyone: true');
const set = setOf(townHall, closed, plain);

const grant = (room: string, expiresAt = NOW + HOUR): GuestGrant => ({ room, invitation: 'abc123abc123abc1', expiresAt });
const guest = (g: GuestGrant): Identity => guestIdentity('Pat', g, 'https://meet.example.org');

describe('policy field guests', () => {
  it('parses every setting, with defaults for the ones left out', () => {
    expect(townHall.guests).toMatchObject({ invites: true, ttl: 2 * 24 * HOUR, maxUses: 3, lobby: true, requireName: false, line: 6 });
    expect(policy('d.yaml', 'rooms: [d]', 'allow:', '  - anyone: true', 'guests:', '  invites: true').guests).toMatchObject({ invites: true, ttl: 7 * 24 * HOUR, maxUses: 30, lobby: true, requireName: true });
  });

  it('is off unless set', () => {
    expect(plain.guests).toBeUndefined();
  });

  it('names file, line and field of every problem at once', () => {
    const problems = problemsOf('rooms: [x]', 'allow:', '  - anyone: true', 'guests:', '  ttl: 2y', '  maxUses: 0', '  lobby: maybe', '  requireName: "yes"', '  colour: red');
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^p\.yaml:9: guests\.colour: unknown field/),
      expect.stringMatching(/^p\.yaml:5: guests\.ttl: must be a duration between 5m and 90d/),
      expect.stringMatching(/^p\.yaml:6: guests\.maxUses: must be a whole number from 1 to 1000/),
      expect.stringMatching(/^p\.yaml:7: guests\.lobby: must be true or false/),
      expect.stringMatching(/^p\.yaml:8: guests\.requireName: must be true or false/),
      expect.stringMatching(/^p\.yaml:5: guests\.invites: required/),
    ]));
    expect(problemsOf('rooms: [x]', 'allow:', '  - anyone: true', 'guests: yes')).toEqual([expect.stringMatching(/^p\.yaml:4: guests: must be a mapping/)]);
    expect(problemsOf('rooms: [x]', 'allow:', '  - anyone: true', 'guests:')).toEqual([expect.stringMatching(/^p\.yaml:4: guests: must be a mapping/)]);
    expect(problemsOf('rooms: [x]', 'allow:', '  - anyone: true', 'guests: { invites: true, maxUses: 2.5 }')).toEqual([expect.stringMatching(/guests\.maxUses/)]);
  });

  it('refuses guests in a room that requires a second factor (guests cannot have one)', () => {
    expect(problemsOf('rooms: [b]', 'risk: high', 'allow:', '  - groups: [board]', 'guests:', '  invites: true')).toEqual([expect.stringMatching(/^p\.yaml:6: guests\.invites: this room requires a second factor/)]);
    // Switched off, the settings may stay in a high-risk policy.
    expect(problemsOf('rooms: [b]', 'risk: high', 'allow:', '  - groups: [board]', 'guests:', '  invites: false')).toEqual([]);
  });
});

describe('decide() for a guest', () => {
  it('admits a guest into the room of the invitation as role guest, by the guests rule', () => {
    const d = decide({ identity: guest(grant('town-hall')) }, 'town-hall', set, NOW);
    expect(d).toMatchObject({ outcome: 'allow', role: 'guest', rule: { kind: 'guests', line: 6 }, reasons: [] });
    expect(d.features).toBeUndefined();
    expect(explainText(d)).toMatch(/rule:\s+guests\[0\] at town-hall\.yaml:6/);
  });

  it('refuses the same guest in any other room, even one open to anyone', () => {
    expect(decide({ identity: guest(grant('town-hall')) }, 'staff-weekly', set, NOW)).toMatchObject({ outcome: 'deny', reasons: ['RG_GUEST_WRONG_ROOM'] });
    expect(decide({ identity: guest(grant('town-hall')) }, 'closed', set, NOW)).toMatchObject({ outcome: 'deny', reasons: ['RG_GUEST_WRONG_ROOM'] });
    expect(decide({ identity: guest(grant('town-hall')) }, 'unknown-room', set, NOW)).toMatchObject({ outcome: 'deny', reasons: ['RG_POLICY_NO_MATCH'] });
  });

  it('refuses a guest once the room policy no longer invites guests', () => {
    expect(decide({ identity: guest(grant('closed')) }, 'closed', set, NOW)).toMatchObject({ outcome: 'deny', reasons: ['RG_GUEST_INVITES_OFF'] });
    expect(decide({ identity: guest(grant('staff-weekly')) }, 'staff-weekly', set, NOW)).toMatchObject({ outcome: 'deny', reasons: ['RG_GUEST_INVITES_OFF'] });
  });

  it('refuses a guest whose grant has run out, and admits one a moment before', () => {
    expect(decide({ identity: guest(grant('town-hall', NOW)) }, 'town-hall', set, NOW)).toMatchObject({ outcome: 'deny', reasons: ['RG_GUEST_EXPIRED'] });
    expect(decide({ identity: guest(grant('town-hall', NOW + 1)) }, 'town-hall', set, NOW)).toMatchObject({ outcome: 'allow' });
  });

  it('never lets a guest match an account rule (anyone: true is for people who signed in)', () => {
    const d = decide({ identity: guest(grant('town-hall')) }, 'town-hall', set, NOW);
    expect(d.rule?.kind).toBe('guests');
    // The same person without the grant is an ordinary signed-in identity and matches allow[0].
    const { guest: _omitted, ...account } = guest(grant('town-hall'));
    expect(decide({ identity: account }, 'town-hall', set, NOW)).toMatchObject({ outcome: 'allow', role: 'participant', rule: { kind: 'allow' } });
  });
});

describe('guest display names', () => {
  it('keeps a pseudonym, cleans control characters and spaces', () => {
    expect(guestDisplayName('  Pat\u0000 \u202e Q.  ', true, 'Guest')).toBe('Pat Q.');
  });
  it('drops lone surrogates from a guest name (attack 17, finding 4), keeping whole pairs', () => {
    expect(guestDisplayName('Pat\ud800 \udc00Q 😀', true, 'Guest')).toBe('Pat Q 😀');
  });
  it('refuses an empty name where one is required, and gives a neutral one where not', () => {
    expect(guestDisplayName('   ', true, 'Guest')).toBeUndefined();
    expect(guestDisplayName(undefined, true, 'Guest')).toBeUndefined();
    expect(guestDisplayName('', false, 'Gast')).toMatch(/^Gast \d{4}$/);
  });
  it('refuses names longer than 60 characters and non-text values', () => {
    expect(guestDisplayName('x'.repeat(60), true, 'Guest')).toBe('x'.repeat(60));
    expect(guestDisplayName('x'.repeat(61), true, 'Guest')).toBeUndefined();
    expect(guestDisplayName(['a'], true, 'Guest')).toBeUndefined();
  });
  it('gives each guest a fresh pseudonymous subject under roomguard\'s own issuer, without e-mail or groups', () => {
    const a = guest(grant('town-hall'));
    const b = guest(grant('town-hall'));
    expect(a.sub).not.toBe(b.sub);
    expect(a).toMatchObject({ iss: 'https://meet.example.org/_roomguard/guest', groups: [], emailVerified: false, name: 'Pat' });
    expect(a.email).toBeUndefined();
  });
});

describe('room path of a guest link', () => {
  it('finds the canonical path on each backend, checked by its own roomOf()', () => {
    const jitsi = new JitsiBackend({ appId: 'rg', appSecret: 's'.repeat(32), audience: 'jitsi', domain: 'meet.jitsi', tenants: true, tokenTtlMs: 600_000, userFields: ['name'], features: [] });
    expect(jitsi.pathOf('town-hall')).toBe('/town-hall');
    expect(jitsi.pathOf('acme/town-hall')).toBe('/acme/town-hall');
    expect(jitsi.pathOf('libs')).toBeUndefined();
    const bbb = new BbbBackend({ upstream: new URL('http://127.0.0.1:1'), secret: 's', checksum: 'sha256', meetingIdPrefix: 'rg-', joinTtlMs: 60_000 });
    expect(bbb.pathOf('town-hall')).toBe('/rooms/town-hall');
    expect(bbb.pathOf('a/b')).toBeUndefined();
    const pattern = '^/rooms/(?<room>[^/]+)(?:/.*)?$';
    expect(new GenericBackend(pattern).pathOf('town-hall')).toBe('/rooms/town-hall');
    const odd = '^/(r|m)/(?<room>[a-z]+)$';
    expect(new GenericBackend(odd).pathOf('x')).toBeUndefined();
  });
  it('canonicalises the room segments of a page URL and refuses what cannot be a room', () => {
    expect(roomFromSegments(['Town-Hall'])).toBe('town-hall');
    expect(roomFromSegments(['acme', 'x'])).toBe('acme/x');
    expect(roomFromSegments(['a', 'b', 'c'])).toBeUndefined();
    expect(roomFromSegments(['..'])).toBeUndefined();
    expect(roomFromSegments(['a%2Fb'])).toBeUndefined();
  });
});

describe('backend admission of role guest', () => {
  const SECRET = 'jitsi-app-secret-shared-with-prosody-0123456789';
  const jitsi = new JitsiBackend({ appId: 'roomguard', appSecret: SECRET, audience: 'jitsi', domain: 'meet.jitsi', tenants: false, tokenTtlMs: 600_000, userFields: ['name', 'email'], features: ['recording'] });
  const contextOf = (verdict: ProsodyVerdict) => {
    if (!verdict.ok) throw new Error(verdict.why);
    return verdict.claims as { context: { user: Record<string, unknown>; features: Record<string, unknown> } };
  };
  const prosody = { appSecret: SECRET, signatureAlgorithm: 'HS256' as const, acceptedIssuers: ['roomguard'], acceptedAudiences: ['jitsi'], domainVerification: true, domain: 'meet.jitsi' };

  it('mints a Jitsi token for exactly the room, no moderator, marked guest, no lobby bypass, no features', async () => {
    const identity = guest(grant('town-hall'));
    const minted = await jitsi.mint({ judgedRoom: 'town-hall', identity, role: 'guest', features: ['recording'], now: NOW });
    const verdict = prosodyAllowsJoin(minted.token, prosody, { room: 'town-hall' }, NOW / 1000);
    expect(verdict).toMatchObject({ ok: true, moderator: false });
    expect(prosodyAllowsJoin(minted.token, prosody, { room: 'board' }, NOW / 1000)).toMatchObject({ ok: false });
    const claims = contextOf(verdict);
    expect(claims.context.user).toMatchObject({ name: 'Pat', guest: 'true', moderator: false, id: jitsi.userId(identity) });
    expect(claims.context.user.email).toBeUndefined();
    expect(claims.context.features).toMatchObject({ lobby_bypass: false, recording: false });
  });

  it('gives members the lobby bypass that guests lack', async () => {
    const member: Identity = { sub: 'bob', iss: 'https://id.example.org', emailVerified: true, groups: [] };
    const minted = await jitsi.mint({ judgedRoom: 'town-hall', identity: member, role: 'participant', features: [], now: NOW });
    const verdict = prosodyAllowsJoin(minted.token, prosody, { room: 'town-hall' }, NOW / 1000);
    const claims = contextOf(verdict);
    expect(claims.context.features.lobby_bypass).toBe(true);
    expect(claims.context.user.guest).toBeUndefined();
  });

  it('joins a BBB guest as VIEWER with guest=true, and members without it', () => {
    const bbb = new BbbBackend({ upstream: new URL('http://127.0.0.1:1'), secret: 'bbb-secret', checksum: 'sha256', meetingIdPrefix: 'rg-', joinTtlMs: 60_000 });
    const q = new URLSearchParams(bbb.joinQuery({ room: 'town-hall', identity: guest(grant('town-hall')), role: 'guest', createTime: '1' }));
    expect(q.get('role')).toBe('VIEWER');
    expect(q.get('guest')).toBe('true');
    expect(q.get('fullName')).toBe('Pat');
    const m = new URLSearchParams(bbb.joinQuery({ room: 'town-hall', identity: { sub: 'bob', iss: 'x', emailVerified: false, groups: [] }, role: 'participant', createTime: '1' }));
    expect(m.get('role')).toBe('VIEWER');
    expect(m.has('guest')).toBe(false);
  });
});

describe('evicting a guest (attack F4: each use of a link makes a new guest)', () => {
  it('keeps every guest of that invitation out, not guests of another invitation', async () => {
    const { MemoryStore } = await import('../../src/store/memory.js');
    const { RoomControls } = await import('../../src/rooms/controls.js');
    const { evictFromRoom } = await import('../../src/rooms/actions.js');
    const controls = new RoomControls(new MemoryStore(), undefined, () => NOW);
    const first = guest(grant('town-hall'));
    const other = guest({ ...grant('town-hall'), invitation: 'zzz999zzz999zzz9' });
    await controls.noteEntry('town-hall', 'h1', { sub: first.sub, invitation: first.guest!.invitation }, true);
    const result = await evictFromRoom(controls, {}, 'town-hall', { sub: first.sub }, 'chair');
    expect(result.details).toMatchObject({ user: first.sub, invitation: 'abc123abc123abc1' });
    const state = await controls.state('town-hall', true);
    // The same link used again makes a new guest (a new sub): still refused.
    const again = guest(grant('town-hall'));
    expect(again.sub).not.toBe(first.sub);
    expect(decide({ identity: again }, 'town-hall', set, NOW, state)).toMatchObject({ outcome: 'deny', reasons: ['RG_ROOM_EVICTED'] });
    expect(decide({ identity: other }, 'town-hall', set, NOW, state).outcome).toBe('allow');
    // A member evicted is not a guest: nothing is kept out beyond them.
    expect(decide({ identity: guest(grant('town-hall')) }, 'town-hall', set, NOW, { evicted: new Map() }).outcome).toBe('allow');
    await controls.unlock('town-hall');
    expect(decide({ identity: again }, 'town-hall', set, NOW, await controls.state('town-hall', true)).outcome).toBe('allow');
  });
});
