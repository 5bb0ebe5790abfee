// Issue 15, class 8: a client without a session must not be able to fill the store that sessions, the
// attempt limiter and invitations share. Every route of the running app (enumerated from fastify, so a new
// route is covered without anyone adding a case) gets anonymous requests — plain, with the cookies an
// anonymous client can make for itself, with long parameters — and the store must hold exactly the keys
// it held before; for the generic proxy, forward-auth (nginx), Jitsi and BBB deployments. Real gateways,
// the real IdP, real Redis (keys counted with SCAN under each gateway's prefix).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRig, type Rig } from '../helpers/rig.js';

let rig: Rig;
let redis: Redis;
/** The other kinds of deployment, with their own routes and room paths. */
const others: Array<{ name: string; rig: Rig; samples: string[] }> = [];

/** A returnTo as long as the reported attack's (about 1.8 KB of a 2 KB limit). */
const LONG_RETURN_TO = `/rooms/town-hall?${'x'.repeat(1800)}`;

/** Paths behind fastify's wildcard routes (the room proxy, guest links, invitation pages, unknown own paths), which printRoutes shows only as `*`. */
const WILDCARD_SAMPLES = ['/rooms/town-hall', '/rooms/town-hall/x', '/anything/private', '/_roomguard/guest/town-hall', '/_roomguard/rooms/town-hall/invites', '/_roomguard/rooms/town-hall/invites/revoke', '/_roomguard/nope'];

/** Every route as [path, methods] from fastify's printRoutes tree (one segment per line, 4 columns per level). */
function allRoutes(tree: string): Array<[string, string[]]> {
  const stack: string[] = [];
  const out: Array<[string, string[]]> = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ├└─]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line.replace(/\s+$/, ''));
    if (!match) continue;
    const depth = match[1]!.length / 4 - 1;
    const path = (depth === 0 ? '' : stack[depth - 1]!) + match[2]!;
    stack[depth] = path;
    stack.length = depth + 1;
    out.push([path, match[3]!.split(/,\s*/)]);
  }
  return out;
}

/** Concrete paths for a route pattern. */
function pathsOf(pattern: string, samples = WILDCARD_SAMPLES): string[] {
  if (pattern.endsWith('*')) return samples.filter((p) => p.startsWith(pattern.slice(0, -1)));
  return [pattern.replace(':name', 'style.css')];
}

async function keys(of: Rig = rig): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${of.keyPrefix}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found.sort();
}

/** The parameters an anonymous client may send to any route, each as long or odd as the routes accept. */
const QUERY = new URLSearchParams({ returnTo: LONG_RETURN_TO, state: 'S'.repeat(43), code: 'forged', invite: 'I'.repeat(43), room: 'town-hall', fresh: '1' }).toString();
const FORM = new URLSearchParams({ returnTo: LONG_RETURN_TO, csrf: 'guest-form-token', code: '000000', invite: 'I'.repeat(43), name: 'Mallory', logout_token: 'eyJhbGciOiJub25lIn0.e30.', room: 'town-hall', id: 'abcdef', state: 'S'.repeat(43) }).toString();

/** What a forward-auth web server adds (trusted from loopback in the forward-auth deployment; ignored elsewhere). */
const FORWARDED = { 'x-original-uri': `/rooms/town-hall?${QUERY}`, 'x-original-method': 'GET' };

async function send(method: string, path: string, cookie?: string, to: Rig = rig): Promise<number> {
  const res = await fetch(`${to.origin}${path}${method === 'GET' || method === 'HEAD' ? `?${QUERY}` : ''}`, {
    method, redirect: 'manual',
    headers: { accept: 'text/html', ...FORWARDED, ...(cookie ? { cookie } : {}), ...(method === 'GET' || method === 'HEAD' ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
    ...(method === 'GET' || method === 'HEAD' ? {} : { body: FORM }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** A login this client started itself: the pending-login cookie it was given and the state to call back with. */
async function ownPendingLogin(): Promise<{ cookie: string; state: string }> {
  const res = await fetch(`${rig.origin}/_roomguard/login?returnTo=${encodeURIComponent(LONG_RETURN_TO)}`, { redirect: 'manual' });
  await res.arrayBuffer();
  return { cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '), state: new URL(res.headers.get('location')!).searchParams.get('state')! };
}

beforeAll(async () => {
  rig = await startRig({ store: inject('redisUrl') });
  redis = new Redis(inject('redisUrl'));
  const upstream = rig.upstream.url;
  const jitsi = { appId: 'roomguard', appSecret: 'anonymous-writes-jitsi-secret-0123456789', audience: 'jitsi', domain: 'meet.jitsi' };
  for (const [name, extra, samples] of [
    ['forward-auth (nginx)', { trustProxy: ['127.0.0.1'], forwardAuth: { enabled: true, proxy: 'nginx' } }, WILDCARD_SAMPLES],
    ['Jitsi', { backend: { type: 'jitsi', upstream, jitsi } }, ['/town-hall', '/town-hall/x', '/xmpp-websocket?room=town-hall', '/http-bind?room=town-hall', '/conference-request/v1', '/_roomguard/guest/town-hall', '/_roomguard/nope']],
    ['BBB', { backend: { type: 'bbb', upstream, bbb: { secret: 'anonymous-writes-bbb-secret-0123456789' } } }, ['/rooms/town-hall', '/bigbluebutton/api/join?meetingID=rg-town-hall&checksum=x', '/bigbluebutton/api/create', '/html5client/join', '/_roomguard/guest/town-hall', '/_roomguard/nope']],
  ] as const) {
    others.push({ name, rig: await startRig({ store: inject('redisUrl'), idp: rig.idp, upstream: rig.upstream, config: extra }), samples: [...samples] });
  }
});

afterAll(async () => {
  redis?.disconnect();
  for (const other of others) await other.rig.close();
  await rig?.close();
});

describe('anonymous requests leave the store as it was', () => {
  it('finds the routes (the enumeration itself works)', () => {
    const routes = allRoutes(rig.gateway.app.printRoutes({ commonPrefix: false })).map(([p]) => p);
    expect(routes).toEqual(expect.arrayContaining(['/_roomguard/login', '/_roomguard/callback', '/_roomguard/backchannel-logout', '/_roomguard/mfa/totp', '/*']));
    expect(routes.length).toBeGreaterThanOrEqual(25);
  });

  it('the reported attack: 300 cookie-less login starts with a 1.8 KB returnTo write no key', async () => {
    const before = await keys();
    for (let i = 0; i < 300; i++) {
      const res = await fetch(`${rig.origin}/_roomguard/login?returnTo=${encodeURIComponent(LONG_RETURN_TO)}`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      await res.arrayBuffer();
    }
    expect(await keys()).toEqual(before);
  });

  it('every route, with every method it takes, without a session (plain, with self-made cookies, with long parameters), writes no key', async () => {
    const before = await keys();
    const own = await ownPendingLogin();
    const forgedSession = `roomguard_session=${'A'.repeat(43)}`;
    const guestForm = 'roomguard_session_guest=guest-form-token';
    const sent: string[] = [];
    for (const [pattern, methods] of allRoutes(rig.gateway.app.printRoutes({ commonPrefix: false }))) {
      for (const path of pathsOf(pattern)) {
        for (const method of methods.filter((m) => m !== 'OPTIONS')) {
          for (const cookie of [undefined, own.cookie, forgedSession, guestForm]) {
            const status = await send(method, path, cookie);
            expect({ method, path, cookie, status: status < 500 }).toEqual({ method, path, cookie, status: true });
          }
          sent.push(`${method} ${path}`);
        }
      }
    }
    expect(sent).toEqual(expect.arrayContaining(['GET /_roomguard/login', 'GET /_roomguard/callback', 'POST /_roomguard/backchannel-logout', 'POST /_roomguard/guest/town-hall', 'GET /rooms/town-hall']));
    expect(await keys()).toEqual(before);
  });

  it('the same holds for the forward-auth, Jitsi and BBB deployments (their own routes and room paths)', async () => {
    expect(others.map((o) => o.name)).toEqual(['forward-auth (nginx)', 'Jitsi', 'BBB']);
    for (const { name, rig: other, samples } of others) {
      const before = await keys(other);
      const sent: string[] = [];
      for (const [pattern, methods] of allRoutes(other.gateway.app.printRoutes({ commonPrefix: false }))) {
        for (const path of pathsOf(pattern, samples)) {
          for (const method of methods.filter((m) => m !== 'OPTIONS')) {
            for (const cookie of [undefined, `roomguard_session=${'A'.repeat(43)}`]) {
              const status = await send(method, path, cookie, other);
              expect({ name, method, path, status: status < 500 }).toEqual({ name, method, path, status: true });
            }
            sent.push(`${method} ${path}`);
          }
        }
      }
      if (name.startsWith('forward-auth')) expect(sent).toContain('GET /_roomguard/verify');
      expect({ name, keys: await keys(other) }).toEqual({ name, keys: before });
    }
  });

  it('a callback for a login this client started itself writes no key, whatever the IdP answers', async () => {
    const before = await keys();
    for (const answer of ['code=forged', 'error=access_denied', 'error=server_error', 'code=forged&iss=https%3A%2F%2Fevil.example']) {
      const { cookie, state } = await ownPendingLogin();
      const res = await fetch(`${rig.origin}/_roomguard/callback?state=${state}&${answer}`, { redirect: 'manual', headers: { cookie } });
      expect([400, 403, 502]).toContain(res.status);
      await res.arrayBuffer();
    }
    expect(await keys()).toEqual(before);
  });
});
