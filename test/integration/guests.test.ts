// Guests without an account (issue 10) through two real gateways sharing one real Redis, with the real
// oidc-provider IdP, a real HTTP upstream that echoes what reaches it, and the real audit log: invitations
// are created on the moderator page, used, used up (also by racing guests on both instances), expired,
// revoked and tried on another room; a guest reaches its one room and nothing else.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { queryAudit } from '../../src/audit/query.js';
import type { AuditRecord } from '../../src/audit/record.js';
import type { AuditSink } from '../../src/audit/sink.js';
import { RoomguardError } from '../../src/errors.js';
import { sessionHash } from '../../src/session/sessions.js';
import { Redis } from 'ioredis';
import { ScriptedBrowser } from '../helpers/browser.js';
import type { EchoUpstream, Arrived } from '../helpers/upstream.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { HTML, createInvitation, csrfOf, joinAsGuest, openInvitation, openInvitesPage, sendGuestName } from '../helpers/guests.js';

const POLICIES = fileURLToPath(new URL('../fixtures/policies-guests', import.meta.url));
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

let rig: Rig;
let upstream: EchoUpstream;
/** Two instances on one Redis, each on its own address; the second runs `skew` ms ahead (expiry without waiting). */
let a: string;
let b: string;
/** A third instance whose audit log refuses guest admissions (a full disk, say). */
let c: string;
let skew = 0;
let auditA: string;
let auditB: string;
let keyPrefix: string;

beforeAll(async () => {
  const policiesDir = mkdtempSync(join(tmpdir(), 'rg-guest-policies-'));
  cpSync(POLICIES, policiesDir, { recursive: true });
  auditA = mkdtempSync(join(tmpdir(), 'rg-guest-audit-a-'));
  auditB = mkdtempSync(join(tmpdir(), 'rg-guest-audit-b-'));
  const failing: AuditSink = { healthy: true, append: async (event) => { if (event.type === 'guest.invite_used') throw new RoomguardError('RG_AUDIT_UNAVAILABLE', 'disk full'); } };
  rig = await startRig({
    policiesDir,
    instances: [
      { auditDir: auditA, config: { audit: { instance: 'gw-a', reviewers: ['board'] } } },
      { auditDir: auditB, config: { audit: { instance: 'gw-b', reviewers: ['board'] } }, gateway: { now: () => Date.now() + skew } },
      { gateway: { audit: failing } },
    ],
  });
  ({ upstream, keyPrefix } = rig);
  [a, b, c] = rig.instances.map((instance) => instance.origin) as [string, string, string];
});

afterAll(async () => {
  await rig?.close();
});

async function audit(type: string): Promise<AuditRecord[]> {
  return [...(await queryAudit(auditA, { type: type as never })), ...(await queryAudit(auditB, { type: type as never }))];
}

let alice: ScriptedBrowser;
async function moderator(): Promise<ScriptedBrowser> {
  if (!alice) {
    const opened = await openInvitesPage(a, 'town-hall', 'alice');
    expect(opened.status).toBe(200);
    alice = opened.browser;
  }
  return alice;
}

async function invite(room = 'town-hall', form: { ttl?: string; uses?: string; note?: string } = {}): Promise<string> {
  const created = await createInvitation(await moderator(), a, room, form);
  expect(created.status).toBe(200);
  expect(created.link).toBeDefined();
  return created.link!;
}

const onB = (link: string) => link.replace(a, b);
const arrivedSince = (n: number): Arrived[] => upstream.arrived.slice(n);

describe('the guest path', () => {
  it('a moderator creates an invitation; a guest without an account lands in that room as role guest', async () => {
    const link = await invite('town-hall', { note: 'Parents of class 5b', uses: '3' });
    expect(link).toMatch(new RegExp(`^${a}/_roomguard/guest/town-hall\\?invite=[A-Za-z0-9_-]{32}$`));
    const visit = await openInvitation(link);
    expect(visit.page.status).toBe(200);
    expect(visit.page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(visit.page.headers.get('content-security-policy')).toMatch(/script-src 'nonce-/);
    // The room's notice and a labelled name field.
    expect(visit.pageHtml).toContain('This meeting is not recorded.');
    expect(visit.pageHtml).toMatch(/<label for="guest-name">/);
    const before = upstream.arrived.length;
    const joined = await sendGuestName(visit, link, 'Pat (parent)');
    expect(joined.hops[0]).toMatchObject({ status: 303, location: '/rooms/town-hall' });
    expect(joined.final.status).toBe(200);
    const seen = arrivedSince(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('/rooms/town-hall');
    expect(seen[0]!.headers).toMatchObject({ 'x-roomguard-role': 'guest', 'x-roomguard-room': 'town-hall', 'x-roomguard-name': 'Pat (parent)', 'x-roomguard-groups': '' });
    expect(String(seen[0]!.headers['x-roomguard-user'])).toMatch(/^guest:/);
    expect(seen[0]!.headers['x-roomguard-email']).toBeUndefined();

    const created = await audit('guest.invite_created');
    const used = await audit('guest.invite_used');
    const id = created.at(-1)!.details!.invitation;
    expect(created.at(-1)).toMatchObject({ outcome: 'success', room: 'town-hall', actor: { sub: 'alice' }, details: { note: 'Parents of class 5b', maxUses: 3 } });
    expect(used.some((r) => r.details?.invitation === id && r.role === 'guest' && r.room === 'town-hall' && r.details?.usesLeft === 2)).toBe(true);
    const joins = await audit('room.decision');
    expect(joins.some((r) => r.outcome === 'allow' && r.role === 'guest' && r.room === 'town-hall' && r.policy?.rule === 'guests[0]')).toBe(true);

    // The moderator sees the use and who it was.
    const page = await (await moderator()).request(`${a}/_roomguard/rooms/town-hall/invites`);
    const html = await page.text();
    expect(html).toContain('Parents of class 5b');
    expect(html).toContain('2 / 3');
    expect(html).toContain('Pat (parent)');
  });

  it('a guest reaches no other room, nor the account, MFA or audit pages, nor the invitations page', async () => {
    const link = await invite('town-hall');
    const { browser } = await joinAsGuest(link, 'Robin');
    const before = upstream.arrived.length;
    for (const [path, code] of [
      ['/rooms/open-day', 'RG_GUEST_WRONG_ROOM'], ['/rooms/staff-weekly', 'RG_GUEST_WRONG_ROOM'], ['/rooms/closed', 'RG_GUEST_WRONG_ROOM'],
      ['/_roomguard/account', 'RG_GUEST_NOT_ALLOWED'], ['/_roomguard/mfa?returnTo=%2F', 'RG_GUEST_NOT_ALLOWED'], ['/_roomguard/mfa/totp/setup', 'RG_GUEST_NOT_ALLOWED'],
      ['/_roomguard/audit', 'RG_GUEST_NOT_ALLOWED'], ['/_roomguard/rooms/town-hall/invites', 'RG_GUEST_NOT_ALLOWED'],
      // The generic app's pages outside its rooms are for people with an account.
      ['/admin', 'RG_GUEST_NOT_ALLOWED'], ['/anything/private', 'RG_GUEST_NOT_ALLOWED'],
    ] as const) {
      const res = await browser.request(`${a}${path}`);
      expect(res.status, path).toBe(403);
      expect(await res.text(), path).toContain(code);
    }
    // The same on the other instance (the session lives in the shared store).
    const other = await browser.request(`${b}/rooms/open-day`);
    expect(other.status).toBe(403);
    expect(arrivedSince(before)).toHaveLength(0);
    // Its own room still opens.
    expect((await browser.request(`${a}/rooms/town-hall`)).status).toBe(200);
    // Refusals are audited without holding up the answer: the records may land just after it.
    await expect.poll(async () => (await audit('room.decision')).filter((r) => r.outcome === 'deny' && r.actor && 'sub' in r.actor && r.actor.sub.startsWith('guest:')).map((r) => r.reason), { timeout: 5000 })
      .toEqual(expect.arrayContaining(['RG_GUEST_WRONG_ROOM', 'RG_GUEST_NOT_ALLOWED']));
  });

  it('a missing name costs no use; a room without requireName gives a neutral name', async () => {
    const link = await invite('town-hall', { uses: '1' });
    const visit = await openInvitation(link);
    const empty = await sendGuestName(visit, link, '   ');
    expect(empty.final.status).toBe(422);
    expect(await empty.final.text()).toContain('RG_GUEST_NAME_INVALID');
    const again = await joinAsGuest(link, 'Sam');
    expect(again.final.status).toBe(200);

    const open = await invite('open-day', { uses: '1' });
    const before = upstream.arrived.length;
    const anon = await joinAsGuest(open, '');
    expect(anon.final.status).toBe(200);
    expect(String(arrivedSince(before)[0]!.headers['x-roomguard-name'])).toMatch(/^Guest \d{4}$/);
  });

  it('no guest without an audit record: when it cannot be written the guest gets no session', async () => {
    const link = (await invite('town-hall', { uses: '2' })).replace(a, c);
    const before = upstream.arrived.length;
    const joined = await joinAsGuest(link, 'Noor');
    expect(joined.final.status).toBe(503);
    expect(await joined.final.text()).toContain('RG_AUDIT_UNAVAILABLE');
    const room = await joined.browser.request(`${c}/rooms/town-hall`);
    expect(room.status).toBe(302);
    expect(room.headers.get('location')).toMatch(/^\/_roomguard\/login/);
    expect(arrivedSince(before)).toHaveLength(0);
  });

  it('a signed-in person who opens a guest link is sent in with their account instead', async () => {
    const link = await invite('town-hall');
    const res = await (await moderator()).request(link);
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('RG_GUEST_SIGNED_IN');
  });
});

describe('refused invitations (each audited)', () => {
  it('beyond maxUses, even when guests race for the last uses on two instances at once', async () => {
    const link = await invite('town-hall', { uses: '2' });
    // Five guests open the link (on either instance), then all send the form at the same moment.
    const visits = await Promise.all([0, 1, 2, 3, 4].map((i) => openInvitation(i % 2 === 0 ? link : onB(link))));
    for (const v of visits) expect(v.page.status).toBe(200);
    const results = await Promise.all(visits.map((v, i) => sendGuestName(v, i % 2 === 0 ? link : onB(link), `Racer ${i}`)));
    const statuses = results.map((r) => r.hops[0]!.status).sort();
    expect(statuses).toEqual([303, 303, 410, 410, 410]);
    for (const r of results.filter((x) => x.hops[0]!.status === 410)) expect(await r.final.text()).toContain('RG_GUEST_INVITE_USED_UP');
    // A sixth guest later is refused right on the link page.
    const late = await openInvitation(link);
    expect(late.page.status).toBe(410);
    await expect.poll(async () => (await audit('guest.invite_refused')).filter((r) => r.reason === 'RG_GUEST_INVITE_USED_UP').length, { timeout: 5000 }).toBeGreaterThanOrEqual(4);
  });

  it('after expiry', async () => {
    const link = await invite('town-hall', { ttl: '10m' });
    expect((await openInvitation(onB(link))).page.status).toBe(200);
    skew = 11 * 60_000;
    try {
      const late = await openInvitation(onB(link));
      expect(late.page.status).toBe(410);
      expect(late.pageHtml).toContain('RG_GUEST_INVITE_EXPIRED');
    } finally {
      skew = 0;
    }
    await expect.poll(async () => (await audit('guest.invite_refused')).some((r) => r.reason === 'RG_GUEST_INVITE_EXPIRED' && r.room === 'town-hall'), { timeout: 5000 }).toBe(true);
  });

  it('a guest session ends with its invitation, not hours later: its lifetime in the store stops at the expiry', async () => {
    const link = await invite('town-hall', { ttl: '10m' });
    const guest = await joinAsGuest(link, 'Robin');
    expect(guest.final.status).toBe(200);
    const id = guest.browser.jar.get('roomguard_session')!.value;
    const redis = new Redis(inject('redisUrl'));
    try {
      // guests.idleTimeout (15m) and guests.absoluteTimeout (4h) are both longer than the invitation's 10m.
      const ttl = await redis.pttl(`${keyPrefix}session:${sessionHash(id)}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(10 * 60_000);
    } finally {
      redis.disconnect();
    }
  });

  it('after revocation, at once on the other instance, and the guests it admitted are signed out', async () => {
    const link = await invite('town-hall', { note: 'to revoke' });
    const guest = await joinAsGuest(link, 'Kim');
    expect(guest.final.status).toBe(200);
    const pending = await openInvitation(onB(link));
    const mod = await moderator();
    const page = await (await mod.request(`${a}/_roomguard/rooms/town-hall/invites`)).text();
    const id = /<tr>\s*<td[^>]*>to revoke<\/td>[\s\S]*?name="id" value="([0-9a-f]+)"/.exec(page)?.[1];
    expect(id).toBeDefined();
    const res = await mod.request(`${a}/_roomguard/rooms/town-hall/invites/revoke`, { method: 'POST', headers: FORM, body: new URLSearchParams({ csrf: csrfOf(page), id: id! }).toString() });
    expect(res.status).toBe(303);
    // The guest's session has ended: the room now wants a login.
    const back = await guest.browser.request(`${b}/rooms/town-hall`);
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toMatch(/^\/_roomguard\/login/);
    // A form opened before the revocation, sent after it, on the other instance.
    const sent = await sendGuestName(pending, onB(link), 'Lee');
    expect(sent.final.status).toBe(410);
    expect(await sent.final.text()).toContain('RG_GUEST_INVITE_REVOKED');
    await expect.poll(async () => (await audit('guest.invite_revoked')).some((r) => r.details?.invitation === id && r.details?.guestSessionsEnded === 1), { timeout: 5000 }).toBe(true);
    await expect.poll(async () => (await audit('guest.invite_refused')).some((r) => r.reason === 'RG_GUEST_INVITE_REVOKED'), { timeout: 5000 }).toBe(true);
    const after = await (await mod.request(`${a}/_roomguard/rooms/town-hall/invites`)).text();
    expect(after).toMatch(/to revoke<\/td>[\s\S]*?revoked/);
  });

  it('for another room: a link edited to name another room is refused, also where guests are off', async () => {
    const link = await invite('town-hall');
    const other = await openInvitation(link.replace('/guest/town-hall', '/guest/open-day'));
    expect(other.page.status).toBe(403);
    expect(other.pageHtml).toContain('RG_GUEST_WRONG_ROOM');
    const off = await openInvitation(link.replace('/guest/town-hall', '/guest/closed'));
    expect(off.page.status).toBe(403);
    expect(off.pageHtml).toContain('RG_GUEST_INVITES_OFF');
    await expect.poll(async () => (await audit('guest.invite_refused')).some((r) => r.reason === 'RG_GUEST_WRONG_ROOM' && r.room === 'open-day' && r.details?.invitationRoom === 'town-hall'), { timeout: 5000 }).toBe(true);
    // An unknown or malformed token is refused without a lookup.
    expect((await openInvitation(`${a}/_roomguard/guest/town-hall?invite=${'A'.repeat(32)}`)).page.status).toBe(404);
    expect((await openInvitation(`${a}/_roomguard/guest/town-hall?invite=short`)).page.status).toBe(404);
    // Still usable for its own room.
    expect((await joinAsGuest(link, 'Jo')).final.status).toBe(200);
  });
});

describe('who may manage invitations', () => {
  it('a non-moderator can neither see, create nor revoke invitations (403), and that is audited', async () => {
    const bob = await openInvitesPage(a, 'town-hall', 'bob');
    expect(bob.status).toBe(403);
    expect(bob.html).toContain('RG_GUEST_NOT_MODERATOR');
    // Bob has a session (and so a CSRF token of his own) but is no moderator.
    const account = await (await bob.browser.request(`${a}/_roomguard/account`)).text();
    const csrf = csrfOf(account);
    for (const path of ['/_roomguard/rooms/town-hall/invites', '/_roomguard/rooms/town-hall/invites/revoke']) {
      const res = await bob.browser.request(`${a}${path}`, { method: 'POST', headers: FORM, body: new URLSearchParams({ csrf, ttl: '1d', uses: '1', id: 'abcdef' }).toString() });
      expect(res.status, path).toBe(403);
      expect(await res.text()).toContain('RG_GUEST_NOT_MODERATOR');
    }
    // Refusals are audited without holding up the answer: the record may land just after it.
    await expect.poll(async () => (await audit('room.decision')).some((r) => r.reason === 'RG_GUEST_NOT_MODERATOR' && r.actor && 'sub' in r.actor && r.actor.sub === 'bob'), { timeout: 5000 }).toBe(true);
    expect((await audit('guest.invite_created')).some((r) => r.actor && 'sub' in r.actor && r.actor.sub === 'bob')).toBe(false);
  });

  it('a moderator cannot open invitations where the policy has none', async () => {
    const mod = await moderator();
    for (const room of ['closed', 'staff-weekly']) {
      const res = await mod.request(`${a}/_roomguard/rooms/${room}/invites`);
      expect(res.status, room).toBe(403);
      expect(await res.text()).toContain('RG_GUEST_INVITES_OFF');
    }
  });

  it('CSRF: creating or revoking needs the session token and our origin; the guest form needs its cookie', async () => {
    const mod = await moderator();
    const page = await (await mod.request(`${a}/_roomguard/rooms/town-hall/invites`)).text();
    const csrf = csrfOf(page);
    const post = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
      mod.request(`${a}${path}`, { method: 'POST', headers: { ...FORM, ...headers }, body: new URLSearchParams(fields).toString() });
    const created = (await audit('guest.invite_created')).length;
    expect((await post('/_roomguard/rooms/town-hall/invites', { ttl: '1d', uses: '1' })).status).toBe(403);
    expect((await post('/_roomguard/rooms/town-hall/invites', { csrf: 'x'.repeat(43), ttl: '1d', uses: '1' })).status).toBe(403);
    expect((await post('/_roomguard/rooms/town-hall/invites', { csrf, ttl: '1d', uses: '1' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post('/_roomguard/rooms/town-hall/invites/revoke', { id: 'abcdef' })).status).toBe(403);
    expect((await audit('guest.invite_created')).length).toBe(created);
    // Limits of the policy: at most 2d and 10 uses for town-hall.
    expect((await post('/_roomguard/rooms/town-hall/invites', { csrf, ttl: '3d', uses: '1' })).status).toBe(422);
    expect((await post('/_roomguard/rooms/town-hall/invites', { csrf, ttl: '1d', uses: '11' })).status).toBe(422);
    expect((await post('/_roomguard/rooms/town-hall/invites', { csrf, ttl: 'soon', uses: '1' })).status).toBe(422);

    const link = await invite('town-hall', { uses: '1' });
    const visit = await openInvitation(link);
    const token = new URL(link).searchParams.get('invite')!;
    const formCsrf = csrfOf(visit.pageHtml);
    // Another browser (no form cookie) sending the same fields, e.g. a cross-site form.
    const stranger = new ScriptedBrowser(HTML);
    const forged = await stranger.request(link.split('?')[0]!, { method: 'POST', headers: FORM, body: new URLSearchParams({ csrf: formCsrf, invite: token, name: 'X' }).toString() });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('RG_CSRF');
    const crossOrigin = await visit.browser.request(link.split('?')[0]!, { method: 'POST', headers: { ...FORM, origin: 'https://evil.example' }, body: new URLSearchParams({ csrf: formCsrf, invite: token, name: 'X' }).toString() });
    expect(crossOrigin.status).toBe(403);
    // The invitation was not used up by the forgeries.
    expect((await sendGuestName(visit, link, 'Real')).final.status).toBe(200);
  });
});

describe('evicting a guest (attack F4)', () => {
  it('keeps the guests of their invitation out, not the guests of another invitation', async () => {
    const mod = await moderator();
    const link = await invite('open-day', { uses: '5' });
    const otherLink = await invite('open-day', { uses: '5' });
    const troll = await joinAsGuest(link, 'Troll');
    expect(troll.final.status).toBe(200);
    const page = await (await mod.request(`${a}/_roomguard/rooms/open-day`)).text();
    // The room page lists each person by name with their remove button (earlier tests' guests are listed too).
    const sub = /Troll<[\s\S]*?name="user" value="(guest:[^"]+)"/.exec(page)?.[1];
    expect(sub).toBeDefined();
    const evicted = await mod.request(`${a}/_roomguard/rooms/open-day/evict`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: csrfOf(page)!, user: sub! }).toString() });
    expect(evicted.status).toBe(303);
    // The same link in a fresh browser makes a new guest: refused as evicted.
    const back = await joinAsGuest(link, 'Troll again', new ScriptedBrowser(HTML));
    expect(back.final.status).toBe(403);
    expect(await back.final.text()).toContain('RG_ROOM_EVICTED');
    const other = await joinAsGuest(otherLink, 'Pat', new ScriptedBrowser(HTML));
    expect(other.final.status).toBe(200);
    await expect.poll(async () => (await audit('room.evicted')).some((r) => r.room === 'open-day' && r.details?.user === sub && typeof r.details?.invitation === 'string'), { timeout: 5000 }).toBe(true);
  });
});
