// Claims at the edges of what IdPs send, through the real oidc-provider, the gateway and real Redis
// (attack 17): a group list the IdP sent incomplete makes deny rules naming groups match (fail closed,
// audited); a lone UTF-16 surrogate in a name never breaks a session; an address the IdP did not verify
// never reaches the upstream; an RFC 8187 header value never reads as something else.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { queryAudit } from '../../src/audit/query.js';
import { person } from '../helpers/idp-shapes.js';
import { signInThrough } from '../helpers/browser.js';
import { startRig, type Rig } from '../helpers/rig.js';

const rigs: Rig[] = [];
afterAll(async () => {
  await Promise.all(rigs.map((rig) => rig.close()));
});

function secretPolicies(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-pol-deny-'));
  writeFileSync(join(dir, 'secret.yaml'), 'rooms: ["secret-*"]\nallow:\n  - anyone: true\ndeny:\n  - groups: [contractors]\n');
  return dir;
}

const filler = Array.from({ length: 1000 }, (_, i) => `/f${i.toString(36)}`);
const payloadOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('deny rules when the group list is incomplete (fail closed)', () => {
  it('refuses a contractor hidden behind 1000 other groups or behind an overage marker, admits a complete list, and audits why', async () => {
    const rig = await startRig({ policiesDir: secretPolicies(), config: { oidc: { profile: 'keycloak' } }, idp: { users: [
      person('plain', { idToken: { sub: 'plain', groups: ['/contractors'] }, userinfo: {} }),
      person('many', { idToken: { sub: 'many', groups: [...filler, '/contractors'] }, userinfo: {} }),
      person('overage', { idToken: { sub: 'overage', hasgroups: true }, userinfo: {} }),
      person('staff', { idToken: { sub: 'staff', groups: ['/staff'] }, userinfo: {} }),
    ] } });
    rigs.push(rig);
    expect((await signInThrough(rig.origin, 'plain@login.example', '/rooms/secret-board')).final.status).toBe(403);
    const many = await signInThrough(rig.origin, 'many@login.example', '/rooms/secret-board');
    expect(many.final.status).toBe(403);
    expect(await many.final.text()).toContain('RG_POLICY_DENY_RULE');
    expect((await signInThrough(rig.origin, 'overage@login.example', '/rooms/secret-board')).final.status).toBe(403);
    expect((await signInThrough(rig.origin, 'staff@login.example', '/rooms/secret-board')).final.status).toBe(200);
    expect(rig.upstream.arrived.filter((a) => a.url.startsWith('/rooms/secret-board')).map((a) => a.headers['x-roomguard-user'])).toEqual(['staff']);
    await expect.poll(async () => (await queryAudit(rig.auditDir, { type: 'room.decision' }))
      .filter((r) => r.outcome === 'deny' && r.details?.groupsIncomplete === true).map((r) => (r.actor && 'sub' in r.actor ? r.actor.sub : undefined)).sort()).toEqual(['many', 'overage']);
  });
});

describe('claims the upstream is told', () => {
  it('a lone surrogate in a name (or one made by cutting at 200) gives 200 with U+FFFD, not a 500', async () => {
    const rig = await startRig({ idp: { users: [
      person('lone', { idToken: { sub: 'lone', name: 'Eve \ud83d', groups: ['staff'] }, userinfo: {} }),
      person('long', { idToken: { sub: 'long', name: `${'a'.repeat(199)}😀tail`, groups: ['staff'] }, userinfo: {} }),
    ] } });
    rigs.push(rig);
    expect((await signInThrough(rig.origin, 'lone@login.example', '/rooms/staff-weekly')).final.status).toBe(200);
    expect((await signInThrough(rig.origin, 'long@login.example', '/rooms/staff-weekly')).final.status).toBe(200);
    const names = rig.upstream.arrived.filter((a) => a.url.startsWith('/rooms/staff-weekly')).map((a) => a.headers['x-roomguard-name']);
    expect(names).toEqual(['Eve %EF%BF%BD', `${'a'.repeat(199)}%F0%9F%98%80`]);
  });

  it('sends an e-mail address only when the IdP verified it (the assertion too), not when email_verified is false or absent', async () => {
    const rig = await startRig({ idp: { users: [
      person('checked', { idToken: { sub: 'checked', email: 'checked@example.org', email_verified: true, groups: ['staff'] }, userinfo: {} }),
      person('unchecked', { idToken: { sub: 'unchecked', email: 'ceo@example.org', email_verified: false, groups: ['staff'] }, userinfo: {} }),
      person('silent', { idToken: { sub: 'silent', email: 'ceo@example.org', groups: ['staff'] }, userinfo: {} }),
    ] } });
    rigs.push(rig);
    for (const who of ['checked', 'unchecked', 'silent']) expect((await signInThrough(rig.origin, `${who}@login.example`, '/rooms/staff-weekly')).final.status).toBe(200);
    const arrived = rig.upstream.arrived.filter((a) => a.url.startsWith('/rooms/staff-weekly'));
    expect(arrived.map((a) => [a.headers['x-roomguard-user'], a.headers['x-roomguard-email']])).toEqual([['checked', 'checked@example.org'], ['unchecked', undefined], ['silent', undefined]]);
    expect(arrived.map((a) => payloadOf(a.headers['x-roomguard-assertion'] as string).email)).toEqual(['checked@example.org', undefined, undefined]);
  });

  it('rfc8187: a group that looks like an ext-value arrives as a UTF-8 ext-value of itself', async () => {
    const rig = await startRig({ config: { identityHeaders: { encoding: 'rfc8187' } }, idp: { users: [
      person('tricky', { idToken: { sub: 'tricky', groups: ['staff', "ISO-8859-1''admins", '50%'] }, userinfo: {} }),
    ] } });
    rigs.push(rig);
    expect((await signInThrough(rig.origin, 'tricky@login.example', '/rooms/staff-weekly')).final.status).toBe(200);
    const arrived = rig.upstream.arrived.find((a) => a.url.startsWith('/rooms/staff-weekly'))!;
    expect(arrived.headers['x-roomguard-groups']).toBe("staff,UTF-8''ISO-8859-1%27%27admins,UTF-8''50%25");
  });
});
