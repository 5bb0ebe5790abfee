// Every key roomguard writes has a TTL: a gateway on the private Redis goes through login, TOTP
// enrolment, a WebAuthn challenge, failed second-factor attempts, a pending login and room joins,
// then SCAN finds every key under its prefix and PTTL must be positive for each (no key lives forever).
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { generate } from 'otplib';
import { ScriptedBrowser } from '../helpers/browser.js';
import { startRig, type Rig } from '../helpers/rig.js';

const POLICIES = fileURLToPath(new URL('../fixtures/policies-mfa', import.meta.url));
const HTML = { accept: 'text/html' };

/** Every key under `prefix` with its PTTL (-1: no TTL). */
async function census(redis: Redis, prefix: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) found.set(key.slice(prefix.length), await redis.pttl(key));
  } while (cursor !== '0');
  return found;
}

const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;
const form = (fields: Record<string, string>): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

describe('key lifetimes in Redis', () => {
  const prefix = `rgttl:${process.pid}:`;
  let redis: Redis;
  let rig: Rig;
  let origin: string;
  /** The gateway's clock runs ahead by this much, so a second TOTP code can come from a later time step. */
  let offset = 0;

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'));
    rig = await startRig({ publicHost: 'localhost', keyPrefix: prefix, policiesDir: POLICIES, gateway: { logger: false, now: () => Date.now() + offset } });
    ({ origin } = rig);
  });
  afterAll(async () => {
    await rig?.close();
    redis?.disconnect();
  });

  async function login(user: string, path: string) {
    const browser = new ScriptedBrowser(HTML);
    const start = await browser.follow(`${origin}${path}`);
    const done = await browser.submitLogin(start.final, user, 'demo');
    return { browser, final: done.final };
  }

  it('the census notices a key without a TTL (so the check below can fail)', async () => {
    await redis.set(`${prefix}probe:forever`, 'x');
    try {
      expect((await census(redis, prefix)).get('probe:forever')).toBe(-1);
    } finally {
      await redis.del(`${prefix}probe:forever`);
    }
  });

  it('gives every key written during logins, second factors and joins a TTL', async () => {
    // Alice: login, TOTP enrolment (pending secret, factors, replay marker, recovery codes shown once), the room.
    const alice = await login('alice', '/rooms/vault');
    const setup = await alice.browser.request(`${origin}/_roomguard/mfa/totp/setup?returnTo=%2Frooms%2Fvault&room=vault`);
    const setupHtml = await setup.text();
    const secret = /<code class="secret"[^>]*>([^<]+)<\/code>/.exec(setupHtml)![1]!.replace(/\s+/g, '');
    const enrolled = await alice.browser.request(`${origin}/_roomguard/mfa/totp/setup`, form({ csrf: csrfOf(setupHtml), returnTo: '/rooms/vault', room: 'vault', code: await generate({ secret }), name: 'Phone' }));
    expect(enrolled.status).toBe(303);
    expect((await alice.browser.request(`${origin}/rooms/vault`)).status).toBe(200);
    expect((await alice.browser.request(`${origin}/rooms/open`)).status).toBe(200);

    // A passkey registration begun and left: its challenge waits in the store.
    const webauthnSetup = await alice.browser.request(`${origin}/_roomguard/mfa/webauthn/setup?returnTo=%2F_roomguard%2Faccount`);
    expect(webauthnSetup.status).toBe(200);
    const options = await alice.browser.request(`${origin}/_roomguard/mfa/webauthn/register/options`, form({ csrf: /data-csrf="([^"]+)"/.exec(await webauthnSetup.text())![1]!, returnTo: '/_roomguard/account', room: '' }));
    expect(options.status).toBe(200);

    // A second session of alice confirms with the code of the next time step (its single-use marker)…
    const second = await login('alice', '/rooms/vault');
    offset = 30_000;
    const right = await second.browser.request(`${origin}/_roomguard/mfa/totp`, form({ csrf: csrfOf(await second.final.text()), returnTo: '/rooms/vault', room: 'vault', code: await generate({ secret, epoch: Math.floor((Date.now() + offset) / 1000) }) }));
    expect(right.status).toBe(303);
    // …and a third gets a wrong code (attempt and failure counters; a success would reset them).
    const third = await login('alice', '/rooms/vault');
    const wrong = await third.browser.request(`${origin}/_roomguard/mfa/totp`, form({ csrf: csrfOf(await third.final.text()), returnTo: '/rooms/vault', room: 'vault', code: '000000' }));
    expect(wrong.status).toBe(422);

    // Bob joins an open room; carol starts a login and never finishes it (that writes nothing: it waits in her browser).
    const bob = await login('bob', '/rooms/open');
    expect(bob.final.status).toBe(200);
    const carol = await new ScriptedBrowser(HTML).request(`${origin}/_roomguard/login?returnTo=%2Frooms%2Fopen`);
    expect(carol.status).toBe(302);

    const keys = await census(redis, prefix);
    // The flow above must have written each family (otherwise this test checks less than it claims).
    for (const family of ['session', 'sessions:user', 'login', 'audit:entered', 'mfa:factors', 'mfa:show-codes', 'mfa:totp-step', 'mfa:challenge:register', 'mfa:tries:acct', 'mfa:failing:ip', 'mfa:fail:acct', 'mfa:fail:consecutive']) {
      expect([...keys.keys()].some((key) => key.startsWith(`${family}:`)), `a ${family}:* key`).toBe(true);
    }
    const forever = [...keys].filter(([, pttl]) => !(pttl > 0));
    expect(forever, `keys without a TTL: ${forever.map(([k]) => k).join(', ')}`).toEqual([]);
  });
});
