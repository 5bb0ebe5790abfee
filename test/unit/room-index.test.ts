// The room index (src/policy/rooms.ts, issue 8 "compile policy globs into an index"): finds the policy
// that judges a room without scanning every file, and must agree with a plain scan of every pattern on
// every room, precedence and tie. Each finding is paired with the room it must not find.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { policyFor } from '../../src/policy/decide.js';
import { RoomIndex, roomIndexOf, patternMatches, specificity, type RoomMatch } from '../../src/policy/rooms.js';
import type { Policy, PolicySet } from '../../src/policy/types.js';

function policy(file: string, rooms: string[]): Policy {
  return {
    file, sha256: file, rooms, roomLines: rooms.map((_, i) => i + 1), risk: 'normal', allow: [{ anyone: true, line: 1 }], deny: [], moderators: [],
    mfa: { required: false, methods: [], maxAge: 0, userVerification: 'preferred' }, features: [],
  };
}

const indexOf = (...policies: Policy[]) => new RoomIndex(policies);

/** The rule written out as a scan of every pattern of every file (the first of equals wins, later equals tie). */
function scan(room: string, policies: Policy[]): RoomMatch {
  let best: { policy: Policy; pattern: string; rank: number } | undefined;
  let ties: Policy[] = [];
  for (const p of policies) {
    let own: { pattern: string; rank: number } | undefined;
    for (const pattern of p.rooms) {
      if (patternMatches(pattern, room) && (!own || specificity(pattern) > own.rank)) own = { pattern, rank: specificity(pattern) };
    }
    if (!own) continue;
    if (!best || own.rank > best.rank) {
      best = { policy: p, ...own };
      ties = [];
    } else if (own.rank === best.rank) ties.push(p);
  }
  return best ? { policy: best.policy, pattern: best.pattern, ties } : { ties };
}
const fileFor = (index: RoomIndex, room: string) => index.match(room).policy?.file;

describe('RoomIndex: which policy judges a room', () => {
  it('finds an exact name, and nothing for a name that only shares its beginning or end', () => {
    const index = indexOf(policy('board', ['board']));
    expect(fileFor(index, 'board')).toBe('board');
    expect(fileFor(index, 'boar')).toBeUndefined();
    expect(fileFor(index, 'board2')).toBeUndefined();
    expect(fileFor(index, 'xboard')).toBeUndefined();
  });

  it('finds a glob by its literal prefix, and not a room outside it', () => {
    const index = indexOf(policy('staff', ['staff-*']), policy('team', ['team-?']));
    expect(fileFor(index, 'staff-weekly')).toBe('staff');
    expect(fileFor(index, 'staff-')).toBe('staff');
    expect(fileFor(index, 'staff')).toBeUndefined();
    expect(fileFor(index, 'xstaff-weekly')).toBeUndefined();
    expect(fileFor(index, 'team-a')).toBe('team');
    expect(fileFor(index, 'team-')).toBeUndefined();
    expect(fileFor(index, 'team-ab')).toBeUndefined();
  });

  it('finds a glob that starts with a wildcard by its literal suffix, and not a room without it', () => {
    const index = indexOf(policy('weekly', ['*-weekly']), policy('q', ['?-daily']));
    expect(fileFor(index, 'staff-weekly')).toBe('weekly');
    expect(fileFor(index, 'staff-weekly2')).toBeUndefined();
    expect(fileFor(index, 'a-daily')).toBe('q');
    expect(fileFor(index, 'ab-daily')).toBeUndefined();
  });

  it('checks the middle of a glob, not only its ends (a*b*c does not match ac)', () => {
    const index = indexOf(policy('abc', ['a*b*c']), policy('mid', ['*x*']));
    expect(fileFor(index, 'a-b-c')).toBe('abc');
    expect(fileFor(index, 'ac')).toBeUndefined();
    expect(fileFor(index, 'yxy')).toBe('mid');
    expect(fileFor(index, 'yyy')).toBeUndefined();
  });

  it('lets an exact name beat a glob, and the glob with more literal characters beat a shorter one', () => {
    const index = indexOf(policy('all', ['*']), policy('s', ['s*']), policy('staff', ['staff-*']), policy('sales', ['sales']));
    expect(fileFor(index, 'sales')).toBe('sales');
    expect(fileFor(index, 'staff-x')).toBe('staff');
    expect(fileFor(index, 'sx')).toBe('s');
    expect(fileFor(index, 'board')).toBe('all');
  });

  it('reports the most specific of a policy\'s own patterns as the one it matched with', () => {
    const index = indexOf(policy('p', ['s*', 'staff-*', 'staff-weekly']));
    expect(index.match('staff-weekly').pattern).toBe('staff-weekly');
    expect(index.match('staff-daily').pattern).toBe('staff-*');
    expect(index.match('sales').pattern).toBe('s*');
  });

  it('reports policies that match as specifically as ties, and none where a more specific one wins', () => {
    const a = policy('a', ['ab-*']);
    const b = policy('b', ['*-cd']);
    const index = indexOf(a, b, policy('c', ['ab-cd-*']));
    expect(index.match('ab-cd').policy).toBe(a);
    expect(index.match('ab-cd').ties).toEqual([b]);
    expect(index.match('ab-x').ties).toEqual([]);
    expect(index.match('ab-cd-1').policy?.file).toBe('c');
    expect(index.match('ab-cd-1').ties).toEqual([]);
    const twice = indexOf(policy('one', ['board']), policy('two', ['board']));
    expect(twice.match('board').ties.map((p) => p.file)).toEqual(['two']);
  });

  it('finds nothing in an empty set', () => {
    expect(indexOf().match('board')).toEqual({ ties: [] });
  });

  it('keeps Jitsi tenants apart: tenant/* does not match another tenant\'s room', () => {
    const index = indexOf(policy('acme', ['acme/*']));
    expect(fileFor(index, 'acme/board')).toBe('acme');
    expect(fileFor(index, 'other/board')).toBeUndefined();
    expect(fileFor(index, 'acme')).toBeUndefined();
  });
});

describe('roomIndexOf', () => {
  it('builds one index per policy set and a new one for a reloaded set', () => {
    const set: PolicySet = { policies: [policy('a', ['a-*'])], version: '1' };
    expect(roomIndexOf(set)).toBe(roomIndexOf(set));
    const reloaded: PolicySet = { policies: [policy('b', ['a-*'])], version: '2' };
    expect(roomIndexOf(reloaded).match('a-1').policy?.file).toBe('b');
    expect(roomIndexOf(set).match('a-1').policy?.file).toBe('a');
  });

  it('does not serve a stale index when a policy was added to the same array', () => {
    const set: PolicySet = { policies: [policy('a', ['a-*'])], version: '1' };
    expect(roomIndexOf(set).match('b-1').policy).toBeUndefined();
    set.policies.push(policy('b', ['b-*']));
    expect(roomIndexOf(set).match('b-1').policy?.file).toBe('b');
  });
});

describe('RoomIndex agrees with a plain scan, and with policyFor()', () => {
  // A small alphabet makes shared prefixes, suffixes and overlapping globs common.
  const letter = fc.constantFrom('a', 'b', '-');
  const room = fc.array(letter, { maxLength: 6 }).map((cs) => cs.join(''));
  const pattern = fc.array(fc.constantFrom('a', 'b', '-', '*', '?'), { minLength: 1, maxLength: 5 }).map((cs) => cs.join(''));
  const policies = fc.array(fc.array(pattern, { minLength: 1, maxLength: 3 }), { maxLength: 6 })
    .map((sets) => sets.map((rooms, i) => policy(`p${i}`, rooms)));

  it('finds the same policy, pattern and ties for every room', () => {
    fc.assert(fc.property(policies, fc.array(room, { minLength: 1, maxLength: 8 }), (list, rooms) => {
      const index = new RoomIndex(list);
      for (const r of rooms) {
        const indexed = index.match(r);
        for (const plain of [scan(r, list), policyFor(r, { policies: list, version: 'x' })]) {
          expect(indexed.policy?.file).toBe(plain.policy?.file);
          expect(indexed.pattern).toBe(plain.pattern);
          expect(indexed.ties.map((p) => p.file)).toEqual(plain.ties.map((p) => p.file));
        }
      }
    }), { numRuns: 500 });
  });
});
