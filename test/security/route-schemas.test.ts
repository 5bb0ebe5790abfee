// Route schemas (src/gateway/route-input.ts) refuse malformed input at the edge, before any handler runs,
// and a refusal there is the one the field's own check gives: a returnTo, CSRF token or room sent twice is
// RG_RETURN_TO_INVALID, RG_CSRF, RG_ROOM_INVALID, anything else RG_REQUEST_INVALID, each as roomguard's
// page in the person's language with a request id (JSON for JSON calls). Fields whose wrong values are
// counted or audited (second-factor codes, invitation and guest-form tokens) reach their checks in any
// shape, so a crafted shape is counted and recorded like a wrong value. Real gateway, IdP and Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import type { AuditSink } from '../../src/audit/sink.js';
import type { AuditEvent } from '../../src/audit/record.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { createInvitation, joinAsGuest, openInvitesPage } from '../helpers/guests.js';
import { enrolTotp, loginAs } from './harness.js';
import { startRig, type Rig } from '../helpers/rig.js';

const MAX_FAILURES = 3;
const events: AuditEvent[] = [];
const recording: AuditSink = { healthy: true, append: async (event) => void events.push(event) };

let rig: Rig;
let bob: { browser: ScriptedBrowser; csrf: string };

const GERMAN = { accept: 'text/html', 'accept-language': 'de' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

beforeAll(async () => {
  rig = await startRig({ gateway: { audit: recording }, config: { mfa: { maxFailures: MAX_FAILURES } } });
  bob = await signedIn('bob');
});

afterAll(async () => {
  await rig?.close();
});

/** A signed-in browser and its session's CSRF token (from the sign-out page, which every session can open). */
async function signedIn(user: string): Promise<{ browser: ScriptedBrowser; csrf: string }> {
  const { browser, final } = await loginAs(rig.origin, user);
  await final.arrayBuffer();
  const page = await (await browser.request(`${rig.origin}/_roomguard/logout`)).text();
  return { browser, csrf: /name="csrf" value="([^"]+)"/.exec(page)![1]! };
}

/** A form body in which a field may appear more than once, as a hand-made request can send it. */
function form(fields: Array<[string, string]>): string {
  return fields.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** The refusal as a person sees it: status, catalogue code, German page, and the request id the response names. */
async function refusal(res: Response): Promise<{ status: number; code: string | undefined; german: boolean; requestId: boolean }> {
  const body = await res.text();
  const id = res.headers.get('x-request-id');
  return { status: res.status, code: /RG_[A-Z_]+/.exec(body)?.[0], german: body.includes('<html lang="de">'), requestId: Boolean(id) && body.includes(id!) };
}

describe('a field sent twice gets the refusal of its own check', () => {
  const twice = (name: string, a: string, b: string): Array<[string, string]> => [[name, a], [name, b]];

  it('returnTo: RG_RETURN_TO_INVALID on every route that takes one, as a German page with the request id', async () => {
    const { browser, csrf } = bob;
    const sends: Array<[string, () => Promise<Response>]> = [
      ['GET /_roomguard/login', () => browser.request(`${rig.origin}/_roomguard/login?${form(twice('returnTo', '/a', '/b'))}`, { headers: GERMAN })],
      ['GET /_roomguard/mfa', () => browser.request(`${rig.origin}/_roomguard/mfa?${form(twice('returnTo', '/a', '/b'))}`, { headers: GERMAN })],
      ['GET /_roomguard/notice', () => browser.request(`${rig.origin}/_roomguard/notice?${form([...twice('returnTo', '/a', '/b'), ['room', 'town-hall']])}`, { headers: GERMAN })],
      ['POST /_roomguard/notice', () => browser.request(`${rig.origin}/_roomguard/notice`, { method: 'POST', headers: { ...GERMAN, ...FORM }, body: form([['csrf', csrf], ['room', 'town-hall'], ...twice('returnTo', '/a', '/b')]) })],
      ['POST /_roomguard/mfa/totp', () => browser.request(`${rig.origin}/_roomguard/mfa/totp`, { method: 'POST', headers: { ...GERMAN, ...FORM }, body: form([['csrf', csrf], ['code', '123456'], ...twice('returnTo', '/a', '/b')]) })],
    ];
    for (const [route, send] of sends) {
      expect({ route, ...(await refusal(await send())) }).toEqual({ route, status: 400, code: 'RG_RETURN_TO_INVALID', german: true, requestId: true });
    }
    // The deny side: one returnTo passes the edge.
    const once = await browser.request(`${rig.origin}/_roomguard/login?returnTo=%2Frooms%2Ftown-hall`);
    expect(once.status).toBe(302);
  });

  it('csrf: RG_CSRF, even when both copies are the session\'s own token; one copy passes', async () => {
    const { browser, csrf } = bob;
    for (const path of ['/_roomguard/mfa/totp', '/_roomguard/notice', '/_roomguard/account/end-others', '/_roomguard/logout', '/_roomguard/rooms/town-hall/invites']) {
      const res = await browser.request(`${rig.origin}${path}`, { method: 'POST', headers: { ...GERMAN, ...FORM }, body: form([['returnTo', '/rooms/town-hall'], ...twice('csrf', csrf, csrf)]) });
      expect({ path, ...(await refusal(res)) }).toEqual({ path, status: 403, code: 'RG_CSRF', german: true, requestId: true });
    }
    const once = await browser.request(`${rig.origin}/_roomguard/notice`, { method: 'POST', headers: FORM, body: form([['csrf', csrf], ['returnTo', '/rooms/town-hall'], ['room', 'town-hall']]) });
    expect(once.status).toBe(303);
  });

  it('csrf: a one-item list in JSON is not the token (input is checked as sent, never converted)', async () => {
    const { browser, csrf } = bob;
    const send = (token: unknown) => browser.request(`${rig.origin}/_roomguard/mfa/webauthn/authenticate/options`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ csrf: token, returnTo: '/rooms/town-hall', room: '' }),
    });
    const listed = await send([csrf]);
    expect(listed.status).toBe(403);
    expect((await listed.json()).error).toBe('RG_CSRF');
    // The deny side: the token itself gets past the check (to the options).
    const plain = await send(csrf);
    expect(plain.status).toBe(200);
    expect(await plain.json()).toHaveProperty('challenge');
  });

  it('room: RG_ROOM_INVALID', async () => {
    for (const path of [`/_roomguard/mfa?${form(twice('room', 'board', 'town-hall'))}`, `/_roomguard/jitsi/auth?${form(twice('room', 'board', 'town-hall'))}`]) {
      expect({ path, ...(await refusal(await bob.browser.request(`${rig.origin}${path}`, { headers: GERMAN }))) }).toEqual({ path, status: 400, code: 'RG_ROOM_INVALID', german: true, requestId: true });
    }
    expect((await bob.browser.request(`${rig.origin}/_roomguard/jitsi/auth?room=board`)).headers.get('location')).toBe('/board');
  });
});

describe('any other malformed input is RG_REQUEST_INVALID at the edge', () => {
  it('as a page in the person\'s language with the request id', async () => {
    const { browser, csrf } = bob;
    const sends: Array<[string, () => Promise<Response>]> = [
      ['GET /_roomguard/login (fresh twice)', () => browser.request(`${rig.origin}/_roomguard/login?returnTo=%2F&fresh=1&fresh=1`, { headers: GERMAN })],
      ['POST /_roomguard/account/rename (name twice)', () => browser.request(`${rig.origin}/_roomguard/account/rename`, { method: 'POST', headers: { ...GERMAN, ...FORM }, body: form([['csrf', csrf], ['id', 'x'], ['name', 'a'], ['name', 'b']]) })],
      ['GET /_roomguard/audit (room twice)', () => browser.request(`${rig.origin}/_roomguard/audit?room=a&room=b`, { headers: GERMAN })],
      ['GET /_roomguard/jitsi/auth (state null)', () => browser.request(`${rig.origin}/_roomguard/jitsi/auth?state=null&room=board`, { headers: GERMAN })],
    ];
    for (const [what, send] of sends) {
      expect({ what, ...(await refusal(await send())) }).toEqual({ what, status: 400, code: 'RG_REQUEST_INVALID', german: true, requestId: true });
    }
    // The deny side of the first: fresh once starts the login.
    expect((await browser.request(`${rig.origin}/_roomguard/login?returnTo=%2F&fresh=1`)).status).toBe(302);
  });

  it('as JSON with the request id for a JSON call', async () => {
    const { browser, csrf } = bob;
    for (const [path, body] of [
      ['/_roomguard/mfa/webauthn/authenticate/options', '[]'],
      ['/_roomguard/mfa/webauthn/authenticate', JSON.stringify({ csrf, returnTo: '/', room: '', response: 'not an object' })],
      ['/_roomguard/mfa/webauthn/register', JSON.stringify({ csrf, returnTo: '/', room: '', response: { id: 7 } })],
    ] as const) {
      const res = await browser.request(`${rig.origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect({ path, status: res.status, body: await res.json() }).toEqual({ path, status: 400, body: { error: 'RG_REQUEST_INVALID', requestId: res.headers.get('x-request-id') } });
    }
  });

  it('a Jitsi state that is JSON but no object is ignored, as before: the room parameter decides', async () => {
    const res = await fetch(`${rig.origin}/_roomguard/jitsi/auth?state=5&room=Board`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/board');
  });

  it('an asset name is one of the assets, never a property every object has', async () => {
    for (const name of ['constructor', '__proto__', 'toString']) {
      const res = await fetch(`${rig.origin}/_roomguard/assets/${name}`, { headers: { accept: 'text/html' } });
      expect({ name, ...(await refusal(res)) }).toMatchObject({ name, status: 404, code: 'RG_NOT_FOUND' });
    }
    expect((await fetch(`${rig.origin}/_roomguard/assets/style.css`)).status).toBe(200);
  });
});

describe('fields whose wrong values are counted or audited take any shape', () => {
  it('an authenticator code sent twice is a wrong code: audited, counted, and it locks like one', async () => {
    const { browser, csrf } = await signedIn('carol');
    const secret = await enrolTotp(rig.origin, browser, '/_roomguard/account', '');
    const post = (fields: Array<[string, string]>) => browser.request(`${rig.origin}/_roomguard/mfa/totp`, { method: 'POST', headers: FORM, body: form([['returnTo', '/rooms/town-hall'], ['room', ''], ...fields]) });
    // The enrolment rotated the session: take the new token from a page of the new session.
    const token = /name="csrf" value="([^"]+)"/.exec(await (await browser.request(`${rig.origin}/_roomguard/logout`)).text())![1]!;
    expect(token).not.toBe(csrf);
    const before = events.filter((e) => e.type === 'mfa.failure' && e.actor?.sub === 'carol').length;
    for (let i = 1; i < MAX_FAILURES; i++) expect((await post([['csrf', token], ['code', '000000'], ['code', '111111']])).status).toBe(422);
    expect(events.filter((e) => e.type === 'mfa.failure' && e.actor?.sub === 'carol' && e.reason === 'RG_MFA_INVALID').length - before).toBe(MAX_FAILURES - 1);
    const locking = await post([['csrf', token], ['code', '000000'], ['code', '111111']]);
    expect({ status: locking.status, code: (await refusal(locking)).code }).toEqual({ status: 429, code: 'RG_MFA_LOCKED' });
    expect(events.some((e) => e.type === 'mfa.lock' && e.actor?.sub === 'carol')).toBe(true);
    // Locked: even the right code is not checked now.
    expect((await post([['csrf', token], ['code', await generate({ secret })]])).status).toBe(429);
  });

  it('an invitation token sent twice is an unknown invitation, refused and audited', async () => {
    const res = await fetch(`${rig.origin}/_roomguard/guest/town-hall?invite=${'A'.repeat(43)}&invite=${'B'.repeat(43)}`, { headers: { accept: 'text/html' } });
    expect({ status: res.status, code: (await refusal(res)).code }).toEqual({ status: 404, code: 'RG_GUEST_INVITE_UNKNOWN' });
    expect(events.some((e) => e.type === 'guest.invite_refused' && e.reason === 'RG_GUEST_INVITE_UNKNOWN' && e.requestId === res.headers.get('x-request-id'))).toBe(true);
  });

  it('a guest form token sent twice is a CSRF refusal, audited', async () => {
    const res = await fetch(`${rig.origin}/_roomguard/guest/town-hall`, {
      method: 'POST', headers: { ...FORM, accept: 'text/html', cookie: 'roomguard_session_guest=t' }, body: form([['csrf', 't'], ['csrf', 't'], ['invite', 'A'.repeat(43)], ['name', 'Mallory']]),
    });
    expect({ status: res.status, code: (await refusal(res)).code }).toEqual({ status: 403, code: 'RG_CSRF' });
    expect(events.some((e) => e.type === 'guest.invite_refused' && e.reason === 'RG_CSRF' && e.requestId === res.headers.get('x-request-id'))).toBe(true);
  });
});

describe('a guest session on an account page', () => {
  it('is refused there (and audited) whatever it sends, before its input is looked at', async () => {
    const { browser: moderator } = await openInvitesPage(rig.origin, 'town-hall', 'alice');
    const { link } = await createInvitation(moderator, rig.origin, 'town-hall');
    const { browser: guest, final } = await joinAsGuest(link!, 'Guest');
    await final.arrayBuffer();
    for (const [method, path, body] of [
      ['POST', '/_roomguard/mfa/totp', form([['returnTo', '/a'], ['returnTo', '/b'], ['csrf', 'x'], ['csrf', 'y']])],
      ['GET', `/_roomguard/mfa?${form([['room', 'a'], ['room', 'b']])}`, undefined],
      ['POST', '/_roomguard/account/rename', form([['name', 'a'], ['name', 'b']])],
    ] as const) {
      const res = await guest.request(`${rig.origin}${path}`, { method, headers: { accept: 'text/html', ...(body ? FORM : {}) }, ...(body ? { body } : {}) });
      expect({ path, ...(await refusal(res)) }).toMatchObject({ path, status: 403, code: 'RG_GUEST_NOT_ALLOWED', requestId: true });
      expect(events.some((e) => e.type === 'room.decision' && e.reason === 'RG_GUEST_NOT_ALLOWED' && e.requestId === res.headers.get('x-request-id'))).toBe(true);
    }
  });
});
