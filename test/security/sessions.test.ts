// Session attacks against the real gateway (real Redis, real IdP): fixation at login and at step-up,
// forged, truncated and tampered cookies, and idle expiry seen by a second instance whose clock runs
// ahead. Logout replay, revocation and cookie flags are covered elsewhere (see docs/threat-model.md).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ScriptedBrowser } from '../helpers/browser.js';
import type { Arrived } from '../helpers/upstream.js';
import { enrolTotp, loginAs } from './harness.js';
import { startRig, type Rig } from '../helpers/rig.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ store: inject('redisUrl') });
});

afterAll(async () => {
  await rig?.close();
});

const sessionOf = (browser: ScriptedBrowser) => browser.jar.get('roomguard_session')?.value;
const withCookie = (value: string, path = '/rooms/town-hall', r: Rig = rig) => fetch(`${r.origin}${path}`, { headers: { cookie: `roomguard_session=${value}` }, redirect: 'manual' });

async function userOf(value: string): Promise<string | undefined> {
  const res = await withCookie(value);
  if (res.status !== 200) return undefined;
  return String(((await res.json()) as Arrived).headers['x-roomguard-user']);
}

/** A browser that already carries `value` as its session cookie (set by an attacker, e.g. via a sibling host). */
function browserWith(value: string): ScriptedBrowser {
  const browser = new ScriptedBrowser();
  browser.jar.cookies.set('roomguard_session;/', { name: 'roomguard_session', value, path: '/', attributes: new Map() });
  return browser;
}

/** Runs the IdP login in `browser` from the login page, whatever session cookie it carries. */
async function logInHere(browser: ScriptedBrowser, user: string): Promise<void> {
  const start = await browser.follow(`${rig.origin}/_roomguard/login?returnTo=%2Frooms%2Ftown-hall`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  expect(done.final.status).toBe(200);
}

describe('session fixation', () => {
  it('replaces an id planted before login; the planted id never becomes a session', async () => {
    const planted = randomBytes(32).toString('base64url');
    const browser = browserWith(planted);
    await logInHere(browser, 'bob');
    expect(sessionOf(browser)).not.toBe(planted);
    expect(await userOf(sessionOf(browser)!)).toBe('bob');
    expect(await userOf(planted)).toBeUndefined();
  });

  it('replaces an attacker\'s own live session planted in the victim\'s browser: the victim gets a new id, the planted one is ended', async () => {
    const attackerId = sessionOf((await loginAs(rig.origin, 'carol')).browser)!;
    const victim = browserWith(attackerId);
    await logInHere(victim, 'alice');
    expect(sessionOf(victim)).not.toBe(attackerId);
    expect(await userOf(sessionOf(victim)!)).toBe('alice');
    // The login ends the session the browser came with, so the attacker cannot ride along on either id.
    expect(await userOf(attackerId)).toBeUndefined();
  });

  it('gives a new id at step-up (second factor); the pre-step-up id no longer works', async () => {
    const { browser } = await loginAs(rig.origin, 'alice');
    const before = sessionOf(browser)!;
    expect((await withCookie(before, '/rooms/board')).status).toBe(403);
    await enrolTotp(rig.origin, browser, '/rooms/board', 'board');
    const after = sessionOf(browser)!;
    expect(after).not.toBe(before);
    expect((await withCookie(after, '/rooms/board')).status).toBe(200);
    const old = await withCookie(before, '/rooms/board');
    expect(old.status).toBe(302);
    expect(old.headers.get('location')).toMatch(/^\/_roomguard\/login\?/);
  });
});

describe('forged and tampered session cookies', () => {
  let real: string;

  beforeAll(async () => {
    real = sessionOf((await loginAs(rig.origin, 'bob')).browser)!;
  });

  const flip = (id: string, at: number) => id.slice(0, at) + (id[at] === 'A' ? 'B' : 'A') + id.slice(at + 1);

  it.each([
    ['a random id of the right form', () => randomBytes(32).toString('base64url')],
    ['the real id truncated by one character', () => real.slice(0, -1)],
    ['the real id truncated to half', () => real.slice(0, 22)],
    ['the real id with one more character', () => `${real}A`],
    ['the real id with its first character changed', () => flip(real, 0)],
    ['the real id with its last character changed', () => flip(real, 42)],
    ['the real id in upper case', () => real.toUpperCase()],
    ['the real id in standard base64', () => Buffer.from(real, 'base64url').toString('base64')],
    ['the hash the store keys it by', () => Buffer.from(real).toString('hex')],
    ['an empty value', () => ''],
  ])('refuses %s: login redirect, nothing reaches the upstream', async (_what, forge) => {
    const value = forge();
    if (value === real) return expect.unreachable('the forgery equals the real id');
    const before = rig.upstream.arrived.length;
    const res = await withCookie(value);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^\/_roomguard\/login\?/);
    expect(rig.upstream.arrived.length).toBe(before);
    // The control: the real id still works, so the refusal above was about the forgery.
    expect(await userOf(real)).toBe('bob');
  });
});

describe('expired sessions', () => {
  let ahead: Rig | undefined;

  afterAll(async () => {
    await ahead?.close();
  });

  it('a second instance whose clock is past the idle timeout refuses the session; the first, within it, still admits', async () => {
    // Two sessions, because a visit renews the idle time.
    const early = sessionOf((await loginAs(rig.origin, 'bob')).browser)!;
    const late = sessionOf((await loginAs(rig.origin, 'bob')).browser)!;
    // Same keys and store: an instance 29 minutes on still knows the session...
    const near = await startRig({ store: inject('redisUrl'), sameAs: rig, gateway: { now: () => Date.now() + 29 * 60_000 } });
    try {
      expect((await withCookie(early, '/rooms/town-hall', near)).status).toBe(200);
    } finally {
      await near.close();
    }
    // ...one 31 minutes on (idle timeout 30m) does not.
    ahead = await startRig({ store: inject('redisUrl'), sameAs: rig, gateway: { now: () => Date.now() + 31 * 60_000 } });
    const res = await withCookie(late, '/rooms/town-hall', ahead);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^\/_roomguard\/login\?/);
  });
});
