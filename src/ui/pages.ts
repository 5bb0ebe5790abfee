// Server-rendered pages of roomguard itself: error, sign-out, signed-out, the room notice. Plain HTML in
// the one layout (layout.ts), written with the escaping `html` tag; no scripts of their own.
import { ERROR_TEXT, UI_TEXT } from './i18n.js';
import { html, join, type SafeHtml } from './html.js';
import { layout, SITE_LINKS, type Frame } from './layout.js';
import type { ErrorCode } from '../errors.js';

export interface ErrorPageInput {
  code: ErrorCode;
  requestId: string;
  /** A link for the next step (e.g. sign in again), with its label. */
  action?: { href: string; label: string };
  /** Extra sentence, e.g. until when a lock lasts. */
  detail?: string;
  /** A time-boxed room that is closed: when it opens next (absent `at`: never again), and the schedule's zone. */
  opens?: { at?: number; timeZone: string };
}

/** The script that shows `<time data-local>` in the reader's own time zone. */
const LOCAL_TIME_SCRIPT = '/_roomguard/assets/local-time.js';

/** When a closed room opens next: written in the schedule's zone (named), shown in the reader's by local-time.js. */
function opensText(frame: Frame, opens: NonNullable<ErrorPageInput['opens']>) {
  const ui = UI_TEXT[frame.lang];
  if (opens.at === undefined) return html`<p class="opens">${ui.opensNever}</p>`;
  const written = new Intl.DateTimeFormat(frame.lang, { dateStyle: 'full', timeStyle: 'short', timeZone: opens.timeZone }).format(opens.at);
  return html`<p class="opens">${ui.opensNext} <time data-local datetime="${new Date(opens.at).toISOString()}">${written} (${opens.timeZone})</time></p>`;
}

export function errorPage(frame: Frame, input: ErrorPageInput): string {
  const t = ERROR_TEXT[input.code][frame.lang];
  const ui = UI_TEXT[frame.lang];
  // A guest has no account: "Home" would send them to the IdP's login. Their page says what to do instead.
  const action = input.action ?? (input.code.startsWith('RG_GUEST_') ? undefined : { href: '/', label: ui.home });
  return layout(
    input.opens?.at !== undefined ? { ...frame, scripts: [...(frame.scripts ?? []), LOCAL_TIME_SCRIPT] } : frame,
    t.title,
    html`<h1>${t.title}</h1>
<p>${t.text}</p>
${input.detail && html`<p>${input.detail}</p>`}
${input.opens && opensText(frame, input.opens)}
<p class="next"><strong>${t.next}</strong></p>
${action && html`<p><a class="button" href="${action.href}">${action.label}</a></p>`}
<dl class="meta">
<dt>${ui.requestId}</dt><dd><code>${input.requestId}</code></dd>
<dt>${ui.reason}</dt><dd><code>${input.code}</code></dd>
</dl>`,
  );
}

export function signOutPage(frame: Frame, who: string | undefined, csrfToken: string | undefined): string {
  const ui = UI_TEXT[frame.lang];
  if (!csrfToken) {
    return layout(frame, ui.signOutTitle, html`<h1>${ui.signOutTitle}</h1>\n<p>${ui.notSignedIn}</p>\n<p><a class="button" href="/">${ui.home}</a></p>`);
  }
  return layout(
    frame,
    ui.signOutTitle,
    html`<h1>${ui.signOutTitle}</h1>
${who && html`<p>${ui.signedInAs} <strong>${who}</strong></p>`}
<p>${ui.signOutText}</p>
<form method="post" action="/_roomguard/logout">
<input type="hidden" name="csrf" value="${csrfToken}">
<button type="submit">${ui.signOut}</button>
</form>
<p><a href="/_roomguard/account">${ui.account}</a></p>`,
  );
}

export function signedOutPage(frame: Frame): string {
  const ui = UI_TEXT[frame.lang];
  return layout(frame, ui.signedOutTitle, html`<h1>${ui.signedOutTitle}</h1>\n<p>${ui.signedOutText}</p>\n<p><a class="button" href="/_roomguard/login">${ui.signInAgain}</a></p>`);
}

/** The room policy's notice, shown once per session and room before joining. */
export function noticePage(frame: Frame, input: { room: string; text: string; csrfToken: string; returnTo: string }): string {
  const ui = UI_TEXT[frame.lang];
  return layout(
    frame,
    ui.noticeTitle,
    html`<h1>${ui.noticeTitle}</h1>
<p>${ui.noticeRoom} <strong>${decodeURIComponent(input.room)}</strong></p>
<div class="notice">${noticeText(input.text, frame)}</div>
<form method="post" action="/_roomguard/notice">
<input type="hidden" name="csrf" value="${input.csrfToken}">
<input type="hidden" name="room" value="${input.room}">
<input type="hidden" name="returnTo" value="${input.returnTo}">
<button type="submit">${ui.noticeContinue}</button>
</form>`,
  );
}

/**
 * A notice as its author wrote it, line breaks kept, with `{privacy}`, `{imprint}` and `{help}` as links to
 * the organisation's pages (`ui.links`); a placeholder without a configured link is its label as text.
 */
export function noticeText(text: string, frame: Frame): SafeHtml {
  const t = UI_TEXT[frame.lang];
  const line = (part: string) => join(part.split(/(\{(?:privacy|imprint|help)\})/).map((piece) => {
    const key = /^\{(privacy|imprint|help)\}$/.exec(piece)?.[1] as (typeof SITE_LINKS)[number] | undefined;
    if (!key) return piece;
    const href = frame.links?.[key];
    return href ? html`<a href="${href}">${t[key]}</a>` : t[key];
  }));
  return join(text.split('\n').map(line), html`<br>`);
}
