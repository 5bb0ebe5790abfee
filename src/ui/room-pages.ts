// The moderator's room page (/_roomguard/rooms/<room>): whether the room is locked, lock and unlock,
// remove everyone, and the people who joined today each with a remove button. No scripts; every change
// is a form POST carrying the session's CSRF token.
import { ROOM_TEXT } from './i18n.js';
import { html, join } from './html.js';
import { layout, type Frame } from './layout.js';

export interface RoomControlsInput {
  room: string;
  /** Where the forms post to (`<action>/lock`, `/unlock`, `/evict`). */
  action: string;
  csrf: string;
  lock?: { at: number; by: string };
  people: ReadonlyArray<{ sub: string; name?: string; evicted: boolean }>;
  /** The room's invitations page, where its policy invites guests. */
  invitesHref?: string;
  message?: string;
}

function roomLabel(room: string): string {
  try {
    return decodeURIComponent(room);
  } catch {
    return room;
  }
}

export function roomControlsPage(frame: Frame, input: RoomControlsInput): string {
  const t = ROOM_TEXT[frame.lang];
  const form = (path: string, label: string, extra = html``, secondary = false) => html`<form method="post" action="${input.action}/${path}">
<input type="hidden" name="csrf" value="${input.csrf}">${extra}
<button type="submit"${secondary ? html` class="secondary"` : html``}>${label}</button>
</form>`;
  const since = input.lock && new Date(input.lock.at).toISOString();
  const people = input.people.map((p) => html`<li><span>${p.name ?? p.sub}</span> ${p.evicted ? html`<em>(${t.evict})</em>` : form('evict', t.evict, html`<input type="hidden" name="user" value="${p.sub}">`, true)}</li>`);
  return layout(frame, t.title, html`<h1>${t.title}</h1>
<p>${t.room} <strong>${roomLabel(input.room)}</strong></p>
${input.message && html`<p role="status">${input.message}</p>`}
${input.lock ? html`<p class="locked">${t.lockedText} ${t.lockedSince} <time datetime="${since}">${since}</time> ${t.lockedBy} ${input.lock.by}</p>
${form('unlock', t.unlock)}` : html`<p>${t.open}</p>
${form('lock', t.lock)}`}
<h2>${t.evictAll}</h2>
<p class="hint">${t.evictAllHint}</p>
${form('evict', t.evictAll, html`<input type="hidden" name="everyone" value="1">`, true)}
<h2>${t.people}</h2>
<p class="hint">${t.evictHint}</p>
${input.people.length === 0 ? html`<p>${t.nobody}</p>` : html`<ul class="people">${join(people, '\n')}</ul>`}
${input.invitesHref && html`<p><a href="${input.invitesHref}">${t.invites}</a></p>`}`);
}
