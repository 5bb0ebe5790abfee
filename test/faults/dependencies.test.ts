// The IdP and the upstream failing under a real gateway: an IdP that is down, one that accepts
// connections and never answers (discovery times out instead of hanging the login), one that restarts
// with new signing keys, and an upstream that is gone (502 page, WebSocket refused). Real Redis.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { startDemoIdp } from '../../src/demo/idp.js';
import { startEchoUpstream } from '../helpers/upstream.js';
import { loginAs } from '../security/harness.js';
import { CLIENT_SECRET, startRig, type Rig } from '../helpers/rig.js';

/** A TCP server that accepts connections and never says a word. */
async function blackHole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** The key ids the IdP publishes now. */
async function signingKids(issuer: string): Promise<string[]> {
  const meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
  const jwks = (await (await fetch(meta.jwks_uri)).json()) as { keys: Array<{ kid: string }> };
  return jwks.keys.map((k) => k.kid);
}

describe('identity provider faults', () => {
  it('keeps admitting existing sessions while the IdP is down, answers a new login with a 503 page, and reports readiness degraded', async () => {
    const rig = await startRig({ store: inject('redisUrl') });
    try {
      const { browser } = await loginAs(rig.origin, 'bob');
      await rig.idp.close();
      // A session needs no IdP round trip.
      expect((await browser.request(`${rig.origin}/rooms/town-hall`)).status).toBe(200);
      // An instance that starts while the IdP is down cannot discover it: its login page says so.
      const fresh = await startRig({ store: inject('redisUrl'), idp: rig.idp, upstream: rig.upstream });
      try {
        const res = await fetch(`${fresh.origin}/rooms/town-hall`, { redirect: 'manual' });
        expect(res.status).toBe(302);
        const login = await fetch(new URL(res.headers.get('location')!, fresh.origin), { redirect: 'manual' });
        expect(login.status).toBe(503);
        const page = await login.text();
        expect(page).toContain('RG_IDP_UNAVAILABLE');
        expect(page).toContain(login.headers.get('x-request-id')!);
        // Readiness degrades but stays 200: signed-in people keep their meetings on this instance.
        const ready = await fetch(`${fresh.origin}/readyz`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toMatchObject({ status: 'degraded', checks: { idp: { ok: false } } });
      } finally {
        await fresh.close();
      }
    } finally {
      await rig.close();
    }
  });

  it('gives up on an IdP that accepts connections but never answers, with a 503 page instead of a hung login', async () => {
    const hole = await blackHole();
    const upstream = await startEchoUpstream();
    const fakeIdp = { issuer: hole.url, url: hole.url, provider: undefined, close: async () => undefined };
    const rig = await startRig({ store: inject('redisUrl'), idp: fakeIdp, upstream });
    try {
      const res = await fetch(`${rig.origin}/_roomguard/login?returnTo=%2Frooms%2Ftown-hall`, { redirect: 'manual' });
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('RG_IDP_UNAVAILABLE');
      expect((await fetch(`${rig.origin}/healthz`)).status).toBe(200);
    } finally {
      await rig.close();
      await upstream.close();
      await hole.close();
    }
  }, 45_000);

  it('follows the IdP to new signing keys: after the IdP restarts with a new key, logins work again', async () => {
    const rig = await startRig({ store: inject('redisUrl') });
    try {
      expect((await loginAs(rig.origin, 'bob')).final.status).toBe(200);
      const oldKids = await signingKids(rig.idp.issuer);
      const port = Number(new URL(rig.idp.issuer).port);
      const { redirectUris, postLogoutRedirectUris } = { redirectUris: [`${rig.origin}/_roomguard/callback`], postLogoutRedirectUris: [`${rig.origin}/_roomguard/logged-out`] };
      await rig.idp.close();
      // Same issuer, same client, new random RS256 key with a new kid.
      const rotated = await startDemoIdp({ port, clients: [{ clientId: 'roomguard-test', clientSecret: CLIENT_SECRET, redirectUris, postLogoutRedirectUris }] });
      try {
        const newKids = await signingKids(rotated.issuer);
        expect(newKids.filter((kid) => oldKids.includes(kid))).toEqual([]);
        const again = await loginAs(rig.origin, 'carol');
        expect(again.final.status).toBe(200);
        expect(again.browser.jar.get('roomguard_session')).toBeDefined();
      } finally {
        await rotated.close();
      }
    } finally {
      await rig.close();
    }
  });
});

describe('upstream faults', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({ store: inject('redisUrl') });
  });

  afterAll(async () => {
    await rig?.close();
  });

  it('answers an admitted request to a dead upstream with a 502 page naming the error and a request id, and a WebSocket with a refusal', async () => {
    const { browser } = await loginAs(rig.origin, 'bob');
    await rig.upstream.close();
    const res = await browser.request(`${rig.origin}/rooms/staff-weekly`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(502);
    const page = await res.text();
    expect(page).toContain('RG_UPSTREAM_UNAVAILABLE');
    expect(page).toContain(res.headers.get('x-request-id')!);
    const ws = new WebSocket(`ws://127.0.0.1:${rig.port}/rooms/staff-weekly/ws`, { headers: { cookie: browser.jar.header(new URL(rig.origin))! } });
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => ws.once('close', (code) => resolve(`closed ${code}`)));
      ws.once('unexpected-response', (_req, r) => resolve(`status ${r.statusCode}`));
      ws.once('error', () => resolve('error'));
    });
    expect(outcome).not.toBe('closed 1000');
    expect((await fetch(`${rig.origin}/healthz`)).status).toBe(200);
  });
});
