// The readable page of a subject-access export (`roomguard privacy export`): what roomguard holds about
// one person, in German or English, next to the JSON file it mirrors.
import type { SubjectData } from '../privacy/subject.js';
import { TYPE_TEXT } from './audit-text.js';
import { printableDocument } from './document.js';
import { html, join, type SafeHtml } from './html.js';
import type { Lang } from './i18n.js';

const TEXT = {
  en: {
    title: 'Personal data held by roomguard', about: 'Access request (GDPR Art. 15) for the person with the subject identifier',
    made: 'Made', sessions: 'Live sessions', factors: 'Second factors (no secrets: only what kind, name and when)', invitations: 'Guest invitations created, and the guests they admitted',
    audit: 'Audit records', none: 'None.', recoveryLeft: 'recovery codes left', locked: 'second factor locked by an administrator',
    session: 'Session', since: 'Since', lastSeen: 'Last seen', email: 'E-mail', groups: 'Groups', factor: 'Second factor', device: 'Browser',
    kind: 'Kind', name: 'Name', added: 'Added', used: 'Last used', room: 'Room', note: 'Note', expires: 'Expires', uses: 'Uses', state: 'State', admitted: 'Admitted guests',
    time: 'Time (UTC)', event: 'Event', outcome: 'Outcome', reason: 'Reason', json: 'The same data as JSON is in subject.json next to this file.',
  },
  de: {
    title: 'Von roomguard gespeicherte personenbezogene Daten', about: 'Auskunftsersuchen (Art. 15 DSGVO) für die Person mit der Kennung',
    made: 'Erstellt', sessions: 'Aktive Sitzungen', factors: 'Zweite Faktoren (keine Geheimnisse: nur Art, Name und Zeitpunkte)', invitations: 'Erstellte Gasteinladungen und die damit eingelassenen Gäste',
    audit: 'Audit-Einträge', none: 'Keine.', recoveryLeft: 'Wiederherstellungscodes übrig', locked: 'zweiter Faktor von einer Administratorin gesperrt',
    session: 'Sitzung', since: 'Seit', lastSeen: 'Zuletzt aktiv', email: 'E-Mail', groups: 'Gruppen', factor: 'Zweiter Faktor', device: 'Browser',
    kind: 'Art', name: 'Name', added: 'Hinzugefügt', used: 'Zuletzt benutzt', room: 'Raum', note: 'Notiz', expires: 'Gültig bis', uses: 'Nutzungen', state: 'Zustand', admitted: 'Eingelassene Gäste',
    time: 'Zeit (UTC)', event: 'Ereignis', outcome: 'Ergebnis', reason: 'Grund', json: 'Dieselben Daten als JSON stehen in subject.json neben dieser Datei.',
  },
} as const satisfies Record<Lang, Record<string, string>>;

function table(head: readonly string[], rows: readonly SafeHtml[], none: string): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">${none}</p>`;
  return html`<table><thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table>`;
}

export function renderSubjectPage(data: SubjectData, lang: Lang): string {
  const t = TEXT[lang];
  const sessions = data.sessions.map((s) => html`<tr><td><code>${s.session}</code></td><td>${s.createdAt}</td><td>${s.lastSeenAt}</td><td>${s.email}</td><td>${s.groups.join(', ')}</td><td>${s.secondFactor}</td><td>${s.userAgent}</td></tr>`);
  const factors = data.factors.factors.map((f) => html`<tr><td>${f.kind}</td><td>${f.name}</td><td>${f.createdAt}</td><td>${f.lastUsedAt}</td></tr>`);
  const invitations = data.invitations.map((i) => html`<tr><td>${i.room}</td><td><code>${i.id}</code></td><td>${i.note}</td><td>${i.createdAt}</td><td>${i.expiresAt}</td><td>${i.used} / ${i.maxUses}</td><td>${i.state}</td><td>${join(i.admissions.map((a) => html`${a.at} ${a.name}`), html`<br>`)}</td></tr>`);
  const records = data.audit.map((r) => html`<tr><td>${r.ts}</td><td>${TYPE_TEXT[r.type]?.[lang] ?? r.type}</td><td>${r.outcome}</td><td>${r.room}</td><td>${r.reason}</td></tr>`);
  const body = html`<h1>${t.title}</h1>
<p>${t.about} <code>${data.user}</code>. ${t.made}: ${data.generatedAt}.</p>
<h2>${t.sessions}</h2>
${table([t.session, t.since, t.lastSeen, t.email, t.groups, t.factor, t.device], sessions, t.none)}
<h2>${t.factors}</h2>
${table([t.kind, t.name, t.added, t.used], factors, t.none)}
<p>${data.factors.recoveryCodesLeft} ${t.recoveryLeft}${data.factors.hardLocked && html`; ${t.locked}`}.</p>
<h2>${t.invitations}</h2>
${table([t.room, 'ID', t.note, t.added, t.expires, t.uses, t.state, t.admitted], invitations, t.none)}
<h2>${t.audit}</h2>
${table([t.time, t.event, t.outcome, t.room, t.reason], records, t.none)}
<p class="muted">${t.json}</p>`;
  return printableDocument(lang, t.title, body);
}
