// The participant-facing words, in German and English. Every error code of the catalogue has a title,
// an explanation in plain words and a next step. The language comes from Accept-Language.
import type { ErrorCode } from '../errors.js';

export type Lang = 'de' | 'en';
export const LANGS: readonly Lang[] = ['en', 'de'];

/** The language of a request: an explicit choice (?lang= or the language cookie) wins over Accept-Language. */
export function chooseLang(explicit: unknown, cookie: unknown, acceptLanguage: string | undefined): Lang {
  for (const choice of [explicit, cookie]) if (choice === 'de' || choice === 'en') return choice;
  return pickLang(acceptLanguage);
}

export function pickLang(acceptLanguage: string | undefined): Lang {
  if (!acceptLanguage) return 'en';
  const ranked = acceptLanguage
    .split(',')
    .slice(0, 20)
    .map((part, index) => {
      const [tag, ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q ? Number(q.slice(2)) : 1;
      return { base: (tag ?? '').split('-')[0], weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((entry) => entry.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  for (const entry of ranked) {
    if (entry.base === 'de' || entry.base === 'en') return entry.base;
  }
  return 'en';
}

interface ErrorText { title: string; text: string; next: string }

export const ERROR_TEXT: Record<ErrorCode, Record<Lang, ErrorText>> = {
  RG_LOGIN_REQUIRED: {
    en: { title: 'Please sign in', text: 'This page is only for people who have signed in.', next: 'Sign in with your organisation account.' },
    de: { title: 'Bitte melden Sie sich an', text: 'Diese Seite ist nur für angemeldete Personen.', next: 'Melden Sie sich mit dem Konto Ihrer Organisation an.' },
  },
  RG_ROOM_IDLE_LIMIT: {
    en: { title: 'Please sign in again', text: 'This room asks for a fresh sign-in after a longer pause.', next: 'Sign in again with your organisation account.' },
    de: { title: 'Bitte melden Sie sich erneut an', text: 'Dieser Raum verlangt nach einer längeren Pause eine neue Anmeldung.', next: 'Melden Sie sich erneut mit dem Konto Ihrer Organisation an.' },
  },
  RG_CONFIG_INVALID: {
    en: { title: 'Configuration problem', text: 'The configuration of this gateway has a problem.', next: 'Tell your administrator the request id below.' },
    de: { title: 'Konfigurationsproblem', text: 'Die Konfiguration dieses Gateways hat ein Problem.', next: 'Nennen Sie Ihrer Administration die Anfrage-Kennung unten.' },
  },
  RG_POLICY_INVALID: {
    en: { title: 'Configuration problem', text: 'The room rules on this gateway have a problem.', next: 'Tell your administrator the request id below.' },
    de: { title: 'Konfigurationsproblem', text: 'Die Raumregeln dieses Gateways haben ein Problem.', next: 'Nennen Sie Ihrer Administration die Anfrage-Kennung unten.' },
  },
  RG_POLICY_NO_MATCH: {
    en: { title: 'This room is not open', text: 'No access rule exists for this room, so nobody may enter it.', next: 'Check the room link in your invitation, or ask the person who invited you.' },
    de: { title: 'Dieser Raum ist nicht freigegeben', text: 'Für diesen Raum gibt es keine Zugangsregel, daher darf ihn niemand betreten.', next: 'Prüfen Sie den Raum-Link in Ihrer Einladung oder fragen Sie die einladende Person.' },
  },
  RG_POLICY_AMBIGUOUS: {
    en: { title: 'This room is misconfigured', text: 'Two access rules claim this room, so nobody is let in until an administrator fixes it.', next: 'Tell your administrator the request id below.' },
    de: { title: 'Dieser Raum ist falsch eingerichtet', text: 'Zwei Zugangsregeln beanspruchen diesen Raum; bis die Administration das behebt, kommt niemand hinein.', next: 'Nennen Sie Ihrer Administration die Anfrage-Kennung unten.' },
  },
  RG_POLICY_DENY_RULE: {
    en: { title: 'You may not enter this room', text: 'The access rules of this room exclude your account.', next: 'If you think this is wrong, ask the organiser of the meeting to check the room\'s access rules.' },
    de: { title: 'Sie dürfen diesen Raum nicht betreten', text: 'Die Zugangsregeln dieses Raums schließen Ihr Konto aus.', next: 'Wenn Sie das für falsch halten, bitten Sie die einladende Person, die Zugangsregeln zu prüfen.' },
  },
  RG_POLICY_NOT_ALLOWED: {
    en: { title: 'You may not enter this room', text: 'Your account is not among the people this room is open to.', next: 'Ask the organiser of the meeting to give you access, or sign in with another account.' },
    de: { title: 'Sie dürfen diesen Raum nicht betreten', text: 'Ihr Konto gehört nicht zu den Personen, für die dieser Raum offen ist.', next: 'Bitten Sie die einladende Person um Zugang oder melden Sie sich mit einem anderen Konto an.' },
  },
  RG_MFA_REQUIRED: {
    en: { title: 'Second factor needed', text: 'This room needs a second factor (security key, passkey or authenticator app) in addition to your login.', next: 'Confirm your second factor to continue.' },
    de: { title: 'Zweiter Faktor nötig', text: 'Dieser Raum verlangt zusätzlich zur Anmeldung einen zweiten Faktor (Sicherheitsschlüssel, Passkey oder Authenticator-App).', next: 'Bestätigen Sie Ihren zweiten Faktor, um fortzufahren.' },
  },
  RG_MFA_TOO_OLD: {
    en: { title: 'Please confirm again', text: 'Your last second-factor confirmation is too long ago for this room.', next: 'Confirm your second factor again to continue.' },
    de: { title: 'Bitte erneut bestätigen', text: 'Ihre letzte Bestätigung mit dem zweiten Faktor liegt für diesen Raum zu lange zurück.', next: 'Bestätigen Sie Ihren zweiten Faktor erneut, um fortzufahren.' },
  },
  RG_MFA_INVALID: {
    en: { title: 'That did not work', text: 'The second factor could not be confirmed.', next: 'Try again with the current code, or use another method.' },
    de: { title: 'Das hat nicht geklappt', text: 'Der zweite Faktor konnte nicht bestätigt werden.', next: 'Versuchen Sie es mit dem aktuellen Code erneut oder nutzen Sie eine andere Methode.' },
  },
  RG_MFA_REPLAY: {
    en: { title: 'Code already used', text: 'This authenticator code was already used once.', next: 'Wait for the next code (it changes every 30 seconds) and enter that one.' },
    de: { title: 'Code schon verwendet', text: 'Dieser Code der Authenticator-App wurde schon einmal verwendet.', next: 'Warten Sie auf den nächsten Code (er wechselt alle 30 Sekunden) und geben Sie diesen ein.' },
  },
  RG_MFA_COUNTER: {
    en: { title: 'Security key refused', text: 'This security key reported an unexpected counter; it may have been copied.', next: 'Use another second factor and tell your administrator the request id below.' },
    de: { title: 'Sicherheitsschlüssel abgelehnt', text: 'Dieser Sicherheitsschlüssel meldete einen unerwarteten Zähler; er könnte kopiert worden sein.', next: 'Nutzen Sie einen anderen zweiten Faktor und nennen Sie Ihrer Administration die Anfrage-Kennung unten.' },
  },
  RG_MFA_LOCKED: {
    en: { title: 'Too many attempts', text: 'Your second factor is locked after too many wrong attempts.', next: 'Wait until the time below and try again. If it says the lock is permanent, ask your administrator to unlock it.' },
    de: { title: 'Zu viele Versuche', text: 'Ihr zweiter Faktor ist nach zu vielen falschen Versuchen gesperrt.', next: 'Warten Sie bis zur unten genannten Zeit und versuchen Sie es erneut. Ist die Sperre dauerhaft, bitten Sie Ihre Administration um Entsperrung.' },
  },
  RG_MFA_NOT_ENROLLED: {
    en: { title: 'Not set up', text: 'Your account has no second factor of this kind.', next: 'Go back and choose a method you have set up.' },
    de: { title: 'Nicht eingerichtet', text: 'Für Ihr Konto ist kein zweiter Faktor dieser Art eingerichtet.', next: 'Gehen Sie zurück und wählen Sie eine Methode, die Sie eingerichtet haben.' },
  },
  RG_MFA_FRESH_LOGIN: {
    en: { title: 'Please sign in again', text: 'Setting up your first second factor needs a fresh sign-in at your identity provider.', next: 'Sign in again; you will come straight back here.' },
    de: { title: 'Bitte erneut anmelden', text: 'Für die Einrichtung Ihres ersten zweiten Faktors ist eine frische Anmeldung beim Identitätsdienst nötig.', next: 'Melden Sie sich erneut an; Sie kommen direkt hierher zurück.' },
  },
  RG_ROOM_NOT_OPEN: {
    en: { title: 'This room is not open now', text: 'This meeting room is open only at its scheduled times.', next: 'Come back when it opens; if you think it should be open now, ask the person who organised the meeting.' },
    de: { title: 'Dieser Raum ist gerade nicht geöffnet', text: 'Dieser Besprechungsraum ist nur zu den geplanten Zeiten geöffnet.', next: 'Kommen Sie wieder, wenn er öffnet; sollte er jetzt offen sein, fragen Sie die Person, die das Meeting organisiert hat.' },
  },
  RG_MFA_AUTHENTICATOR_REFUSED: {
    en: { title: 'This security key is not accepted here', text: 'This room accepts only certain security keys, kept on one device (not synced passkeys).', next: 'Use one of the security keys listed on the sign-in page, or ask your administrator which ones are accepted.' },
    de: { title: 'Dieser Sicherheitsschlüssel wird hier nicht akzeptiert', text: 'Dieser Raum akzeptiert nur bestimmte Sicherheitsschlüssel, die an ein Gerät gebunden sind (keine synchronisierten Passkeys).', next: 'Verwenden Sie einen der auf der Anmeldeseite genannten Sicherheitsschlüssel, oder fragen Sie Ihre Administration, welche akzeptiert werden.' },
  },
  RG_ROOM_LOCKED: {
    en: { title: 'This room is locked', text: 'The meeting in this room has been locked by its moderators: nobody new can join.', next: 'If you should be in this meeting, ask a moderator to unlock the room for a moment.' },
    de: { title: 'Dieser Raum ist gesperrt', text: 'Die Moderierenden haben das Meeting in diesem Raum gesperrt: Niemand kann neu hinzukommen.', next: 'Wenn Sie an diesem Meeting teilnehmen sollen, bitten Sie eine moderierende Person, den Raum kurz zu öffnen.' },
  },
  RG_ROOM_EVICTED: {
    en: { title: 'You were removed from this room', text: 'A moderator or administrator ended your participation in this meeting.', next: 'If this was a mistake, contact a moderator of the meeting.' },
    de: { title: 'Sie wurden aus diesem Raum entfernt', text: 'Eine moderierende oder administrierende Person hat Ihre Teilnahme an diesem Meeting beendet.', next: 'Falls das ein Irrtum war, wenden Sie sich an eine moderierende Person des Meetings.' },
  },
  RG_ROOM_NOT_MODERATOR: {
    en: { title: 'Only moderators can do this', text: 'Locking this room and removing people is up to its moderators.', next: 'Ask a moderator of the room.' },
    de: { title: 'Nur Moderierende können das', text: 'Diesen Raum zu sperren und Personen zu entfernen ist Sache seiner Moderierenden.', next: 'Bitten Sie eine moderierende Person des Raums.' },
  },
  RG_ROOM_INVALID: {
    en: { title: 'This is not a valid room name', text: 'The room name in the address contains characters that room names cannot have.', next: 'Check the room link in your invitation.' },
    de: { title: 'Kein gültiger Raumname', text: 'Der Raumname in der Adresse enthält Zeichen, die in Raumnamen nicht vorkommen dürfen.', next: 'Prüfen Sie den Raum-Link in Ihrer Einladung.' },
  },
  RG_REQUEST_BAD_PATH: {
    en: { title: 'This address is not allowed', text: 'The address contains parts (such as ;, // or ..) that the gateway does not forward.', next: 'Check the link, or start again from the home page.' },
    de: { title: 'Diese Adresse ist nicht erlaubt', text: 'Die Adresse enthält Teile (etwa ;, // oder ..), die das Gateway nicht weiterleitet.', next: 'Prüfen Sie den Link oder beginnen Sie erneut auf der Startseite.' },
  },
  RG_METHOD_NOT_ALLOWED: {
    en: { title: 'This kind of request is not supported', text: 'The gateway only passes on ordinary web requests.', next: 'Open the meeting in a web browser, or ask your administrator if an app needs this.' },
    de: { title: 'Diese Art von Anfrage wird nicht unterstützt', text: 'Das Gateway leitet nur gewöhnliche Web-Anfragen weiter.', next: 'Öffnen Sie das Meeting im Webbrowser, oder fragen Sie Ihre Administration, falls eine Anwendung dies braucht.' },
  },
  RG_REQUEST_INVALID: {
    en: { title: 'The request could not be understood', text: 'Something in the request was malformed.', next: 'Go back and try again.' },
    de: { title: 'Die Anfrage war nicht verständlich', text: 'Etwas an der Anfrage war fehlerhaft.', next: 'Gehen Sie zurück und versuchen Sie es erneut.' },
  },
  RG_RETURN_TO_INVALID: {
    en: { title: 'This link cannot be followed', text: 'The link asks to return to an address outside this site, which is not allowed.', next: 'Open the meeting link from your invitation directly.' },
    de: { title: 'Diesem Link kann nicht gefolgt werden', text: 'Der Link verlangt eine Rückkehr zu einer Adresse außerhalb dieser Seite; das ist nicht erlaubt.', next: 'Öffnen Sie den Meeting-Link aus Ihrer Einladung direkt.' },
  },
  RG_LOGIN_STATE_UNKNOWN: {
    en: { title: 'Your sign-in has expired', text: 'The sign-in took too long, was already completed, or was started in another browser.', next: 'Open the meeting link again to sign in once more.' },
    de: { title: 'Ihre Anmeldung ist abgelaufen', text: 'Die Anmeldung dauerte zu lange, wurde schon abgeschlossen oder in einem anderen Browser begonnen.', next: 'Öffnen Sie den Meeting-Link erneut, um sich noch einmal anzumelden.' },
  },
  RG_LOGIN_FAILED: {
    en: { title: 'Sign-in did not work', text: 'The identity provider did not complete the sign-in.', next: 'Try again. If it keeps failing, tell your administrator the request id below.' },
    de: { title: 'Die Anmeldung hat nicht funktioniert', text: 'Der Identitätsdienst hat die Anmeldung nicht abgeschlossen.', next: 'Versuchen Sie es erneut. Wenn es weiter fehlschlägt, nennen Sie Ihrer Administration die Anfrage-Kennung unten.' },
  },
  RG_LOGIN_DENIED_BY_IDP: {
    en: { title: 'Sign-in was cancelled', text: 'The identity provider reports that the sign-in was cancelled or refused.', next: 'Try again, or sign in with another account.' },
    de: { title: 'Die Anmeldung wurde abgebrochen', text: 'Der Identitätsdienst meldet, dass die Anmeldung abgebrochen oder abgelehnt wurde.', next: 'Versuchen Sie es erneut oder melden Sie sich mit einem anderen Konto an.' },
  },
  RG_IDP_UNAVAILABLE: {
    en: { title: 'Sign-in is unavailable', text: 'The identity provider of your organisation cannot be reached at the moment.', next: 'Wait a minute and try again.' },
    de: { title: 'Anmeldung nicht möglich', text: 'Der Identitätsdienst Ihrer Organisation ist gerade nicht erreichbar.', next: 'Warten Sie eine Minute und versuchen Sie es erneut.' },
  },
  RG_LOGOUT_TOKEN_INVALID: {
    en: { title: 'Invalid logout request', text: 'This address is for the identity provider only.', next: 'Nothing to do for you here.' },
    de: { title: 'Ungültige Abmeldeanfrage', text: 'Diese Adresse ist nur für den Identitätsdienst.', next: 'Hier ist für Sie nichts zu tun.' },
  },
  RG_CSRF: {
    en: { title: 'The form has expired', text: 'The form was not sent from a current page of this site.', next: 'Reload the page and try again.' },
    de: { title: 'Das Formular ist abgelaufen', text: 'Das Formular wurde nicht von einer aktuellen Seite dieser Website gesendet.', next: 'Laden Sie die Seite neu und versuchen Sie es erneut.' },
  },
  RG_NOT_FOUND: {
    en: { title: 'Page not found', text: 'There is no page at this address.', next: 'Check the address, or open the meeting link from your invitation.' },
    de: { title: 'Seite nicht gefunden', text: 'Unter dieser Adresse gibt es keine Seite.', next: 'Prüfen Sie die Adresse oder öffnen Sie den Meeting-Link aus Ihrer Einladung.' },
  },
  RG_STORE_UNAVAILABLE: {
    en: { title: 'Temporarily unavailable', text: 'The gateway cannot reach its session store right now, so nobody can be let in.', next: 'Wait a minute and reload the page.' },
    de: { title: 'Vorübergehend nicht verfügbar', text: 'Das Gateway erreicht seinen Sitzungsspeicher gerade nicht, daher kann niemand eingelassen werden.', next: 'Warten Sie eine Minute und laden Sie die Seite neu.' },
  },
  RG_JITSI_NOT_ADMITTED: {
    en: { title: 'Not admitted to this room', text: 'Your browser tried to connect to a meeting room you were not let into.', next: 'Open the room through its link so roomguard can check your access.' },
    de: { title: 'Für diesen Raum nicht zugelassen', text: 'Ihr Browser hat versucht, sich mit einem Raum zu verbinden, in den Sie nicht eingelassen wurden.', next: 'Öffnen Sie den Raum über seinen Link, damit roomguard Ihren Zugang prüfen kann.' },
  },
  RG_JITSI_TOKEN_INVALID: {
    en: { title: 'Meeting link no longer valid', text: 'The access token in this meeting link was not issued to you for this room, or it has expired.', next: 'Open the room link without the token part (?jwt=…) to get a fresh one.' },
    de: { title: 'Meeting-Link nicht mehr gültig', text: 'Das Zugangs-Token in diesem Meeting-Link wurde nicht Ihnen für diesen Raum ausgestellt oder ist abgelaufen.', next: 'Öffnen Sie den Raum-Link ohne den Token-Teil (?jwt=…), um ein neues zu erhalten.' },
  },
  RG_BBB_JOIN_INVALID: {
    en: { title: 'This join link has expired', text: 'Join links are personal, work once and only for a minute.', next: 'Open the room link again to get a fresh join link.' },
    de: { title: 'Dieser Beitrittslink ist abgelaufen', text: 'Beitrittslinks sind persönlich, gelten einmal und nur eine Minute lang.', next: 'Öffnen Sie den Raum-Link erneut, um einen neuen Beitrittslink zu erhalten.' },
  },
  RG_FORWARD_AUTH_BODY: {
    en: { title: 'The meeting server is set up incompletely', text: 'This part of the meeting has to pass through the access gateway itself, and the web server did not send it there.', next: 'Tell your administrator the request id below (the web server configuration needs the conference-request location from roomguard).' },
    de: { title: 'Der Konferenzserver ist unvollständig eingerichtet', text: 'Dieser Teil des Meetings muss durch das Zugangs-Gateway selbst laufen, und der Webserver hat ihn nicht dorthin geschickt.', next: 'Nennen Sie Ihrer Administration die Anfrage-Nummer unten (die Webserver-Konfiguration braucht den Conference-Request-Abschnitt von roomguard).' },
  },
  RG_FORWARD_AUTH_STREAM: {
    en: { title: 'The meeting server is set up incompletely', text: 'The meeting connection has to pass through the access gateway itself, and the web server did not send it there.', next: 'Tell your administrator the request id below (the web server configuration needs the xmpp-websocket and http-bind locations from roomguard).' },
    de: { title: 'Der Konferenzserver ist unvollständig eingerichtet', text: 'Die Meeting-Verbindung muss durch das Zugangs-Gateway selbst laufen, und der Webserver hat sie nicht dorthin geschickt.', next: 'Nennen Sie Ihrer Administration die Anfrage-Nummer unten (die Webserver-Konfiguration braucht die Abschnitte xmpp-websocket und http-bind von roomguard).' },
  },
  RG_BACKEND_API_REFUSED: {
    en: { title: 'Not available here', text: 'This part of the conferencing server is not reachable from browsers.', next: 'Open the meeting through its room link.' },
    de: { title: 'Hier nicht verfügbar', text: 'Dieser Teil des Konferenzservers ist aus dem Browser nicht erreichbar.', next: 'Öffnen Sie das Meeting über seinen Raum-Link.' },
  },
  RG_AUDIT_FORBIDDEN: {
    en: { title: 'For audit reviewers only', text: 'Only the people your organisation named as audit reviewers may read the audit log.', next: 'If you should have access, ask your administrator to add you to a reviewer group.' },
    de: { title: 'Nur für Prüfberechtigte', text: 'Nur die Personen, die Ihre Organisation als Prüfberechtigte benannt hat, dürfen das Prüfprotokoll lesen.', next: 'Wenn Sie Zugang haben sollten, bitten Sie Ihre Administration, Sie einer Prüfgruppe hinzuzufügen.' },
  },
  RG_AUDIT_UNAVAILABLE: {
    en: { title: 'Temporarily unavailable', text: 'The gateway cannot record your entry in its audit log right now, so it does not let anyone in.', next: 'Wait a minute and reload the page. If it persists, tell your administrator the request id below.' },
    de: { title: 'Vorübergehend nicht verfügbar', text: 'Das Gateway kann Ihren Eintritt gerade nicht im Prüfprotokoll festhalten und lässt daher niemanden hinein.', next: 'Warten Sie eine Minute und laden Sie die Seite neu. Wenn es so bleibt, nennen Sie Ihrer Administration die Anfrage-Kennung unten.' },
  },
  RG_UPSTREAM_UNAVAILABLE: {
    en: { title: 'The meeting service is not answering', text: 'You were let in, but the conferencing server behind the gateway does not answer.', next: 'Wait a minute and reload the page. If it persists, tell your administrator the request id below.' },
    de: { title: 'Der Konferenzdienst antwortet nicht', text: 'Sie wurden eingelassen, aber der Konferenzserver hinter dem Gateway antwortet nicht.', next: 'Warten Sie eine Minute und laden Sie die Seite neu. Wenn es so bleibt, nennen Sie Ihrer Administration die Anfrage-Kennung unten.' },
  },
  RG_GUEST_INVITES_OFF: {
    en: { title: 'No guests in this room', text: 'This room does not admit guests by invitation.', next: 'Ask the person who invited you for a current link, or sign in with an account if you have one.' },
    de: { title: 'Keine Gäste in diesem Raum', text: 'Dieser Raum lässt keine Gäste per Einladung zu.', next: 'Bitten Sie die einladende Person um einen aktuellen Link oder melden Sie sich mit einem Konto an, falls Sie eines haben.' },
  },
  RG_GUEST_WRONG_ROOM: {
    en: { title: 'Your invitation is for another room', text: 'As a guest you may enter only the room your invitation was made for.', next: 'Open the link from your invitation again; for another meeting ask for a new invitation.' },
    de: { title: 'Ihre Einladung gilt für einen anderen Raum', text: 'Als Gast dürfen Sie nur den Raum betreten, für den Ihre Einladung ausgestellt wurde.', next: 'Öffnen Sie den Link aus Ihrer Einladung erneut; für ein anderes Meeting bitten Sie um eine neue Einladung.' },
  },
  RG_GUEST_EXPIRED: {
    en: { title: 'Your guest access has ended', text: 'Guest access lasts only a few hours.', next: 'Open the invitation link again, or ask the person who invited you for a new one.' },
    de: { title: 'Ihr Gastzugang ist abgelaufen', text: 'Ein Gastzugang gilt nur einige Stunden.', next: 'Öffnen Sie den Einladungslink erneut oder bitten Sie die einladende Person um einen neuen.' },
  },
  RG_GUEST_NOT_ALLOWED: {
    en: { title: 'Not available for guests', text: 'As a guest you can only take part in the meeting you were invited to.', next: 'Go back to your meeting. To use this page, sign out and sign in with an account.' },
    de: { title: 'Für Gäste nicht verfügbar', text: 'Als Gast können Sie nur an dem Meeting teilnehmen, zu dem Sie eingeladen wurden.', next: 'Kehren Sie zu Ihrem Meeting zurück. Für diese Seite melden Sie sich ab und mit einem Konto an.' },
  },
  RG_GUEST_NOT_MODERATOR: {
    en: { title: 'Only moderators can invite', text: 'Invitations to this room are managed by its moderators.', next: 'Ask a moderator of the room to invite the guest.' },
    de: { title: 'Nur Moderierende können einladen', text: 'Einladungen in diesen Raum verwalten seine Moderierenden.', next: 'Bitten Sie eine moderierende Person des Raums, den Gast einzuladen.' },
  },
  RG_GUEST_INVITE_UNKNOWN: {
    en: { title: 'Invitation not found', text: 'This invitation link is not known. It may be incomplete or mistyped.', next: 'Copy the whole link from your invitation, or ask for a new one.' },
    de: { title: 'Einladung nicht gefunden', text: 'Dieser Einladungslink ist unbekannt. Vielleicht ist er unvollständig oder vertippt.', next: 'Kopieren Sie den vollständigen Link aus Ihrer Einladung oder bitten Sie um einen neuen.' },
  },
  RG_GUEST_INVITE_EXPIRED: {
    en: { title: 'Invitation expired', text: 'This invitation is no longer valid.', next: 'Ask the person who invited you for a new invitation.' },
    de: { title: 'Einladung abgelaufen', text: 'Diese Einladung ist nicht mehr gültig.', next: 'Bitten Sie die einladende Person um eine neue Einladung.' },
  },
  RG_GUEST_INVITE_USED_UP: {
    en: { title: 'Invitation used up', text: 'This invitation has been used as often as it allows.', next: 'Ask the person who invited you for a new invitation.' },
    de: { title: 'Einladung aufgebraucht', text: 'Diese Einladung wurde so oft verwendet, wie sie erlaubt.', next: 'Bitten Sie die einladende Person um eine neue Einladung.' },
  },
  RG_GUEST_INVITE_REVOKED: {
    en: { title: 'Invitation withdrawn', text: 'A moderator of the meeting has withdrawn this invitation.', next: 'If you should still take part, ask the person who invited you for a new invitation.' },
    de: { title: 'Einladung zurückgezogen', text: 'Eine moderierende Person des Meetings hat diese Einladung zurückgezogen.', next: 'Sollen Sie weiterhin teilnehmen, bitten Sie die einladende Person um eine neue Einladung.' },
  },
  RG_GUEST_NAME_INVALID: {
    en: { title: 'Please enter a name', text: 'This meeting needs a name to show to the others (a first name or a pseudonym is fine), of at most 60 characters.', next: 'Go back and enter a name.' },
    de: { title: 'Bitte geben Sie einen Namen ein', text: 'Dieses Meeting braucht einen Namen, der den anderen angezeigt wird (ein Vorname oder ein Pseudonym genügt), mit höchstens 60 Zeichen.', next: 'Gehen Sie zurück und geben Sie einen Namen ein.' },
  },
  RG_GUEST_SIGNED_IN: {
    en: { title: 'You are signed in', text: 'You opened a guest invitation while signed in with an account.', next: 'Enter the room with your account using the button below, or sign out first to join as a guest.' },
    de: { title: 'Sie sind angemeldet', text: 'Sie haben eine Gasteinladung geöffnet, während Sie mit einem Konto angemeldet sind.', next: 'Betreten Sie den Raum mit Ihrem Konto über die Schaltfläche unten oder melden Sie sich zuerst ab, um als Gast teilzunehmen.' },
  },
  RG_INTERNAL: {
    en: { title: 'Something went wrong', text: 'The gateway hit an unexpected error.', next: 'Reload the page. If it persists, tell your administrator the request id below.' },
    de: { title: 'Etwas ist schiefgegangen', text: 'Im Gateway ist ein unerwarteter Fehler aufgetreten.', next: 'Laden Sie die Seite neu. Wenn es so bleibt, nennen Sie Ihrer Administration die Anfrage-Kennung unten.' },
  },
};

export const UI_TEXT = {
  en: {
    requestId: 'Request id', reason: 'Reason code', signIn: 'Sign in', signInAgain: 'Sign in again', home: 'Home',
    signOut: 'Sign out', signOutTitle: 'Sign out', signOutText: 'Sign out of all meetings on this site?', signedInAs: 'Signed in as',
    signedOutTitle: 'You are signed out', signedOutText: 'Your session on this site has ended.', notSignedIn: 'You are not signed in.',
    policyFile: 'Rule', language: 'Deutsch', account: 'Your sign-in methods',
    noticeTitle: 'Before you join', noticeRoom: 'Room', noticeContinue: 'Continue to the room',
    opensNext: 'It opens next:', opensNever: 'No further times are scheduled.',
    siteLinks: 'About this site', privacy: 'Privacy', imprint: 'Imprint', help: 'Help',
  },
  de: {
    requestId: 'Anfrage-Kennung', reason: 'Grund-Code', signIn: 'Anmelden', signInAgain: 'Erneut anmelden', home: 'Startseite',
    signOut: 'Abmelden', signOutTitle: 'Abmelden', signOutText: 'Von allen Meetings auf dieser Website abmelden?', signedInAs: 'Angemeldet als',
    signedOutTitle: 'Sie sind abgemeldet', signedOutText: 'Ihre Sitzung auf dieser Website ist beendet.', notSignedIn: 'Sie sind nicht angemeldet.',
    policyFile: 'Regel', language: 'English', account: 'Ihre Anmeldemethoden',
    noticeTitle: 'Bevor Sie teilnehmen', noticeRoom: 'Raum', noticeContinue: 'Weiter zum Raum',
    opensNext: 'Er öffnet das nächste Mal:', opensNever: 'Weitere Termine sind nicht geplant.',
    siteLinks: 'Über diese Website', privacy: 'Datenschutz', imprint: 'Impressum', help: 'Hilfe',
  },
} as const satisfies Record<Lang, Record<string, string>>;

/** Words of the second-factor and account pages. */
export const MFA_TEXT = {
  en: {
    verifyTitle: 'Confirm it is you', verifyIntro: 'This room needs a second factor in addition to your login.',
    acceptedKeys: 'This room accepts only these security keys:', acceptedUnknown: 'an authenticator with AAGUID',
    noSynced: 'Passkeys synced through a cloud account are not accepted here: use a security key, or a passkey kept on this device only.',
    stepUpIntro: 'Your last confirmation is too long ago for this room. Please confirm again.',
    useKey: 'Use your passkey or security key', useKeyButton: 'Use passkey or security key',
    useApp: 'Or enter the code from your authenticator app', code: '6-digit code', codeHint: 'The code changes every 30 seconds.',
    confirm: 'Confirm', useRecovery: 'Lost your device? Use a recovery code', recoveryTitle: 'Use a recovery code',
    recoveryIntro: 'Each recovery code works once. After using one, set up a new second factor.', recoveryCode: 'Recovery code',
    wrongCode: 'That code is not right. Check the time on your device and try the current code.',
    replayedCode: 'That code was already used. Wait for the next code (it changes every 30 seconds).',
    wrongRecovery: 'That recovery code is not valid or was already used.',
    keyFailed: 'The passkey or security key could not be used. Try again, or use another method.',
    keyCounter: 'This security key reported an unexpected counter and was refused; it may have been copied. Use another method and tell your administrator.',
    enrolTitle: 'Set up a second factor', enrolIntro: 'This room needs a second factor. You have none yet: choose one. It takes a minute.',
    enrolKey: 'Passkey or security key (recommended)', enrolKeyText: 'Your phone, computer or a USB/NFC key confirms it is you. Nothing to type.',
    enrolApp: 'Authenticator app', enrolAppText: 'An app on your phone (for example FreeOTP, Aegis or Google Authenticator) shows a 6-digit code.',
    start: 'Set up', appTitle: 'Set up an authenticator app', appStep1: 'Scan this QR code with your authenticator app.',
    appStep2: 'Or type this key into the app:', appStep3: 'Enter the 6-digit code the app now shows.', factorName: 'Name for this factor',
    keyTitle: 'Set up a passkey or security key', keyIntro: 'Give it a name, then follow your browser\'s prompt.', keyButton: 'Create passkey',
    codesTitle: 'Your recovery codes', codesIntro: 'If you lose your second factor, each of these codes lets you in once. Store them somewhere safe (print them or keep them in a password manager). They are shown only now.',
    codesDone: 'I have saved my recovery codes', continue: 'Continue',
    lockedTitle: 'Too many attempts', idpOnlyTitle: 'Confirm at your identity provider', idpOnlyText: 'This room accepts only a second factor confirmed by your organisation\'s identity provider. Sign in again there.',
    accountTitle: 'Your sign-in methods', factors: 'Second factors', noFactors: 'You have no second factor yet.',
    kindTotp: 'Authenticator app', kindWebauthn: 'Passkey / security key', created: 'added', lastUsed: 'last used', never: 'never',
    rename: 'Rename', remove: 'Remove', addKey: 'Add passkey or security key', addApp: 'Add authenticator app',
    recoveryLeft: 'Recovery codes left', newCodes: 'Make new recovery codes', sessionsTitle: 'Your sessions', thisSession: 'this session', endOthers: 'End all other sessions',
    saved: 'Saved.', removed: 'Removed.', othersEnded: 'Your other sessions have ended.', jsNeeded: 'This needs JavaScript in your browser.',
    forRoom: 'For the room', whyAsked: 'its rules ask for a second factor on top of your password, so that a stolen or guessed password alone does not let anyone into this meeting.',
    whyAgain: 'its rules ask you to confirm again when your last confirmation is older than', otherMethod: 'Choose another method', backToAccount: 'Back to your sign-in methods',
    qrLabel: 'QR code for your authenticator app', sessionOn: 'on', unknownBrowser: 'Unknown browser', unknownSystem: 'unknown system',
    signedInAt: 'signed in', network: 'network',
  },
  de: {
    acceptedKeys: 'Dieser Raum akzeptiert nur diese Sicherheitsschlüssel:', acceptedUnknown: 'einen Authenticator mit der AAGUID',
    noSynced: 'Über ein Cloud-Konto synchronisierte Passkeys werden hier nicht akzeptiert: Verwenden Sie einen Sicherheitsschlüssel oder einen Passkey, der nur auf diesem Gerät liegt.',
    verifyTitle: 'Bestätigen Sie, dass Sie es sind', verifyIntro: 'Dieser Raum verlangt zusätzlich zu Ihrer Anmeldung einen zweiten Faktor.',
    stepUpIntro: 'Ihre letzte Bestätigung liegt für diesen Raum zu lange zurück. Bitte bestätigen Sie erneut.',
    useKey: 'Mit Passkey oder Sicherheitsschlüssel', useKeyButton: 'Passkey oder Sicherheitsschlüssel verwenden',
    useApp: 'Oder geben Sie den Code aus Ihrer Authenticator-App ein', code: '6-stelliger Code', codeHint: 'Der Code wechselt alle 30 Sekunden.',
    confirm: 'Bestätigen', useRecovery: 'Gerät verloren? Wiederherstellungscode verwenden', recoveryTitle: 'Wiederherstellungscode verwenden',
    recoveryIntro: 'Jeder Wiederherstellungscode funktioniert einmal. Richten Sie danach einen neuen zweiten Faktor ein.', recoveryCode: 'Wiederherstellungscode',
    wrongCode: 'Der Code stimmt nicht. Prüfen Sie die Uhrzeit Ihres Geräts und versuchen Sie den aktuellen Code.',
    replayedCode: 'Dieser Code wurde schon verwendet. Warten Sie auf den nächsten Code (er wechselt alle 30 Sekunden).',
    wrongRecovery: 'Dieser Wiederherstellungscode ist ungültig oder wurde schon verwendet.',
    keyFailed: 'Der Passkey oder Sicherheitsschlüssel konnte nicht verwendet werden. Versuchen Sie es erneut oder nutzen Sie eine andere Methode.',
    keyCounter: 'Dieser Sicherheitsschlüssel meldete einen unerwarteten Zähler und wurde abgelehnt; er könnte kopiert worden sein. Nutzen Sie eine andere Methode und informieren Sie Ihre Administration.',
    enrolTitle: 'Zweiten Faktor einrichten', enrolIntro: 'Dieser Raum verlangt einen zweiten Faktor. Sie haben noch keinen: Wählen Sie einen aus. Es dauert eine Minute.',
    enrolKey: 'Passkey oder Sicherheitsschlüssel (empfohlen)', enrolKeyText: 'Ihr Telefon, Ihr Computer oder ein USB-/NFC-Schlüssel bestätigt, dass Sie es sind. Nichts zu tippen.',
    enrolApp: 'Authenticator-App', enrolAppText: 'Eine App auf Ihrem Telefon (zum Beispiel FreeOTP, Aegis oder Google Authenticator) zeigt einen 6-stelligen Code.',
    start: 'Einrichten', appTitle: 'Authenticator-App einrichten', appStep1: 'Scannen Sie diesen QR-Code mit Ihrer Authenticator-App.',
    appStep2: 'Oder geben Sie diesen Schlüssel in der App ein:', appStep3: 'Geben Sie den 6-stelligen Code ein, den die App jetzt zeigt.', factorName: 'Name für diesen Faktor',
    keyTitle: 'Passkey oder Sicherheitsschlüssel einrichten', keyIntro: 'Geben Sie ihm einen Namen und folgen Sie dann der Abfrage Ihres Browsers.', keyButton: 'Passkey erstellen',
    codesTitle: 'Ihre Wiederherstellungscodes', codesIntro: 'Wenn Sie Ihren zweiten Faktor verlieren, lässt Sie jeder dieser Codes einmal hinein. Bewahren Sie sie sicher auf (ausdrucken oder im Passwortmanager speichern). Sie werden nur jetzt angezeigt.',
    codesDone: 'Ich habe meine Wiederherstellungscodes gesichert', continue: 'Weiter',
    lockedTitle: 'Zu viele Versuche', idpOnlyTitle: 'Beim Identitätsdienst bestätigen', idpOnlyText: 'Dieser Raum akzeptiert nur einen zweiten Faktor, den der Identitätsdienst Ihrer Organisation bestätigt. Melden Sie sich dort erneut an.',
    accountTitle: 'Ihre Anmeldemethoden', factors: 'Zweite Faktoren', noFactors: 'Sie haben noch keinen zweiten Faktor.',
    kindTotp: 'Authenticator-App', kindWebauthn: 'Passkey / Sicherheitsschlüssel', created: 'hinzugefügt', lastUsed: 'zuletzt verwendet', never: 'nie',
    rename: 'Umbenennen', remove: 'Entfernen', addKey: 'Passkey oder Sicherheitsschlüssel hinzufügen', addApp: 'Authenticator-App hinzufügen',
    recoveryLeft: 'Verbleibende Wiederherstellungscodes', newCodes: 'Neue Wiederherstellungscodes erzeugen', sessionsTitle: 'Ihre Sitzungen', thisSession: 'diese Sitzung', endOthers: 'Alle anderen Sitzungen beenden',
    saved: 'Gespeichert.', removed: 'Entfernt.', othersEnded: 'Ihre anderen Sitzungen wurden beendet.', jsNeeded: 'Dafür braucht Ihr Browser JavaScript.',
    forRoom: 'Für den Raum', whyAsked: 'Seine Regeln verlangen zusätzlich zu Ihrem Passwort einen zweiten Faktor, damit ein gestohlenes oder erratenes Passwort allein niemanden in dieses Meeting lässt.',
    whyAgain: 'Seine Regeln verlangen eine erneute Bestätigung, wenn Ihre letzte älter ist als', otherMethod: 'Andere Methode wählen', backToAccount: 'Zurück zu Ihren Anmeldemethoden',
    qrLabel: 'QR-Code für Ihre Authenticator-App', sessionOn: 'unter', unknownBrowser: 'Unbekannter Browser', unknownSystem: 'unbekanntem System',
    signedInAt: 'angemeldet', network: 'Netz',
  },
} as const satisfies Record<Lang, Record<string, string>>;

/** Words of the moderator's room page (/_roomguard/rooms/<room>). */
export const ROOM_TEXT = {
  en: {
    title: 'Room controls', room: 'Room', lockedSince: 'Locked since', lockedBy: 'by', open: 'The room is not locked: everyone the policy admits can join.',
    lockedText: 'The room is locked: nobody new can join.', lock: 'Lock the room', unlock: 'Unlock the room',
    evictAll: 'Remove everyone', evictAllHint: 'Ends everyone\'s participation now, on every server; lock the room first to keep them out.',
    people: 'People who joined today', nobody: 'Nobody has joined yet.', evict: 'Remove', evictHint: 'Removes this person and keeps them out until the room is unlocked (at most 12 hours).',
    done: 'Done.', invites: 'Guest invitations',
  },
  de: {
    title: 'Raumsteuerung', room: 'Raum', lockedSince: 'Gesperrt seit', lockedBy: 'von', open: 'Der Raum ist nicht gesperrt: Alle, die die Richtlinie zulässt, können teilnehmen.',
    lockedText: 'Der Raum ist gesperrt: Niemand kann neu hinzukommen.', lock: 'Raum sperren', unlock: 'Raum entsperren',
    evictAll: 'Alle entfernen', evictAllHint: 'Beendet sofort die Teilnahme aller, auf jedem Server; sperren Sie den Raum vorher, damit niemand zurückkommt.',
    people: 'Heute beigetreten', nobody: 'Noch niemand ist beigetreten.', evict: 'Entfernen', evictHint: 'Entfernt diese Person und hält sie fern, bis der Raum entsperrt wird (höchstens 12 Stunden).',
    done: 'Erledigt.', invites: 'Gast-Einladungen',
  },
} as const satisfies Record<Lang, Record<string, string>>;

/** Words of the guest pages: the invitation link (notice and name) and the moderator's invitations page. */
export const GUEST_TEXT = {
  en: {
    joinTitle: 'Join as a guest', joinIntro: 'You have been invited to a meeting. You take part as a guest, without an account.',
    room: 'Room', validUntil: 'Invitation valid until', noticeHeading: 'Please read before you join',
    name: 'Your name as the others will see it', nameHint: 'A first name or a pseudonym is fine. At most 60 characters.',
    nameOptionalHint: 'Optional: a first name or a pseudonym. Leave it empty to appear as “Guest”.',
    joinButton: 'Join the meeting', joinButtonNotice: 'I have read the notice: join the meeting',
    lobbyHint: 'A moderator will let you in; please wait in the lobby after joining.', guestName: 'Guest',
    invitesTitle: 'Guest invitations', invitesIntro: 'Invite people without an account into this room. Each link opens only this room.',
    createHeading: 'New invitation', validFor: 'Valid for', validForHint: 'A duration such as 2h, 2d or 7d; at most', uses: 'Number of uses', usesHint: 'How many people may use the link; at most',
    note: 'Note (for moderators, e.g. whom it is for)', create: 'Create invitation',
    createdHeading: 'Invitation created', createdText: 'Copy this link now and send it to your guests. It is shown only once.', link: 'Invitation link',
    copy: 'Copy link', copied: 'Link copied.', copyFailed: 'Could not copy: select the link and copy it yourself.',
    listHeading: 'Invitations', none: 'No invitations yet.', colNote: 'Note', colCreated: 'Created', colExpires: 'Expires', colUses: 'Uses left', colState: 'State', colUsedBy: 'Used by', colAction: 'Action',
    revoke: 'Revoke', revoked: 'The invitation has been revoked; guests who used it were signed out.',
    stateActive: 'active', stateExpired: 'expired', stateUsedUp: 'used up', stateRevoked: 'revoked',
    waitingHeading: 'Guests admitted recently', waitingIntro: 'Guests who used an invitation in the last hours. With a lobby they wait there until a moderator in the meeting lets them in.', noGuests: 'No guests yet.',
    openRoom: 'Open the room', badTtl: 'The duration must be like 2h or 7d and no longer than the room allows.', badUses: 'The number of uses must be a whole number within the room’s limit.',
  },
  de: {
    joinTitle: 'Als Gast teilnehmen', joinIntro: 'Sie wurden zu einem Meeting eingeladen. Sie nehmen als Gast teil, ohne Konto.',
    room: 'Raum', validUntil: 'Einladung gültig bis', noticeHeading: 'Bitte vor der Teilnahme lesen',
    name: 'Ihr Name, wie die anderen ihn sehen', nameHint: 'Ein Vorname oder ein Pseudonym genügt. Höchstens 60 Zeichen.',
    nameOptionalHint: 'Freiwillig: ein Vorname oder ein Pseudonym. Leer lassen, um als „Gast“ zu erscheinen.',
    joinButton: 'Am Meeting teilnehmen', joinButtonNotice: 'Ich habe den Hinweis gelesen: am Meeting teilnehmen',
    lobbyHint: 'Eine moderierende Person lässt Sie herein; bitte warten Sie nach dem Beitreten in der Lobby.', guestName: 'Gast',
    invitesTitle: 'Gasteinladungen', invitesIntro: 'Laden Sie Personen ohne Konto in diesen Raum ein. Jeder Link öffnet nur diesen Raum.',
    createHeading: 'Neue Einladung', validFor: 'Gültig für', validForHint: 'Eine Dauer wie 2h, 2d oder 7d; höchstens', uses: 'Anzahl der Verwendungen', usesHint: 'Wie viele Personen den Link verwenden dürfen; höchstens',
    note: 'Notiz (für Moderierende, z. B. für wen)', create: 'Einladung erstellen',
    createdHeading: 'Einladung erstellt', createdText: 'Kopieren Sie diesen Link jetzt und senden Sie ihn Ihren Gästen. Er wird nur einmal angezeigt.', link: 'Einladungslink',
    copy: 'Link kopieren', copied: 'Link kopiert.', copyFailed: 'Kopieren ging nicht: Markieren Sie den Link und kopieren Sie ihn selbst.',
    listHeading: 'Einladungen', none: 'Noch keine Einladungen.', colNote: 'Notiz', colCreated: 'Erstellt', colExpires: 'Läuft ab', colUses: 'Verbleibend', colState: 'Status', colUsedBy: 'Verwendet von', colAction: 'Aktion',
    revoke: 'Zurückziehen', revoked: 'Die Einladung wurde zurückgezogen; Gäste, die sie verwendet haben, wurden abgemeldet.',
    stateActive: 'gültig', stateExpired: 'abgelaufen', stateUsedUp: 'aufgebraucht', stateRevoked: 'zurückgezogen',
    waitingHeading: 'Kürzlich eingelassene Gäste', waitingIntro: 'Gäste, die in den letzten Stunden eine Einladung verwendet haben. Mit Lobby warten sie dort, bis eine moderierende Person im Meeting sie hereinlässt.', noGuests: 'Noch keine Gäste.',
    openRoom: 'Raum öffnen', badTtl: 'Die Dauer muss wie 2h oder 7d angegeben sein und darf nicht länger sein, als der Raum erlaubt.', badUses: 'Die Anzahl muss eine ganze Zahl innerhalb der Grenze des Raums sein.',
  },
} as const satisfies Record<Lang, Record<string, string>>;
