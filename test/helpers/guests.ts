// The guest path as a scripted browser walks it: a moderator signs in at the real IdP and creates an
// invitation on /_roomguard/rooms/<room>/invites; a guest (no account, own cookie jar) opens the link,
// sends the name form, and follows the redirect into the room.
import { ScriptedBrowser, type Hop } from './browser.js';

export const HTML = { accept: 'text/html' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

export function csrfOf(html: string): string {
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!csrf) throw new Error(`no csrf field in page:\n${html.slice(0, 400)}`);
  return csrf;
}

/** Signs `user` in through the invitations page of `room` and returns the page's HTML. */
export async function openInvitesPage(origin: string, room: string, user: string, browser = new ScriptedBrowser(HTML)): Promise<{ browser: ScriptedBrowser; status: number; html: string }> {
  let result = await browser.follow(`${origin}/_roomguard/rooms/${room}/invites`);
  if (new URL(result.final.url).origin !== origin) result = await browser.submitLogin(result.final, user, 'demo');
  const html = await result.final.text();
  return { browser, status: result.final.status, html };
}

/** Creates an invitation on the page (the moderator is signed in) and returns the link it shows once. */
export async function createInvitation(browser: ScriptedBrowser, origin: string, room: string, form: { ttl?: string; uses?: string; note?: string } = {}): Promise<{ status: number; html: string; link?: string }> {
  const page = await browser.request(`${origin}/_roomguard/rooms/${room}/invites`);
  const csrf = csrfOf(await page.text());
  const res = await browser.request(`${origin}/_roomguard/rooms/${room}/invites`, {
    method: 'POST', headers: FORM, body: new URLSearchParams({ csrf, ttl: form.ttl ?? '1d', uses: form.uses ?? '5', note: form.note ?? '' }).toString(),
  });
  const html = await res.text();
  const link = /id="invite-link" type="text" readonly value="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
  return { status: res.status, html, ...(link ? { link } : {}) };
}

export interface GuestVisit {
  browser: ScriptedBrowser;
  /** The page behind the link (the name form, or a refusal). */
  page: Response;
  pageHtml: string;
}

/** Opens an invitation link in a browser without any session. */
export async function openInvitation(link: string, browser = new ScriptedBrowser(HTML)): Promise<GuestVisit> {
  const page = await browser.request(link);
  return { browser, page, pageHtml: await page.text() };
}

/** Sends the name form of an opened invitation and follows into the room. */
export async function sendGuestName(visit: GuestVisit, link: string, name: string): Promise<{ final: Response; hops: Hop[] }> {
  const token = new URL(link).searchParams.get('invite') ?? '';
  const csrf = csrfOf(visit.pageHtml);
  return visit.browser.follow(new URL(link).origin + new URL(link).pathname, {
    method: 'POST', headers: FORM, body: new URLSearchParams({ csrf, invite: token, name }).toString(),
  });
}

/** Opens the link and joins with `name`: the guest's browser and where it ended up. */
export async function joinAsGuest(link: string, name: string, browser = new ScriptedBrowser(HTML)) {
  const visit = await openInvitation(link, browser);
  if (visit.page.status !== 200) return { browser, final: visit.page, hops: [] as Hop[], visit };
  const result = await sendGuestName(visit, link, name);
  return { browser, ...result, visit };
}
