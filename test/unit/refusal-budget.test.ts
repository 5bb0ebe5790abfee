// The refusal budget (src/gateway/refusal-budget.ts): anonymous refusals get their own audit record up
// to a budget per client network and in all per minute; the rest is counted for one summary per kind.
import { describe, expect, it } from 'vitest';
import { clientNetwork, PER_CLIENT, PER_WINDOW, RefusalBudget } from '../../src/gateway/refusal-budget.js';

describe('refusal budget', () => {
  it('records a network\'s first refusals one by one, counts the rest, and starts again each window', () => {
    const budget = new RefusalBudget();
    const admitted = Array.from({ length: PER_CLIENT + 7 }, () => budget.admit('login.failure RG_LOGIN_STATE_UNKNOWN', '203.0.113.9')).filter(Boolean).length;
    expect(admitted).toBe(PER_CLIENT);
    // Another address of the same /24 shares the budget; another network has its own.
    expect(budget.admit('login.failure RG_LOGIN_STATE_UNKNOWN', '203.0.113.200')).toBe(false);
    expect(budget.admit('login.failure RG_LOGIN_STATE_UNKNOWN', '198.51.100.1')).toBe(true);
    expect(budget.drain()).toEqual([{ kind: 'login.failure RG_LOGIN_STATE_UNKNOWN', count: 8, clients: 1 }]);
    expect(budget.admit('login.failure RG_LOGIN_STATE_UNKNOWN', '203.0.113.9')).toBe(true);
    expect(budget.drain()).toEqual([]);
  });

  it('caps the records of all networks together, so many addresses cannot fill the disk either', () => {
    const budget = new RefusalBudget();
    let admitted = 0;
    for (let i = 0; i < PER_WINDOW * 2; i++) if (budget.admit('guest.invite_refused RG_GUEST_INVITE_UNKNOWN', `2001:db8:${i.toString(16)}::1`)) admitted++;
    expect(admitted).toBe(PER_WINDOW);
    expect(budget.drain()).toEqual([{ kind: 'guest.invite_refused RG_GUEST_INVITE_UNKNOWN', count: PER_WINDOW, clients: PER_WINDOW }]);
  });

  it.each([
    ['198.51.100.7', '198.51.100.0/24'],
    ['::ffff:198.51.100.7', '198.51.100.0/24'],
    ['2001:db8:aa:bb:cc::1', '2001:db8:aa::/48'],
    ['2001:db8::1', '2001:db8:0::/48'],
    ['::1', '0:0:0::/48'],
  ])('counts %s as the network %s', (ip, network) => {
    expect(clientNetwork(ip)).toBe(network);
  });
});
