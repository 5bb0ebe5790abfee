// One real gateway for the attack suites: the real demo OIDC provider, a real HTTP + WebSocket echo
// upstream, the shipped example policies and a Redis store (private server from test/setup or one the
// test started itself). Also a login helper and a raw socket client for byte-exact requests.
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { generate } from 'otplib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoIdp, type DemoIdp } from '../../src/demo/idp.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway/server.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';
import { freePort, testConfig, testKeys, type TestKeys } from '../helpers/gateway.js';

export const CLIENT_SECRET = 'security-suite-secret-0123456789abcdef';

export interface Rig {
  idp: DemoIdp;
  upstream: EchoUpstream;
  gateway: Gateway;
  port: number;
  origin: string;
  keys: TestKeys;
  keyPrefix: string;
  auditDir: string;
  close(): Promise<void>;
}

export async function startRig(options: { store: string; /** Share keys, store prefix, IdP and upstream with this rig (a second instance). */ sameAs?: Rig; extra?: Record<string, unknown>; gateway?: GatewayOptions; auditDir?: string; auditIp?: 'full' | 'truncate'; auditReviewers?: string[]; idp?: DemoIdp; upstream?: EchoUpstream }): Promise<Rig> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const upstream = options.upstream ?? options.sameAs?.upstream ?? (await startEchoUpstream());
  const idp = options.idp ?? options.sameAs?.idp ?? (await startDemoIdp({
    clients: [{ clientId: 'roomguard-test', clientSecret: CLIENT_SECRET, redirectUris: [`${origin}/_roomguard/callback`], postLogoutRedirectUris: [`${origin}/_roomguard/logged-out`] }],
  }));
  const keys = options.sameAs?.keys ?? testKeys();
  const keyPrefix = options.sameAs?.keyPrefix ?? `rgsec:${port}:`;
  const auditDir = options.auditDir ?? mkdtempSync(join(tmpdir(), 'rg-sec-audit-'));
  const ownIdp = !options.idp && !options.sameAs;
  const ownUpstream = !options.upstream && !options.sameAs;
  let gateway: Gateway;
  try {
    gateway = await createGateway(testConfig({
      port, issuer: idp.issuer, clientSecret: CLIENT_SECRET, upstream: upstream.url, store: options.store, keys, keyPrefix,
      extra: { audit: { dir: auditDir, instance: `sec-${port}`, ip: options.auditIp ?? 'truncate', ...(options.auditReviewers ? { reviewers: options.auditReviewers } : {}) }, ...(options.extra ?? {}) },
    }), options.gateway ?? {});
    await gateway.listen();
  } catch (err) {
    if (ownIdp) await idp.close();
    if (ownUpstream) await upstream.close();
    throw err;
  }
  return {
    idp, upstream, gateway, port, origin, keys, keyPrefix, auditDir,
    async close() {
      await gateway.close();
      if (ownIdp) await idp.close();
      if (ownUpstream) await upstream.close();
    },
  };
}

/** Logs `user` in through the real IdP, starting at `path`; returns the browser and the last response. */
export async function loginAs(origin: string, user: string, path = '/rooms/town-hall'): Promise<{ browser: ScriptedBrowser; final: Response }> {
  const browser = new ScriptedBrowser();
  const start = await browser.follow(`${origin}${path}`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  return { browser, final: done.final };
}

export interface RawExchange {
  /** Everything the server sent before it closed the connection or went quiet. */
  text: string;
  /** HTTP status codes of every response in `text`, in order. */
  statuses: number[];
}

/**
 * Writes `bytes` to the gateway on a fresh TCP connection and collects what comes back until the
 * server closes the connection, or `quietMs` pass without data (for keep-alive answers).
 */
export function rawExchange(port: number, bytes: string | Buffer, quietMs = 300): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ text, statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])) });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    };
    socket.on('connect', () => {
      socket.write(bytes);
      arm();
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      arm();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? finish() : reject(err)));
  });
}

/** Enrols an authenticator app for the browser's person (first factor, right after login); returns its secret. */
export async function enrolTotp(origin: string, browser: ScriptedBrowser, returnTo: string, room: string): Promise<string> {
  const setup = await (await browser.request(`${origin}/_roomguard/mfa/totp/setup?${new URLSearchParams({ returnTo, room })}`)).text();
  const secret = /<code class="secret"[^>]*>([^<]+)<\/code>/.exec(setup)?.[1]?.replace(/\s+/g, '');
  const csrf = /name="csrf" value="([^"]+)"/.exec(setup)?.[1];
  if (!secret || !csrf) throw new Error(`no enrolment form in page:\n${setup.slice(0, 500)}`);
  const done = await browser.request(`${origin}/_roomguard/mfa/totp/setup`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, returnTo, room, code: await generate({ secret }), name: 'Phone' }).toString(),
  });
  if (done.status !== 303) throw new Error(`enrolment answered ${done.status}`);
  return secret;
}
