// The sealed pending logins a browser keeps until the callback (src/identity/pending-logins.ts): only
// roomguard can read or make them, they expire, they are bounded in number and size (a cookie of at most
// 4096 bytes), and anything else in the cookie counts as no pending login at all.
import { randomBytes } from 'node:crypto';
import { CompactEncrypt } from 'jose';
import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_PENDING_LOGINS, MAX_SEALED_LENGTH, PendingLoginSeal, type PendingLogin } from '../../src/identity/pending-logins.js';

const T0 = Date.UTC(2030, 0, 1, 9, 0, 0);
const MIN = 60_000;

function login(n: number, overrides: Partial<PendingLogin> = {}): PendingLogin {
  return { state: `state-${n}`.padEnd(43, 'S'), codeVerifier: `verifier-${n}`.padEnd(43, 'V'), nonce: `nonce-${n}`.padEnd(43, 'N'), returnTo: `/rooms/room-${n}`, expiresAt: T0 + 10 * MIN, ...overrides };
}

function setup() {
  const clock = { t: T0 };
  const key = randomBytes(32);
  return { clock, key, seal: new PendingLoginSeal(key, [], () => clock.t) };
}

/** The longest returnTo safeReturnTo lets through (2048 characters). */
const LONGEST_RETURN_TO = `/rooms/town-hall?${'%E2%82%AC'.repeat(225)}x`.padEnd(2048, 'y');

describe('PendingLoginSeal', () => {
  it('gives back what it sealed, newest first, with max_age where there was one', async () => {
    const { seal } = setup();
    const logins = [login(2, { maxAge: 300 }), login(1)];
    expect(await seal.open(await seal.seal(logins))).toEqual(logins);
  });

  it('hides the verifier, nonce and returnTo from the browser', async () => {
    const { seal } = setup();
    const value = await seal.seal([login(1)]);
    const readable = value.split('.').map((part) => Buffer.from(part, 'base64url').toString('latin1')).join(' ');
    for (const secret of ['verifier-1', 'nonce-1', '/rooms/room-1', 'state-1']) expect(readable).not.toContain(secret);
  });

  it('opens nothing that was changed, cut, sealed under another key or is not a sealed value at all', async () => {
    const { seal } = setup();
    const value = await seal.seal([login(1)]);
    const parts = value.split('.');
    const flipped = (i: number) => parts.map((p, j) => (j === i ? `${p.slice(0, 5)}${p[5] === 'A' ? 'B' : 'A'}${p.slice(6)}` : p)).join('.');
    const other = new PendingLoginSeal(randomBytes(32), [], () => T0);
    for (const bad of [flipped(0), flipped(2), flipped(3), flipped(4), parts.slice(0, 4).join('.'), await other.seal([login(1)]), '', 'x', 'a.b.c.d.e', '%%%', 'A'.repeat(MAX_SEALED_LENGTH + 1)]) {
      expect(await seal.open(bad)).toEqual([]);
    }
    expect(await seal.open(undefined)).toEqual([]);
  });

  it('opens nothing of another type or shape, though sealed under its own key', async () => {
    const { key, seal } = setup();
    const derived = new Uint8Array(hkdfSync('sha256', key, Buffer.alloc(0), 'roomguard pending logins v1', 32));
    const encrypt = (typ: string, body: unknown) => new CompactEncrypt(new TextEncoder().encode(JSON.stringify(body))).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ }).encrypt(derived);
    const good = [{ s: 'x', v: 'y', n: 'z', r: '/', e: T0 + MIN }];
    expect(await seal.open(await encrypt('roomguard-pending-logins+jwe', good))).toHaveLength(1);
    expect(await seal.open(await encrypt('JWT', good))).toEqual([]);
    for (const body of [{}, 'x', [null], [{ s: 'x' }], [{ ...good[0], e: 'soon' }], [{ ...good[0], m: 'old' }], [good[0], 1]]) {
      expect(await seal.open(await encrypt('roomguard-pending-logins+jwe', body))).toEqual([]);
    }
  });

  it('keeps opening values sealed under the previous key during a key rotation', async () => {
    const { key, seal: old } = setup();
    const value = await old.seal([login(1)]);
    const rotated = new PendingLoginSeal(randomBytes(32), [key], () => T0);
    expect(await rotated.open(value)).toEqual([login(1)]);
    expect(await new PendingLoginSeal(randomBytes(32), [], () => T0).open(value)).toEqual([]);
  });

  it('drops expired logins, on opening and on sealing', async () => {
    const { clock, seal } = setup();
    const value = await seal.seal([login(2, { expiresAt: T0 + 2 * MIN }), login(1, { expiresAt: T0 + MIN })]);
    clock.t = T0 + MIN;
    expect((await seal.open(value)).map((l) => l.state)).toEqual([login(2).state]);
    clock.t = T0 + 2 * MIN;
    expect(await seal.open(value)).toEqual([]);
    expect(await seal.open(await seal.seal([login(3, { expiresAt: T0 + 3 * MIN }), login(1, { expiresAt: T0 + MIN })]))).toEqual([login(3, { expiresAt: T0 + 3 * MIN })]);
  });

  it(`keeps at most ${MAX_PENDING_LOGINS} pending logins, the newest`, async () => {
    const { seal } = setup();
    const many = Array.from({ length: 3 * MAX_PENDING_LOGINS }, (_, i) => login(100 - i));
    expect(await seal.open(await seal.seal(many))).toEqual(many.slice(0, MAX_PENDING_LOGINS));
  });

  it('fits one login with the longest returnTo into a cookie browsers keep (4096 bytes with name and attributes), and drops older ones to stay there', async () => {
    const { seal } = setup();
    const longest = [login(3, { returnTo: LONGEST_RETURN_TO, maxAge: 300 }), login(2, { returnTo: LONGEST_RETURN_TO }), login(1)];
    const value = await seal.seal(longest);
    const setCookie = `__Host-roomguard_session_login=${value}; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax`;
    expect(value.length).toBeLessThanOrEqual(MAX_SEALED_LENGTH);
    expect(Buffer.byteLength(setCookie)).toBeLessThanOrEqual(4096);
    expect((await seal.open(value)).map((l) => l.state)).toEqual([login(3).state]);
    // Short ones: all of them fit.
    expect(await seal.open(await seal.seal([login(2), login(1)]))).toHaveLength(2);
  });
});
