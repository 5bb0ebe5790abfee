// Words of the reviewer page, in German and English. Reason codes are explained with the catalogue's
// summaries (src/errors.ts) in English and with the German sentences below (falling back to English).
import type { Lang } from './i18n.js';
import type { AuditOutcome, AuditRecordType } from '../audit/record.js';

export const AUDIT_TEXT = {
  en: {
    title: 'Audit log', language: 'Deutsch',
    chainOk: 'Chain intact', chainBad: 'Chain damaged', chainRecords: 'records checked', chainChecked: 'checked',
    chainProblems: 'problems', chainFirstProblem: 'first problem', chainUnsigned: 'Checkpoint signatures were not checked (no public key given).',
    lastCheckpoint: 'last signed checkpoint', noCheckpoint: 'no signed checkpoint yet',
    writerDown: 'The audit log cannot be written right now: nobody is let into rooms until this is fixed.',
    filters: 'Filter', room: 'Room', person: 'Person (sub, e-mail or pseudonym)', type: 'Event', outcome: 'Outcome', any: 'any',
    since: 'From', until: 'Until', timeHint: 'e.g. 2024-05-01, 2024-05-01T10:00Z, or 7d for the last seven days (UTC)',
    apply: 'Apply', reset: 'Reset', csv: 'Download as CSV', invalid: 'Not understood, ignored:',
    chartTitle: 'Room entries over time', chartAllowed: 'allowed', chartDenied: 'denied', chartNone: 'No room decisions in this selection.',
    chartNumbers: 'Show the numbers', chartPeriod: 'Period', per: 'per', perEach: 'per', minute: 'minute', minutes: 'minutes', hour: 'hour', hours: 'hours', day: 'day', days: 'days',
    socket: 'WebSocket connection', sockets: 'WebSocket connections',
    records: 'Records', showing: 'Showing the newest', of: 'of', none: 'No records match.',
    colTime: 'Time', colEvent: 'Event', colOutcome: 'Outcome', colPerson: 'Person', colRoom: 'Room', colRole: 'Role',
    colPolicy: 'Policy', colFactor: 'Second factor', colReason: 'Reason', colClient: 'Client',
    ageSeconds: 's ago', verifyNow: 'Verify the chain now', pseudonymous: 'pseudonym',
    complianceReport: 'Compliance report: the requirements this deployment meets, and the proof',
  },
  de: {
    title: 'Audit-Protokoll', language: 'English',
    chainOk: 'Kette unversehrt', chainBad: 'Kette beschädigt', chainRecords: 'Einträge geprüft', chainChecked: 'geprüft',
    chainProblems: 'Probleme', chainFirstProblem: 'erstes Problem', chainUnsigned: 'Die Signaturen der Prüfpunkte wurden nicht geprüft (kein öffentlicher Schlüssel angegeben).',
    lastCheckpoint: 'letzter signierter Prüfpunkt', noCheckpoint: 'noch kein signierter Prüfpunkt',
    writerDown: 'Das Audit-Protokoll kann gerade nicht geschrieben werden: Bis das behoben ist, wird niemand in Räume gelassen.',
    filters: 'Filter', room: 'Raum', person: 'Person (sub, E-Mail oder Pseudonym)', type: 'Ereignis', outcome: 'Ergebnis', any: 'alle',
    since: 'Von', until: 'Bis', timeHint: 'z. B. 2024-05-01, 2024-05-01T10:00Z oder 7d für die letzten sieben Tage (UTC)',
    apply: 'Anwenden', reset: 'Zurücksetzen', csv: 'Als CSV herunterladen', invalid: 'Nicht verstanden, ignoriert:',
    chartTitle: 'Raumzutritte im Zeitverlauf', chartAllowed: 'erlaubt', chartDenied: 'abgelehnt', chartNone: 'Keine Raumentscheidungen in dieser Auswahl.',
    chartNumbers: 'Zahlen anzeigen', chartPeriod: 'Zeitraum', per: 'pro', perEach: 'je', minute: 'Minute', minutes: 'Minuten', hour: 'Stunde', hours: 'Stunden', day: 'Tag', days: 'Tage',
    socket: 'WebSocket-Verbindung', sockets: 'WebSocket-Verbindungen',
    records: 'Einträge', showing: 'Angezeigt werden die neuesten', of: 'von', none: 'Keine passenden Einträge.',
    colTime: 'Zeit', colEvent: 'Ereignis', colOutcome: 'Ergebnis', colPerson: 'Person', colRoom: 'Raum', colRole: 'Rolle',
    colPolicy: 'Richtlinie', colFactor: 'Zweiter Faktor', colReason: 'Grund', colClient: 'Client',
    ageSeconds: 's zuvor', verifyNow: 'Kette jetzt prüfen', pseudonymous: 'Pseudonym',
    complianceReport: 'Compliance-Bericht: welche Anforderungen diese Installation erfüllt, mit Nachweis',
  },
} as const satisfies Record<Lang, Record<string, string>>;

export const TYPE_TEXT: Record<AuditRecordType, Record<Lang, string>> = {
  'login.success': { en: 'signed in', de: 'angemeldet' },
  'login.failure': { en: 'sign-in failed', de: 'Anmeldung fehlgeschlagen' },
  'mfa.success': { en: 'second factor confirmed', de: 'zweiter Faktor bestätigt' },
  'mfa.failure': { en: 'second factor wrong', de: 'zweiter Faktor falsch' },
  'mfa.lock': { en: 'second factor locked', de: 'zweiter Faktor gesperrt' },
  'mfa.replay': { en: 'code used twice', de: 'Code doppelt verwendet' },
  'mfa.enrolled': { en: 'factor added', de: 'Faktor hinzugefügt' },
  'mfa.removed': { en: 'factor removed', de: 'Faktor entfernt' },
  'mfa.recovery_used': { en: 'recovery code used', de: 'Wiederherstellungscode verwendet' },
  'room.decision': { en: 'room entry', de: 'Raumzutritt' },
  'review.refused': { en: 'reviewer page refused', de: 'Prüfseite verweigert' },
  'room.locked': { en: 'room locked', de: 'Raum gesperrt' },
  'room.unlocked': { en: 'room unlocked', de: 'Raum entsperrt' },
  'room.evicted': { en: 'removed from room', de: 'aus dem Raum entfernt' },
  logout: { en: 'signed out', de: 'abgemeldet' },
  'session.revoked': { en: 'session ended', de: 'Sitzung beendet' },
  'guest.invite_created': { en: 'guest invitation created', de: 'Gasteinladung erstellt' },
  'guest.invite_revoked': { en: 'guest invitation revoked', de: 'Gasteinladung zurückgezogen' },
  'guest.invite_used': { en: 'guest invitation used', de: 'Gasteinladung verwendet' },
  'guest.invite_refused': { en: 'guest invitation refused', de: 'Gasteinladung abgelehnt' },
  'policy.loaded': { en: 'policies loaded', de: 'Richtlinien geladen' },
  'policy.rejected': { en: 'policies rejected', de: 'Richtlinien abgelehnt' },
  'config.loaded': { en: 'configuration loaded', de: 'Konfiguration geladen' },
  'config.rejected': { en: 'configuration reload rejected', de: 'Neuladen der Konfiguration abgelehnt' },
  'privacy.export': { en: 'personal data exported (access request)', de: 'personenbezogene Daten exportiert (Auskunftsersuchen)' },
  'privacy.erase': { en: 'personal data erased (erasure request)', de: 'personenbezogene Daten gelöscht (Löschersuchen)' },
  'audit.purge': { en: 'old records deleted', de: 'alte Einträge gelöscht' },
  'audit.checkpoint': { en: 'signed checkpoint', de: 'signierter Prüfpunkt' },
  'audit.summary': { en: 'refusals counted, not recorded one by one', de: 'Ablehnungen gezählt, nicht einzeln protokolliert' },
};

export const OUTCOME_TEXT: Record<AuditOutcome, Record<Lang, string>> = {
  success: { en: 'success', de: 'erfolgreich' },
  failure: { en: 'failure', de: 'fehlgeschlagen' },
  allow: { en: 'allowed', de: 'erlaubt' },
  deny: { en: 'denied', de: 'abgelehnt' },
  login: { en: 'sign-in needed', de: 'Anmeldung nötig' },
  mfa: { en: 'second factor needed', de: 'zweiter Faktor nötig' },
};

/**
 * German reviewer summaries of reason codes; codes missing here are shown with the English catalogue text.
 * Keyed by string, not ErrorCode: old records keep codes the catalogue may since have retired.
 */
export const REASON_DE: Readonly<Record<string, string>> = {
  RG_LOGIN_REQUIRED: 'keine gültige Sitzung; die Person muss sich zuerst anmelden',
  RG_POLICY_NO_MATCH: 'keine Richtliniendatei passt zu diesem Raum (standardmäßig verweigert)',
  RG_POLICY_AMBIGUOUS: 'zwei Richtliniendateien passen gleich gut zu diesem Raum',
  RG_POLICY_DENY_RULE: 'eine Sperrregel der Raumrichtlinie trifft auf diese Person zu',
  RG_POLICY_NOT_ALLOWED: 'keine Erlaubnisregel der Raumrichtlinie trifft auf diese Person zu',
  RG_MFA_REQUIRED: 'der Raum verlangt einen zweiten Faktor, den die Sitzung nicht hat',
  RG_MFA_TOO_OLD: 'der zweite Faktor der Sitzung ist älter als der Raum erlaubt',
  RG_MFA_INVALID: 'der zweite Faktor war falsch',
  RG_MFA_REPLAY: 'ein Code der Authenticator-App wurde ein zweites Mal verwendet (abgewiesen)',
  RG_MFA_COUNTER: 'der Signaturzähler eines Sicherheitsschlüssels ging zurück (möglicherweise kopiert); abgewiesen',
  RG_MFA_LOCKED: 'zu viele Fehlversuche mit dem zweiten Faktor; vorübergehend gesperrt',
  RG_MFA_NOT_ENROLLED: 'das Konto hat keinen zweiten Faktor der gesendeten Art; nichts wurde geprüft',
  RG_MFA_FRESH_LOGIN: 'die Einrichtung des ersten zweiten Faktors braucht eine frische Anmeldung',
  RG_ROOM_INVALID: 'der Raumname ist ungültig',
  RG_LOGIN_STATE_UNKNOWN: 'die Rückmeldung der Anmeldung gehört zu keiner laufenden Anmeldung (abgelaufen, wiederverwendet oder gefälscht)',
  RG_LOGIN_FAILED: 'der Identitätsdienst hat die Anmeldung nicht abgeschlossen',
  RG_LOGIN_DENIED_BY_IDP: 'der Identitätsdienst hat die Anmeldung abgelehnt',
  RG_IDP_UNAVAILABLE: 'der Identitätsdienst ist nicht erreichbar',
  RG_CSRF: 'das Formular kam nicht von einer roomguard-Seite (CSRF-Prüfung fehlgeschlagen)',
  RG_STORE_UNAVAILABLE: 'der Sitzungsspeicher ist nicht erreichbar',
  RG_AUDIT_UNAVAILABLE: 'das Audit-Protokoll kann nicht geschrieben werden, daher wird niemand eingelassen',
  RG_INTERNAL: 'unerwarteter interner Fehler',
};
