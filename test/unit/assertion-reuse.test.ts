// The identity assertion is reused for the same facts for ASSERTION_REUSE_S seconds (signing dominated the
// cost of a proxied request) and never beyond, and never across different facts.
import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { AssertionSigner, ASSERTION_REUSE_S, ASSERTION_TTL_S } from '../../src/gateway/assertion.js';
import { generateAssertionKeyPem } from '../../src/config/keys.js';

const facts = { sub: 'alice', iss: 'https://idp.example', groups: ['staff'], room: 'town-hall', role: 'moderator' };

describe('assertion reuse', () => {
  it('hands out the same assertion for the same facts within the reuse window, a fresh one after', async () => {
    const signer = await AssertionSigner.create(generateAssertionKeyPem(), 'https://meet.example', 'http://upstream');
    const t0 = Date.UTC(2026, 10, 27, 10, 0, 0);
    const first = await signer.sign(facts, t0);
    expect(await signer.sign(facts, t0 + (ASSERTION_REUSE_S - 1) * 1000)).toBe(first);
    const later = await signer.sign(facts, t0 + ASSERTION_REUSE_S * 1000);
    expect(later).not.toBe(first);
    // A reused assertion always has most of its lifetime left.
    expect(ASSERTION_TTL_S - ASSERTION_REUSE_S).toBeGreaterThanOrEqual(ASSERTION_TTL_S / 2);
    expect(decodeJwt(later).iat).toBe(Math.floor(t0 / 1000) + ASSERTION_REUSE_S);
  });

  it('never reuses across other facts (room, role, groups, person)', async () => {
    const signer = await AssertionSigner.create(generateAssertionKeyPem(), 'https://meet.example', 'http://upstream');
    const t0 = Date.UTC(2026, 10, 27, 10, 0, 0);
    const base = await signer.sign(facts, t0);
    for (const other of [{ ...facts, room: 'board' }, { ...facts, role: 'participant' }, { ...facts, groups: ['staff', 'board'] }, { ...facts, sub: 'bob' }]) {
      const token = await signer.sign(other, t0);
      expect(token).not.toBe(base);
      expect(decodeJwt(token)).toMatchObject({ sub: other.sub, room: other.room, role: other.role, groups: other.groups });
    }
  });
});
