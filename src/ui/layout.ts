// The one layout of every page roomguard renders: document head (local stylesheets only, scripts only
// with the response's CSP nonce), the branded header with the language switch, and the main card.
import { html, join, type SafeHtml } from './html.js';
import { UI_TEXT, type Lang } from './i18n.js';

/** What every page shares: language, branding, the CSP nonce and the link to the other language. */
export interface Frame {
  lang: Lang;
  orgName: string;
  hasLogo: boolean;
  nonce: string;
  /** URL of this page in the other language. */
  switchHref: string;
  scripts?: string[];
  /** Zone of the times on the page (`ui.timeZone`); unset: the server's. */
  timeZone?: string;
  /** The organisation's links in the footer (`ui.links`). */
  links?: SiteLinks;
}

/** `ui.links`: the privacy notice, the imprint and help, each optional. */
export interface SiteLinks {
  privacy?: string;
  imprint?: string;
  help?: string;
}

export const SITE_LINKS = ['privacy', 'imprint', 'help'] as const;

/** The footer with the organisation's links, in the page's language; nothing when none is configured. */
export function siteLinks(frame: Frame): SafeHtml | undefined {
  const t = UI_TEXT[frame.lang];
  const present = SITE_LINKS.filter((key) => frame.links?.[key]);
  if (present.length === 0) return undefined;
  return html`<footer class="site-links"><nav aria-label="${t.siteLinks}"><ul>${present.map((key) => html`<li><a href="${frame.links![key]!}">${t[key]}</a></li>`)}</ul></nav></footer>`;
}

/** What a page may change in the layout; every page gets the shared stylesheets, header and nonce. */
export interface PageOptions {
  /**
   * The reviewer page: wide tables and a chart instead of a card (its own stylesheet, audit.css), and
   * kept out of search engines.
   */
  reviewer?: boolean;
}

/** A whole page as the response body. */
export function layout(frame: Frame, title: string, body: SafeHtml, options: PageOptions = {}): string {
  const other: Lang = frame.lang === 'de' ? 'en' : 'de';
  const scripts = (frame.scripts ?? []).map((src) => html`<script nonce="${frame.nonce}" src="${src}"></script>`);
  return html`<!doctype html>
<html lang="${frame.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
${options.reviewer && html`<meta name="robots" content="noindex">
`}<title>${title} · ${frame.orgName}</title>
<link rel="stylesheet" href="/_roomguard/assets/style.css">
<link rel="stylesheet" href="/_roomguard/assets/theme.css">
${options.reviewer && html`<link rel="stylesheet" href="/_roomguard/assets/audit.css">
`}</head>
<body${options.reviewer && html` class="audit-page"`}>
<header class="brand">
${frame.hasLogo && html`<img src="/_roomguard/assets/logo" alt="" class="logo">`}<span>${frame.orgName}</span>
<a class="lang" href="${frame.switchHref}" hreflang="${other}" lang="${other}">${UI_TEXT[frame.lang].language}</a>
</header>
<main class="${options.reviewer ? 'audit' : 'card'}">
${body}
</main>
${siteLinks(frame)}
${join(scripts, '\n')}
</body>
</html>
`.toString();
}
