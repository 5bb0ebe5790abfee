// Pages of the guest path and of the moderator's invitations page. Server-rendered in the one layout,
// no scripts, written with the escaping `html` tag; forms have visible labels and hints tied with
// aria-describedby, problems are announced with role=alert and say what to do next.
import { GUEST_TEXT, type Lang } from './i18n.js';
import { html, join, lines } from './html.js';
import { layout, type Frame } from './layout.js';
import type { InvitationState, InvitationView } from '../guests/invitations.js';
import { formatDuration } from '../config/duration.js';
import { formatWhen, zoneOf } from './time.js';

function when(ms: number, frame: Frame): string {
  return formatWhen(ms, frame.lang, zoneOf(frame));
}

function roomLabel(room: string): string {
  try {
    return decodeURIComponent(room);
  } catch {
    return room;
  }
}

export interface GuestJoinInput {
  room: string;
  action: string;
  token: string;
  csrf: string;
  expiresAt: number;
  notice?: string;
  requireName: boolean;
  lobby: boolean;
  error?: string;
}

/** The page behind an invitation link: the room's privacy notice (if any) and the display name. */
export function guestJoinPage(frame: Frame, input: GuestJoinInput): string {
  const t = GUEST_TEXT[frame.lang];
  const hintId = 'guest-name-hint';
  return layout(
    frame,
    t.joinTitle,
    html`<h1>${t.joinTitle}</h1>
<p>${t.joinIntro}</p>
<dl class="meta">
<dt>${t.room}</dt><dd><strong>${roomLabel(input.room)}</strong></dd>
<dt>${t.validUntil}</dt><dd>${when(input.expiresAt, frame)}</dd>
</dl>
${input.notice && html`<section aria-labelledby="notice-h"><h2 id="notice-h">${t.noticeHeading}</h2>\n<div class="notice">${lines(input.notice)}</div></section>`}
${input.error && html`<p class="error" role="alert">${input.error}</p>`}
<form method="post" action="${input.action}">
<input type="hidden" name="csrf" value="${input.csrf}">
<input type="hidden" name="invite" value="${input.token}">
<label for="guest-name">${t.name}</label>
<input id="guest-name" name="name" type="text" maxlength="60" autocomplete="nickname" aria-describedby="${hintId}"${input.requireName && html` required`}>
<p class="hint" id="${hintId}">${input.requireName ? t.nameHint : t.nameOptionalHint}</p>
${input.lobby && html`<p class="hint">${t.lobbyHint}</p>`}
<button type="submit">${input.notice ? t.joinButtonNotice : t.joinButton}</button>
</form>`,
  );
}

export interface InvitesPageInput {
  room: string;
  /** Path of this page, to which its forms post. */
  action: string;
  roomPath: string;
  csrf: string;
  invitations: InvitationView[];
  limits: { ttl: number; maxUses: number };
  created?: { link: string };
  message?: string;
  error?: string;
  /** Admissions since this time count as recent. */
  recentSince: number;
}

function stateText(state: InvitationState, lang: Lang): string {
  const t = GUEST_TEXT[lang];
  return { active: t.stateActive, expired: t.stateExpired, 'used-up': t.stateUsedUp, revoked: t.stateRevoked }[state];
}

/** The moderator's page: create an invitation, see each one's uses and guests, revoke. */
export function invitesPage(frame: Frame, input: InvitesPageInput): string {
  const t = GUEST_TEXT[frame.lang];
  const lang = frame.lang;
  // Each cell carries its column's name: on a phone the rows stack as cards and the names label the values.
  const rows = input.invitations.map((inv) => html`<tr>
<td data-label="${t.colNote}">${inv.note || '—'}</td>
<td data-label="${t.colCreated}">${when(inv.createdAt, frame)}<br><small>${inv.createdBy}</small></td>
<td data-label="${t.colExpires}">${when(inv.expiresAt, frame)}</td>
<td data-label="${t.colUses}">${inv.usesLeft} / ${inv.maxUses}</td>
<td data-label="${t.colState}">${stateText(inv.state, lang)}</td>
<td data-label="${t.colUsedBy}">${inv.admissions.length === 0 ? '—' : join(inv.admissions.map((a) => html`${a.name} <small>(${when(a.at, frame)})</small>`), html`<br>`)}</td>
<td data-label="${t.colAction}">${inv.state !== 'revoked' && html`<form method="post" action="${input.action}/revoke">
<input type="hidden" name="csrf" value="${input.csrf}">
<input type="hidden" name="id" value="${inv.id}">
<button type="submit" class="secondary" aria-label="${t.revoke}: ${inv.note || inv.id}">${t.revoke}</button>
</form>`}</td>
</tr>`);
  const recent = input.invitations
    .flatMap((inv) => inv.admissions.map((a) => ({ ...a, note: inv.note })))
    .filter((a) => a.at >= input.recentSince)
    .sort((a, b) => b.at - a.at);
  return layout(
    input.created ? { ...frame, scripts: ['/_roomguard/assets/copy.js'] } : frame,
    t.invitesTitle,
    html`<h1>${t.invitesTitle}</h1>
<p>${t.room}: <strong>${roomLabel(input.room)}</strong> · <a href="${input.roomPath}">${t.openRoom}</a></p>
<p>${t.invitesIntro}</p>
${input.message && html`<p class="ok" role="status">${input.message}</p>`}
${input.error && html`<p class="error" role="alert">${input.error}</p>`}
${input.created && html`<section aria-labelledby="created-h"><h2 id="created-h">${t.createdHeading}</h2>
<p>${t.createdText}</p>
<label for="invite-link">${t.link}</label>
<div class="copy-row"><input id="invite-link" type="text" readonly value="${input.created.link}">
<button type="button" class="secondary" data-copy="invite-link" data-status="invite-copied" data-copied="${t.copied}" data-failed="${t.copyFailed}" hidden>${t.copy}</button></div>
<p id="invite-copied" class="hint" role="status"></p>
</section>`}
<section aria-labelledby="create-h"><h2 id="create-h">${t.createHeading}</h2>
<form method="post" action="${input.action}">
<input type="hidden" name="csrf" value="${input.csrf}">
<label for="invite-ttl">${t.validFor}</label>
<input id="invite-ttl" name="ttl" type="text" value="${formatDuration(input.limits.ttl)}" aria-describedby="invite-ttl-hint" required>
<p class="hint" id="invite-ttl-hint">${t.validForHint} ${formatDuration(input.limits.ttl)}.</p>
<label for="invite-uses">${t.uses}</label>
<input id="invite-uses" name="uses" type="number" min="1" max="${input.limits.maxUses}" value="${Math.min(5, input.limits.maxUses)}" aria-describedby="invite-uses-hint" required>
<p class="hint" id="invite-uses-hint">${t.usesHint} ${input.limits.maxUses}.</p>
<label for="invite-note">${t.note}</label>
<input id="invite-note" name="note" type="text" maxlength="200">
<button type="submit">${t.create}</button>
</form></section>
<section aria-labelledby="list-h"><h2 id="list-h">${t.listHeading}</h2>
${rows.length === 0 ? html`<p>${t.none}</p>` : html`<table class="stack">
<thead><tr><th scope="col">${t.colNote}</th><th scope="col">${t.colCreated}</th><th scope="col">${t.colExpires}</th><th scope="col">${t.colUses}</th><th scope="col">${t.colState}</th><th scope="col">${t.colUsedBy}</th><th scope="col">${t.colAction}</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody></table>`}
</section>
<section aria-labelledby="recent-h"><h2 id="recent-h">${t.waitingHeading}</h2>
<p>${t.waitingIntro}</p>
${recent.length === 0 ? html`<p>${t.noGuests}</p>` : html`<ul>${recent.map((a) => html`<li>${a.name} <small>(${when(a.at, frame)}${a.note && html` · ${a.note}`})</small></li>`)}</ul>`}
</section>`,
  );
}
