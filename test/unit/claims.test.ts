// Claim mapping (issue 2: claim paths such as realm_access.roles) into the Identity that decide() judges.
import { describe, expect, it } from 'vitest';
import { claimAt, identityFromClaims, mergeClaims, readGroups } from '../../src/identity/claims.js';
import { claimMapping, groupNameTable, PROFILES } from '../../src/identity/profiles.js';

const PATHS = { email: 'email', name: 'name', groups: 'groups' };
const base = { sub: 'user-1', iss: 'https://id.example.org' };

describe('claimAt', () => {
  it('reads a top-level claim', () => {
    expect(claimAt({ email: 'a@example.org' }, 'email')).toBe('a@example.org');
  });

  it('follows a dot path into nested objects (Keycloak realm_access.roles)', () => {
    expect(claimAt({ realm_access: { roles: ['board', 'staff'] } }, 'realm_access.roles')).toEqual(['board', 'staff']);
    expect(claimAt({ a: { b: { c: 'deep' } } }, 'a.b.c')).toBe('deep');
  });

  it('lets a literal key containing dots win over the nested path', () => {
    expect(claimAt({ 'a.b': 'literal', a: { b: 'nested' } }, 'a.b')).toBe('literal');
    expect(claimAt({ 'https://example.org/groups': ['x'] }, 'https://example.org/groups')).toEqual(['x']);
  });

  it('returns undefined for a missing claim or a path through a non-object', () => {
    expect(claimAt({}, 'groups')).toBeUndefined();
    expect(claimAt({ realm_access: 'nope' }, 'realm_access.roles')).toBeUndefined();
    expect(claimAt({ realm_access: null }, 'realm_access.roles')).toBeUndefined();
    expect(claimAt({ list: ['a', 'b'] }, 'list.0')).toBeUndefined();
    expect(claimAt({ a: { b: 1 } }, 'a.c')).toBeUndefined();
  });
});

describe('identityFromClaims', () => {
  it('maps sub, iss, email, name and groups', () => {
    const id = identityFromClaims({ ...base, email: 'alice@example.org', email_verified: true, name: 'Alice', groups: ['board', 'staff'] }, PATHS);
    expect(id).toEqual({ sub: 'user-1', iss: 'https://id.example.org', email: 'alice@example.org', emailVerified: true, name: 'Alice', groups: ['board', 'staff'] });
  });

  it('reads groups from a configured dot path', () => {
    const id = identityFromClaims({ ...base, realm_access: { roles: ['board'] } }, { ...PATHS, groups: 'realm_access.roles' });
    expect(id.groups).toEqual(['board']);
  });

  it('accepts a single group given as a string', () => {
    expect(identityFromClaims({ ...base, groups: 'staff' }, PATHS).groups).toEqual(['staff']);
  });

  it('drops non-string and empty group entries', () => {
    expect(identityFromClaims({ ...base, groups: ['board', 1, null, { name: 'x' }, ['nested'], '', true, 'staff'] }, PATHS).groups).toEqual(['board', 'staff']);
  });

  it('gives no groups when the claim is missing or of another type', () => {
    expect(identityFromClaims({ ...base }, PATHS).groups).toEqual([]);
    expect(identityFromClaims({ ...base, groups: 42 }, PATHS).groups).toEqual([]);
    expect(identityFromClaims({ ...base, groups: { board: true } }, PATHS).groups).toEqual([]);
  });

  it('lowercases the e-mail address', () => {
    expect(identityFromClaims({ ...base, email: 'Alice@Example.ORG', email_verified: true }, PATHS).email).toBe('alice@example.org');
  });

  it('marks an address the IdP calls unverified (email_verified: false) as unverified', () => {
    const id = identityFromClaims({ ...base, email: 'alice@example.org', email_verified: false }, PATHS);
    expect(id.emailVerified).toBe(false);
  });

  it('marks an address unverified when the IdP does not say it verified it (no email_verified claim)', () => {
    expect(identityFromClaims({ ...base, email: 'mallory@example.org' }, PATHS).emailVerified).toBe(false);
    expect(identityFromClaims({ ...base, email: 'alice@example.org', email_verified: 'true' }, PATHS).emailVerified).toBe(true);
  });

  it('marks an address with email_verified: true as verified (the deny side of the above)', () => {
    expect(identityFromClaims({ ...base, email: 'alice@example.org', email_verified: true }, PATHS).emailVerified).toBe(true);
  });

  it('marks an address unverified when the IdP sends email_verified as the string "false" (AWS Cognito does)', () => {
    const id = identityFromClaims({ ...base, email: 'alice@example.org', email_verified: 'false' }, PATHS);
    expect(id.emailVerified).toBe(false);
  });

  it('does not count something without @ as an e-mail address', () => {
    const id = identityFromClaims({ ...base, email: 'not-an-address', email_verified: true }, PATHS);
    expect(id.email).toBeUndefined();
    expect(id.emailVerified).toBe(false);
  });

  it('has no verified e-mail when the claim is missing', () => {
    const id = identityFromClaims({ ...base }, PATHS);
    expect(id.email).toBeUndefined();
    expect(id.emailVerified).toBe(false);
  });

  it('throws when sub is missing or empty', () => {
    expect(() => identityFromClaims({ iss: base.iss, email: 'a@example.org' }, PATHS)).toThrow();
    expect(() => identityFromClaims({ iss: base.iss, sub: '' }, PATHS)).toThrow();
    expect(() => identityFromClaims({ iss: base.iss, sub: 42 }, PATHS)).toThrow();
  });

  it('throws when iss is missing', () => {
    expect(() => identityFromClaims({ sub: 'user-1' }, PATHS)).toThrow();
  });
});

describe('oidc.profile group normalisation and claim paths', () => {
  it('keycloak and ucs drop the leading / of a group path, once: /staff is staff, /org/staff is org/staff', () => {
    for (const profile of ['keycloak', 'ucs'] as const) {
      const id = identityFromClaims({ ...base, groups: ['/staff', '/org/staff', 'plain', '/'] }, claimMapping(profile));
      expect(id.groups).toEqual(['staff', 'org/staff', 'plain', '/']);
    }
  });

  it('generic, authentik, nextcloud, entra and adfs take group values as sent', () => {
    for (const profile of ['generic', 'authentik', 'nextcloud', 'entra', 'adfs'] as const) {
      expect(readGroups({ groups: ['/staff'], group: ['/staff'] }, claimMapping(profile)).map((g) => g.group)).toEqual(['/staff']);
    }
  });

  it('entra renames group object ids by the table, keeps unknown ids, and adds app roles', () => {
    const mapping = claimMapping('entra', {}, groupNameTable(['3f9ac1d2-5b7e-4c1a-9e0f-2d8b6a4c7e11=staff']));
    const read = readGroups({ groups: ['3f9ac1d2-5b7e-4c1a-9e0f-2d8b6a4c7e11', '77b0e4a1-2c3d-4e5f-8a9b-0c1d2e3f4a5b'], roles: ['Room.Moderator', 'staff'] }, mapping);
    expect(read).toEqual([
      { sent: '3f9ac1d2-5b7e-4c1a-9e0f-2d8b6a4c7e11', group: 'staff' },
      { sent: '77b0e4a1-2c3d-4e5f-8a9b-0c1d2e3f4a5b', group: '77b0e4a1-2c3d-4e5f-8a9b-0c1d2e3f4a5b' },
      { sent: 'Room.Moderator', group: 'Room.Moderator' },
    ]);
  });

  it('adfs reads one group sent as a string, groups from `role`, and the name from unique_name when there is no name', () => {
    const id = identityFromClaims({ ...base, group: 'staff', role: ['Moderators'], unique_name: 'CORP\\bob', upn: 'bob@corp.example' }, claimMapping('adfs'));
    expect(id.groups).toEqual(['staff', 'Moderators']);
    expect(id.name).toBe('CORP\\bob');
    expect(id.email).toBe('bob@corp.example');
    expect(id.emailVerified).toBe(false);
  });

  it('an explicit oidc.claims path wins over the profile\'s, and the profile\'s normalisation still applies to it', () => {
    const mapping = claimMapping('keycloak', { groups: 'realm_access.roles', name: 'nick' });
    const id = identityFromClaims({ ...base, groups: ['/ignored'], realm_access: { roles: ['/board'] }, name: 'Not This', nick: 'Bobby' }, mapping);
    expect(id.groups).toEqual(['board']);
    expect(id.name).toBe('Bobby');
  });

  it('an address without email_verified (Entra, AD FS) or with false (authentik, UCS) never counts as verified', () => {
    expect(identityFromClaims({ ...base, email: 'a@example.org' }, claimMapping('entra')).emailVerified).toBe(false);
    expect(identityFromClaims({ ...base, email: 'a@example.org', email_verified: false }, claimMapping('authentik')).emailVerified).toBe(false);
    expect(identityFromClaims({ ...base, email: 'a@example.org', email_verified: true }, claimMapping('keycloak')).emailVerified).toBe(true);
  });

  it('groupNameTable reads value=name entries', () => {
    expect([...groupNameTable(['a=b', ' c = d '])]).toEqual([['a', 'b'], ['c', 'd']]);
  });

  it('every profile but adfs fetches userinfo by default', () => {
    expect(Object.entries(PROFILES).filter(([, p]) => !p.userinfo).map(([name]) => name)).toEqual(['adfs']);
  });
});

describe('an incomplete group list (attack 17, finding 1)', () => {
  const entra = claimMapping('entra', {}, groupNameTable(['3F9AC1D2-5B7E-4C1A-9E0F-2D8B6A4C7E11=denied']));

  it('marks Entra\'s overage (_claim_names.groups or hasgroups instead of the list) as incomplete', () => {
    const overage = identityFromClaims({ ...base, _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph' } } }, entra);
    expect(overage.groups).toEqual([]);
    expect(overage.groupsIncomplete).toBe(true);
    expect(identityFromClaims({ ...base, hasgroups: true }, entra).groupsIncomplete).toBe(true);
    expect(identityFromClaims({ ...base, hasgroups: 'true', groups: ['a'] }, entra).groupsIncomplete).toBe(true);
  });

  it('marks a dropped value (over 256 code points) and a cut list (over 1000 groups) as incomplete', () => {
    const long = identityFromClaims({ ...base, groups: ['staff', 'x'.repeat(257)] }, PATHS);
    expect(long.groups).toEqual(['staff']);
    expect(long.groupsIncomplete).toBe(true);
    const many = identityFromClaims({ ...base, groups: Array.from({ length: 1001 }, (_, i) => `g${i}`) }, PATHS);
    expect(many.groups).toHaveLength(1000);
    expect(many.groupsIncomplete).toBe(true);
  });

  it('leaves a whole list complete: exactly 1000 groups, 256 code points, duplicates, non-string entries', () => {
    expect(identityFromClaims({ ...base, groups: Array.from({ length: 1000 }, (_, i) => `g${i}`) }, PATHS).groupsIncomplete).toBeUndefined();
    expect(identityFromClaims({ ...base, groups: ['é'.repeat(256), 'staff', 'staff', 1] }, PATHS).groupsIncomplete).toBeUndefined();
    expect(identityFromClaims({ ...base, _claim_names: { email: 'src1' }, groups: ['a'] }, entra).groupsIncomplete).toBeUndefined();
  });

  it('compares Entra object ids in oidc.groupNames whatever their case or braces', () => {
    expect(identityFromClaims({ ...base, groups: ['3f9ac1d2-5b7e-4c1a-9e0f-2d8b6a4c7e11'] }, entra).groups).toEqual(['denied']);
    expect(identityFromClaims({ ...base, groups: ['{3F9AC1D2-5b7e-4c1a-9e0f-2d8b6a4c7e11}'] }, entra).groups).toEqual(['denied']);
    // Names that are not GUIDs keep exact comparison.
    const named = claimMapping('generic', {}, groupNameTable(['Staff=team']));
    expect(identityFromClaims({ ...base, groups: ['staff', 'Staff'] }, named).groups).toEqual(['staff', 'team']);
  });
});

describe('lone surrogates in claims (attack 17, finding 4)', () => {
  it('replaces them with U+FFFD and cuts the name by code point, never inside a pair', () => {
    const id = identityFromClaims({ ...base, name: `${'a'.repeat(199)}😀tail`, groups: ['bad\ud800', 'ok'] }, PATHS);
    expect(id.name).toBe(`${'a'.repeat(199)}😀`);
    expect(id.groups).toEqual(['bad\ufffd', 'ok']);
    const lone = identityFromClaims({ ...base, name: 'x\udc00y', email: 'a\ud800@example.org', email_verified: true }, PATHS);
    expect(lone.name).toBe('x\ufffdy');
    expect(lone.email).toBe('a\ufffd@example.org');
    for (const s of [lone.name!, lone.email!, ...id.groups, id.name!]) expect(() => encodeURIComponent(s)).not.toThrow();
  });
});

describe('email_verified speaks only of the email claim (attack 17, findings 2 and 5)', () => {
  it('counts an address as verified only with email_verified true for the email claim', () => {
    expect(identityFromClaims({ ...base, email: 'a@example.org', email_verified: true }, PATHS).emailVerified).toBe(true);
    expect(identityFromClaims({ ...base, email: 'a@example.org', email_verified: false }, PATHS).emailVerified).toBe(false);
    expect(identityFromClaims({ ...base, email: 'a@example.org' }, PATHS).emailVerified).toBe(false);
    expect(identityFromClaims({ ...base, email: 'a@example.org', email_verified: 'false' }, PATHS).emailVerified).toBe(false);
  });

  it('does not carry email_verified over to an address from another claim (AD FS upn, an override)', () => {
    const adfs = claimMapping('adfs');
    const upn = identityFromClaims({ ...base, upn: 'ceo@corp.example', email_verified: true }, adfs);
    expect(upn.email).toBe('ceo@corp.example');
    expect(upn.emailVerified).toBe(false);
    const override = claimMapping('generic', { email: 'preferred_username' });
    expect(identityFromClaims({ ...base, preferred_username: 'ceo@corp.example', email_verified: true }, override).emailVerified).toBe(false);
  });

  it('trusts every address only under oidc.trustEmail', () => {
    const trusted = claimMapping('adfs', {}, new Map(), true);
    expect(identityFromClaims({ ...base, upn: 'ceo@corp.example' }, trusted).emailVerified).toBe(true);
    expect(identityFromClaims({ ...base, email: 'a@corp.example' }, claimMapping('entra', {}, new Map(), true)).emailVerified).toBe(true);
    // An explicit "not verified" for the email claim still holds.
    expect(identityFromClaims({ ...base, email: 'a@corp.example', email_verified: false }, claimMapping('entra', {}, new Map(), true)).emailVerified).toBe(false);
    expect(identityFromClaims({ ...base }, trusted).emailVerified).toBe(false);
  });
});

describe('mergeClaims: the ID token wins over userinfo (attack 17, finding 7)', () => {
  it('also over a userinfo key that spells a token path with dots', () => {
    const merged = mergeClaims({ 'realm_access.roles': ['admin'], extra: 1 }, { ...base, realm_access: { roles: ['staff'] } });
    expect(identityFromClaims(merged, { ...PATHS, groups: 'realm_access.roles' }).groups).toEqual(['staff']);
    expect(merged.extra).toBe(1);
    // Without the nested claim in the token, the userinfo key is read.
    expect(identityFromClaims(mergeClaims({ 'realm_access.roles': ['admin'] }, base), { ...PATHS, groups: 'realm_access.roles' }).groups).toEqual(['admin']);
  });

  it('takes email_verified from userinfo only for an address the token does not carry, and never sets a prototype', () => {
    expect(identityFromClaims(mergeClaims({ email_verified: true }, { ...base, email: 'a@example.org' }), PATHS).emailVerified).toBe(false);
    expect(identityFromClaims(mergeClaims({ email: 'a@example.org', email_verified: true }, base), PATHS).emailVerified).toBe(true);
    const polluted = mergeClaims(JSON.parse('{"__proto__": {"polluted": 1}}') as Record<string, unknown>, base);
    expect(Object.getPrototypeOf(polluted)).toBe(Object.prototype);
  });
});
