// `oidc.profile` against the real oidc-provider issuing ID tokens and userinfo answers shaped like each
// identity provider's (claim names and nesting, group form, email_verified present or absent, amr/acr):
// a person in the group `staff` enters staff-weekly, one outside it does not, and the name, e-mail and
// groups the upstream is told are the ones the profile reads.
import { afterAll, describe, expect, it } from 'vitest';
import { CASES, person } from '../helpers/idp-shapes.js';
import { signInThrough } from '../helpers/browser.js';
import { startRig, type Rig } from '../helpers/rig.js';

const rigs: Rig[] = [];
afterAll(async () => {
  await Promise.all(rigs.map((rig) => rig.close()));
});

describe.each(CASES)('oidc.profile: $profile', (c) => {
  it('admits a member of staff to staff-weekly with the identity the profile reads, and refuses a non-member', async () => {
    const rig = await startRig({ idp: { users: [person('inside', c.inside), person('outside', c.outside)] }, config: { oidc: { profile: c.profile, ...c.oidc } } });
    rigs.push(rig);
    const inside = await signInThrough(rig.origin, 'inside@login.example', '/rooms/staff-weekly');
    expect(inside.final.status).toBe(200);
    const arrived = rig.upstream.arrived.find((a) => a.url.startsWith('/rooms/staff-weekly'));
    expect(arrived?.headers['x-roomguard-groups']).toBe(c.expect.groups);
    expect(arrived?.headers['x-roomguard-name']).toBe(c.expect.name);
    expect(arrived?.headers['x-roomguard-email']).toBe(c.expect.email);
    const outside = await signInThrough(rig.origin, 'outside@login.example', '/rooms/staff-weekly');
    expect(outside.final.status).toBe(403);
    expect(await outside.final.text()).toContain('RG_POLICY_');
  });
});

describe('without the profile', () => {
  it('denies the Keycloak member of /staff, as the full path is no group a policy names (the reason for oidc.profile)', async () => {
    const keycloak = CASES[0]!;
    const rig = await startRig({ idp: { users: [person('inside', keycloak.inside)] } });
    rigs.push(rig);
    expect((await signInThrough(rig.origin, 'inside@login.example', '/rooms/staff-weekly')).final.status).toBe(403);
  });
});
