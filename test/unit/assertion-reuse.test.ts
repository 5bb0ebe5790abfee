// The identity assertion is reused for the same facts for ASSERTION_REUSE_S seconds (signing dominated the
// cost of a proxied request) and never beyond, and never across different facts.
import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { AssertionSigner, ASSERTION_REUSE_S, ASSERTION_TTL_S } from '../../src/gateway/assertion.js';
import { generateAssertionKeyPem } from '../../src/config/keys.js';
import { admittedIdentityHeaders, type Admission } from '../../src/gateway/admission.js';
import type { GatewayContext } from '../../src/gateway/context.js';

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

describe('identity headers of an admitted request', () => {
  const t0 = Date.UTC(2026, 10, 27, 10, 0, 0);
  const identity = { sub: 'alice', iss: 'https://idp.example', groups: ['staff'], email: 'alice@example.org', name: 'Alice Ä' };
  const admitted = (room: string, role: string, who = identity) => ({ session: { data: { identity: who } }, decision: { room, role } }) as unknown as Admission;

  it('are built once per identity, room and role, and rebuilt with a new assertion after the reuse window', async () => {
    const signer = await AssertionSigner.create(generateAssertionKeyPem(), 'https://meet.example', 'http://upstream');
    let now = t0;
    const ctx = { deps: { assertion: signer }, config: { identityHeaders: { encoding: 'percent' } }, now: () => now } as unknown as GatewayContext;
    const first = await admittedIdentityHeaders(ctx, admitted('town-hall', 'moderator'));
    expect(first).toMatchObject({ 'x-roomguard-user': 'alice', 'x-roomguard-room': 'town-hall', 'x-roomguard-role': 'moderator', 'x-roomguard-name': 'Alice %C3%84' });
    expect(Object.isFrozen(first)).toBe(true);
    now = t0 + (ASSERTION_REUSE_S - 1) * 1000;
    expect(await admittedIdentityHeaders(ctx, admitted('town-hall', 'moderator'))).toBe(first);
    // Another room or role of the same person: other headers, another assertion.
    const board = await admittedIdentityHeaders(ctx, admitted('board', 'moderator'));
    expect(board['x-roomguard-room']).toBe('board');
    expect(decodeJwt(board['x-roomguard-assertion']!).room).toBe('board');
    const participant = await admittedIdentityHeaders(ctx, admitted('town-hall', 'participant'));
    expect(decodeJwt(participant['x-roomguard-assertion']!).role).toBe('participant');
    now = t0 + ASSERTION_REUSE_S * 1000;
    const later = await admittedIdentityHeaders(ctx, admitted('town-hall', 'moderator'));
    expect(later).not.toBe(first);
    expect(decodeJwt(later['x-roomguard-assertion']!).iat).toBe(Math.floor(now / 1000));
  });

  it('follow the identity object: another person never gets them, and a session read anew gets equal ones', async () => {
    const signer = await AssertionSigner.create(generateAssertionKeyPem(), 'https://meet.example', 'http://upstream');
    const ctx = { deps: { assertion: signer }, config: { identityHeaders: { encoding: 'percent' } }, now: () => t0 } as unknown as GatewayContext;
    const alice = await admittedIdentityHeaders(ctx, admitted('town-hall', 'participant'));
    const bob = await admittedIdentityHeaders(ctx, admitted('town-hall', 'participant', { ...identity, sub: 'bob', email: 'bob@example.org', name: 'Bob' }));
    expect(bob['x-roomguard-user']).toBe('bob');
    expect(decodeJwt(bob['x-roomguard-assertion']!).sub).toBe('bob');
    const reread = await admittedIdentityHeaders(ctx, admitted('town-hall', 'participant', { ...identity }));
    expect(reread).toEqual(alice);
    expect(await admittedIdentityHeaders(ctx, { session: undefined } as Admission)).toEqual({});
  });
});
