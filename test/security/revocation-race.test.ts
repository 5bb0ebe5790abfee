// A session revoked while one of its requests is still arriving must not act: here an attacker holding a
// stolen session starts a POST that enrols their own authenticator, holds its body back, and the admin
// revokes every session of the person meanwhile. The page must judge the session as it is once the body
// has arrived (guest-routes' preValidation hook and loadSession's `keep`), not as it was when the headers came.
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generate } from 'otplib';
import { startDemoIdp, type DemoIdp } from '../../src/demo/idp.js';
import { createGateway, type Gateway } from '../../src/gateway/server.js';
import type { AuditSink } from '../../src/audit/sink.js';
import { Sessions } from '../../src/session/sessions.js';
import { FactorStore, userKey } from '../../src/mfa/factors.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { freePort, testConfig, testKeys } from '../helpers/gateway.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';

const SECRET = 'race-test-client-secret-0123456789abc';
const POLICIES = fileURLToPath(new URL('../fixtures/policies-mfa', import.meta.url));
const quietAudit: AuditSink = { healthy: true, append: async () => undefined };

let idp: DemoIdp;
let upstream: EchoUpstream;
let gateway: Gateway;
let origin: string;
let port: number;

beforeAll(async () => {
  port = await freePort();
  origin = `http://localhost:${port}`;
  upstream = await startEchoUpstream();
  idp = await startDemoIdp({ clients: [{ clientId: 'roomguard-test', clientSecret: SECRET, redirectUris: [`${origin}/_roomguard/callback`] }] });
  gateway = await createGateway(testConfig({ port, publicUrl: origin, issuer: idp.issuer, clientSecret: SECRET, upstream: upstream.url, store: inject('redisUrl'), keys: testKeys(), keyPrefix: `rgrace:${port}:`, policiesDir: POLICIES }), { audit: quietAudit, logger: false });
  await gateway.listen();
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([idp?.close(), upstream?.close()]);
});

/** Sends a request's head, waits, runs `meanwhile`, then sends its body; resolves to the status line. */
async function slowPost(path: string, cookie: string, body: string, meanwhile: () => Promise<void>): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk.toString()));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nCookie: ${cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`);
  await new Promise((resolve) => setTimeout(resolve, 300)); // the request's hooks up to the body have run
  await meanwhile();
  socket.write(body);
  await closed;
  return answer.split('\r\n')[0] ?? '';
}

describe('revocation while a request is still arriving', () => {
  it('does not let a session revoked before its POST body arrived enrol an authenticator', async () => {
    const browser = new ScriptedBrowser({ accept: 'text/html' });
    const start = await browser.follow(`${origin}/rooms/open`);
    await browser.submitLogin(start.final, 'bob', 'demo');
    const setup = await browser.request(`${origin}/_roomguard/mfa/totp/setup?returnTo=%2Frooms%2Fopen`);
    expect(setup.status).toBe(200);
    const html = await setup.text();
    const secret = /<code class="secret"[^>]*>([^<]+)<\/code>/.exec(html)![1]!.replace(/\s+/g, '');
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const body = new URLSearchParams({ csrf, returnTo: '/rooms/open', room: '', code: await generate({ secret }), name: 'attacker' }).toString();
    const cookie = browser.jar.header(new URL(origin))!;

    const status = await slowPost('/_roomguard/mfa/totp/setup', cookie, body, async () => {
      // What `roomguard sessions revoke --user bob` does.
      expect(await new Sessions(gateway.store, { idleMs: 3_600_000, absoluteMs: 86_400_000 }).destroyAllFor('bob')).toBe(1);
    });
    expect(status).toMatch(/^HTTP\/1\.1 (401|403)/);
    expect((await new FactorStore(gateway.store).load(userKey('bob'))).factors).toEqual([]);
  });
});
