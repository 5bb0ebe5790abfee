// What a participant does, scripted over real HTTP: sign in at the real IdP through roomguard, join a
// high-risk room with a TOTP code, or (the baseline) sign in at a bare relying party. The same
// form-filling the integration tests do, without assertions, failing loudly.
import { generate } from 'otplib';
import { ScriptedBrowser } from '../test/helpers/browser.js';

const HTML = { accept: 'text/html' };

function form(fields: Record<string, string>): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() };
}

function field(html: string, pattern: RegExp, what: string): string {
  const value = pattern.exec(html)?.[1];
  if (!value) throw new Error(`no ${what} in page:\n${html.slice(0, 400)}`);
  return value;
}

const csrfOf = (html: string) => field(html, /name="csrf" value="([^"]+)"/, 'csrf field');

function expectStatus(res: Response, status: number, what: string): void {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} from ${res.url}`);
}

/** A browser that comes from its own address (the gateway trusts X-Forwarded-For from loopback). */
export function participantBrowser(address?: string): ScriptedBrowser {
  return new ScriptedBrowser(address ? { ...HTML, 'x-forwarded-for': address } : HTML);
}

/** Signs in through roomguard at the IdP, starting from a room page; returns the page the login ends on. */
export async function signIn(browser: ScriptedBrowser, origin: string, path: string, user: string): Promise<Response> {
  const start = await browser.follow(`${origin}${path}`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  return done.final;
}

/** Signs a person in through roomguard into an open room; returns the session cookie a load generator sends. */
export async function sessionCookie(origin: string, room: string, user: string): Promise<string> {
  const browser = participantBrowser();
  const page = await signIn(browser, origin, `/rooms/${room}`, user);
  await page.arrayBuffer();
  if (page.status !== 200) throw new Error(`${user}: sign-in into ${room} ended with ${page.status} at ${page.url}`);
  const cookie = browser.jar.header(new URL(origin));
  if (!cookie) throw new Error(`no session cookie for ${origin}`);
  return cookie;
}

/** One join of a high-risk room from nothing: OIDC login, TOTP code, the room page. */
export async function joinWithTotp(browser: ScriptedBrowser, origin: string, room: string, user: string, secret: string): Promise<void> {
  const returnTo = `/rooms/${room}`;
  const mfaPage = await signIn(browser, origin, returnTo, user);
  if (!mfaPage.url.includes('/_roomguard/mfa')) throw new Error(`${user}: expected the second-factor page after login, got ${mfaPage.status} ${mfaPage.url}`);
  const code = await generate({ secret, epoch: Math.floor(Date.now() / 1000) });
  const confirmed = await browser.request(`${origin}/_roomguard/mfa/totp`, form({ csrf: csrfOf(await mfaPage.text()), returnTo, room, code }));
  expectStatus(confirmed, 303, `${user}: TOTP confirmation`);
  const roomPage = await browser.request(`${origin}${returnTo}`);
  expectStatus(roomPage, 200, `${user}: room page`);
  await roomPage.arrayBuffer();
}

/** The baseline: the same person signs in at a bare relying party (code flow + token exchange only). */
export async function idpOnlyLogin(browser: ScriptedBrowser, rpUrl: string, user: string): Promise<void> {
  const start = await browser.follow(`${rpUrl}/login`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  expectStatus(done.final, 200, `${user}: bare relying party login`);
  await done.final.arrayBuffer();
}
