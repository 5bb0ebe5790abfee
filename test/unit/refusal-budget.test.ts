// The refusal budget (src/gateway/refusal-budget.ts): best-effort refusals get their own audit record up
// to a budget per actor (a session, or for anonymous requests a client network) and per pool per minute;
// the rest is counted for one summary per pool and kind.
import { describe, expect, it } from 'vitest';
import { clientNetwork, PER_ACTOR, PER_POOL, RefusalBudget, type RefusalPool, type RefusedActor } from '../../src/gateway/refusal-budget.js';

const network = (ip: string): RefusedActor => ({ pool: 'anonymous', id: clientNetwork(ip) });
const session = (pool: Exclude<RefusalPool, 'anonymous'>, n: number): RefusedActor => ({ pool, id: `${pool}-session-${n}` });

describe('refusal budget', () => {
  it('records a network\'s first refusals one by one, counts the rest, and starts again each window', () => {
    const budget = new RefusalBudget();
    const admitted = Array.from({ length: PER_ACTOR + 7 }, () => budget.admit('login.failure RG_LOGIN_STATE_UNKNOWN', network('203.0.113.9'))).filter(Boolean).length;
    expect(admitted).toBe(PER_ACTOR);
    // Another address of the same /24 shares the budget; another network has its own.
    expect(budget.admit('login.failure RG_LOGIN_STATE_UNKNOWN', network('203.0.113.200'))).toBe(false);
    expect(budget.admit('login.failure RG_LOGIN_STATE_UNKNOWN', network('198.51.100.1'))).toBe(true);
    expect(budget.drain()).toEqual([{ pool: 'anonymous', kind: 'login.failure RG_LOGIN_STATE_UNKNOWN', count: 8, actors: 1 }]);
    expect(budget.admit('login.failure RG_LOGIN_STATE_UNKNOWN', network('203.0.113.9'))).toBe(true);
    expect(budget.drain()).toEqual([]);
  });

  it('caps the records of all networks together, so many addresses cannot fill the disk either', () => {
    const budget = new RefusalBudget();
    let admitted = 0;
    for (let i = 0; i < PER_POOL * 2; i++) if (budget.admit('guest.invite_refused RG_GUEST_INVITE_UNKNOWN', network(`2001:db8:${i.toString(16)}::1`))) admitted++;
    expect(admitted).toBe(PER_POOL);
    expect(budget.drain()).toEqual([{ pool: 'anonymous', kind: 'guest.invite_refused RG_GUEST_INVITE_UNKNOWN', count: PER_POOL, actors: PER_POOL }]);
  });

  it('records a session\'s first refusals one by one and counts the rest, whatever address its requests come from', () => {
    const budget = new RefusalBudget();
    const guest = session('guest', 1);
    const admitted = Array.from({ length: PER_ACTOR + 30 }, () => budget.admit('room.decision RG_GUEST_NOT_ALLOWED', guest)).filter(Boolean).length;
    expect(admitted).toBe(PER_ACTOR);
    // Another guest has a budget of its own.
    expect(budget.admit('room.decision RG_GUEST_NOT_ALLOWED', session('guest', 2))).toBe(true);
    expect(budget.drain()).toEqual([{ pool: 'guest', kind: 'room.decision RG_GUEST_NOT_ALLOWED', count: 30, actors: 1 }]);
  });

  it('caps each pool on its own: a flood of anonymous requests or of guests leaves signed-in people\'s refusals recorded one by one', () => {
    const budget = new RefusalBudget();
    for (let i = 0; i < PER_POOL * 2; i++) budget.admit('login.failure RG_LOGIN_STATE_UNKNOWN', network(`10.${i >> 8}.${i & 255}.1`));
    for (let i = 0; i < PER_POOL * 2; i++) budget.admit('guest.invite_refused RG_GUEST_INVITE_UNKNOWN', session('guest', i));
    expect(budget.admit('login.failure RG_LOGIN_STATE_UNKNOWN', network('192.0.2.1'))).toBe(false);
    expect(budget.admit('room.decision RG_GUEST_NOT_ALLOWED', session('guest', 9999))).toBe(false);
    let admitted = 0;
    for (let i = 0; i < PER_POOL * 2; i++) if (budget.admit('room.decision RG_POLICY_NOT_ALLOWED', session('signed-in', i))) admitted++;
    expect(admitted).toBe(PER_POOL);
    const summary = budget.drain();
    expect(summary).toContainEqual({ pool: 'signed-in', kind: 'room.decision RG_POLICY_NOT_ALLOWED', count: PER_POOL, actors: PER_POOL });
    expect(summary).toContainEqual({ pool: 'guest', kind: 'guest.invite_refused RG_GUEST_INVITE_UNKNOWN', count: PER_POOL, actors: PER_POOL });
  });

  it('keeps a session and a network of the same name apart', () => {
    const budget = new RefusalBudget();
    for (let i = 0; i < PER_ACTOR; i++) budget.admit('x', { pool: 'anonymous', id: 'same' });
    expect(budget.admit('x', { pool: 'signed-in', id: 'same' })).toBe(true);
  });

  it.each([
    ['198.51.100.7', '198.51.100.0/24'],
    ['::ffff:198.51.100.7', '198.51.100.0/24'],
    ['2001:db8:aa:bb:cc::1', '2001:db8:aa::/48'],
    ['2001:db8::1', '2001:db8:0::/48'],
    ['::1', '0:0:0::/48'],
  ])('counts %s as the network %s', (ip, net) => {
    expect(clientNetwork(ip)).toBe(net);
  });
});
