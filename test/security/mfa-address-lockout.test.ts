// Issue 15, class 6: one account must not be able to lock everyone behind its client address out of the
// second-factor step (a school or office behind one NAT address), while spraying codes across many
// accounts from one address is still stopped. Real Redis, the real demo IdP, real HTTP; each test comes
// from its own client address (X-Forwarded-For from the trusted loopback proxy), so they do not share locks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import type { DemoUser } from '../../src/demo/idp.js';
import type { AuditEvent } from '../../src/audit/record.js';
import type { AuditSink } from '../../src/audit/sink.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { startRig, type Rig } from '../helpers/rig.js';

const MAX_FAILURES = 5;
const MAX_ACCOUNTS = 3;
const RETURN_TO = '/_roomguard/account';

const person = (sub: string): DemoUser => ({ sub, password: 'demo', email: `${sub}@example.org`, name: sub, groups: [] });
const USERS = ['holder1', 'holder2', 'holder3', 'nofactor', 'enroller', 'spray1', 'spray2', 'spray3'].map(person);

let rig: Rig;
let origin: string;
/** The gateway's clock runs this far ahead, so a right code is of a later time step than the enrolment's. */
let offset = 0;
const secrets = new Map<string, string>();
const events: AuditEvent[] = [];
const audit: AuditSink = { healthy: true, append: async (event) => void events.push(event) };

function form(fields: Record<string, string>): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() };
}

const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;

/** Signs `user` in from client address `ip`; every later request of the browser comes from there too. */
async function signIn(user: string, ip: string): Promise<ScriptedBrowser> {
  const browser = new ScriptedBrowser({ 'x-forwarded-for': ip, accept: 'text/html' });
  const start = await browser.follow(`${origin}/_roomguard/login?returnTo=${encodeURIComponent(RETURN_TO)}`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  expect(done.final.status).toBe(200);
  await done.final.arrayBuffer();
  return browser;
}

/** The CSRF token of a signed-in browser, read from a page that carries it for any account. */
async function csrfFor(browser: ScriptedBrowser): Promise<string> {
  const page = await browser.request(`${origin}/_roomguard/logout`);
  return csrfOf(await page.text());
}

async function enrolTotp(user: string): Promise<void> {
  const browser = await signIn(user, '192.0.2.250');
  const setup = await (await browser.request(`${origin}/_roomguard/mfa/totp/setup?${new URLSearchParams({ returnTo: RETURN_TO })}`)).text();
  const secret = /<code class="secret"[^>]*>([^<]+)<\/code>/.exec(setup)![1]!.replace(/\s+/g, '');
  const done = await browser.request(`${origin}/_roomguard/mfa/totp/setup`, form({ csrf: csrfOf(setup), returnTo: RETURN_TO, room: '', code: await generate({ secret }) }));
  expect(done.status).toBe(303);
  secrets.set(user, secret);
}

const postCode = (browser: ScriptedBrowser, csrf: string, path: 'totp' | 'recovery', code: string) =>
  browser.request(`${origin}/_roomguard/mfa/${path}`, form({ csrf, returnTo: RETURN_TO, room: '', code }));

/** The current code of `user`'s authenticator on the gateway's clock. */
const rightCode = (user: string) => generate({ secret: secrets.get(user)!, epoch: Math.floor((Date.now() + offset) / 1000) });

beforeAll(async () => {
  rig = await startRig({
    idp: { users: USERS },
    config: { trustProxy: ['127.0.0.1'], mfa: { maxFailures: MAX_FAILURES, maxAccountsPerAddress: MAX_ACCOUNTS } },
    gateway: { audit, now: () => Date.now() + offset, logger: false },
  });
  ({ origin } = rig);
  for (const user of ['holder1', 'holder2', 'holder3', 'spray1', 'spray2', 'spray3']) await enrolTotp(user);
  // Two time steps on: every right code below is later than its enrolment's.
  offset = 60_000;
});

afterAll(async () => {
  await rig?.close();
});

describe('second-factor attempts count only as real guesses against a real factor', () => {
  it('an account without a factor posting wrong codes, naming no room, is told so and locks nobody out (the reported attack)', async () => {
    const ip = '203.0.113.10';
    const attacker = await signIn('nofactor', ip);
    const csrf = await csrfFor(attacker);
    for (let i = 0; i < 3 * MAX_FAILURES; i++) {
      const res = await postCode(attacker, csrf, 'totp', String(100000 + i));
      // Nothing to guess: a clear refusal each time, never counted towards a lock of the account or address.
      expect(res.status).toBe(409);
      expect(await res.text()).toContain('RG_MFA_NOT_ENROLLED');
    }
    for (let i = 0; i < 3 * MAX_FAILURES; i++) expect((await postCode(attacker, csrf, 'recovery', `abcd-efgh-${i}`)).status).toBe(409);
    const passkey = await attacker.request(`${origin}/_roomguard/mfa/webauthn/authenticate`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ csrf, returnTo: RETURN_TO, room: '', response: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: {} } }),
    });
    expect(passkey.status).toBe(409);
    expect((await passkey.json()).error).toBe('RG_MFA_NOT_ENROLLED');
    expect(events.filter((e) => e.type === 'mfa.failure' && e.actor?.sub === 'nofactor')).toEqual([]);

    const neighbour = await signIn('holder1', ip);
    const res = await postCode(neighbour, await csrfFor(neighbour), 'totp', await rightCode('holder1'));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(RETURN_TO);
  });

  it('an account with a factor that guesses until its own lock does not lock the others at its address', async () => {
    const ip = '203.0.113.20';
    const guesser = await signIn('holder2', ip);
    const csrf = await csrfFor(guesser);
    const statuses: number[] = [];
    for (let i = 0; i < 3 * MAX_FAILURES; i++) statuses.push((await postCode(guesser, csrf, 'totp', '000000')).status);
    expect(statuses.slice(0, MAX_FAILURES - 1)).toEqual(Array(MAX_FAILURES - 1).fill(422));
    expect(statuses.slice(MAX_FAILURES - 1)).toEqual(Array(2 * MAX_FAILURES + 1).fill(429));
    expect(events.some((e) => e.type === 'mfa.lock' && e.actor?.sub === 'holder2' && e.details?.address === undefined)).toBe(true);

    // Another person behind the same address is not held back: the page opens and the right code admits.
    const neighbour = await signIn('holder3', ip);
    const page = await neighbour.request(`${origin}/_roomguard/mfa?${new URLSearchParams({ returnTo: RETURN_TO })}`);
    expect(page.status).toBe(200);
    const res = await postCode(neighbour, csrfOf(await page.text()), 'totp', await rightCode('holder3'));
    expect(res.status).toBe(303);
  });

  it('wrong codes while confirming an enrolment are no guess against a factor and count against nothing', async () => {
    const ip = '203.0.113.30';
    const browser = await signIn('enroller', ip);
    const setup = await (await browser.request(`${origin}/_roomguard/mfa/totp/setup?${new URLSearchParams({ returnTo: RETURN_TO })}`)).text();
    const secret = /<code class="secret"[^>]*>([^<]+)<\/code>/.exec(setup)![1]!.replace(/\s+/g, '');
    for (let i = 0; i < 3 * MAX_FAILURES; i++) {
      const wrong = await browser.request(`${origin}/_roomguard/mfa/totp/setup`, form({ csrf: csrfOf(setup), returnTo: RETURN_TO, room: '', code: '000000' }));
      expect(wrong.status).toBe(422);
      await wrong.arrayBuffer();
    }
    const done = await browser.request(`${origin}/_roomguard/mfa/totp/setup`, form({ csrf: csrfOf(setup), returnTo: RETURN_TO, room: '', code: await generate({ secret, epoch: Math.floor((Date.now() + offset) / 1000) }) }));
    expect(done.status).toBe(303);
  });
});

describe('a ceiling per address against spraying codes across accounts', () => {
  it(`locks the address for everyone once ${MAX_ACCOUNTS} different accounts are failing from it, and audits the address lock`, async () => {
    const ip = '203.0.113.40';
    const statuses: number[] = [];
    for (const user of ['spray1', 'spray2', 'spray3']) {
      const browser = await signIn(user, ip);
      statuses.push((await postCode(browser, await csrfFor(browser), 'totp', '000000')).status);
    }
    expect(statuses).toEqual([422, 422, 429]);
    expect(events.some((e) => e.type === 'mfa.lock' && e.actor?.sub === 'spray3' && e.details?.address === true)).toBe(true);

    // Everyone at that address is held back now, with their right code too; elsewhere nobody is.
    const there = await signIn('holder1', ip);
    expect((await there.request(`${origin}/_roomguard/mfa?${new URLSearchParams({ returnTo: RETURN_TO })}`)).status).toBe(429);
    expect((await postCode(there, await csrfFor(there), 'totp', await rightCode('holder1'))).status).toBe(429);
    const elsewhere = await signIn('spray1', '203.0.113.41');
    expect((await elsewhere.request(`${origin}/_roomguard/mfa?${new URLSearchParams({ returnTo: RETURN_TO })}`)).status).toBe(200);
  });
});
