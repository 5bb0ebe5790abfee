// Stored second factors (src/mfa/factors.ts): one sealed document per person under a hash of the IdP
// subject, so a store dump reveals neither TOTP secrets (B.15: stored encrypted) nor factor names nor who
// has which factor; at most 20 factors; a random WebAuthn user handle that is never the sub.
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FactorStore, MAX_FACTORS_PER_PERSON, newFactorId, userKey, type Factor, type TotpFactor, type UserFactors, type WebAuthnFactor } from '../../src/mfa/factors.js';
import { MemoryStore } from '../../src/store/memory.js';
import { SealedStore } from '../../src/store/sealed.js';

/** A MemoryStore that records every value written under every key, as a store dump would show them. */
class DumpableStore extends MemoryStore {
  readonly writes: Array<{ key: string; value: string; ttlMs: number }> = [];
  readonly deleted: string[] = [];
  override async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.writes.push({ key, value, ttlMs });
    return super.set(key, value, ttlMs);
  }
  override async add(key: string, value: string, ttlMs: number): Promise<boolean> {
    this.writes.push({ key, value, ttlMs });
    return super.add(key, value, ttlMs);
  }
  override async delete(key: string): Promise<void> {
    this.deleted.push(key);
    return super.delete(key);
  }
}

const opened: MemoryStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

function setup() {
  const inner = new DumpableStore();
  opened.push(inner);
  const sealed = new SealedStore(inner, randomBytes(32));
  return { inner, sealed, factors: new FactorStore(sealed) };
}

const SUB = 'alice-0001@idp.example.org';
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const TOTP_NAME = 'Alices Pixel Authenticator';
const KEY_NAME = 'YubiKey-Blue-Backpack';

function totp(overrides: Partial<TotpFactor> = {}): TotpFactor {
  return { kind: 'totp', id: newFactorId(), name: TOTP_NAME, secret: TOTP_SECRET, lastTimeStep: 63_000_000, createdAt: 1_900_000_000_000, ...overrides };
}

function webauthn(overrides: Partial<WebAuthnFactor> = {}): WebAuthnFactor {
  return {
    kind: 'webauthn', id: randomBytes(16).toString('base64url'), name: KEY_NAME, publicKey: randomBytes(77).toString('base64url'), counter: 7,
    transports: ['usb', 'nfc'], deviceType: 'singleDevice', backedUp: false, createdAt: 1_900_000_000_000, ...overrides,
  };
}

function doc(factors: Factor[], extra: Partial<UserFactors> = {}): UserFactors {
  return { v: 1, factors, userHandle: randomBytes(32).toString('base64url'), ...extra };
}

describe('userKey', () => {
  it('is stable for the same sub', () => {
    expect(userKey(SUB)).toBe(userKey(SUB));
  });

  it('differs between subs, also for near-identical ones', () => {
    expect(userKey(SUB)).not.toBe(userKey(`${SUB} `));
    expect(userKey('alice')).not.toBe(userKey('Alice'));
  });

  it('does not contain the sub or an unkeyed plain SHA-256 of it', () => {
    const key = userKey(SUB);
    expect(key).not.toContain(SUB);
    expect(key).not.toContain('alice');
    expect(key.toLowerCase()).not.toContain(Buffer.from(SUB).toString('hex'));
    expect(key).not.toBe(createHash('sha256').update(SUB).digest('hex'));
  });

  it('is a fixed-length hex string usable in store keys', () => {
    expect(userKey(SUB)).toMatch(/^[0-9a-f]{64}$/);
    expect(userKey('')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('FactorStore: load and save through a SealedStore', () => {
  it('gives a fresh, empty document for someone who has none', async () => {
    const { factors } = setup();
    const fresh = await factors.load(userKey(SUB));
    expect(fresh.v).toBe(1);
    expect(fresh.factors).toEqual([]);
    expect(fresh.recovery).toBeUndefined();
  });

  it('gives a fresh document a random 32-byte user handle that differs per call and is not the sub', async () => {
    const { factors } = setup();
    const a = await factors.load(userKey(SUB));
    const b = await factors.load(userKey(SUB));
    expect(Buffer.from(a.userHandle, 'base64url')).toHaveLength(32);
    expect(a.userHandle).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.userHandle).not.toBe(b.userHandle);
    expect(Buffer.from(a.userHandle, 'base64url').toString('utf8')).not.toContain(SUB);
  });

  it('round-trips a saved document with TOTP, WebAuthn and recovery hashes', async () => {
    const { factors } = setup();
    const user = userKey(SUB);
    const saved = doc([totp(), webauthn({ lastUsedAt: 1_900_000_100_000 })], { recovery: { hashes: ['scrypt$c2FsdA$aGFzaA'], createdAt: 1_900_000_000_000 } });
    await factors.save(user, saved);
    const loaded = await factors.load(user);
    expect(loaded).toEqual(saved);
  });

  it('keeps the user handle stable once saved', async () => {
    const { factors } = setup();
    const user = userKey(SUB);
    const first = await factors.load(user);
    first.factors.push(webauthn());
    await factors.save(user, first);
    expect((await factors.load(user)).userHandle).toBe(first.userHandle);
    expect((await factors.load(user)).userHandle).toBe(first.userHandle);
  });

  it('keeps people apart', async () => {
    const { factors } = setup();
    await factors.save(userKey('alice'), doc([totp()]));
    expect((await factors.load(userKey('bob'))).factors).toEqual([]);
  });

  it('records updates (e.g. a new last accepted TOTP step and WebAuthn counter)', async () => {
    const { factors } = setup();
    const user = userKey(SUB);
    await factors.save(user, doc([totp(), webauthn()]));
    const loaded = await factors.load(user);
    (loaded.factors[0] as TotpFactor).lastTimeStep += 1;
    (loaded.factors[1] as WebAuthnFactor).counter = 8;
    await factors.save(user, loaded);
    const again = await factors.load(user);
    expect((again.factors[0] as TotpFactor).lastTimeStep).toBe(63_000_001);
    expect((again.factors[1] as WebAuthnFactor).counter).toBe(8);
  });

  it('gives a positive TTL to the stored document (the store refuses others)', async () => {
    const { inner, factors } = setup();
    await factors.save(userKey(SUB), doc([totp()]));
    expect(inner.writes).toHaveLength(1);
    expect(inner.writes[0]!.ttlMs).toBeGreaterThan(0);
  });
});

describe('FactorStore: what a store dump shows', () => {
  it('the raw stored value contains neither the TOTP secret nor the factor names nor the sub', async () => {
    const { inner, factors } = setup();
    const user = userKey(SUB);
    const saved = doc([totp(), webauthn()]);
    await factors.save(user, saved);
    expect(inner.writes.length).toBeGreaterThan(0);
    for (const { key, value } of inner.writes) {
      for (const secret of [TOTP_SECRET, TOTP_SECRET.toLowerCase(), TOTP_NAME, KEY_NAME, SUB, saved.userHandle, '"kind"', 'webauthn']) {
        expect(value).not.toContain(secret);
        expect(key).not.toContain(secret);
      }
      // Nor in base64 form (an encoding is not encryption).
      expect(value).not.toContain(Buffer.from(TOTP_SECRET).toString('base64url').slice(0, 20));
      expect(key).not.toContain(SUB);
      expect(key).not.toContain('alice');
    }
  });

  it('the raw stored value is the same under a direct read of the inner store (nothing stored in clear elsewhere)', async () => {
    const { inner, factors } = setup();
    await factors.save(userKey(SUB), doc([totp()]));
    const { key, value } = inner.writes[0]!;
    expect(await inner.get(key)).toBe(value);
    expect(value).not.toContain(TOTP_SECRET);
  });

  it('a document that does not decrypt (other encryption key) counts as absent', async () => {
    const inner = new DumpableStore();
    opened.push(inner);
    const user = userKey(SUB);
    await new FactorStore(new SealedStore(inner, randomBytes(32))).save(user, doc([totp()]));
    const otherKey = new FactorStore(new SealedStore(inner, randomBytes(32)));
    expect((await otherKey.load(user)).factors).toEqual([]);
  });
});

describe('FactorStore: deleting', () => {
  it('saving a document without factors and without recovery codes deletes the stored key', async () => {
    const { inner, factors } = setup();
    const user = userKey(SUB);
    const d = doc([totp()]);
    await factors.save(user, d);
    const { key } = inner.writes[0]!;
    expect(await inner.get(key)).not.toBeNull();
    await factors.save(user, { ...d, factors: [] });
    expect(await inner.get(key)).toBeNull();
    expect(inner.deleted).toContain(key);
    expect((await factors.load(user)).factors).toEqual([]);
  });

  it('saving a document without factors but with recovery codes keeps it', async () => {
    const { factors } = setup();
    const user = userKey(SUB);
    const recovery = { hashes: ['scrypt$c2FsdA$aGFzaA'], createdAt: 1 };
    await factors.save(user, doc([], { recovery }));
    expect((await factors.load(user)).recovery).toEqual(recovery);
  });

  it('saving an empty document for someone who had nothing writes nothing', async () => {
    const { inner, factors } = setup();
    await factors.save(userKey(SUB), doc([]));
    expect(inner.writes).toEqual([]);
  });

  it('reset() removes everything of that person only', async () => {
    const { factors } = setup();
    await factors.save(userKey('alice'), doc([totp()], { recovery: { hashes: ['x'], createdAt: 1 } }));
    await factors.save(userKey('bob'), doc([webauthn()]));
    await factors.reset(userKey('alice'));
    const alice = await factors.load(userKey('alice'));
    expect(alice.factors).toEqual([]);
    expect(alice.recovery).toBeUndefined();
    expect((await factors.load(userKey('bob'))).factors).toHaveLength(1);
  });
});

describe('FactorStore: limits', () => {
  it('allows 20 factors', async () => {
    const { factors } = setup();
    const user = userKey(SUB);
    const many = doc(Array.from({ length: 20 }, (_, i) => (i % 2 ? totp() : webauthn())));
    await factors.save(user, many);
    expect((await factors.load(user)).factors).toHaveLength(20);
    expect(MAX_FACTORS_PER_PERSON).toBe(20);
  });

  it('refuses more than 20 factors and leaves the stored document unchanged', async () => {
    const { factors } = setup();
    const user = userKey(SUB);
    const before = doc([totp()]);
    await factors.save(user, before);
    await expect(factors.save(user, doc(Array.from({ length: 21 }, () => webauthn())))).rejects.toThrow(RangeError);
    expect(await factors.load(user)).toEqual(before);
  });
});

describe('newFactorId', () => {
  it('is random and URL-safe', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newFactorId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
  });
});
