// An index set lives as long as its longest-lived member (Store.addMember: a set's TTL only grows). The
// attack this holds: a moderator makes a 30-day invitation, then a 5-minute one in the same room; had the
// short one cut the room's invitation index to its own lifetime, a week later the long invitation would
// still admit guests but be neither listed nor revocable (page or `roomguard invite revoke`), and the
// guests it admitted could not be ended. Real gateway, real IdP, real Redis moved forward in time.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runInviteCommand } from '../../src/cli/invite-commands.js';
import type { Identity } from '../../src/identity/types.js';
import { Sessions } from '../../src/session/sessions.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RedisStore } from '../../src/store/redis.js';
import type { Store } from '../../src/store/store.js';
import { INVITATION_HISTORY_MS } from '../../src/guests/invitations.js';
import { testConfigYaml } from '../helpers/gateway.js';
import { CLIENT_SECRET, startRig, type Rig } from '../helpers/rig.js';
import { HTML, createInvitation, csrfOf, joinAsGuest, openInvitesPage } from '../helpers/guests.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { advanceRedis } from '../helpers/store-clock.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const DAY = 86_400_000;
/** Past the end of the index a 5-minute invitation alone would have made, and well within the 30-day one. */
const A_WEEK_LATER = INVITATION_HISTORY_MS + 5 * 60_000 + 1000;
const POLICY = 'rooms: [lobby]\nallow:\n  - anyone: true\nmoderators:\n  - groups: [board]\nguests:\n  invites: true\n  ttl: 30d\n  maxUses: 30\n  requireName: true\n';

let rig: Rig;
let redis: Redis;
let origin: string;
let prefix: string;
let configFile: string;

beforeAll(async () => {
  const policiesDir = mkdtempSync(join(tmpdir(), 'rg-index-policies-'));
  writeFileSync(join(policiesDir, 'lobby.yaml'), POLICY);
  rig = await startRig({ policiesDir });
  ({ origin } = rig);
  prefix = rig.keyPrefix;
  // `roomguard invite` reads the deployment's config file: the same store, keys, policies and public URL.
  configFile = join(mkdtempSync(join(tmpdir(), 'rg-index-config-')), 'roomguard.yaml');
  writeFileSync(configFile, testConfigYaml({ port: rig.port, publicUrl: origin, issuer: rig.idp.issuer, clientSecret: CLIENT_SECRET, upstream: rig.upstream.url, store: rig.store, keys: rig.keys, keyPrefix: prefix, policiesDir }));
  redis = new Redis(rig.store);
});

afterAll(async () => {
  await rig?.close();
  redis?.disconnect();
});

const linkId = (link: string) => new URL(link).searchParams.get('invite')!;
const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

async function inviteCli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = { out: '', err: '' };
  const code = await runInviteCommand(args[0], [...args.slice(1), '--config', configFile], { out: (t) => (io.out += t), err: (t) => (io.err += t) });
  return { code, ...io };
}

describe('a short invitation after a long one', () => {
  it('leaves the long one listed and revocable on the page a week later, and revoking it ends its guests', async () => {
    const mod = await openInvitesPage(origin, 'lobby', 'alice');
    expect(mod.status).toBe(200);
    const long = await createInvitation(mod.browser, origin, 'lobby', { ttl: '30d', uses: '30', note: 'long-lived' });
    const short = await createInvitation(mod.browser, origin, 'lobby', { ttl: '5m', uses: '1', note: 'short-lived' });
    expect(long.link && short.link).toBeTruthy();
    await advanceRedis(redis, prefix, A_WEEK_LATER);

    // The long link still admits (it has three weeks left) ...
    const guest = await joinAsGuest(long.link!, 'Late guest');
    expect(guest.final.status).toBe(200);
    // ... and a moderator (signing in afresh: a week ended the old session) still sees it and can revoke it.
    const again = await openInvitesPage(origin, 'lobby', 'alice');
    expect(again.status).toBe(200);
    const id = /<tr>\s*<td[^>]*>long-lived<\/td>[\s\S]*?name="id" value="([0-9a-f]+)"/.exec(again.html)?.[1];
    expect(id, 'the long invitation is listed').toBeDefined();
    const revoked = await again.browser.request(`${origin}/_roomguard/rooms/lobby/invites/revoke`, { method: 'POST', headers: FORM, body: new URLSearchParams({ csrf: csrfOf(again.html), id: id! }).toString() });
    expect(revoked.status).toBe(303);
    // The guest it admitted is signed out, and the link admits nobody else.
    const back = await guest.browser.request(`${origin}/rooms/lobby`);
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toMatch(/^\/_roomguard\/login/);
    const another = await joinAsGuest(long.link!, 'Another guest', new ScriptedBrowser(HTML));
    expect(another.final.status).toBe(410);
    expect(another.visit.pageHtml).toContain('RG_GUEST_INVITE_REVOKED');
  });

  it('leaves the long one listed and revocable by `roomguard invite` a week later', async () => {
    const long = await inviteCli('create', '--room', 'lobby', '--ttl', '30d', '--uses', '30', '--note', 'cli long', '--json');
    expect(long.code).toBe(0);
    const { link } = JSON.parse(long.out) as { link: string };
    expect((await inviteCli('create', '--room', 'lobby', '--ttl', '5m', '--uses', '1')).code).toBe(0);
    await advanceRedis(redis, prefix, A_WEEK_LATER);
    const room = `${prefix}guest:room:${sha256Hex('lobby')}`;
    expect(await redis.pttl(room)).toBeGreaterThan(29 * DAY - A_WEEK_LATER);

    const guest = await joinAsGuest(link, 'Shell guest');
    expect(guest.final.status).toBe(200);
    const listed = await inviteCli('list', '--room', 'lobby');
    expect(listed.out).toContain('cli long');
    const id = sha256Hex(linkId(link)).slice(0, 16);
    const revoked = await inviteCli('revoke', '--room', 'lobby', '--id', id);
    expect(revoked.err).toBe('');
    expect(revoked.code).toBe(0);
    const back = await guest.browser.request(`${origin}/rooms/lobby`);
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toMatch(/^\/_roomguard\/login/);
  });
});

describe('a short session after a long one, for the same person', () => {
  const person: Identity = { sub: 'index-person', iss: 'https://id.example.org', emailVerified: false, groups: [] };
  const timeouts = { idleMs: 60 * 60_000, absoluteMs: 12 * 3_600_000 };
  /** The short one: a session whose own limits end it after ten minutes (a guest's or a step-up's kind). */
  const SHORT = { idleMs: 10 * 60_000, absoluteMs: 10 * 60_000 };

  async function endsTheLongOneToo(store: Store, later: (ms: number) => Promise<void>, now: () => number) {
    const sessions = new Sessions(store, timeouts, now);
    const long = await sessions.create(person, { sid: 'idp-session-1' });
    await sessions.create(person, { sid: 'idp-session-1', limits: SHORT });
    await later(SHORT.absoluteMs + 1000);
    expect(await sessions.load(long.id)).toBeDefined();
    // `roomguard sessions revoke --user` and the IdP's back-channel logout find the long one in the indexes.
    expect((await sessions.listFor(person.sub)).map((s) => s.hash)).toEqual([long.hash]);
    expect(await sessions.destroyBySid('idp-session-1')).toBe(1);
    expect(await sessions.load(long.id)).toBeUndefined();
    const next = await sessions.create(person);
    await sessions.create(person, { limits: SHORT });
    await later(SHORT.absoluteMs + 1000);
    expect(await sessions.destroyAllFor(person.sub)).toBe(1);
    expect(await sessions.load(next.id)).toBeUndefined();
  }

  it('is still found by revocation when its index outlives the short one (Redis)', async () => {
    const keyPrefix = `rgindex-sessions:${process.pid}:`;
    const store = new RedisStore({ url: inject('redisUrl'), keyPrefix });
    await store.connect();
    let skew = 0;
    try {
      await endsTheLongOneToo(store, async (ms) => {
        skew += ms;
        await advanceRedis(redis, keyPrefix, ms);
      }, () => Date.now() + skew);
    } finally {
      await store.close();
    }
  });

  it('is still found by revocation when its index outlives the short one (memory store)', async () => {
    let now = Date.now();
    const store = new MemoryStore(() => now);
    try {
      await endsTheLongOneToo(store, async (ms) => {
        now += ms;
      }, () => now);
    } finally {
      await store.close();
    }
  });
});
