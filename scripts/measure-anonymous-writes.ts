// Measures what anonymous (session-less) requests leave in Redis: a private redis-server, the demo IdP
// and one gateway on loopback; N requests of each kind from one client without a session; after each
// kind, the number of keys and Redis's used_memory against the start. Every kind should leave nothing.
//
//   npx tsx scripts/measure-anonymous-writes.ts [N]      (default N = 1500)
import { Redis } from 'ioredis';
import { startDemoIdp } from '../src/demo/idp.js';
import { createGateway } from '../src/gateway/server.js';
import { testConfig, testKeys } from '../test/helpers/gateway.js';
import { onFreePort } from '../test/helpers/ports.js';
import { startRedis } from '../test/helpers/redis-servers.js';
import { startEchoUpstream } from '../test/helpers/upstream.js';

const N = Number(process.argv[2] ?? 1500);
const SECRET = 'measure-anonymous-writes-0123456789abcdef';
/** A returnTo as long as the reported attack's (about 1.8 KB). */
const LONG_RETURN_TO = `/rooms/town-hall?${'x'.repeat(1800)}`;

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
}

const redisServer = await startRedis('measure');
const redis = new Redis(redisServer.url);
const upstream = await startEchoUpstream();
// The gateway's port is in its public URL and the IdP's redirect URI: a port free now, another if taken.
const { origin, idp, gateway } = await onFreePort(async (port) => {
  const origin = `http://127.0.0.1:${port}`;
  const idp = await startDemoIdp({ clients: [{ clientId: 'roomguard-test', clientSecret: SECRET, redirectUris: [`${origin}/_roomguard/callback`] }] });
  const gateway = await createGateway(testConfig({ port, issuer: idp.issuer, clientSecret: SECRET, upstream: upstream.url, store: redisServer.url, keys: testKeys() }), { logger: false });
  try {
    await gateway.listen();
  } catch (err) {
    await gateway.close();
    await idp.close();
    throw err;
  }
  return { origin, idp, gateway };
});

/** One anonymous request: no cookie unless the kind brings its own. */
type Kind = [name: string, request: (i: number) => Promise<Response>];
const get = (path: string, headers: Record<string, string> = {}) => fetch(`${origin}${path}`, { redirect: 'manual', headers });
const post = (path: string, body: string, type = 'application/x-www-form-urlencoded') => fetch(`${origin}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': type }, body });

/** A login started by this client: its callback state and the cookie it was given (a pending login of its own). */
async function startedLogin(): Promise<{ state: string; cookie: string }> {
  const res = await get(`/_roomguard/login?returnTo=${encodeURIComponent(LONG_RETURN_TO)}`);
  await res.arrayBuffer();
  const state = new URL(res.headers.get('location')!).searchParams.get('state')!;
  return { state, cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') };
}

const kinds: Kind[] = [
  ['GET /_roomguard/login?returnTo=<1.8 KB>', () => get(`/_roomguard/login?returnTo=${encodeURIComponent(LONG_RETURN_TO)}`)],
  ['GET /_roomguard/login?fresh=1', () => get('/_roomguard/login?fresh=1&returnTo=%2F')],
  ['GET /_roomguard/callback (no cookie)', (i) => get(`/_roomguard/callback?state=${'s'.repeat(43)}${i}&code=x`)],
  ['GET /_roomguard/callback (own pending login, forged code)', async () => {
    const { state, cookie } = await startedLogin();
    return get(`/_roomguard/callback?state=${state}&code=forged`, { cookie });
  }],
  ['GET /_roomguard/callback?error=access_denied (own pending login)', async () => {
    const { state, cookie } = await startedLogin();
    return get(`/_roomguard/callback?state=${state}&error=access_denied`, { cookie });
  }],
  ['POST /_roomguard/backchannel-logout (forged token)', () => post('/_roomguard/backchannel-logout', 'logout_token=eyJhbGciOiJub25lIn0.e30.')],
  ['GET /_roomguard/guest/town-hall?invite=<unknown>', (i) => get(`/_roomguard/guest/town-hall?invite=${'A'.repeat(40)}${String(i).padStart(3, '0')}`)],
  ['POST /_roomguard/guest/town-hall (unknown invite)', (i) => post('/_roomguard/guest/town-hall', `invite=${'A'.repeat(43)}&name=x${i}&csrf=x`)],
  ['GET /rooms/town-hall (room page, no session)', () => get('/rooms/town-hall')],
  ['POST /_roomguard/mfa/totp (no session)', () => post('/_roomguard/mfa/totp', 'code=000000&returnTo=%2F')],
  ['GET /_roomguard/mfa/totp/setup (no session)', () => get('/_roomguard/mfa/totp/setup?returnTo=%2F')],
  ['POST /_roomguard/logout (no session)', () => post('/_roomguard/logout', 'csrf=x')],
  ['POST /_roomguard/notice (no session)', () => post('/_roomguard/notice', 'returnTo=%2F&room=town-hall')],
  ['GET /_roomguard/jitsi/auth?room=x', () => get('/_roomguard/jitsi/auth?room=town-hall')],
];

const rows: string[] = [];
try {
  const startKeys = await redis.dbsize();
  const startMemory = await usedMemory(redis);
  for (const [name, request] of kinds) {
    const keysBefore = await redis.dbsize();
    const memoryBefore = await usedMemory(redis);
    const began = Date.now();
    const statuses = new Map<number, number>();
    for (let i = 0; i < N; i++) {
      const res = await request(i);
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    const seconds = (Date.now() - began) / 1000;
    const keys = (await redis.dbsize()) - keysBefore;
    const memory = (await usedMemory(redis)) - memoryBefore;
    rows.push(`| ${name} | ${N} in ${seconds.toFixed(1)} s | ${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')} | ${keys} | ${(memory / 1024).toFixed(0)} KiB |`);
  }
  rows.push(`| **all of the above** | | | ${(await redis.dbsize()) - startKeys} | ${(((await usedMemory(redis)) - startMemory) / 1024).toFixed(0)} KiB |`);
} finally {
  await gateway.close();
  await Promise.all([idp.close(), upstream.close()]);
  redis.disconnect();
  await redisServer.stop();
}
process.stdout.write(['| anonymous request | sent | answers | new Redis keys | used_memory growth |', '| --- | --- | --- | --- | --- |', ...rows].join('\n') + '\n');
