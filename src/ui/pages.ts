// Server-rendered pages of roomguard itself: error, sign-out and signed-out. Plain HTML with one local
// stylesheet, no scripts, no third-party assets; every dynamic value is escaped.
import { ERROR_TEXT, UI_TEXT, type Lang } from './i18n.js';
import type { ErrorCode } from '../errors.js';

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function layout(lang: Lang, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(title)} · roomguard</title>
<link rel="stylesheet" href="/_roomguard/assets/style.css">
</head>
<body>
<main class="card">
${body}
</main>
</body>
</html>
`;
}

export interface ErrorPageInput {
  lang: Lang;
  code: ErrorCode;
  requestId: string;
  /** A link for the next step (e.g. sign in again), with its label. */
  action?: { href: string; label: string };
}

export function errorPage(input: ErrorPageInput): string {
  const t = ERROR_TEXT[input.code][input.lang];
  const ui = UI_TEXT[input.lang];
  const action = input.action ?? { href: '/', label: ui.home };
  return layout(
    input.lang,
    t.title,
    `<h1>${escapeHtml(t.title)}</h1>
<p>${escapeHtml(t.text)}</p>
<p class="next"><strong>${escapeHtml(t.next)}</strong></p>
<p><a class="button" href="${escapeHtml(action.href)}">${escapeHtml(action.label)}</a></p>
<dl class="meta">
<dt>${ui.requestId}</dt><dd><code>${escapeHtml(input.requestId)}</code></dd>
<dt>${ui.reason}</dt><dd><code>${escapeHtml(input.code)}</code></dd>
</dl>`,
  );
}

export function signOutPage(lang: Lang, who: string | undefined, csrfToken: string | undefined): string {
  const ui = UI_TEXT[lang];
  if (!csrfToken) {
    return layout(lang, ui.signOutTitle, `<h1>${ui.signOutTitle}</h1>\n<p>${ui.notSignedIn}</p>\n<p><a class="button" href="/">${ui.home}</a></p>`);
  }
  return layout(
    lang,
    ui.signOutTitle,
    `<h1>${ui.signOutTitle}</h1>
${who ? `<p>${ui.signedInAs} <strong>${escapeHtml(who)}</strong></p>` : ''}
<p>${ui.signOutText}</p>
<form method="post" action="/_roomguard/logout">
<input type="hidden" name="csrf" value="${escapeHtml(csrfToken)}">
<button type="submit">${ui.signOut}</button>
</form>`,
  );
}

export function signedOutPage(lang: Lang): string {
  const ui = UI_TEXT[lang];
  return layout(lang, ui.signedOutTitle, `<h1>${ui.signedOutTitle}</h1>\n<p>${ui.signedOutText}</p>\n<p><a class="button" href="/_roomguard/login">${ui.signInAgain}</a></p>`);
}
