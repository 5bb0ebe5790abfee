// Invitations over the store interface (the in-memory store with a clock of its own; the same class runs
// on real Redis in test/integration/guests*.test.ts): only the token's hash is kept, each refusal has its
// code, uses are claimed once each even when many claim at once, revocation by id or unique prefix.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { Invitations, isInvitationToken, tokenHash } from '../../src/guests/invitations.js';
import type { Store } from '../../src/store/store.js';

const HOUR = 3_600_000;

function setup() {
  let now = Date.UTC(2026, 0, 15, 12);
  const clock = () => now;
  const store = new MemoryStore(clock);
  return { store, invitations: new Invitations(store, clock), advance: (ms: number) => (now += ms) };
}

const pat = (at = 0) => ({ at, name: 'Pat' });

describe('invitations', () => {
  it('puts ≥128 random bits in the token and keeps only its SHA-256 in the store', async () => {
    const { store, invitations } = setup();
    const { token, invitation } = await invitations.create({ room: 'town-hall', ttlMs: HOUR, maxUses: 2, note: 'n', createdBy: 'alice' });
    expect(isInvitationToken(token)).toBe(true);
    expect(Buffer.from(token, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    expect(invitation.id).toBe(tokenHash(token).slice(0, 16));
    expect(await store.get(`guest:invite:${tokenHash(token)}`)).toContain('"room":"town-hall"');
    expect(await store.get(`guest:invite:${token}`)).toBeNull();
    expect(isInvitationToken('x'.repeat(31))).toBe(false);
    expect(isInvitationToken('x'.repeat(31) + '/')).toBe(false);
  });

  it('admits up to maxUses, then refuses as used up; many claims at once never exceed the limit', async () => {
    const { invitations } = setup();
    const { token } = await invitations.create({ room: 'r', ttlMs: HOUR, maxUses: 3, note: '', createdBy: 'a' });
    const results = await Promise.all(Array.from({ length: 10 }, () => invitations.redeem(token, 'r', pat())));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.code)).toEqual(Array(7).fill('RG_GUEST_INVITE_USED_UP'));
    expect((await invitations.check(token, 'r')).ok).toBe(false);
    const [view] = await invitations.list('r');
    expect(view).toMatchObject({ used: 3, usesLeft: 0, state: 'used-up' });
    expect(view!.admissions).toHaveLength(3);
  });

  it('refuses another room, after expiry, after revocation, and an unknown token, each with its code', async () => {
    const { invitations, advance } = setup();
    const { token, invitation } = await invitations.create({ room: 'r', ttlMs: HOUR, maxUses: 5, note: '', createdBy: 'a' });
    expect(await invitations.redeem(token, 'other', pat())).toMatchObject({ ok: false, code: 'RG_GUEST_WRONG_ROOM' });
    expect(await invitations.redeem('A'.repeat(32), 'r', pat())).toMatchObject({ ok: false, code: 'RG_GUEST_INVITE_UNKNOWN' });
    expect(await invitations.redeem(token, 'r', pat())).toMatchObject({ ok: true, use: 1 });
    advance(HOUR - 1);
    expect(await invitations.check(token, 'r')).toMatchObject({ ok: true });
    advance(1);
    expect(await invitations.redeem(token, 'r', pat())).toMatchObject({ ok: false, code: 'RG_GUEST_INVITE_EXPIRED' });
    expect((await invitations.list('r'))[0]).toMatchObject({ state: 'expired', used: 1 });

    const second = await invitations.create({ room: 'r', ttlMs: HOUR, maxUses: 5, note: '', createdBy: 'a' });
    const revoked = await invitations.revoke('r', second.invitation.id.slice(0, 6), 'alice');
    expect(revoked?.invitation).toMatchObject({ id: second.invitation.id, revokedBy: 'alice' });
    expect(await invitations.redeem(second.token, 'r', pat())).toMatchObject({ ok: false, code: 'RG_GUEST_INVITE_REVOKED' });
    expect(invitation.id).not.toBe(second.invitation.id);
  });

  it('revokes only by a unique id prefix of the same room, and hands back the guest sessions to end', async () => {
    const { invitations } = setup();
    const { token, invitation } = await invitations.create({ room: 'r', ttlMs: HOUR, maxUses: 5, note: '', createdBy: 'a' });
    const used = await invitations.redeem(token, 'r', pat());
    if (!used.ok) throw new Error(used.code);
    expect(await invitations.linkSession(token, 'r', 'f'.repeat(64), HOUR)).toEqual({ ok: true });
    expect(await invitations.revoke('other-room', invitation.id, 'x')).toBeUndefined();
    expect(await invitations.revoke('r', invitation.id.slice(0, 5), 'x')).toBeUndefined();
    expect(await invitations.revoke('r', 'not-hex!', 'x')).toBeUndefined();
    expect((await invitations.revoke('r', invitation.id, 'x'))?.sessions).toEqual(['f'.repeat(64)]);
  });

  it('a revocation between redeeming and linking the session is seen by the link, which refuses', async () => {
    const { invitations } = setup();
    const { token, invitation } = await invitations.create({ room: 'r', ttlMs: HOUR, maxUses: 5, note: '', createdBy: 'a' });
    expect(await invitations.redeem(token, 'r', pat())).toMatchObject({ ok: true });
    const revoked = await invitations.revoke('r', invitation.id, 'alice');
    expect(revoked?.sessions).toEqual([]);
    expect(await invitations.linkSession(token, 'r', 'e'.repeat(64), HOUR)).toMatchObject({ ok: false, code: 'RG_GUEST_INVITE_REVOKED', invitation: { id: invitation.id } });
  });

  it('every interleaving of the link and revoke steps either hands the session to the revocation or refuses it', async () => {
    // revoke: R1 writes the revoked record, R2 reads the linked sessions; link: L1 adds the session, L2
    // reads the record. Each order that keeps each side's own order is played on a store that holds
    // these four operations until the test releases them one by one.
    const orders = ['RRLL', 'RLRL', 'RLLR', 'LRRL', 'LRLR', 'LLRR'];
    for (const order of orders) {
      const { store } = setup();
      const clock = () => Date.UTC(2026, 0, 15, 12);
      const { token, invitation } = await new Invitations(store, clock).create({ room: 'r', ttlMs: HOUR, maxUses: 5, note: '', createdBy: 'a' });
      const stepped = steppedStore(store);
      const invitations = new Invitations(stepped.store, clock);
      const session = 'd'.repeat(64);
      const revoking = invitations.revoke('r', invitation.id, 'alice');
      const linking = invitations.linkSession(token, 'r', session, HOUR);
      await stepped.play(order, { R: revoking, L: linking });
      const [revoked, linked] = await Promise.all([revoking, linking]);
      const handled = revoked!.sessions.includes(session) || !linked.ok;
      expect({ order, handled }).toEqual({ order, handled: true });
    }
  });

  it('finds and forgets a person wherever an invitation names them, creator or revoker, by store name only', async () => {
    const { store, invitations } = setup();
    const { token, invitation } = await invitations.create({ room: 'r', ttlMs: HOUR, maxUses: 5, note: '', createdBy: 'Alice Admin', creator: 'ref-alice' });
    await invitations.revoke('r', invitation.id, 'Dave Moderator', 'ref-dave');
    const own = await invitations.create({ room: 'elsewhere', ttlMs: HOUR, maxUses: 5, note: '', createdBy: 'Dave Moderator', creator: 'ref-dave' });
    expect((await invitations.ofPerson('ref-dave')).map((v) => v.id).sort()).toEqual([invitation.id, own.invitation.id].sort());
    expect((await invitations.ofPerson('ref-alice')).map((v) => v.id)).toEqual([invitation.id]);
    expect(await invitations.forgetPerson('ref-dave')).toBe(2);
    const record = (await store.get(`guest:invite:${tokenHash(token)}`))!;
    // The revoker is gone, the creator (another person) stays as they were.
    expect(record).not.toContain('Dave');
    expect(record).not.toContain('ref-dave');
    expect(JSON.parse(record)).toMatchObject({ createdBy: 'Alice Admin', creator: 'ref-alice', revokedBy: '(erased)' });
    expect((await invitations.list('elsewhere'))[0]).toMatchObject({ createdBy: '(erased)' });
    expect(JSON.stringify(await invitations.list('elsewhere'))).not.toContain('Dave');
    expect(await invitations.ofPerson('ref-dave')).toEqual([]);
    expect((await invitations.ofPerson('ref-alice')).map((v) => v.id)).toEqual([invitation.id]);
  });

  it('forgets the display name of an invitation made before store names, and leaves current and CLI ones alone', async () => {
    const { store, invitations } = setup();
    const legacy = await invitations.create({ room: 'r', ttlMs: HOUR, maxUses: 5, note: '', createdBy: 'Alice Admin' });
    const current = await invitations.create({ room: 'r', ttlMs: HOUR, maxUses: 5, note: '', createdBy: 'Alice Admin', creator: 'ref-alice' });
    const cli = await invitations.create({ room: 'r', ttlMs: HOUR, maxUses: 5, note: '', createdBy: 'cli:root' });
    expect(await invitations.forgetLegacyCreator('r', legacy.invitation.id)).toBe(true);
    // Forgotten once is forgotten: neither a second call nor one after forgetPerson counts again.
    expect(await invitations.forgetLegacyCreator('r', legacy.invitation.id)).toBe(false);
    expect(await invitations.forgetLegacyCreator('r', current.invitation.id)).toBe(false);
    await invitations.forgetPerson('ref-alice');
    expect(await invitations.forgetLegacyCreator('r', current.invitation.id)).toBe(false);
    expect(await invitations.forgetLegacyCreator('r', cli.invitation.id)).toBe(false);
    expect(JSON.parse((await store.get(`guest:invite:${tokenHash(legacy.token)}`))!)).toMatchObject({ createdBy: '(erased)' });
    expect(JSON.parse((await store.get(`guest:invite:${tokenHash(current.token)}`))!)).toMatchObject({ createdBy: '(erased)' });
    expect(JSON.parse((await store.get(`guest:invite:${tokenHash(cli.token)}`))!)).toMatchObject({ createdBy: 'cli:root' });
  });

  it('lists a room\'s invitations newest first with the names that used them', async () => {
    const { invitations, advance } = setup();
    const first = await invitations.create({ room: 'r', ttlMs: HOUR, maxUses: 5, note: 'first', createdBy: 'a' });
    advance(1000);
    await invitations.create({ room: 'r', ttlMs: HOUR, maxUses: 5, note: 'second', createdBy: 'a' });
    await invitations.create({ room: 'elsewhere', ttlMs: HOUR, maxUses: 5, note: 'x', createdBy: 'a' });
    await invitations.redeem(first.token, 'r', { at: 5, name: 'Kim' });
    await invitations.redeem(first.token, 'r', { at: 6, name: 'Lee' });
    const list = await invitations.list('r');
    expect(list.map((i) => i.note)).toEqual(['second', 'first']);
    expect(list[1]!.admissions.map((a) => a.name)).toEqual(['Lee', 'Kim']);
    expect(list[1]).toMatchObject({ used: 2, usesLeft: 3, state: 'active' });
  });
});

/**
 * A store that holds the four steps of the link/revoke race until released: revoke's record write
 * (replace) and its read of the linked set (R), the link's add to that set and its record read after it
 * (L). Everything else passes straight through.
 */
function steppedStore(inner: Store) {
  const held: Array<{ side: 'R' | 'L'; go: () => void; done: Promise<unknown> }> = [];
  let linked = false;
  function hold<T>(side: 'R' | 'L', run: () => Promise<T>): Promise<T> {
    let go!: () => void;
    const released = new Promise<void>((resolve) => (go = resolve));
    const done = released.then(run);
    held.push({ side, go, done });
    return done;
  }
  const overrides: Partial<Store> = {
    replace: (key: string, value: string, ttl: number) => hold('R', () => inner.replace(key, value, ttl)),
    members: (key: string) => (key.startsWith('guest:sessions:') ? hold('R', () => inner.members(key)) : inner.members(key)),
    addMember: (key: string, member: string, ttl: number) => hold('L', async () => {
      await inner.addMember(key, member, ttl);
      linked = true;
    }),
    get: (key: string) => (linked && key.startsWith('guest:invite:') ? hold('L', () => inner.get(key)) : inner.get(key)),
  };
  const store = new Proxy(inner, {
    get: (target, name: keyof Store) => overrides[name] ?? (typeof target[name] === 'function' ? (target[name] as (...args: unknown[]) => unknown).bind(target) : target[name]),
  });
  return {
    store,
    /**
     * Plays the held steps in `order` ('R'/'L' per step), each to its end before the next; a side that
     * has finished (it skipped a step) is passed over, so a broken order shows as a wrong outcome.
     */
    async play(order: string, sides: Record<'R' | 'L', Promise<unknown>>): Promise<void> {
      const finished = { R: false, L: false };
      void sides.R.finally(() => (finished.R = true));
      void sides.L.finally(() => (finished.L = true));
      for (const side of order as Iterable<'R' | 'L'>) {
        for (let i = 0; ; i++) {
          const at = held.findIndex((h) => h.side === side);
          if (at !== -1) {
            const [step] = held.splice(at, 1);
            step!.go();
            await step!.done;
            break;
          }
          if (finished[side]) break;
          if (i > 1000) throw new Error(`side ${side} neither reached a held step nor finished`);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    },
  };
}
