// Claim mapping (issue 2: claim paths such as realm_access.roles) into the Identity that decide() judges.
import { describe, expect, it } from 'vitest';
import { claimAt, identityFromClaims, readGroups } from '../../src/identity/claims.js';
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
