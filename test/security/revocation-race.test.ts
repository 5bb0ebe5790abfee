// A session revoked while one of its requests is still arriving must not act: here an attacker holding a
// stolen session starts a POST that enrols their own authenticator, holds its body back, and the admin
// revokes every session of the person meanwhile. The page must judge the session as it is once the body
// has arrived (guest-routes' preValidation hook and loadSession's `keep`), not as it was when the headers came.
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import type { Gateway } from '../../src/gateway/server.js';
import type { AuditSink } from '../../src/audit/sink.js';
import { Sessions } from '../../src/session/sessions.js';
import { FactorStore, userKey } from '../../src/mfa/factors.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { startRig, type Rig } from '../helpers/rig.js';

const POLICIES = fileURLToPath(new URL('../fixtures/policies-mfa', import.meta.url));
const quietAudit: AuditSink = { healthy: true, append: async () => undefined };

let rig: Rig;
let gateway: Gateway;
let origin: string;
let port: number;

beforeAll(async () => {
  rig = await startRig({ publicHost: 'localhost', policiesDir: POLICIES, gateway: { audit: quietAudit, logger: false } });
  ({ gateway, origin, port } = rig);
});

afterAll(async () => {
  await rig?.close();
});

/** The next request to reach the gateway's server, as Node hands it to fastify (headers parsed, body not read). */
function nextRequest(): Promise<IncomingMessage> {
  return new Promise((resolve) => gateway.app.server.once('request', resolve));
}

/** Sends a request's head, waits, runs `meanwhile`, then sends its body; resolves to the status line. */
async function slowPost(path: string, cookie: string, body: string, meanwhile: () => Promise<void>): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk.toString()));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  const arriving = nextRequest();
  socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nCookie: ${cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`);
  // Until the request's hooks up to the body have run: fastify has started to read the body.
  const request = await arriving;
  await expect.poll(() => request.readableFlowing).toBe(true);
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
