// Tokens and userinfo answers shaped like each identity provider's (claim names and nesting, group form,
// email_verified present or absent, amr/acr values), for the real oidc-provider to issue in the tests of
// `oidc.profile` (integration/idp-profiles, e2e/idp-profiles). Facts about each IdP: docs/idp/.
import type { DemoUser } from '../../src/demo/idp.js';

export type Shape = NonNullable<DemoUser['shape']>;
export const person = (login: string, shape: Shape): DemoUser => ({ sub: shape.idToken.sub as string ?? login, password: 'demo', email: `${login}@login.example`, name: login, groups: [], shape });

export interface ProfileCase {
  profile: string;
  /** Extra oidc settings the IdP's guide asks for. */
  oidc?: Record<string, unknown>;
  inside: Shape;
  outside: Shape;
  /** What the upstream must be told about the person inside. */
  expect: { groups: string; name?: string; email?: string };
}

const ENTRA_STAFF = '3f9ac1d2-5b7e-4c1a-9e0f-2d8b6a4c7e11';
const ENTRA_OTHER = '77b0e4a1-2c3d-4e5f-8a9b-0c1d2e3f4a5b';

// Subjects are what each IdP uses: Keycloak a user UUID, Entra a pairwise opaque string, AD FS a base64 hash.
export const CASES: ProfileCase[] = [
  {
    profile: 'keycloak',
    // Group Membership mapper with "Full group path" on (the default), AMR mapper, acr "1" for a password login.
    inside: { idToken: { sub: 'f2b7c1e0-5d1a-4c3b-9a8e-1f2e3d4c5b6a', email: 'bob@example.org', email_verified: true, name: 'Bob Example', preferred_username: 'bob', given_name: 'Bob', family_name: 'Example', groups: ['/staff', '/org/it'] }, userinfo: { email: 'bob@example.org', email_verified: true, name: 'Bob Example', preferred_username: 'bob', groups: ['/staff', '/org/it'] }, amr: ['pwd'], acr: '1' },
    outside: { idToken: { sub: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', email: 'carol@example.org', email_verified: true, name: 'Carol Example', preferred_username: 'carol', groups: ['/org/staff'] }, userinfo: { groups: ['/org/staff'] }, amr: ['pwd'], acr: '1' },
    expect: { groups: 'staff,org/it', name: 'Bob Example', email: 'bob@example.org' },
  },
  {
    profile: 'entra',
    oidc: { groupNames: [`${ENTRA_STAFF}=staff`] },
    // v2.0 ID token: groups as object ids (groupMembershipClaims: SecurityGroup), optional claim email, no email_verified.
    inside: { idToken: { sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ', oid: '00000000-0000-0000-66f3-3332eca7ea81', tid: '9188040d-6c67-4c5b-b112-36a304b66dad', ver: '2.0', name: 'Dana Düsseldorf', preferred_username: 'dana@contoso.example', email: 'dana@contoso.example', groups: [ENTRA_STAFF] }, userinfo: { name: 'Dana Düsseldorf', given_name: 'Dana', family_name: 'Düsseldorf', email: 'dana@contoso.example' } },
    outside: { idToken: { sub: 'BBBBBBBBBBBBBBBBBBBBBJkzqFVrSaSaFHy782bbtaQ', oid: '00000000-0000-0000-1111-3332eca7ea81', ver: '2.0', name: 'Eve', preferred_username: 'eve@contoso.example', groups: [ENTRA_OTHER] }, userinfo: { name: 'Eve' } },
    // The address is read, but unverified: Entra sends no email_verified, so e-mail rules never match it and
    // it is not sent to the upstream (unless `oidc.trustEmail`).
    expect: { groups: 'staff', name: 'Dana D%C3%BCsseldorf' },
  },
  {
    profile: 'authentik',
    // Default scope mappings (2025.10): email_verified false, groups by name, amr from the flow's stages.
    inside: { idToken: { sub: '6d3c2a1b0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c', email: 'bob@example.org', email_verified: false, name: 'Bob Example', given_name: 'Bob Example', preferred_username: 'bob', nickname: 'bob', groups: ['staff', 'authentik Admins'] }, userinfo: { email: 'bob@example.org', email_verified: false, name: 'Bob Example', preferred_username: 'bob', nickname: 'bob', groups: ['staff', 'authentik Admins'] }, amr: ['pwd', 'mfa'] },
    outside: { idToken: { sub: '1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c6d3c2a1b0f9e8d7c6b5a4f3e2d', email: 'carol@example.org', email_verified: false, name: 'Carol', preferred_username: 'carol', groups: ['contractors'] }, userinfo: { groups: ['contractors'] }, amr: ['pwd'] },
    // email_verified false: the address is not sent to the upstream.
    expect: { groups: 'staff,authentik Admins', name: 'Bob Example' },
  },
  {
    profile: 'nextcloud',
    // OpenID Connect Provider app, scopes openid profile email roles groups: groups by gid, roles the same list.
    inside: { idToken: { sub: 'bob', preferred_username: 'bob', name: 'Bob Example', email: 'bob@example.org', roles: ['staff'], groups: ['staff'] }, userinfo: { preferred_username: 'bob', name: 'Bob Example', email: 'bob@example.org', roles: ['staff'], groups: ['staff'], quota: '5 GB' } },
    outside: { idToken: { sub: 'carol', preferred_username: 'carol', name: 'Carol', roles: ['admin'], groups: ['admin'] }, userinfo: { roles: ['admin'], groups: ['admin'] } },
    // No email_verified: the address is not sent to the upstream.
    expect: { groups: 'staff', name: 'Bob Example' },
  },
  {
    profile: 'ucs',
    // The UCS Keycloak app, realm ucs: directory groups as top-level Keycloak groups, `uid` mapper, e-mail not marked verified.
    inside: { idToken: { sub: 'a8b9c0d1-e2f3-4a5b-8c6d-7e8f9a0b1c2d', preferred_username: 'bob', uid: 'bob', email: 'bob@school.example', email_verified: false, groups: ['/Domain Users', '/staff'] }, userinfo: { preferred_username: 'bob', uid: 'bob', email: 'bob@school.example', email_verified: false, groups: ['/Domain Users', '/staff'] }, acr: '1' },
    outside: { idToken: { sub: 'b9c0d1e2-f3a4-4b5c-9d6e-8f9a0b1c2d3e', preferred_username: 'carol', uid: 'carol', groups: ['/Domain Users'] }, userinfo: { groups: ['/Domain Users'] } },
    // No `name` claim: the profile falls back to `uid`.
    // email_verified false: the address is not sent to the upstream.
    expect: { groups: 'Domain Users,staff', name: 'bob' },
  },
  {
    profile: 'adfs',
    // AD FS 2019 with allatclaims: transform rules put upn, unique_name and the group(s) into the ID token; one
    // group arrives as a string. Userinfo answers only sub. amr is a URI.
    inside: { idToken: { sub: 'rT0cK3lW9pZ5mN1bQ7vX2aE8yU4oI6sD0fG3hJ5kL7=', upn: 'bob@corp.example', unique_name: 'CORP\\bob', group: 'staff', appid: 'roomguard', apptype: 'Confidential', ver: '1.0' }, userinfo: {}, amr: ['http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password'] },
    outside: { idToken: { sub: 'aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2yZ3a4=', upn: 'carol@corp.example', unique_name: 'CORP\\carol', group: ['Domain Users', 'contractors'], ver: '1.0' }, userinfo: {}, amr: ['http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password'] },
    // The address comes from `upn`, which email_verified does not speak of: sent only under `oidc.trustEmail`.
    expect: { groups: 'staff', name: 'CORP\\bob' },
  },
];

