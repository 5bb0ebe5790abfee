// The participant-facing words, in German and English. Every error code of the catalogue has a title,
// an explanation in plain words and a next step. The language comes from Accept-Language.
import type { ErrorCode } from '../errors.js';

export type Lang = 'de' | 'en';
export const LANGS: readonly Lang[] = ['en', 'de'];

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
  RG_MFA_UNAVAILABLE: {
    en: { title: 'Second factor not available yet', text: 'This room needs a second factor, but this gateway cannot check second factors yet.', next: 'Tell your administrator the request id below.' },
    de: { title: 'Zweiter Faktor noch nicht verfügbar', text: 'Dieser Raum verlangt einen zweiten Faktor, den dieses Gateway noch nicht prüfen kann.', next: 'Nennen Sie Ihrer Administration die Anfrage-Kennung unten.' },
  },
  RG_ROOM_INVALID: {
    en: { title: 'This is not a valid room name', text: 'The room name in the address contains characters that room names cannot have.', next: 'Check the room link in your invitation.' },
    de: { title: 'Kein gültiger Raumname', text: 'Der Raumname in der Adresse enthält Zeichen, die in Raumnamen nicht vorkommen dürfen.', next: 'Prüfen Sie den Raum-Link in Ihrer Einladung.' },
  },
  RG_REQUEST_BAD_PATH: {
    en: { title: 'This address is not allowed', text: 'The address contains parts (such as // or ..) that the gateway does not forward.', next: 'Check the link, or start again from the home page.' },
    de: { title: 'Diese Adresse ist nicht erlaubt', text: 'Die Adresse enthält Teile (etwa // oder ..), die das Gateway nicht weiterleitet.', next: 'Prüfen Sie den Link oder beginnen Sie erneut auf der Startseite.' },
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
  RG_UPSTREAM_UNAVAILABLE: {
    en: { title: 'The meeting service is not answering', text: 'You were let in, but the conferencing server behind the gateway does not answer.', next: 'Wait a minute and reload the page. If it persists, tell your administrator the request id below.' },
    de: { title: 'Der Konferenzdienst antwortet nicht', text: 'Sie wurden eingelassen, aber der Konferenzserver hinter dem Gateway antwortet nicht.', next: 'Warten Sie eine Minute und laden Sie die Seite neu. Wenn es so bleibt, nennen Sie Ihrer Administration die Anfrage-Kennung unten.' },
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
    policyFile: 'Rule', language: 'Sprache: Deutsch',
  },
  de: {
    requestId: 'Anfrage-Kennung', reason: 'Grund-Code', signIn: 'Anmelden', signInAgain: 'Erneut anmelden', home: 'Startseite',
    signOut: 'Abmelden', signOutTitle: 'Abmelden', signOutText: 'Von allen Meetings auf dieser Website abmelden?', signedInAs: 'Angemeldet als',
    signedOutTitle: 'Sie sind abgemeldet', signedOutText: 'Ihre Sitzung auf dieser Website ist beendet.', notSignedIn: 'Sie sind nicht angemeldet.',
    policyFile: 'Regel', language: 'Language: English',
  },
} as const satisfies Record<Lang, Record<string, string>>;
