// Secrets never reach the log: after a full login, room visit and logout, the JSON log contains
// neither the session id, the authorization code, the client secret, the ID token nor cookies.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/gateway/logger.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { CLIENT_SECRET as SECRET, startRig, type Rig } from '../helpers/rig.js';

let rig: Rig;
let origin: string;
const lines: string[] = [];

beforeAll(async () => {
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  rig = await startRig({ gateway: { logger: { ...(loggerOptions('trace') as object), stream } } });
  ({ origin } = rig);
});
afterAll(async () => {
  await rig?.close();
});

describe('logs', () => {
  it('record decisions as JSON with request ids, and never secrets', async () => {
    const browser = new ScriptedBrowser();
    const start = await browser.follow(`${origin}/rooms/town-hall`);
    const done = await browser.submitLogin(start.final, 'alice', 'demo');
    expect(done.final.status).toBe(200);
    const callback = done.hops.find((h) => h.url.pathname === '/_roomguard/callback')!;
    const code = callback.url.searchParams.get('code')!;
    const sessionId = browser.jar.get('roomguard_session')!.value;
    const assertion = String(((await done.final.json()) as { headers: Record<string, string> }).headers['x-roomguard-assertion']);
    await browser.request(`${origin}/rooms/town-hall`, { headers: { authorization: 'Bearer top-secret-bearer' } });
    // A backend token in a proxied request's query (as Jitsi's ?jwt=) is logged by nobody, not even the proxy library.
    const proxied = await browser.request(`${origin}/rooms/town-hall/app.js?jwt=query-secret-jwt`);
    expect(proxied.status).toBe(200);

    const log = lines.join('');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.some((r) => r.event === 'decision' && r.outcome === 'allow' && r.room === 'town-hall' && typeof r.reqId === 'string')).toBe(true);
    expect(code.length).toBeGreaterThan(10);
    for (const secret of [sessionId, code, SECRET, assertion, 'top-secret-bearer', 'alice@example.org', 'query-secret-jwt']) {
      expect(log).not.toContain(secret);
    }
    // One info line per proxied request (roomguard's access line), not the proxy library's two more.
    const access = records.find((r) => r.msg === 'request completed' && (r.req as { path?: string } | undefined)?.path === '/rooms/town-hall/app.js');
    expect(access).toBeDefined();
    const infoLines = records.filter((r) => r.reqId === access!.reqId && Number(r.level) >= 30);
    expect(infoLines.map((r) => r.msg)).toEqual(['request completed']);
  });
});
