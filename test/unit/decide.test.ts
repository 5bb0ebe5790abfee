// decide(): the pure decision function (DESIGN "path of one join", invariant 1 deny by default; issue 2
// "Room policies" for precedence and matcher semantics). Every allow rule is paired with its deny side.
import { describe, expect, it } from 'vitest';
import { decide, matcherMatches, policyFor } from '../../src/policy/decide.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { explainText } from '../../src/policy/explain.js';
import { formatProblem } from '../../src/config/yaml-source.js';
import type { Policy, PolicySet, Subject } from '../../src/policy/types.js';
import type { Identity } from '../../src/identity/types.js';

const yaml = (...lines: string[]) => lines.join('\n') + '\n';

function policy(file: string, ...lines: string[]): Policy {
  const { policy: parsed, problems } = parsePolicyText(file, yaml(...lines));
  if (!parsed) throw new Error(`test policy ${file} does not parse:\n${problems.map(formatProblem).join('\n')}`);
  return parsed;
}

const setOf = (...policies: Policy[]): PolicySet => ({ policies, version: 'test' });

function person(sub: string, over: Partial<Identity> = {}): Identity {
  return { sub, iss: 'https://id.example.org', emailVerified: true, groups: [], email: `${sub}@example.org`, ...over };
}

const alice = person('alice', { groups: ['board', 'board-chair', 'staff'] });
const bob = person('bob', { groups: ['staff'] });
const carol = person('carol');
const dora = person('dora', { groups: ['board'] });

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

const as = (identity: Identity, mfa?: Subject['mfa']): Subject => (mfa ? { identity, mfa } : { identity });

// The demo's example policies as the spec describes them.
const townHall = policy('policies/town-hall.yaml', 'rooms: [town-hall]', 'allow:', '  - anyone: true');
const staff = policy('policies/staff.yaml', 'rooms: ["staff-*"]', 'allow:', '  - groups: [staff]');
const board = policy(
  'policies/board.yaml',
  'rooms: [board]', //          1
  'risk: high', //              2
  'allow:', //                  3
  '  - groups: [board]', //     4
  'moderators:', //             5
  '  - groups: [board-chair]', // 6
);
const demo = setOf(townHall, staff, board);

describe('decide: who is asking', () => {
  it('sends someone without a session to log in (RG_LOGIN_REQUIRED)', () => {
    const d = decide({}, 'board', demo, NOW);
    expect(d.outcome).toBe('login');
    expect(d.reasons).toEqual(['RG_LOGIN_REQUIRED']);
    expect(d.room).toBe('board');
  });

  it('sends someone without a session to log in also for a room no policy matches (no hint whether it exists)', () => {
    const d = decide({}, 'no-such-room', demo, NOW);
    expect(d.outcome).toBe('login');
    expect(d.reasons).toEqual(['RG_LOGIN_REQUIRED']);
  });

  it('does not let a second factor stand in for a login', () => {
    const d = decide({ mfa: { method: 'webauthn', at: NOW } }, 'town-hall', demo, NOW);
    expect(d.outcome).toBe('login');
  });
});

describe('decide: which policy judges the room', () => {
  it('denies a room that no policy matches (RG_POLICY_NO_MATCH), even to an admin-like user', () => {
    const d = decide(as(alice), 'secret-lab', demo, NOW);
    expect(d.outcome).toBe('deny');
    expect(d.reasons).toEqual(['RG_POLICY_NO_MATCH']);
    expect(d.policy).toBeUndefined();
    expect(d.rule).toBeUndefined();
    expect(d.role).toBeUndefined();
  });

  it('denies everything when the policy set is empty', () => {
    expect(decide(as(alice), 'town-hall', setOf(), NOW).reasons).toEqual(['RG_POLICY_NO_MATCH']);
  });

  it('lets a catch-all "*" policy judge rooms nobody else names', () => {
    const catchAll = policy('policies/default.yaml', 'rooms: ["*"]', 'allow:', '  - anyone: true');
    const d = decide(as(carol), 'secret-lab', setOf(board, catchAll), NOW);
    expect(d.outcome).toBe('allow');
    expect(d.policy?.file).toBe('policies/default.yaml');
    expect(d.policy?.pattern).toBe('*');
  });

  it('lets an exact name beat a glob: carol may not enter board although "*" would let anyone in', () => {
    const catchAll = policy('policies/default.yaml', 'rooms: ["*"]', 'allow:', '  - anyone: true');
    for (const set of [setOf(catchAll, board), setOf(board, catchAll)]) {
      const d = decide(as(carol), 'board', set, NOW);
      expect(d.outcome).toBe('deny');
      expect(d.reasons).toEqual(['RG_POLICY_NOT_ALLOWED']);
      expect(d.policy).toEqual({ file: 'policies/board.yaml', sha256: board.sha256, pattern: 'board', risk: 'high' });
    }
  });

  it('lets an exact name beat a long glob that also matches (board vs boar?)', () => {
    const glob = policy('policies/glob.yaml', 'rooms: ["boar?"]', 'allow:', '  - anyone: true');
    expect(policyFor('board', setOf(glob, board)).policy?.file).toBe('policies/board.yaml');
  });

  it('lets the glob with the longer literal part win: staff-weekly is judged by staff-*, not s*', () => {
    const broad = policy('policies/s.yaml', 'rooms: ["s*"]', 'allow:', '  - anyone: true');
    for (const set of [setOf(broad, staff), setOf(staff, broad)]) {
      const d = decide(as(carol), 'staff-weekly', set, NOW);
      expect(d.outcome).toBe('deny');
      expect(d.reasons).toEqual(['RG_POLICY_NOT_ALLOWED']);
      expect(d.policy?.file).toBe('policies/staff.yaml');
      expect(d.policy?.pattern).toBe('staff-*');
    }
  });

  it('still lets the shorter glob judge rooms the longer one does not match (sales is judged by s*)', () => {
    const broad = policy('policies/s.yaml', 'rooms: ["s*"]', 'allow:', '  - anyone: true');
    const d = decide(as(carol), 'sales', setOf(staff, broad), NOW);
    expect(d.outcome).toBe('allow');
    expect(d.policy?.file).toBe('policies/s.yaml');
  });

  it('uses the most specific of a policy\'s own patterns as the pattern it matched with', () => {
    const multi = policy('policies/multi.yaml', 'rooms: ["*", "team-*"]', 'allow:', '  - anyone: true');
    const other = policy('policies/t.yaml', 'rooms: ["t*"]', 'allow:', '  - groups: [nobody]');
    // team-* (5 literal characters) beats t* (1), so multi.yaml judges team-x.
    const d = decide(as(carol), 'team-x', setOf(other, multi), NOW);
    expect(d.policy?.file).toBe('policies/multi.yaml');
    expect(d.policy?.pattern).toBe('team-*');
  });

  it('denies a room that two globs match equally (RG_POLICY_AMBIGUOUS), even for someone both would allow', () => {
    const a = policy('policies/a.yaml', 'rooms: ["ab-*"]', 'allow:', '  - anyone: true');
    const b = policy('policies/b.yaml', 'rooms: ["*-cd"]', 'allow:', '  - anyone: true');
    const d = decide(as(alice), 'ab-cd', setOf(a, b), NOW);
    expect(d.outcome).toBe('deny');
    expect(d.reasons).toEqual(['RG_POLICY_AMBIGUOUS']);
    expect(policyFor('ab-cd', setOf(a, b)).ties).toHaveLength(1);
  });

  it('denies a room that two files name exactly (RG_POLICY_AMBIGUOUS)', () => {
    const again = policy('policies/board-copy.yaml', 'rooms: [board]', 'allow:', '  - anyone: true');
    const d = decide(as(alice, { method: 'webauthn', at: NOW }), 'board', setOf(board, again), NOW);
    expect(d.outcome).toBe('deny');
    expect(d.reasons).toEqual(['RG_POLICY_AMBIGUOUS']);
  });

  it('is not ambiguous when only one of two equal-rank globs matches the room (ab-x matches ab-* only)', () => {
    const a = policy('policies/a.yaml', 'rooms: ["ab-*"]', 'allow:', '  - anyone: true');
    const b = policy('policies/b.yaml', 'rooms: ["*-cd"]', 'allow:', '  - anyone: true');
    const d = decide(as(carol), 'ab-x', setOf(a, b), NOW);
    expect(d.outcome).toBe('allow');
    expect(d.policy?.file).toBe('policies/a.yaml');
  });

  it('is not ambiguous when a tie at a lower rank is beaten by a more specific match', () => {
    const a = policy('policies/a.yaml', 'rooms: ["ab-*"]', 'allow:', '  - groups: [nobody]');
    const b = policy('policies/b.yaml', 'rooms: ["*-cd"]', 'allow:', '  - groups: [nobody]');
    const exact = policy('policies/exact.yaml', 'rooms: [ab-cd]', 'allow:', '  - anyone: true');
    for (const set of [setOf(a, b, exact), setOf(exact, a, b), setOf(a, exact, b)]) {
      const d = decide(as(carol), 'ab-cd', set, NOW);
      expect(d.outcome).toBe('allow');
      expect(d.policy?.file).toBe('policies/exact.yaml');
    }
  });
});

describe('decide: allow and deny rules', () => {
  it('lets anyone who logged in into town-hall', () => {
    const d = decide(as(carol), 'town-hall', demo, NOW);
    expect(d.outcome).toBe('allow');
    expect(d.reasons).toEqual([]);
    expect(d.rule).toEqual({ kind: 'allow', index: 0, line: 3 });
    expect(d.role).toBe('participant');
  });

  it('lets bob into staff-weekly because he is in group staff', () => {
    expect(decide(as(bob), 'staff-weekly', demo, NOW).outcome).toBe('allow');
  });

  it('denies carol staff-weekly because she is not in group staff (RG_POLICY_NOT_ALLOWED)', () => {
    const d = decide(as(carol), 'staff-weekly', demo, NOW);
    expect(d.outcome).toBe('deny');
    expect(d.reasons).toEqual(['RG_POLICY_NOT_ALLOWED']);
    expect(d.rule).toBeUndefined();
  });

  it('denies bob the board room because he is not in group board (no second factor asked)', () => {
    const d = decide(as(bob, { method: 'webauthn', at: NOW }), 'board', demo, NOW);
    expect(d.outcome).toBe('deny');
    expect(d.reasons).toEqual(['RG_POLICY_NOT_ALLOWED']);
  });

  it('denies carol the board room outright instead of asking her for a second factor first', () => {
    const d = decide(as(carol), 'board', demo, NOW);
    expect(d.outcome).toBe('deny');
    expect(d.reasons).toEqual(['RG_POLICY_NOT_ALLOWED']);
  });

  it('lets a deny rule beat an allow rule, naming the deny rule with its index and line', () => {
    const p = policy(
      'policies/staff.yaml',
      'rooms: ["staff-*"]', //               1
      'allow:', //                           2
      '  - groups: [staff]', //              3
      'deny:', //                            4
      '  - emails: [someone@example.org]', // 5
      '  - groups: [contractors]', //        6
    );
    const eve = person('eve', { groups: ['staff', 'contractors'] });
    const d = decide(as(eve), 'staff-weekly', setOf(p), NOW);
    expect(d.outcome).toBe('deny');
    expect(d.reasons).toEqual(['RG_POLICY_DENY_RULE']);
    expect(d.rule).toEqual({ kind: 'deny', index: 1, line: 6 });
    expect(d.policy?.file).toBe('policies/staff.yaml');
    // The deny side of the deny rule: bob is staff but not a contractor, so he gets in.
    expect(decide(as(bob), 'staff-weekly', setOf(p), NOW).outcome).toBe('allow');
  });

  it('lets a deny rule beat an allowed person who also has a fresh second factor', () => {
    const p = policy('policies/board.yaml', 'rooms: [board]', 'risk: high', 'allow:', '  - groups: [board]', 'deny:', '  - emails: [alice@example.org]');
    const d = decide(as(alice, { method: 'webauthn', at: NOW }), 'board', setOf(p), NOW);
    expect(d.outcome).toBe('deny');
    expect(d.reasons).toEqual(['RG_POLICY_DENY_RULE']);
  });

  it('treats the values of one list as OR: groups [board, staff] lets in a member of either', () => {
    const p = policy('policies/p.yaml', 'rooms: [mixed]', 'allow:', '  - groups: [board, staff]');
    expect(decide(as(bob), 'mixed', setOf(p), NOW).outcome).toBe('allow');
    expect(decide(as(dora), 'mixed', setOf(p), NOW).outcome).toBe('allow');
    expect(decide(as(carol), 'mixed', setOf(p), NOW).outcome).toBe('deny');
  });

  it('treats allow entries as OR: the second entry can grant when the first does not', () => {
    const p = policy('policies/p.yaml', 'rooms: [mixed]', 'allow:', '  - groups: [board]', '  - emails: [carol@example.org]');
    const d = decide(as(carol), 'mixed', setOf(p), NOW);
    expect(d.outcome).toBe('allow');
    expect(d.rule).toEqual({ kind: 'allow', index: 1, line: 4 }); // rooms 1, allow 2, groups 3, emails 4
    expect(decide(as(bob), 'mixed', setOf(p), NOW).outcome).toBe('deny');
  });

  it('treats the fields of one entry as AND: groups + domains matches only someone with both', () => {
    const p = policy('policies/p.yaml', 'rooms: [ops]', 'allow:', '  - groups: [staff]', '    domains: [example.org]');
    const set = setOf(p);
    expect(decide(as(bob), 'ops', set, NOW).outcome).toBe('allow'); // staff, @example.org
    const outsider = person('frank', { groups: ['staff'], email: 'frank@other.org' });
    expect(decide(as(outsider), 'ops', set, NOW).reasons).toEqual(['RG_POLICY_NOT_ALLOWED']); // staff, wrong domain
    expect(decide(as(carol), 'ops', set, NOW).reasons).toEqual(['RG_POLICY_NOT_ALLOWED']); // right domain, not staff
  });

  it('does not let a subject mismatch pass (Authelia\'s old bug): groups [board] + emails [x] needs both', () => {
    const p = policy('policies/p.yaml', 'rooms: [audit]', 'allow:', '  - groups: [board]', '    emails: [auditor@example.org]');
    const auditorWithoutGroup = person('auditor');
    const d = decide(as(auditorWithoutGroup), 'audit', setOf(p), NOW);
    expect(d.outcome).toBe('deny');
    expect(d.reasons).toEqual(['RG_POLICY_NOT_ALLOWED']);
    // Nor does the group alone suffice.
    expect(decide(as(dora), 'audit', setOf(p), NOW).outcome).toBe('deny');
    // Both together do.
    const auditorInBoard = person('auditor', { groups: ['board'] });
    expect(decide(as(auditorInBoard), 'audit', setOf(p), NOW).outcome).toBe('allow');
  });

  it('compares e-mail addresses case-insensitively (policy and identity in any case)', () => {
    const p = policy('policies/p.yaml', 'rooms: [audit]', 'allow:', '  - emails: [Auditor@Example.org]');
    const shouty = person('auditor', { email: 'AUDITOR@EXAMPLE.ORG' });
    expect(decide(as(shouty), 'audit', setOf(p), NOW).outcome).toBe('allow');
    expect(decide(as(carol), 'audit', setOf(p), NOW).outcome).toBe('deny');
  });

  it('compares domains case-insensitively', () => {
    const p = policy('policies/p.yaml', 'rooms: [org]', 'allow:', '  - domains: [Example.ORG]');
    expect(decide(as(person('x', { email: 'x@EXAMPLE.org' })), 'org', setOf(p), NOW).outcome).toBe('allow');
  });

  it('never lets an unverified e-mail address match an emails rule', () => {
    const p = policy('policies/p.yaml', 'rooms: [audit]', 'allow:', '  - emails: [auditor@example.org]');
    const unverified = person('auditor', { emailVerified: false });
    const d = decide(as(unverified), 'audit', setOf(p), NOW);
    expect(d.outcome).toBe('deny');
    expect(d.reasons).toEqual(['RG_POLICY_NOT_ALLOWED']);
    expect(decide(as(person('auditor')), 'audit', setOf(p), NOW).outcome).toBe('allow');
  });

  it('never lets an unverified e-mail address match a domains rule', () => {
    const p = policy('policies/p.yaml', 'rooms: [org]', 'allow:', '  - domains: [example.org]');
    expect(decide(as(person('mallory', { emailVerified: false })), 'org', setOf(p), NOW).outcome).toBe('deny');
    expect(decide(as(person('mallory')), 'org', setOf(p), NOW).outcome).toBe('allow');
  });

  it('does not let an identity without any e-mail match e-mail or domain rules', () => {
    const p = policy('policies/p.yaml', 'rooms: [org]', 'allow:', '  - domains: [example.org]', '  - emails: [x@example.org]');
    const noMail: Identity = { sub: 'x', iss: 'https://id.example.org', emailVerified: true, groups: [] };
    expect(decide(as(noMail), 'org', setOf(p), NOW).outcome).toBe('deny');
  });

  it('matches domains exactly: sub.example.org and example.org.evil are not example.org', () => {
    const p = policy('policies/p.yaml', 'rooms: [org]', 'allow:', '  - domains: [example.org]');
    const set = setOf(p);
    expect(decide(as(person('a', { email: 'a@example.org' })), 'org', set, NOW).outcome).toBe('allow');
    expect(decide(as(person('b', { email: 'b@sub.example.org' })), 'org', set, NOW).outcome).toBe('deny');
    expect(decide(as(person('c', { email: 'c@example.org.evil' })), 'org', set, NOW).outcome).toBe('deny');
    expect(decide(as(person('d', { email: 'd@notexample.org' })), 'org', set, NOW).outcome).toBe('deny');
  });

  it('matches group names exactly (board-chair is not board, Board is not board)', () => {
    const p = policy('policies/p.yaml', 'rooms: [b]', 'allow:', '  - groups: [board]');
    expect(decide(as(person('x', { groups: ['board-chair'] })), 'b', setOf(p), NOW).outcome).toBe('deny');
    expect(decide(as(person('y', { groups: ['Board'] })), 'b', setOf(p), NOW).outcome).toBe('deny');
  });
});

describe('decide: role', () => {
  const fresh = { method: 'webauthn' as const, at: NOW };

  it('gives alice the moderator role in board because she is in board-chair', () => {
    const d = decide(as(alice, fresh), 'board', demo, NOW);
    expect(d.outcome).toBe('allow');
    expect(d.role).toBe('moderator');
  });

  it('gives dora the participant role in board because she is in board but not board-chair', () => {
    const d = decide(as(dora, fresh), 'board', demo, NOW);
    expect(d.outcome).toBe('allow');
    expect(d.role).toBe('participant');
  });
});

describe('decide: second factor', () => {
  it('asks alice for a second factor in the high-risk board room when her session has none (RG_MFA_REQUIRED)', () => {
    const d = decide(as(alice), 'board', demo, NOW);
    expect(d.outcome).toBe('mfa');
    expect(d.reasons).toEqual(['RG_MFA_REQUIRED']);
    expect(d.mfa?.methods).toEqual(['webauthn', 'totp']);
    expect(d.rule).toEqual({ kind: 'allow', index: 0, line: 4 });
    expect(d.policy?.risk).toBe('high');
  });

  it('asks again when the session\'s factor is a method the room does not accept (idp where only webauthn is allowed)', () => {
    const p = policy('policies/vault.yaml', 'rooms: [vault]', 'allow:', '  - anyone: true', 'mfa: { required: true, methods: [webauthn], maxAge: 15m }');
    const d = decide(as(carol, { method: 'idp', at: NOW }), 'vault', setOf(p), NOW);
    expect(d.outcome).toBe('mfa');
    expect(d.reasons).toEqual(['RG_MFA_REQUIRED']);
    expect(decide(as(carol, { method: 'totp', at: NOW }), 'vault', setOf(p), NOW).outcome).toBe('mfa');
    expect(decide(as(carol, { method: 'webauthn', at: NOW }), 'vault', setOf(p), NOW).outcome).toBe('allow');
  });

  it('asks again when the factor is older than maxAge (RG_MFA_TOO_OLD)', () => {
    const p = policy('policies/vault.yaml', 'rooms: [vault]', 'allow:', '  - anyone: true', 'mfa: { required: true, methods: [totp], maxAge: 15m }');
    const d = decide(as(carol, { method: 'totp', at: NOW - 15 * MIN - 1 }), 'vault', setOf(p), NOW);
    expect(d.outcome).toBe('mfa');
    expect(d.reasons).toEqual(['RG_MFA_TOO_OLD']);
  });

  it('accepts a factor exactly maxAge old, and one a moment younger', () => {
    const p = policy('policies/vault.yaml', 'rooms: [vault]', 'allow:', '  - anyone: true', 'mfa: { required: true, methods: [totp], maxAge: 15m }');
    expect(decide(as(carol, { method: 'totp', at: NOW - 15 * MIN }), 'vault', setOf(p), NOW).outcome).toBe('allow');
    expect(decide(as(carol, { method: 'totp', at: NOW - 14 * MIN }), 'vault', setOf(p), NOW).outcome).toBe('allow');
  });

  it('uses the 12h default maxAge of high-risk rooms: 11h old passes, 13h old is too old', () => {
    expect(decide(as(alice, { method: 'totp', at: NOW - 11 * HOUR }), 'board', demo, NOW).outcome).toBe('allow');
    const d = decide(as(alice, { method: 'totp', at: NOW - 13 * HOUR }), 'board', demo, NOW);
    expect(d.outcome).toBe('mfa');
    expect(d.reasons).toEqual(['RG_MFA_TOO_OLD']);
  });

  it('lets in alice with a fresh webauthn factor', () => {
    const d = decide(as(alice, { method: 'webauthn', at: NOW - MIN }), 'board', demo, NOW);
    expect(d.outcome).toBe('allow');
    expect(d.reasons).toEqual([]);
  });

  it('does not trust a factor timestamp more than a minute in the future', () => {
    const d = decide(as(alice, { method: 'webauthn', at: NOW + MIN + 1000 }), 'board', demo, NOW);
    expect(d.outcome).toBe('mfa');
    const far = decide(as(alice, { method: 'webauthn', at: NOW + 10 * HOUR }), 'board', demo, NOW);
    expect(far.outcome).toBe('mfa');
  });

  it('tolerates a few seconds of clock skew on the factor timestamp', () => {
    expect(decide(as(alice, { method: 'webauthn', at: NOW + 30_000 }), 'board', demo, NOW).outcome).toBe('allow');
  });

  it('does not ask for a second factor in a normal-risk room', () => {
    expect(decide(as(bob), 'staff-weekly', demo, NOW).outcome).toBe('allow');
  });
});

describe('decide: explanations point at the right lines', () => {
  it('names the allow rule with the line of its entry in the YAML', () => {
    const p = policy(
      'policies/lines.yaml',
      '# a comment', //                   1
      'rooms: [lines]', //                2
      '', //                              3
      'allow:', //                        4
      '  - groups: [board]', //           5
      '', //                              6
      '  - groups: [staff]', //           7
      'deny:', //                         8
      '  - groups: [contractors]', //     9
    );
    expect(decide(as(bob), 'lines', setOf(p), NOW).rule).toEqual({ kind: 'allow', index: 1, line: 7 });
    expect(decide(as(dora), 'lines', setOf(p), NOW).rule).toEqual({ kind: 'allow', index: 0, line: 5 });
    const eve = person('eve', { groups: ['staff', 'contractors'] });
    expect(decide(as(eve), 'lines', setOf(p), NOW).rule).toEqual({ kind: 'deny', index: 0, line: 9 });
  });
});

describe('matcherMatches', () => {
  it('never matches an entry without fields', () => {
    expect(matcherMatches({ line: 1 }, alice)).toBe(false);
  });

  it('matches anyone: true for every identity, with or without e-mail or groups', () => {
    expect(matcherMatches({ anyone: true, line: 1 }, carol)).toBe(true);
    expect(matcherMatches({ anyone: true, line: 1 }, { sub: 's', iss: 'i', emailVerified: false, groups: [] })).toBe(true);
  });

  it('requires every given field (groups AND emails)', () => {
    const m = { groups: ['board'], emails: ['alice@example.org'], line: 1 };
    expect(matcherMatches(m, alice)).toBe(true);
    expect(matcherMatches(m, dora)).toBe(false);
    expect(matcherMatches(m, person('alice'))).toBe(false);
  });
});

describe('userVerification: required', () => {
  const set = { policies: [parsePolicyText('uv.yaml', 'rooms: [vault]\nallow:\n  - anyone: true\nmfa:\n  required: true\n  methods: [webauthn]\n  userVerification: required\n').policy!], version: 't' };
  const who = { sub: 'u', iss: 'i', emailVerified: false, groups: [] };
  const now = Date.UTC(2026, 10, 26);
  it('refuses a passkey confirmed without user verification', () => {
    expect(decide({ identity: who, mfa: { method: 'webauthn', at: now, uv: false } }, 'vault', set, now).outcome).toBe('mfa');
    expect(decide({ identity: who, mfa: { method: 'webauthn', at: now } }, 'vault', set, now).outcome).toBe('mfa');
  });
  it('accepts a passkey confirmed with user verification', () => {
    expect(decide({ identity: who, mfa: { method: 'webauthn', at: now, uv: true } }, 'vault', set, now).outcome).toBe('allow');
  });
});

describe('recovery codes', () => {
  const who = { sub: 'u', iss: 'i', emailVerified: false, groups: [] };
  const now = Date.UTC(2026, 10, 26);
  const room = (methods: string) => ({ policies: [parsePolicyText('r.yaml', `rooms: [r]\nallow:\n  - anyone: true\nmfa:\n  required: true\n  methods: ${methods}\n`).policy!], version: 't' });
  it('stand in where the room accepts authenticator codes', () => {
    expect(decide({ identity: who, mfa: { method: 'recovery', at: now } }, 'r', room('[webauthn, totp]'), now).outcome).toBe('allow');
  });
  it('do not satisfy a passkey-only or IdP-only room', () => {
    expect(decide({ identity: who, mfa: { method: 'recovery', at: now } }, 'r', room('[webauthn]'), now).outcome).toBe('mfa');
    expect(decide({ identity: who, mfa: { method: 'recovery', at: now } }, 'r', room('[idp]'), now).outcome).toBe('mfa');
  });
});

describe('decide: the room notice and the idle limit are the policy\'s rules too', () => {
  const noticed = policy('policies/briefing.yaml', 'rooms: [briefing]', 'allow:', '  - anyone: true', 'notice:', '  en: "Not recorded."');
  const withNotice = setOf(noticed, board);
  const key = `briefing@${noticed.sha256.slice(0, 16)}`;

  it('names the notice step while the session has not acknowledged this version of it', () => {
    const first = decide(as(bob), 'briefing', withNotice, NOW);
    expect(first).toMatchObject({ outcome: 'allow', notice: { key } });
    expect(decide({ identity: bob, noticesSeen: [key] }, 'briefing', withNotice, NOW).notice).toBeUndefined();
    // An acknowledgement of an earlier version of the file does not count.
    expect(decide({ identity: bob, noticesSeen: ['briefing@0000000000000000'] }, 'briefing', withNotice, NOW).notice).toEqual({ key });
  });

  it('names no notice where the policy has none, and none on a refusal', () => {
    expect(decide(as(bob), 'town-hall', demo, NOW).notice).toBeUndefined();
    const closed = policy('policies/closed.yaml', 'rooms: [closed]', 'allow:', '  - groups: [board]', 'notice:', '  en: "Closed."');
    const refused = decide(as(bob), 'closed', setOf(closed), NOW);
    expect(refused.outcome).toBe('deny');
    expect(refused.notice).toBeUndefined();
  });

  it('refuses a session once idle longer than a risk-high room allows, asking for a fresh login', () => {
    const fresh = { method: 'webauthn' as const, at: NOW - MIN, uv: true };
    const idle = decide({ identity: dora, mfa: fresh, idleMs: 16 * MIN }, 'board', demo, NOW);
    expect(idle).toMatchObject({ outcome: 'login', reasons: ['RG_ROOM_IDLE_LIMIT'], freshLogin: true, policy: { file: 'policies/board.yaml' } });
    // Within the limit the usual rules decide.
    expect(decide({ identity: dora, mfa: fresh, idleMs: 14 * MIN }, 'board', demo, NOW).outcome).not.toBe('login');
    // A room without its own limit does not care how long the session was idle.
    expect(decide({ identity: bob, idleMs: 10 * HOUR }, 'town-hall', demo, NOW).outcome).toBe('allow');
  });

  it('returns what the entry needs of the matched policy: its title and the lobby of a room that invites guests', () => {
    const invited = policy('policies/open.yaml', 'rooms: [open]', 'title: Open day', 'allow:', '  - anyone: true', 'guests:', '  invites: true', '  lobby: true');
    expect(decide(as(bob), 'open', setOf(invited), NOW).policy).toMatchObject({ title: 'Open day', guestLobby: true });
    expect(decide(as(bob), 'town-hall', demo, NOW).policy?.guestLobby).toBeUndefined();
  });
});

describe('deny rules when the IdP sent the group list incomplete (attack 17, finding 1)', () => {
  const secret = policy('policies/secret.yaml', 'rooms: [secret]', 'deny:', '  - groups: [contractors]', '  - emails: [x@example.org]', 'allow:', '  - groups: [staff]');
  const set = setOf(secret);
  const cut = person('erin', { groups: ['staff'], groupsIncomplete: true });

  it('treats every deny entry naming groups as matching (fail closed) and says so', () => {
    const d = decide(as(cut), 'secret', set, NOW);
    expect(d.outcome).toBe('deny');
    expect(d.reasons).toEqual(['RG_POLICY_DENY_RULE']);
    expect(d.rule).toMatchObject({ kind: 'deny', index: 0 });
    expect(d.groupsIncomplete).toBe(true);
    expect(explainText(d)).toMatch(/groups incomplete/);
  });

  it('admits the same person with a complete list, and a deny they really match carries no flag', () => {
    expect(decide(as(person('erin', { groups: ['staff'] })), 'secret', set, NOW).outcome).toBe('allow');
    const real = decide(as(person('erin', { groups: ['staff', 'contractors'], groupsIncomplete: true })), 'secret', set, NOW);
    expect(real.outcome).toBe('deny');
    expect(real.groupsIncomplete).toBeUndefined();
  });

  it('does not let an incomplete list satisfy allow or moderator entries, nor deny entries without groups', () => {
    expect(matcherMatches({ groups: ['staff'], line: 1 }, person('f', { groupsIncomplete: true }))).toBe(false);
    expect(matcherMatches({ groups: ['staff'], line: 1 }, person('f', { groupsIncomplete: true }), true)).toBe(true);
    expect(matcherMatches({ emails: ['x@example.org'], line: 1 }, person('f', { groupsIncomplete: true }), true)).toBe(false);
    const open = setOf(policy('policies/open.yaml', 'rooms: [open]', 'deny:', '  - emails: [x@example.org]', 'allow:', '  - anyone: true'));
    expect(decide(as(cut), 'open', open, NOW).outcome).toBe('allow');
  });
});
