// How a page of roomguard's is framed for one request: the person's language (query, cookie, browser),
// the security headers with a fresh CSP nonce, branding, and the link to the other language. Every page
// and refusal page goes through here.
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { chooseLang, type Lang } from './i18n.js';
import type { Frame, SiteLinks } from './layout.js';
import { securityHeaders } from './security-headers.js';

export interface FrameSettings {
  publicUrl: URL;
  orgName: string;
  hasLogo: boolean;
  /** The identity provider's origin: login and logout forms may post there. */
  idpOrigin: string;
  /** Where the chosen language is remembered. */
  langCookie: { name: string; options: Record<string, unknown> };
  /** `ui.timeZone` (unset: the server's zone). */
  timeZone: string;
  links: SiteLinks;
}

export class PageFrames {
  readonly #settings: FrameSettings;
  readonly #https: boolean;

  constructor(settings: FrameSettings) {
    this.#settings = settings;
    this.#https = settings.publicUrl.protocol === 'https:';
  }

  /** `ui.links`, for pages written without a request (raw refusals). */
  get links(): SiteLinks {
    return this.#settings.links;
  }

  lang(request: FastifyRequest): Lang {
    // `cookies` is missing on a request the router refused before @fastify/cookie's hook ran.
    return chooseLang(langParameter(request), request.cookies?.[this.#settings.langCookie.name], request.headers['accept-language']);
  }

  /** Sets the page's security headers (with a fresh CSP nonce) and returns the frame to render it in. */
  frame(request: FastifyRequest, reply: FastifyReply): Frame {
    const s = this.#settings;
    const lang = this.lang(request);
    const asked = langParameter(request);
    if (asked === 'de' || asked === 'en') reply.setCookie(s.langCookie.name, lang, { ...s.langCookie.options, maxAge: 365 * 86_400 });
    const nonce = randomBytes(16).toString('base64');
    reply.headers(securityHeaders({ https: this.#https, formActions: [s.idpOrigin], nonce }));
    return { lang, orgName: s.orgName, hasLogo: s.hasLogo, nonce, switchHref: languageSwitchHref(request.url, s.publicUrl, lang === 'de' ? 'en' : 'de'), timeZone: s.timeZone, links: s.links };
  }

  page(request: FastifyRequest, reply: FastifyReply, render: (frame: Frame) => string, status = 200) {
    const html = render(this.frame(request, reply));
    return reply.code(status).type('text/html; charset=utf-8').send(html);
  }
}

/**
 * The `lang` query parameter of any request, one of roomguard's pages or a refusal of anything else: no
 * route schema declares it, and a request the router refused has no parsed query at all.
 */
function langParameter(request: FastifyRequest): unknown {
  const query: unknown = request.query;
  return typeof query === 'object' && query !== null && 'lang' in query ? query.lang : undefined;
}

/**
 * The language switch link: the request's query with `lang` set, as a query-only reference, so the browser
 * keeps the page's own path. A path in it could resolve (dot segments, `/.//host/x`) to `//host/x`, a link
 * to another site.
 */
export function languageSwitchHref(requestUrl: string, publicUrl: string | URL, other: 'de' | 'en'): string {
  let url: URL;
  try {
    url = new URL(requestUrl, publicUrl);
  } catch {
    url = new URL('/', publicUrl); // a request URL that does not parse still gets its error page
  }
  url.searchParams.set('lang', other);
  return url.search;
}
