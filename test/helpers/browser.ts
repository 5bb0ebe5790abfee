// A small scripted browser for integration tests: a cookie jar (name + path + host-only, like
// browsers do for loopback) and fetch with redirects followed by hand, so every hop can be inspected.

export interface Cookie {
  name: string;
  value: string;
  path: string;
  attributes: Map<string, string>;
}

export class CookieJar {
  readonly cookies = new Map<string, Cookie>();

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const attributes = new Map<string, string>();
      for (const raw of attrs) {
        const [k = '', ...v] = raw.split('=');
        attributes.set(k.trim().toLowerCase(), v.join('=').trim());
      }
      const path = attributes.get('path') || '/';
      const maxAge = attributes.get('max-age');
      const expires = attributes.get('expires');
      const expired = (maxAge !== undefined && Number(maxAge) <= 0) || (expires !== undefined && Date.parse(expires) <= Date.now());
      const id = `${name};${path}`;
      if (expired || value === '') this.cookies.delete(id);
      else this.cookies.set(id, { name, value, path, attributes });
    }
  }

  header(url: URL): string | undefined {
    const parts: string[] = [];
    for (const c of this.cookies.values()) {
      const prefix = c.path.endsWith('/') ? c.path : `${c.path}/`;
      if (url.pathname === c.path || url.pathname.startsWith(prefix)) parts.push(`${c.name}=${c.value}`);
    }
    return parts.length > 0 ? parts.join('; ') : undefined;
  }

  get(name: string): Cookie | undefined {
    for (const c of this.cookies.values()) if (c.name === name) return c;
    return undefined;
  }
}

export interface Hop {
  url: URL;
  status: number;
  location?: string;
  response: Response;
}

export class ScriptedBrowser {
  readonly jar: CookieJar;
  readonly headers: Record<string, string>;

  constructor(headers: Record<string, string> = {}, jar = new CookieJar()) {
    this.jar = jar;
    this.headers = headers;
  }

  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(this.headers)) if (!headers.has(k)) headers.set(k, v);
    const cookie = this.jar.header(target);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.jar.store(res);
    return res;
  }

  /** Follows redirects like a browser (303 and 302 after POST become GET), recording each hop. */
  async follow(url: string | URL, init: RequestInit = {}, maxHops = 15): Promise<{ final: Response; hops: Hop[] }> {
    const hops: Hop[] = [];
    let current = new URL(url);
    let currentInit = init;
    for (let i = 0; i < maxHops; i++) {
      const res = await this.request(current, currentInit);
      const location = res.headers.get('location') ?? undefined;
      hops.push({ url: current, status: res.status, response: res, ...(location ? { location } : {}) });
      if (res.status < 300 || res.status >= 400 || !location) return { final: res, hops };
      await res.arrayBuffer();
      current = new URL(location, current);
      currentInit = {};
    }
    throw new Error(`more than ${maxHops} redirects from ${url}`);
  }

  /** Submits the demo IdP's login form found in `page` (fields login and password). */
  async submitLogin(page: Response, login: string, password: string): Promise<{ final: Response; hops: Hop[] }> {
    const html = await page.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no login form in page:\n${html.slice(0, 500)}`);
    const target = new URL(action.replace(/&amp;/g, '&'), page.url || undefined);
    return this.follow(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login, password }).toString(),
    });
  }
}

/**
 * Signs `user` in at the demo IdP, starting at `origin + path` (as a browser would, through whatever
 * proxy serves `origin`); returns the final response and roomguard's session cookie alone (the IdP's
 * cookies share the host name, as cookies ignore ports).
 */
export async function signInThrough(origin: string, user: string, path = '/rooms/town-hall', headers: Record<string, string> = {}): Promise<{ browser: ScriptedBrowser; final: Response; cookie: string }> {
  const browser = new ScriptedBrowser(headers);
  const start = await browser.follow(`${origin}${path}`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  return { browser, final: done.final, cookie: `roomguard_session=${browser.jar.get('roomguard_session')!.value}` };
}

/**
 * Opens a room page at `origin + path` as `user`: signs in at the demo IdP when sent there, and
 * acknowledges the notice of `room` when roomguard shows one (coming back to `path`). Returns the browser
 * and the last step's result (its final response and every hop, e.g. a backend's join redirect).
 */
export async function enterRoom(origin: string, path: string, room: string, user: string, browser = new ScriptedBrowser({ accept: 'text/html' })): Promise<{ browser: ScriptedBrowser; final: Response; hops: Hop[] }> {
  let result = await browser.follow(`${origin}${path}`);
  const landed = new URL(result.final.url);
  // The IdP on another origin, or (behind a web server that serves both) at its interaction path.
  if (landed.origin !== origin || landed.pathname === '/interaction') result = await browser.submitLogin(result.final, user, 'demo');
  if (new URL(result.final.url).pathname === '/_roomguard/notice') {
    const csrf = /name="csrf" value="([^"]+)"/.exec(await result.final.text())![1]!;
    result = await browser.follow(`${origin}/_roomguard/notice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, room, returnTo: path }).toString() });
  }
  return { browser, ...result };
}
