// Server-rendered pages of roomguard itself: error, sign-out, signed-out, privacy notice. Plain HTML
// with local stylesheets; scripts only where a page needs them (WebAuthn), each carrying the response's
// CSP nonce; no third-party assets; every dynamic value is escaped.
import { ERROR_TEXT, UI_TEXT, type Lang } from './i18n.js';
import type { ErrorCode } from '../errors.js';

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** What every page shares: language, branding, the CSP nonce and the link to the other language. */
export interface Frame {
  lang: Lang;
  orgName: string;
  hasLogo: boolean;
  nonce: string;
  /** URL of this page in the other language. */
  switchHref: string;
  scripts?: string[];
}

export function layout(frame: Frame, title: string, body: string): string {
  const ui = UI_TEXT[frame.lang];
  const other = frame.lang === 'de' ? 'en' : 'de';
  const scripts = (frame.scripts ?? []).map((src) => `<script nonce="${escapeHtml(frame.nonce)}" src="${escapeHtml(src)}"></script>`).join('\n');
  return `<!doctype html>
<html lang="${frame.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(title)} · ${escapeHtml(frame.orgName)}</title>
<link rel="stylesheet" href="/_roomguard/assets/style.css">
<link rel="stylesheet" href="/_roomguard/assets/theme.css">
</head>
<body>
<header class="brand">
${frame.hasLogo ? `<img src="/_roomguard/assets/logo" alt="" class="logo">` : ''}<span>${escapeHtml(frame.orgName)}</span>
<a class="lang" href="${escapeHtml(frame.switchHref)}" hreflang="${other}" lang="${other}">${ui.language}</a>
</header>
<main class="card">
${body}
</main>
${scripts}
</body>
</html>
`;
}

export interface ErrorPageInput {
  code: ErrorCode;
  requestId: string;
  /** A link for the next step (e.g. sign in again), with its label. */
  action?: { href: string; label: string };
  /** Extra sentence, e.g. until when a lock lasts. */
  detail?: string;
}

export function errorPage(frame: Frame, input: ErrorPageInput): string {
  const t = ERROR_TEXT[input.code][frame.lang];
  const ui = UI_TEXT[frame.lang];
  const action = input.action ?? { href: '/', label: ui.home };
  return layout(
    frame,
    t.title,
    `<h1>${escapeHtml(t.title)}</h1>
<p>${escapeHtml(t.text)}</p>
${input.detail ? `<p>${escapeHtml(input.detail)}</p>` : ''}
<p class="next"><strong>${escapeHtml(t.next)}</strong></p>
<p><a class="button" href="${escapeHtml(action.href)}">${escapeHtml(action.label)}</a></p>
<dl class="meta">
<dt>${ui.requestId}</dt><dd><code>${escapeHtml(input.requestId)}</code></dd>
<dt>${ui.reason}</dt><dd><code>${escapeHtml(input.code)}</code></dd>
</dl>`,
  );
}

export function signOutPage(frame: Frame, who: string | undefined, csrfToken: string | undefined): string {
  const ui = UI_TEXT[frame.lang];
  if (!csrfToken) {
    return layout(frame, ui.signOutTitle, `<h1>${ui.signOutTitle}</h1>\n<p>${ui.notSignedIn}</p>\n<p><a class="button" href="/">${ui.home}</a></p>`);
  }
  return layout(
    frame,
    ui.signOutTitle,
    `<h1>${ui.signOutTitle}</h1>
${who ? `<p>${ui.signedInAs} <strong>${escapeHtml(who)}</strong></p>` : ''}
<p>${ui.signOutText}</p>
<form method="post" action="/_roomguard/logout">
<input type="hidden" name="csrf" value="${escapeHtml(csrfToken)}">
<button type="submit">${ui.signOut}</button>
</form>
<p><a href="/_roomguard/account">${ui.account}</a></p>`,
  );
}

export function signedOutPage(frame: Frame): string {
  const ui = UI_TEXT[frame.lang];
  return layout(frame, ui.signedOutTitle, `<h1>${ui.signedOutTitle}</h1>\n<p>${ui.signedOutText}</p>\n<p><a class="button" href="/_roomguard/login">${ui.signInAgain}</a></p>`);
}

/** The room policy's notice, shown once per session and room before joining. */
export function noticePage(frame: Frame, input: { room: string; text: string; csrfToken: string; returnTo: string }): string {
  const ui = UI_TEXT[frame.lang];
  return layout(
    frame,
    ui.noticeTitle,
    `<h1>${ui.noticeTitle}</h1>
<p>${ui.noticeRoom} <strong>${escapeHtml(decodeURIComponent(input.room))}</strong></p>
<div class="notice">${escapeHtml(input.text).replace(/\n/g, '<br>')}</div>
<form method="post" action="/_roomguard/notice">
<input type="hidden" name="csrf" value="${escapeHtml(input.csrfToken)}">
<input type="hidden" name="room" value="${escapeHtml(input.room)}">
<input type="hidden" name="returnTo" value="${escapeHtml(input.returnTo)}">
<button type="submit">${ui.noticeContinue}</button>
</form>`,
  );
}
