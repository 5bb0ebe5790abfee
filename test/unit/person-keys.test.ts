// The per-person pseudonym keys of `audit.identity: erasable`: one stable pseudonym per person while the key
// lives, none to be found once it is erased, a new one afterwards; a renewal racing an erasure never brings
// the old key back; two writers making a first key agree on it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditWriter } from '../../src/audit/writer.js';
import { PersonKeys, pseudonymsOf } from '../../src/audit/person-keys.js';
import { pseudonymKey, pseudonymOf } from '../../src/audit/privacy.js';
import { generateAuditSigningKeyPem } from '../../src/config/keys.js';
import { MemoryStore } from '../../src/store/memory.js';

const DAY = 86_400_000;
let store: MemoryStore;
afterEach(() => store?.close());

describe('person keys', () => {
  it('gives one person one pseudonym while the key lives, and other people other ones', async () => {
    store = new MemoryStore();
    const keys = new PersonKeys(store, 90);
    const bob = await keys.pseudonymFor('bob');
    expect(bob).toMatch(/^[0-9a-f]{64}$/);
    expect(await keys.pseudonymFor('bob')).toBe(bob);
    expect(await keys.existingPseudonym('bob')).toBe(bob);
    expect(await keys.pseudonymFor('carol')).not.toBe(bob);
  });

  it('after erasure finds no pseudonym and makes none, and a new record gets a new one', async () => {
    store = new MemoryStore();
    const keys = new PersonKeys(store, 90);
    const before = await keys.pseudonymFor('bob');
    await keys.erase('bob');
    expect(await keys.existingPseudonym('bob')).toBeUndefined();
    expect(await keys.existingPseudonym('bob')).toBeUndefined();
    const after = await keys.pseudonymFor('bob');
    expect(after).not.toBe(before);
  });

  it('keeps the key no longer than retention plus two days after its last use, renewed once a day', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    store = new MemoryStore(() => now);
    const keys = new PersonKeys(store, 10, () => now);
    const first = await keys.pseudonymFor('bob');
    now += 5 * DAY;
    expect(await keys.pseudonymFor('bob')).toBe(first); // renewed: 12 more days from here
    now += 11 * DAY;
    expect(await keys.existingPseudonym('bob')).toBe(first);
    now += 2 * DAY;
    expect(await keys.existingPseudonym('bob')).toBeUndefined();
  });

  it('a renewal that read the key before an erasure does not bring it back', async () => {
    let now = 0;
    store = new MemoryStore(() => now);
    const keys = new PersonKeys(store, 10, () => now);
    await keys.pseudonymFor('bob');
    now += 2 * DAY;
    // The erasure lands between the renewal's read and its write.
    const get = store.get.bind(store);
    store.get = async (key: string) => {
      const value = await get(key);
      await keys.erase('bob');
      return value;
    };
    await keys.pseudonymFor('bob');
    store.get = get;
    expect(await keys.existingPseudonym('bob')).toBeUndefined();
  });

  it('two writers making the first key at once agree on one', async () => {
    store = new MemoryStore();
    const [a, b] = await Promise.all([new PersonKeys(store, 90).pseudonymFor('dave'), new PersonKeys(store, 90).pseudonymFor('dave')]);
    expect(a).toBe(b);
  });

  it('lists the deployment-wide pseudonym (issuer with and without final slash) and the person\u2019s own', async () => {
    store = new MemoryStore();
    const pem = generateAuditSigningKeyPem();
    const keys = new PersonKeys(store, 90);
    const own = await keys.pseudonymFor('bob');
    const all = await pseudonymsOf('bob', { issuer: 'https://id.example.org/', signingKeyPem: pem, personKeys: keys });
    expect(all).toEqual([pseudonymOf(pseudonymKey(pem), 'https://id.example.org/', 'bob'), pseudonymOf(pseudonymKey(pem), 'https://id.example.org', 'bob'), own]);
    await keys.erase('bob');
    expect(await pseudonymsOf('bob', { issuer: 'https://id.example.org/', signingKeyPem: pem, personKeys: keys })).not.toContain(own);
  });
});

describe('the writer under audit.identity: erasable', () => {
  it('writes the pseudonym under the person\u2019s key, and refuses a record with a person while no key store is connected', async () => {
    store = new MemoryStore();
    const writer = await AuditWriter.open({
      dir: mkdtempSync(join(tmpdir(), 'rg-erasable-')), instance: 'gw', signingKeyPem: generateAuditSigningKeyPem(),
      ip: 'truncate', identity: 'erasable', names: true, checkpointEvery: 1000, checkpointInterval: 300_000,
    });
    try {
      const actor = { sub: 'bob', iss: 'https://id.example.org', email: 'bob@example.org', name: 'Bob' };
      await expect(writer.append({ type: 'logout', outcome: 'success', actor })).rejects.toMatchObject({ code: 'RG_AUDIT_UNAVAILABLE' });
      // Records without a person need no key.
      expect((await writer.append({ type: 'policy.loaded', outcome: 'success' })).actor).toBeUndefined();
      const keys = new PersonKeys(store, 90);
      writer.usePersonKeys(keys);
      const record = await writer.append({ type: 'logout', outcome: 'success', actor });
      expect(record.actor).toEqual({ pseudonym: await keys.existingPseudonym('bob') });
      expect(JSON.stringify(record)).not.toMatch(/bob|example\.org|Bob/);
    } finally {
      await writer.close();
    }
  });

  it('seals a field under the person\'s key: only that key opens it, and not as another field', async () => {
    store = new MemoryStore();
    const keys = new PersonKeys(store, 90);
    const sealed = (await keys.sealFor('bob')).seal('client.userAgent', 'Firefox/140');
    expect(sealed).toMatch(/^enc1:/);
    expect(sealed).not.toContain('Firefox');
    expect(await keys.open('bob', 'client.userAgent', sealed)).toBe('Firefox/140');
    expect(await keys.open('bob', 'client.ip', sealed)).toBeUndefined();
    await keys.pseudonymFor('carol');
    expect(await keys.open('carol', 'client.userAgent', sealed)).toBeUndefined();
    await keys.erase('bob');
    expect(await keys.open('bob', 'client.userAgent', sealed)).toBeUndefined();
    await keys.pseudonymFor('bob');
    expect(await keys.open('bob', 'client.userAgent', sealed)).toBeUndefined();
  });
});
