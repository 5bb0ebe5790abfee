// Second factors against real components: real Redis, the real oidc-provider IdP, two gateway
// instances sharing the store, a real upstream; the gateway's clock is shifted for freshness tests.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import type { AuditEvent } from '../../src/audit/record.js';
import type { AuditSink } from '../../src/audit/sink.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import type { Gateway } from '../../src/gateway/server.js';
import type { EchoUpstream } from '../helpers/upstream.js';
import { startRig, type Rig } from '../helpers/rig.js';

const POLICIES = fileURLToPath(new URL('../fixtures/policies-mfa', import.meta.url));
const HTML = { accept: 'text/html' };

let rig: Rig;
let upstream: EchoUpstream;
let a: Gateway;
let origin: string;
let portB: number;
let offset = 0;
const events: AuditEvent[] = [];
/** Records what the gateway tells the audit log, so tests can check that failures and replays are reported. */
const recordingAudit: AuditSink = { healthy: true, append: async (event) => void events.push(event) };

beforeAll(async () => {
  const clock = () => Date.now() + offset;
  // Two instances behind one public origin (localhost), sharing the store and the shifted clock.
  rig = await startRig({
    publicHost: 'localhost', policiesDir: POLICIES, config: { oidc: { trustAmr: ['pwd'] } },
    instances: [{ gateway: { audit: recordingAudit, now: clock, logger: false } }, { behindFirst: true, gateway: { audit: recordingAudit, now: clock } }],
  });
  ({ upstream, origin, gateway: a } = rig);
  portB = rig.instances[1]!.port;
});

afterAll(async () => {
  await rig?.close();
});

async function login(user: string, path: string) {
  const browser = new ScriptedBrowser(HTML);
  const start = await browser.follow(`${origin}${path}`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  return { browser, final: done.final, hops: [...start.hops, ...done.hops] };
}

function csrfOf(html: string): string {
  return /name="csrf" value="([^"]+)"/.exec(html)![1]!;
}

function form(fields: Record<string, string>): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() };
}

/** Enrols an authenticator app for the browser's person; returns the secret and recovery codes. */
async function enrolTotp(browser: ScriptedBrowser, returnTo: string, room: string) {
  const setup = await browser.request(`${origin}/_roomguard/mfa/totp/setup?${new URLSearchParams({ returnTo, room })}`);
  expect(setup.status).toBe(200);
  const html = await setup.text();
  const secret = /<code class="secret"[^>]*>([^<]+)<\/code>/.exec(html)![1]!.replace(/\s+/g, '');
  const enrolledAt = Date.now();
  const done = await browser.request(`${origin}/_roomguard/mfa/totp/setup`, form({ csrf: csrfOf(html), returnTo, room, code: await generate({ secret, epoch: Math.floor(enrolledAt / 1000) }), name: 'Phone' }));
  expect(done.status).toBe(303);
  const codesPage = await browser.request(new URL(done.headers.get('location')!, origin));
  const codes = [...(await codesPage.text()).matchAll(/<li><code>([a-z2-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
  return { secret, codes, enrolledAt };
}

let aliceSecret = '';
let aliceCodes: string[] = [];

/** Submits the TOTP form of a verify page with the code for `atMs` on the shared clock. */
async function confirmTotp(browser: ScriptedBrowser, page: string, returnTo: string, room: string, atMs: number) {
  const code = await generate({ secret: aliceSecret, epoch: Math.floor(atMs / 1000) });
  return browser.request(`${origin}/_roomguard/mfa/totp`, form({ csrf: csrfOf(page), returnTo, room, code }));
}

describe('second factor step', () => {
  it('enrols TOTP, admits to the room, refuses the same code again (replay, audited), and accepts the next step', async () => {
    const { browser, hops } = await login('alice', '/rooms/vault');
    // The IdP vouches only for a password (amr pwd, trusted as "idp"): not enough for a totp/webauthn room.
    expect(hops.some((h) => h.url.pathname === '/_roomguard/mfa')).toBe(true);
    const { secret, codes, enrolledAt } = await enrolTotp(browser, '/rooms/vault', 'vault');
    aliceSecret = secret;
    aliceCodes = codes;
    expect(codes).toHaveLength(10);
    expect((await browser.request(`${origin}/rooms/vault`)).status).toBe(200);
    expect(events.some((e) => e.type === 'mfa.enrolled' && e.actor?.sub === 'alice')).toBe(true);

    // A second session must confirm; the enrolment's own code is refused as a replay (the code of the
    // enrolment's time step, not of now: under load the next step may have begun).
    const second = await login('alice', '/rooms/vault');
    expect(second.final.url).toContain('/_roomguard/mfa?');
    const page = await second.final.text();
    const replay = await confirmTotp(second.browser, page, '/rooms/vault', 'vault', enrolledAt);
    expect(replay.status).toBe(422);
    expect(await replay.text()).toContain('already used');
    expect(events.some((e) => e.type === 'mfa.replay' && e.actor?.sub === 'alice')).toBe(true);
    expect((await second.browser.request(`${origin}/rooms/vault`, { redirect: 'manual' })).status).toBe(302);

    offset = 30_000;
    try {
      const ok = await confirmTotp(second.browser, page, '/rooms/vault', 'vault', Date.now() + offset);
      expect(ok.status).toBe(303);
      expect(ok.headers.get('location')).toBe('/rooms/vault');
      expect((await second.browser.request(`${origin}/rooms/vault`)).status).toBe(200);
    } finally {
      offset = 0;
    }
  });

  it('reads the session from the store once for the second-factor page, though a hook looks at it before the page does', async () => {
    const { browser, final } = await login('alice', '/rooms/vault');
    expect(final.url).toContain('/_roomguard/mfa?');
    const reads: string[] = [];
    const get = a.store.get.bind(a.store);
    a.store.get = (key: string) => (reads.push(key), get(key));
    try {
      const page = await browser.request(final.url);
      expect(page.status).toBe(200);
      await page.arrayBuffer();
      expect(reads.filter((key) => key.startsWith('session:'))).toHaveLength(1);
      // The next request reads it afresh.
      await browser.request(final.url);
      expect(reads.filter((key) => key.startsWith('session:'))).toHaveLength(2);
    } finally {
      a.store.get = get;
    }
  });

  it('asks again (step-up) once the second factor is older than the room\'s maxAge, without a new IdP login', async () => {
    const { browser } = await login('alice', '/rooms/open');
    offset = 90_000;
    try {
      const first = await browser.follow(`${origin}/rooms/vault`);
      const ok = await confirmTotp(browser, await first.final.text(), '/rooms/vault', 'vault', Date.now() + offset);
      expect(ok.status).toBe(303);
      expect((await browser.request(`${origin}/rooms/vault`)).status).toBe(200);

      offset += 3 * 60_000; // older than maxAge 2m
      const again = await browser.follow(`${origin}/rooms/vault`);
      expect(again.hops.every((h) => h.url.origin === origin)).toBe(true);
      const page = await again.final.text();
      expect(again.final.url).toContain('/_roomguard/mfa?');
      expect(page).toContain('too long ago');
      const stepped = await confirmTotp(browser, page, '/rooms/vault', 'vault', Date.now() + offset);
      expect(stepped.status).toBe(303);
      expect((await browser.request(`${origin}/rooms/vault`)).status).toBe(200);
    } finally {
      offset = 0;
    }
  });

  it('trusts the IdP\'s amr only where a policy lists idp', async () => {
    const { browser } = await login('carol', '/rooms/idp-room');
    const seen = await browser.request(`${origin}/rooms/idp-room`);
    expect(seen.status).toBe(200);
    expect(((await seen.json()) as { headers: Record<string, string> }).headers['x-roomguard-user']).toBe('carol');
  });

  it('does not trust the IdP\'s amr when oidc.trustAmr is empty', async () => {
    const plain = await startRig({ publicHost: 'localhost', upstream, policiesDir: POLICIES, gateway: { audit: recordingAudit } });
    const plainOrigin = plain.origin;
    try {
      const browser = new ScriptedBrowser(HTML);
      const start = await browser.follow(`${plainOrigin}/rooms/idp-room`);
      const done = await browser.submitLogin(start.final, 'carol', 'demo');
      expect(done.final.url).toContain('/_roomguard/mfa?');
      expect(await done.final.text()).toContain('identity provider');
    } finally {
      await plain.close();
    }
  });

  it('sends the enrolment of a first factor through a fresh IdP login (max_age) when the login is too old', async () => {
    const { browser } = await login('carol', '/rooms/open');
    offset = 6 * 60_000;
    let loginHop: string;
    try {
      const setup = await browser.request(`${origin}/_roomguard/mfa/totp/setup?returnTo=%2F_roomguard%2Faccount`);
      expect(setup.status).toBe(302);
      loginHop = setup.headers.get('location')!;
      expect(loginHop).toMatch(/^\/_roomguard\/login\?.*fresh=1/);
      const toIdp = await browser.request(new URL(loginHop, origin));
      expect(new URL(toIdp.headers.get('location')!).searchParams.get('max_age')).toBe('300');
    } finally {
      offset = 0;
    }
    // With the clocks agreeing again, the fresh login completes and enrolment opens.
    const done = await browser.follow(new URL(loginHop, origin));
    expect(done.final.status).toBe(200);
    expect(await done.final.text()).toContain('class="secret"');
  });

  it('locks after too many wrong codes, on every instance, and audits the lock', async () => {
    const { browser } = await login('alice', '/rooms/open');
    const page = await (await browser.follow(`${origin}/rooms/vault`)).final.text();
    for (let i = 0; i < 4; i++) {
      const wrong = await browser.request(`${origin}/_roomguard/mfa/totp`, form({ csrf: csrfOf(page), returnTo: '/rooms/vault', room: 'vault', code: '000000' }));
      expect(wrong.status).toBe(422);
    }
    const fifth = await browser.request(`${origin}/_roomguard/mfa/totp`, form({ csrf: csrfOf(page), returnTo: '/rooms/vault', room: 'vault', code: '000000' }));
    expect(fifth.status).toBe(429);
    expect(events.some((e) => e.type === 'mfa.lock' && e.actor?.sub === 'alice')).toBe(true);
    // The right code on the other instance is refused too: the lock lives in the shared store.
    offset = 150_000;
    try {
      const onB = await browser.request(`http://localhost:${portB}/_roomguard/mfa/totp`, form({ csrf: csrfOf(page), returnTo: '/rooms/vault', room: 'vault', code: await generate({ secret: aliceSecret, epoch: Math.floor((Date.now() + offset) / 1000) }) }));
      expect(onB.status).toBe(429);
      expect(await onB.text()).toContain('RG_MFA_LOCKED');
    } finally {
      offset = 0;
    }
  });
  it('accepts a recovery code once even when two requests race with it', async () => {
    // After the lock of the previous test has run out.
    offset = 11 * 60_000;
    try {
      const { browser } = await login('alice', '/rooms/open');
      const page = await (await browser.follow(`${origin}/rooms/vault`)).final.text();
      const post = () => browser.request(`${origin}/_roomguard/mfa/recovery`, form({ csrf: csrfOf(page), returnTo: '/rooms/vault', room: 'vault', code: aliceCodes[0]! }));
      const statuses = (await Promise.all([post(), post(), post()])).map((r) => r.status).sort();
      expect(statuses).toEqual([303, 422, 422]);
    } finally {
      offset = 0;
    }
  });

});

describe('account page', () => {
  it('lists the person\'s sessions and ends the others on request', async () => {
    const first = await login('bob', '/rooms/open');
    const second = await login('bob', '/rooms/open');
    const page = await (await second.browser.request(`${origin}/_roomguard/account`)).text();
    expect(page.match(/<ul class="sessions">(.*?)<\/ul>/s)![1]!.match(/<li>/g)!.length).toBeGreaterThanOrEqual(2);
    expect(page).toContain('this session');
    expect((await first.browser.request(`${origin}/rooms/open`)).status).toBe(200);
    const ended = await second.browser.request(`${origin}/_roomguard/account/end-others`, form({ csrf: csrfOf(page) }));
    expect(ended.status).toBe(303);
    // The other session is gone on every instance; this one stays.
    const other = await first.browser.request(`http://localhost:${portB}/rooms/open`, { redirect: 'manual' });
    expect(other.status).toBe(302);
    expect(other.headers.get('location')).toMatch(/^\/_roomguard\/login/);
    expect((await second.browser.request(`${origin}/rooms/open`)).status).toBe(200);
    expect(events.some((e) => e.type === 'session.revoked' && e.actor?.sub === 'bob')).toBe(true);
  });
});

describe('attempt limit under parallel guessing', () => {
  it('checks no more than maxFailures codes however many arrive at once', async () => {
    try {
      await parallelGuesses();
    } finally {
      offset = 0;
    }
  });
});

async function parallelGuesses() {
  {
    const { browser } = await login('bob', '/rooms/open');
    const setupRes = await browser.request(`${origin}/_roomguard/mfa/totp/setup?returnTo=%2F_roomguard%2Faccount`);
    const setup = await setupRes.text();
    const secret = /<code class="secret"[^>]*>([^<]+)<\/code>/.exec(setup)![1]!.replace(/\s+/g, '');
    const enrolled = await browser.request(`${origin}/_roomguard/mfa/totp/setup`, form({ csrf: csrfOf(setup), returnTo: '/_roomguard/account', room: '', code: await generate({ secret }) }));
    expect(enrolled.status).toBe(303);
    // Well after the earlier tests' locks on this address have run out.
    offset = 29 * 60_000;
    const fresh = await login('bob', '/rooms/open');
    const page = await (await fresh.browser.request(`${origin}/_roomguard/mfa?returnTo=%2F_roomguard%2Faccount`)).text();
    const before = events.filter((e) => e.type === 'mfa.failure' && e.actor?.sub === 'bob').length;
    const guesses = Array.from({ length: 40 }, (_, i) => fresh.browser.request(`http://localhost:${i % 2 ? portB : new URL(origin).port}/_roomguard/mfa/totp`, form({ csrf: csrfOf(page), returnTo: '/_roomguard/account', room: '', code: String(100000 + i) })));
    const statuses = (await Promise.all(guesses)).map((r) => r.status);
    const checked = events.filter((e) => e.type === 'mfa.failure' && e.actor?.sub === 'bob').length - before;
    expect(checked).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(35);
  }
}
