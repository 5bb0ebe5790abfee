// Integration test for the embedded demo OpenID Provider (real oidc-provider, no mocks).
// Drives the browser side by hand: plain fetch, manual redirects, a tiny cookie jar.
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';

import { DEMO_USERS, startDemoIdp } from '../../src/demo/idp.js';
import type { DemoIdp } from '../../src/demo/idp.js';

const CLIENT_ID = 'roomguard-test';
const CLIENT_SECRET = 'test-secret-that-is-long-enough-0123456789';
const REDIRECT_URI = 'http://127.0.0.1:18099/auth/callback';
const POST_LOGOUT_URI = 'http://127.0.0.1:18099/';
const SCOPE = 'openid email profile groups';

// ---------------------------------------------------------------------------
// A minimal browser: cookie jar (name + path, no port isolation, like browsers)
// ---------------------------------------------------------------------------

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  attributes: string[];
}

class CookieJar {
  readonly cookies = new Map<string, StoredCookie>();

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = '/';
      let expired = false;
      const attributes: string[] = [];
      for (const raw of attrs) {
        const [k = '', v = ''] = raw.split('=');
        const key = k.trim().toLowerCase();
        attributes.push(key);
        if (key === 'path') path = v.trim() || '/';
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
      }
      const id = `${name};${path}`;
      if (expired || value === '') this.cookies.delete(id);
      else this.cookies.set(id, { name, value, path, attributes });
    }
  }

  header(url: URL): string {
    const parts: string[] = [];
    for (const c of this.cookies.values()) {
      const prefix = c.path.endsWith('/') ? c.path : `${c.path}/`;
      if (url.pathname === c.path || url.pathname.startsWith(prefix)) parts.push(`${c.name}=${c.value}`);
    }
    return parts.join('; ');
  }
}

class Browser {
  readonly jar = new CookieJar();

  async request(url: URL | string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = this.jar.header(target);
    if (cookie) headers.set('cookie', cookie);
    headers.set('accept', 'text/html,application/xhtml+xml');
    const res = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.jar.store(res);
    return res;
  }

  postForm(url: URL | string, fields: Record<string, string>): Promise<Response> {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** Follows redirects by hand until one points at `stopPrefix` (returned) or a non-redirect response. */
  async follow(first: Response, from: URL | string, stopPrefix: string): Promise<{ location?: URL; res: Response; hops: URL[] }> {
    let res = first;
    let base = new URL(from);
    const hops: URL[] = [];
    for (let i = 0; i < 15; i++) {
      const loc = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !loc) return { res, hops };
      await res.arrayBuffer();
      const next = new URL(loc, base);
      hops.push(next);
      if (next.href.startsWith(stopPrefix)) return { location: next, res, hops };
      res = await this.request(next);
      base = next;
    }
    throw new Error('too many redirects');
  }
}

function location(res: Response, base: URL | string): URL {
  const loc = res.headers.get('location');
  expect(loc, `expected a redirect, got ${res.status}`).toBeTruthy();
  return new URL(loc ?? '', base);
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

interface BackchannelReceiver {
  url: string;
  tokens: string[];
  server: Server;
}

async function startBackchannelReceiver(): Promise<BackchannelReceiver> {
  const tokens: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('logout_token');
      if (req.method === 'POST' && token) tokens.push(token);
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/backchannel-logout`, tokens, server };
}

let idp: DemoIdp;
let receiver: BackchannelReceiver;
let config: oidc.Configuration;
let discovery: Record<string, unknown>;

beforeAll(async () => {
  receiver = await startBackchannelReceiver();
  idp = await startDemoIdp({
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: [REDIRECT_URI],
        postLogoutRedirectUris: [POST_LOGOUT_URI],
        backchannelLogoutUri: receiver.url,
      },
    ],
  });
  config = await oidc.discovery(new URL(idp.issuer), CLIENT_ID, CLIENT_SECRET, oidc.ClientSecretBasic(CLIENT_SECRET), {
    execute: [oidc.allowInsecureRequests],
  });
}, 30_000);

afterAll(async () => {
  await idp?.close();
  await new Promise<void>((resolve) => (receiver ? receiver.server.close(() => resolve()) : resolve()));
});

interface AuthRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

async function authRequest(extra: Record<string, string> = {}): Promise<AuthRequest> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/** Runs the login until the browser is on the interaction page; returns that page's URL. */
async function openLoginPage(browser: Browser, req: AuthRequest): Promise<{ interactionUrl: URL; html: string }> {
  const res = await browser.request(req.url);
  expect(res.status).toBe(303);
  const interactionUrl = location(res, req.url);
  expect(interactionUrl.origin).toBe(idp.url);
  expect(interactionUrl.pathname).toMatch(/^\/interaction\/[A-Za-z0-9_-]+$/);
  const page = await browser.request(interactionUrl);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  return { interactionUrl, html: await page.text() };
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe('demo IdP (real oidc-provider)', () => {
  it('exports the demo accounts', () => {
    const alice = DEMO_USERS.find((u) => u.sub === 'alice');
    expect(alice).toMatchObject({ email: 'alice@example.org', name: 'Alice Example', password: 'demo' });
    expect(alice?.groups).toEqual(['board', 'board-chair', 'staff']);
    expect(DEMO_USERS.find((u) => u.sub === 'bob')?.groups).toEqual(['staff']);
    expect(DEMO_USERS.find((u) => u.sub === 'carol')?.groups).toEqual([]);
  });

  it('serves discovery metadata for its real issuer', async () => {
    expect(idp.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    discovery = (await res.json()) as Record<string, unknown>;
    expect(discovery.issuer).toBe(idp.issuer);
    expect(discovery.end_session_endpoint).toBe(`${idp.issuer}/session/end`);
    expect(discovery.backchannel_logout_supported).toBe(true);
    expect(discovery.code_challenge_methods_supported).toContain('S256');
    expect(discovery.response_types_supported).toEqual(['code']);
    expect(discovery.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
    );
    expect(discovery.scopes_supported).toEqual(expect.arrayContaining(['openid', 'email', 'profile', 'groups']));
    expect(discovery.claims_supported).toEqual(
      expect.arrayContaining(['email', 'email_verified', 'name', 'preferred_username', 'groups']),
    );
  });

  // State shared by the sequential flow tests below (same browser = same IdP session).
  const browser = new Browser();
  let idToken = '';

  it('runs a full authorization code + PKCE flow over plain http', async () => {
    const req = await authRequest();
    const { interactionUrl, html } = await openLoginPage(browser, req);

    expect(html).toContain('roomguard demo identity provider');
    expect(html).toMatch(/for demos/i);
    expect(html).toMatch(/<input[^>]*name="login"/);
    expect(html).toMatch(/<input[^>]*name="password"[^>]*type="password"|<input[^>]*type="password"[^>]*name="password"/);
    expect(html).toContain('>Username</label>');
    expect(html).toContain('>Password</label>');
    expect(html).toMatch(/<button[^>]*type="submit"[^>]*>Sign in<\/button>/);
    expect(html).not.toContain('<script');

    // oidc-provider cookies work over http: none of them is marked Secure.
    const cookies = [...browser.jar.cookies.values()];
    expect(cookies.length).toBeGreaterThan(0);
    for (const c of cookies) {
      expect(c.attributes).not.toContain('secure');
      expect(c.attributes).toContain('httponly');
    }

    // Wrong password: the form is shown again with an error, nothing crashes.
    const wrong = await browser.postForm(interactionUrl, { login: 'alice', password: 'nope' });
    expect([200, 401]).toContain(wrong.status);
    const wrongHtml = await wrong.text();
    expect(wrongHtml).toContain('Invalid username or password');
    expect(wrongHtml).toMatch(/name="login"[^>]*value="alice"|value="alice"[^>]*name="login"/);

    // Unknown user, and HTML in the username is escaped when re-rendered.
    const evil = await browser.postForm(interactionUrl, { login: '<b>x</b>"', password: 'demo' });
    expect(evil.status).toBe(200);
    const evilHtml = await evil.text();
    expect(evilHtml).toContain('Invalid username or password');
    expect(evilHtml).not.toContain('<b>x</b>');
    expect(evilHtml).toContain('&lt;b&gt;x&lt;/b&gt;&quot;');

    // Correct credentials: login -> (automatic consent) -> redirect_uri?code=...
    const ok = await browser.postForm(interactionUrl, { login: 'alice', password: 'demo' });
    expect(ok.status).toBe(303);
    const { location: callback, hops } = await browser.follow(ok, interactionUrl, REDIRECT_URI);
    expect(callback, `hops: ${hops.map((h) => h.href).join(' -> ')}`).toBeDefined();
    if (!callback) return;
    expect(callback.searchParams.get('error')).toBeNull();
    expect(callback.searchParams.get('code')).toBeTruthy();
    expect(callback.searchParams.get('state')).toBe(req.state);
    expect(callback.searchParams.get('iss')).toBe(idp.issuer);
    // The consent prompt was handled without showing a page.
    expect(hops.filter((h) => h.pathname.startsWith('/interaction/')).length).toBeGreaterThanOrEqual(1);

    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
      idTokenExpected: true,
    });
    expect(tokens.id_token).toBeTruthy();
    idToken = tokens.id_token ?? '';

    // Verify the ID token independently against the published JWKS.
    expect(typeof discovery.jwks_uri).toBe('string');
    const jwks = createRemoteJWKSet(new URL(String(discovery.jwks_uri)));
    const { payload, protectedHeader } = await jwtVerify(idToken, jwks, {
      issuer: idp.issuer,
      audience: CLIENT_ID,
      algorithms: ['RS256'],
    });
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload.sub).toBe('alice');
    expect(payload.nonce).toBe(req.nonce);
    expect(payload.email).toBe('alice@example.org');
    expect(payload.email_verified).toBe(true);
    expect(payload.name).toBe('Alice Example');
    expect(payload.preferred_username).toBe('alice');
    expect(payload.groups).toEqual(expect.arrayContaining(['board', 'board-chair', 'staff']));
    expect(typeof payload.sid).toBe('string');

    // The same claims are available from userinfo.
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, 'alice');
    expect(userinfo.email).toBe('alice@example.org');
    expect(userinfo.groups).toEqual(expect.arrayContaining(['board-chair']));
  });

  it('reuses the IdP session (SSO) and accepts client_secret_post at the token endpoint', async () => {
    const req = await authRequest();
    const first = await browser.request(req.url);
    const { location: callback, hops } = await browser.follow(first, req.url, REDIRECT_URI);
    expect(callback, `hops: ${hops.map((h) => h.href).join(' -> ')}`).toBeDefined();
    const code = callback?.searchParams.get('code');
    expect(code).toBeTruthy();

    const res = await fetch(String(discovery.token_endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: code ?? '',
        redirect_uri: REDIRECT_URI,
        code_verifier: req.verifier,
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id_token?: string };
    expect(decodeJwt(body.id_token ?? '').sub).toBe('alice');
  });

  it('refuses authorization requests without PKCE or with the plain method', async () => {
    const noPkce = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      state: 'no-pkce',
    });
    const res = await browser.request(noPkce);
    expect(res.status).toBe(303);
    const loc = location(res, noPkce);
    expect(loc.href.startsWith(REDIRECT_URI)).toBe(true);
    expect(loc.searchParams.get('error')).toBe('invalid_request');
    expect(loc.searchParams.get('code')).toBeNull();
    expect(loc.searchParams.get('error_description') ?? '').toMatch(/PKCE/i);

    const plain = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      state: 'plain',
      code_challenge: 'a'.repeat(43),
      code_challenge_method: 'plain',
    });
    const res2 = await browser.request(plain);
    const loc2 = location(res2, plain);
    expect(loc2.searchParams.get('error')).toBe('invalid_request');
    expect(loc2.searchParams.get('code')).toBeNull();
  });

  it('refuses a code exchange with a missing or wrong code_verifier', async () => {
    for (const verifier of [undefined, oidc.randomPKCECodeVerifier()]) {
      const req = await authRequest();
      const first = await browser.request(req.url);
      const { location: callback } = await browser.follow(first, req.url, REDIRECT_URI);
      const code = callback?.searchParams.get('code');
      expect(code).toBeTruthy();

      const params = new URLSearchParams({ grant_type: 'authorization_code', code: code ?? '', redirect_uri: REDIRECT_URI });
      if (verifier) params.set('code_verifier', verifier);
      const res = await fetch(String(discovery.token_endpoint), {
        method: 'POST',
        headers: {
          authorization: basic(CLIENT_ID, CLIENT_SECRET),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: params,
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error?: string };
      expect(body.error).toBe('invalid_grant');
    }
  });

  it('rejects a wrong client secret', async () => {
    const res = await fetch(String(discovery.token_endpoint), {
      method: 'POST',
      headers: { authorization: basic(CLIENT_ID, 'wrong'), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT_URI, code_verifier: 'a'.repeat(43) }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error?: string }).error).toBe('invalid_client');
  });

  it('bounds interaction form bodies and survives stale interactions', async () => {
    const fresh = new Browser();
    const { interactionUrl } = await openLoginPage(fresh, await authRequest());

    const big = await fresh.request(interactionUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `login=alice&password=${'x'.repeat(9 * 1024)}`,
    });
    expect(big.status).toBe(413);
    await big.arrayBuffer();

    // Without the interaction cookie (e.g. expired or another browser) -> friendly 400, no crash.
    const stranger = new Browser();
    const stale = await stranger.postForm(interactionUrl, { login: 'alice', password: 'demo' });
    expect(stale.status).toBe(400);
    expect(await stale.text()).toContain('roomguard demo identity provider');

    // The original interaction still works afterwards (cancel -> access_denied at the client).
    const cancel = await fresh.postForm(interactionUrl, { abort: '1' });
    const { location: callback } = await fresh.follow(cancel, interactionUrl, REDIRECT_URI);
    expect(callback?.searchParams.get('error')).toBe('access_denied');
  });

  it('RP-initiated logout shows a no-JS confirmation form and sends a back-channel logout token', async () => {
    expect(idToken).toBeTruthy();
    const sid = decodeJwt(idToken).sid;
    const endSession = oidc.buildEndSessionUrl(config, {
      id_token_hint: idToken,
      post_logout_redirect_uri: POST_LOGOUT_URI,
      state: 'bye',
    });
    const page = await browser.request(endSession);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy') ?? '').toContain("default-src 'none'");
    const html = await page.text();
    expect(html).not.toContain('<script');
    expect(html).toContain('roomguard demo identity provider');
    const action = /<form id="op\.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(action).toBeTruthy();
    expect(xsrf).toBeTruthy();
    expect(html).toMatch(/<button[^>]*form="op\.logoutForm"[^>]*name="logout"[^>]*value="yes"[^>]*>Sign out<\/button>/);

    const confirm = await browser.postForm(action ?? '', { xsrf: xsrf ?? '', logout: 'yes' });
    expect(confirm.status).toBe(303);
    const after = location(confirm, action ?? '');
    expect(after.href.startsWith(POST_LOGOUT_URI)).toBe(true);
    expect(after.searchParams.get('state')).toBe('bye');

    // Back-channel logout reached the loopback receiver (SSRF guard bypass works).
    await expect.poll(() => receiver.tokens.length, { timeout: 5_000 }).toBeGreaterThan(0);
    const jwks = createRemoteJWKSet(new URL(String(discovery.jwks_uri)));
    const { payload } = await jwtVerify(receiver.tokens[0] ?? '', jwks, { issuer: idp.issuer, audience: CLIENT_ID });
    expect(payload.sub).toBe('alice');
    expect(payload.sid).toBe(sid);
    expect(payload.events).toHaveProperty(['http://schemas.openid.net/event/backchannel-logout']);

    // The IdP session is gone: a new authorization request asks for the login again.
    const req = await authRequest();
    const again = await browser.request(req.url);
    expect(location(again, req.url).pathname).toMatch(/^\/interaction\//);
  });

  it('logout without an IdP session does not rely on an auto-submitting script', async () => {
    const stranger = new Browser();
    const res = await stranger.request(`${idp.issuer}/session/end`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain('<script');
    expect(html).toMatch(/<button[^>]*type="submit"[^>]*>Continue<\/button>/);
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    const done = await stranger.postForm(action ?? '', { xsrf: xsrf ?? '', logout: 'yes' });
    expect(done.status).toBe(303);
    const success = await stranger.request(location(done, action ?? ''));
    expect(success.status).toBe(200);
    expect(await success.text()).toContain('signed out');
  });
});

describe('demo IdP with an issuer path and custom users', () => {
  it('mounts every endpoint below the issuer path', async () => {
    const server = await startDemoIdp({
      issuerPath: '/oidc',
      users: [{ sub: 'dave', password: 'pw', email: 'dave@example.org', name: 'Dave Example', groups: ['ops'] }],
      clients: [{ clientId: 'p', clientSecret: 'p-secret', redirectUris: [REDIRECT_URI] }],
    });
    try {
      expect(server.issuer).toBe(`${server.url}/oidc`);
      const meta = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(meta.issuer).toBe(server.issuer);
      expect(String(meta.authorization_endpoint)).toBe(`${server.issuer}/auth`);
      expect((await fetch(`${server.url}/.well-known/openid-configuration`)).status).toBe(404);

      const cfg = await oidc.discovery(new URL(server.issuer), 'p', 'p-secret', oidc.ClientSecretBasic('p-secret'), {
        execute: [oidc.allowInsecureRequests],
      });
      const verifier = oidc.randomPKCECodeVerifier();
      const url = oidc.buildAuthorizationUrl(cfg, {
        redirect_uri: REDIRECT_URI,
        scope: SCOPE,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: 's1',
      });
      const b = new Browser();
      const first = await b.request(url);
      const interactionUrl = location(first, url);
      expect(interactionUrl.pathname).toMatch(/^\/oidc\/interaction\//);
      const page = await (await b.request(interactionUrl)).text();
      expect(page).not.toContain('alice');
      const ok = await b.postForm(interactionUrl, { login: 'dave', password: 'pw' });
      const { location: callback, hops } = await b.follow(ok, interactionUrl, REDIRECT_URI);
      expect(callback, `hops: ${hops.map((h) => h.href).join(' -> ')}`).toBeDefined();
      if (!callback) return;
      const tokens = await oidc.authorizationCodeGrant(cfg, callback, { pkceCodeVerifier: verifier, expectedState: 's1' });
      const claims = tokens.claims();
      expect(claims?.sub).toBe('dave');
      expect(claims?.groups).toEqual(['ops']);
    } finally {
      await server.close();
    }
  });
});
