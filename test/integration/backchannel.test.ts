// OIDC back-channel logout with the real oidc-provider: ending the IdP session ends roomguard's
// session(s) from it on every instance; forged or malformed logout tokens are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair } from 'jose';
import type { DemoIdp } from '../../src/demo/idp.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { CLIENT_ID, CLIENT_SECRET, startRig, type Rig } from '../helpers/rig.js';

let rig: Rig;
let idp: DemoIdp;
let origin: string;
let portB: number;
/** The gateways' store and keys, for the CLI. */
let cliConfig: Record<string, unknown>;

beforeAll(async () => {
  // Two instances behind one public origin; the IdP tells it about sessions ended at the IdP.
  rig = await startRig({ idp: { backchannelLogout: true }, instances: [{}, { behindFirst: true }] });
  ({ idp, origin } = rig);
  portB = rig.instances[1]!.port;
  cliConfig = {
    publicUrl: origin, oidc: { issuer: idp.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    store: { url: rig.store, keyPrefix: rig.keyPrefix }, backend: { upstream: rig.upstream.url }, secrets: rig.keys,
  };
});

afterAll(async () => {
  await rig?.close();
});

describe('back-channel logout', () => {
  it('ends the roomguard session when the person signs out at the IdP', async () => {
    const browser = new ScriptedBrowser();
    const start = await browser.follow(`${origin}/rooms/staff-weekly`);
    const done = await browser.submitLogin(start.final, 'bob', 'demo');
    expect(done.final.status).toBe(200);
    expect((await browser.request(`http://127.0.0.1:${portB}/rooms/staff-weekly`)).status).toBe(200);

    // Sign out at the IdP itself (not through roomguard): it notifies roomguard over the back channel.
    const page = await browser.follow(`${idp.issuer}/session/end`);
    const html = await page.final.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    await browser.follow(new URL(action, page.final.url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, logout: 'yes' }).toString() });

    await expect.poll(async () => (await browser.request(`http://127.0.0.1:${portB}/rooms/staff-weekly`)).status, { timeout: 5000, interval: 100 }).toBe(302);
    expect((await browser.request(`${origin}/rooms/staff-weekly`)).status).toBe(302);
  });

  it('refuses logout tokens not signed by the IdP, and malformed requests', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ sub: 'bob', events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })
      .setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt' })
      .setIssuer(idp.issuer).setAudience('roomguard-test').setIssuedAt().setJti('x1').sign(privateKey);
    for (const body of [`logout_token=${forged}`, 'logout_token=not-a-jwt', '']) {
      const res = await fetch(`${origin}/_roomguard/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request' });
    }
  });
});

describe('roomguard sessions', () => {
  it('lists a person\'s sessions and revokes them from the command line, effective on the gateway', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { stringify } = await import('yaml');
    const browser = new ScriptedBrowser();
    const start = await browser.follow(`${origin}/rooms/staff-weekly`);
    await browser.submitLogin(start.final, 'bob', 'demo');
    expect((await browser.request(`${origin}/rooms/staff-weekly`)).status).toBe(200);

    // The CLI reads the same store with the same keys as the running gateways.
    const dir = mkdtempSync(join(tmpdir(), 'rg-sessions-cli-'));
    const file = join(dir, 'roomguard.yaml');
    writeFileSync(file, stringify(cliConfig));
    const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/cli.ts', ...args, '--config', file], { cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8' });
    const listed = JSON.parse(cli(['sessions', 'list', '--user', 'bob', '--json']).stdout) as Array<{ session: string }>;
    expect(listed.length).toBeGreaterThanOrEqual(1);
    const revoked = cli(['sessions', 'revoke', '--user', 'bob']);
    expect(revoked.status).toBe(0);
    expect(revoked.stdout).toMatch(/ended \d+ session/);
    expect((await browser.request(`${origin}/rooms/staff-weekly`)).status).toBe(302);
    expect(cli(['sessions', 'revoke']).status).toBe(2);
  }, 120_000); // four CLI processes, each compiling TypeScript: slow on a loaded CI machine
});
