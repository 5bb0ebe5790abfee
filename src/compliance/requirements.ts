// The compliance matrix: requirements of the DSK's Orientierungshilfe Videokonferenzsysteme (2020) and its
// checklist, BSI IT-Grundschutz (APP.5.4, OPS.1.1.5, ORP.4), OWASP ASVS 5.0 (V6, V7, V16), NIST SP 800-63B
// (AAL2, AAL3) and GDPR Art. 15/17, each in our own words, with the feature that serves it, its settings,
// the tests that prove it and what stays the operator's duty. docs/compliance.md shows this table (a unit
// test keeps the two equal); `roomguard compliance report` judges each servable row for one deployment.
import type { DeploymentFacts, RoomFacts } from './facts.js';

export interface Text { en: string; de: string }
export type Status = 'met' | 'duty' | 'not-met';
export interface Verdict { status: Status; reason: Text }
export interface TestRef { file: string; name: string }

export interface Requirement {
  /** The requirement's identifier in its source (several where they ask the same). */
  id: string;
  source: 'DSK' | 'BSI' | 'ASVS' | 'NIST' | 'GDPR';
  asks: Text;
  /** What roomguard does about it; for rows it cannot serve, why not. */
  feature: Text;
  /** Settings of roomguard.yaml that shape it (dotted paths of the schema). */
  keys: readonly string[];
  tests: readonly TestRef[];
  duty: Text;
  /** False: a gateway cannot serve it (the backend's, the IdP's or the organisation's); never judged. */
  servable: boolean;
  judge?: (facts: DeploymentFacts) => Verdict;
}

const t = (en: string, de: string): Text => ({ en, de });
const met = (en: string, de: string): Verdict => ({ status: 'met', reason: t(en, de) });
const duty = (en: string, de: string): Verdict => ({ status: 'duty', reason: t(en, de) });
const notMet = (en: string, de: string): Verdict => ({ status: 'not-met', reason: t(en, de) });
const test = (file: string, name: string): TestRef => ({ file, name });
const rooms = (list: readonly RoomFacts[]): string => list.map((r) => r.rooms.join(', ')).join('; ');

const T = {
  denyDefault: test('test/unit/decide.test.ts', 'denies a room that no policy matches (RG_POLICY_NO_MATCH), even to an admin-like user'),
  denyDefaultGateway: test('test/integration/gateway.test.ts', 'denies a room no policy matches (deny by default) and keeps board closed without a second factor'),
  roomToken: test('test/integration/jitsi.test.ts', 'admits alice to town-hall with a token for exactly that room, moderator, recorded in the audit log'),
  highRiskIdle: test('test/integration/high-risk-idle.test.ts', 'after 20 idle minutes sends the person to a fresh IdP login, and keeps doing so on every retry'),
  invitationToken: test('test/unit/invitations.test.ts', 'puts ≥128 random bits in the token and keeps only its SHA-256 in the store'),
  scripts: test('test/unit/pages.test.ts', 'shows scripts only on the pages that need them (WebAuthn), each with the nonce'),
  cookies: test('test/integration/gateway.test.ts', 'uses __Host- cookies with Secure and sends HSTS'),
  ipTruncate: test('test/unit/audit-chain.test.ts', 'truncates IPv4 to /24, IPv6 to /48 and IPv4-mapped IPv6 to the IPv4 /24'),
  sessionHash: test('test/unit/audit-chain.test.ts', 'never writes a session id: anything but a short hex hash is hashed again'),
  pseudonyms: test('test/unit/audit-chain.test.ts', 'writes neither sub, iss, e-mail nor name under pseudonymous, and the same person gets the same pseudonym'),
  exportSubject: test('test/integration/privacy-rights.test.ts', 'exports the sessions, factors and audit records of bob as JSON and a readable page, and audits the export'),
  eraseVerifies: test('test/integration/privacy-rights.test.ts', 'after erase --force, audit verify passes, export finds no record of bob, and his next join has a new pseudonym'),
  eraseHeld: test('test/integration/privacy-rights.test.ts', 'keeps records inside the legal retention period linkable unless --force, and says so'),
  eraseSealsClient: test('test/integration/privacy-rights.test.ts', 'seals client address and user agent under the person\'s own key, and opens them only in their export'),
  eraseBySubject: test('test/integration/privacy-rights.test.ts', 'matches the person by sub only: neither their pseudonym nor their e-mail address finds their records'),
  eraseForgetsEveryone: test('test/unit/invitations.test.ts', 'finds and forgets a person wherever an invitation names them, creator or revoker, by store name only'),
  eraseRecordedFirst: test('test/integration/privacy-rights.test.ts', 'erases nothing when the erasure cannot be recorded'),
  offHostDeletion: test('test/integration/compliance-report.test.ts', 'says the log cannot be altered or deleted unnoticed only against checkpoints kept off the host'),
  backchannel: test('test/integration/backchannel.test.ts', 'ends the roomguard session when the person signs out at the IdP'),
  auditRecords: test('test/integration/audit-gateway.test.ts', 'records config, policies, login, allowed and denied joins, and the chain verifies'),
  auditRefuses: test('test/integration/audit-gateway.test.ts', 'refuses a join with 503 when its record cannot be written, and reports not ready'),
  purgeSigned: test('test/integration/audit-tamper.test.ts', 'covers a purge by a signed checkpoint in the same write, so the off-host copy has it before anything else happens'),
  tamperMiddle: test('test/integration/audit-tamper.test.ts', 'fails on records deleted from the middle: in one segment and across a day boundary'),
  verifyChanged: test('test/integration/audit-verify.test.ts', 'finds a changed field and names file:line with expected and found hash'),
  offHost: test('test/integration/audit-tamper.test.ts', 'catches a tail cut whose checkpoint entries were cut too only with the off-host copy: one segment, across days, a whole instance'),
  reviewerPage: test('test/integration/audit-verify.test.ts', 'renders escaped records, reasons in words, a chart and a CSV link, in German and English'),
  limiter: test('test/unit/mfa-limiter.test.ts', 'locks the account on the maxFailures-th failure until now + lockout'),
  lockEverywhere: test('test/integration/mfa.test.ts', 'locks after too many wrong codes, on every instance, and audits the lock'),
  totpReplay: test('test/unit/mfa-totp.test.ts', 'refuses the same code again once its step is recorded, flagged as a replay'),
  totpReplayGateway: test('test/integration/mfa.test.ts', 'enrols TOTP, admits to the room, refuses the same code again (replay, audited), and accepts the next step'),
  recoveryHashes: test('test/unit/mfa-recovery.test.ts', 'are scrypt$salt$hash with a salt of at least 16 bytes and a hash of at least 32 bytes'),
  webauthnCounter: test('test/security/webauthn.test.ts', 'refuses a counter that went back or stood still (a cloned key), and accepts one that grew'),
  webauthnChallenge: test('test/security/webauthn.test.ts', 'uses a challenge once: the same assertion again is refused, also after a new challenge was issued'),
  idleLimit: test('test/unit/session-limits.test.ts', 'ends a session idle past its own limit while ordinary sessions live on'),
  absoluteLimit: test('test/unit/session-limits.test.ts', 'ends a session at its own absolute limit however active it is'),
  idleCeiling: test('test/unit/config.test.ts', 'refuses an idleTimeout above 1h'),
  absoluteCeiling: test('test/unit/config.test.ts', 'refuses an absoluteTimeout above 24h'),
  sessionId: test('test/unit/store-sessions.test.ts', 'gives the browser a 43-character base64url id (256 bits)'),
  stepUpId: test('test/security/sessions.test.ts', 'gives a new id at step-up (second factor); the pre-step-up id no longer works'),
  plantedId: test('test/security/sessions.test.ts', 'replaces an id planted before login; the planted id never becomes a session'),
  revokeCli: test('test/integration/instances.test.ts', 'revoked with `roomguard sessions revoke --user`: B refuses it and closes its WebSocket within one second'),
  logoutEverywhere: test('test/integration/instances.test.ts', 'logged out on A: B refuses the session and closes its WebSocket within one second'),
  freshLogin: test('test/integration/mfa.test.ts', 'sends the enrolment of a first factor through a fresh IdP login (max_age) when the login is too old'),
  redisTls: test('test/integration/redis-topologies.test.ts', 'reaches every primary over TLS, verified against store.tls.ca, and refuses an untrusted one'),
  report: test('test/integration/compliance-report.test.ts', 'names the settings of the deployment, its high-risk rooms and the chain verification, in Markdown and printable HTML'),
} as const;

/** Every requirement of the matrix, servable ones first within each source. */
export const REQUIREMENTS: readonly Requirement[] = [
  {
    id: 'DSK-OH 4.2.1', source: 'DSK', servable: true,
    asks: t('Only authorised people get into a conference; a guessable room name is no protection.', 'Nur Berechtigte gelangen in eine Konferenz; ein erratbarer Raumname schützt nicht.'),
    feature: t('Per-room policies decide every entry, deny by default; the backend itself enforces the admission (a Jitsi token for exactly one room, a signed single-use BBB join).', 'Raumrichtlinien entscheiden jeden Zutritt, standardmäßig abgelehnt; das Backend setzt die Zulassung selbst durch (Jitsi-Token für genau einen Raum, signierter einmaliger BBB-Beitritt).'),
    keys: ['policies.dir', 'backend.type'],
    tests: [T.denyDefault, T.denyDefaultGateway, T.roomToken],
    duty: t('Write the policies; let the backend be reached only through roomguard (firewall, Jitsi/BBB secrets).', 'Richtlinien schreiben; das Backend nur über roomguard erreichbar machen (Firewall, Jitsi-/BBB-Geheimnisse).'),
    judge: (f) => f.policyVersion === undefined
      ? notMet(`the policy set has problems: ${f.policyProblems[0] ?? 'unreadable'}`, `die Richtlinien haben Fehler: ${f.policyProblems[0] ?? 'nicht lesbar'}`)
      : met(`policy set ${f.policyVersion.slice(0, 16)} decides every entry (backend ${f.backend})`, `Richtliniensatz ${f.policyVersion.slice(0, 16)} entscheidet jeden Zutritt (Backend ${f.backend})`),
  },
  {
    id: 'DSK-OH 4.2.2; BSI ORP.4.A21; ASVS 6.3.3', source: 'DSK', servable: true,
    asks: t('Rooms with a high protection need demand two factors per the state of the art.', 'Räume mit hohem Schutzbedarf verlangen zwei Faktoren nach dem Stand der Technik.'),
    feature: t('A policy with `risk: high` and `mfa.required` asks for a passkey/security key or an authenticator app after the IdP login; the factor\'s age is limited by `mfa.maxAge`.', 'Eine Richtlinie mit `risk: high` und `mfa.required` verlangt nach der IdP-Anmeldung einen Passkey/Sicherheitsschlüssel oder eine Authenticator-App; das Alter des Faktors begrenzt `mfa.maxAge`.'),
    keys: ['oidc.trustAmr', 'mfa.freshFactor'],
    tests: [T.totpReplayGateway, T.highRiskIdle],
    duty: t('Decide in the DPIA which rooms are high risk and mark them `risk: high`.', 'In der DSFA festlegen, welche Räume hohen Schutzbedarf haben, und sie mit `risk: high` kennzeichnen.'),
    judge: (f) => {
      if (f.highRiskRooms.length === 0) return duty('no room is marked risk: high; classify rooms in the DPIA', 'kein Raum ist mit risk: high gekennzeichnet; Räume in der DSFA einstufen');
      const open = f.highRiskRooms.filter((r) => !r.mfaRequired);
      return open.length > 0
        ? notMet(`high-risk rooms without a second factor: ${rooms(open)}`, `Räume mit hohem Schutzbedarf ohne zweiten Faktor: ${rooms(open)}`)
        : met(`every high-risk room demands a second factor: ${rooms(f.highRiskRooms)}`, `jeder Raum mit hohem Schutzbedarf verlangt einen zweiten Faktor: ${rooms(f.highRiskRooms)}`);
    },
  },
  {
    id: 'DSK-OH 4.2.4; BSI APP.5.4.A7', source: 'DSK', servable: true,
    asks: t('External guests need no account, join by an unguessable invitation, may use a pseudonym, and a moderator controls who is let in.', 'Externe Gäste brauchen kein Konto, kommen mit einer nicht erratbaren Einladung, dürfen ein Pseudonym nutzen, und Moderierende bestimmen, wer eingelassen wird.'),
    feature: t('Guest invitations (≥128-bit token, only its hash stored, expiry, use count), guest sessions with their own timeouts, lobby where the backend has one; moderators only by policy.', 'Gasteinladungen (Token ≥128 Bit, nur sein Hash gespeichert, Ablauf, Nutzungszahl), Gastsitzungen mit eigenen Zeitgrenzen, Warteraum wo das Backend einen hat; Moderationsrechte nur per Richtlinie.'),
    keys: ['guests.idleTimeout', 'guests.absoluteTimeout'],
    tests: [T.invitationToken, T.roomToken],
    duty: t('Name moderators in the policies; turn on the backend\'s lobby.', 'Moderierende in den Richtlinien benennen; den Warteraum des Backends einschalten.'),
    judge: (f) => met(`guest sessions end after ${f.guests.idleMinutes} min idle, ${f.guests.absoluteMinutes} min at most`, `Gastsitzungen enden nach ${f.guests.idleMinutes} min Leerlauf, spätestens nach ${f.guests.absoluteMinutes} min`),
  },
  {
    id: 'DSK-Checkliste 3.2 (no. 3–4)', source: 'DSK', servable: true,
    asks: t('No telemetry and no content loaded from third parties.', 'Keine Telemetrie und keine von Dritten nachgeladenen Inhalte.'),
    feature: t('Every page, script, style and logo is served by roomguard itself under a strict Content-Security-Policy; roomguard contacts only the IdP, the store and the backend.', 'Jede Seite, jedes Skript, Stylesheet und Logo liefert roomguard selbst unter einer strikten Content-Security-Policy; roomguard spricht nur mit IdP, Store und Backend.'),
    keys: ['ui.logo'],
    tests: [T.scripts, T.cookies],
    duty: t('Switch off the backend\'s own telemetry and third-party services (e.g. Jitsi\'s gravatar, callstats, public STUN).', 'Telemetrie und Drittdienste des Backends abschalten (z. B. Gravatar, callstats, öffentliches STUN bei Jitsi).'),
    judge: () => met('roomguard\'s own pages load nothing from elsewhere', 'roomguards eigene Seiten laden nichts von anderswo'),
  },
  {
    id: 'DSK-OH 4.1 (transport); BSI APP.5.4', source: 'DSK', servable: true,
    asks: t('Transport encryption for everything participants send.', 'Transportverschlüsselung für alles, was Teilnehmende senden.'),
    feature: t('`__Host-` cookies with Secure, HSTS; publicUrl must be https:// except on loopback.', '`__Host-`-Cookies mit Secure, HSTS; publicUrl muss https:// sein, außer auf Loopback.'),
    keys: ['publicUrl', 'trustProxy'],
    tests: [T.cookies],
    duty: t('TLS certificates and protocol versions (BSI TR-02102-2) at the web server in front; encrypted media at the backend.', 'TLS-Zertifikate und -Versionen (BSI TR-02102-2) am vorgelagerten Webserver; verschlüsselte Medien am Backend.'),
    judge: (f) => f.publicUrl.startsWith('https:')
      ? duty(`publicUrl ${f.publicUrl} is https; its certificate and TLS settings are the web server's`, `publicUrl ${f.publicUrl} ist https; Zertifikat und TLS-Einstellungen liegen beim Webserver`)
      : notMet(`publicUrl ${f.publicUrl} is not https (allowed for loopback tests only)`, `publicUrl ${f.publicUrl} ist nicht https (nur für Loopback-Tests zulässig)`),
  },
  {
    id: 'GDPR Art. 5(1)(c), 25; DSK-OH 3', source: 'GDPR', servable: true,
    asks: t('Data minimisation: the log keeps what accountability needs, no more.', 'Datenminimierung: das Protokoll hält fest, was die Rechenschaft braucht, nicht mehr.'),
    feature: t('Client addresses truncated or keyed-hashed, sessions as short hashes, no display names, identities in clear, pseudonymous or erasable.', 'Client-Adressen gekürzt oder mit Schlüssel gehasht, Sitzungen als kurze Hashes, keine Anzeigenamen, Identitäten im Klartext, pseudonym oder löschbar.'),
    keys: ['audit.ip', 'audit.names', 'audit.identity'],
    tests: [T.ipTruncate, T.sessionHash, T.pseudonyms],
    duty: t('Justify `audit.ip: full` or `audit.names: true` in the DPIA.', '`audit.ip: full` oder `audit.names: true` in der DSFA begründen.'),
    judge: (f) => {
      if (f.audit.ip === 'full') return notMet('audit.ip is full: whole client addresses are recorded', 'audit.ip ist full: vollständige Client-Adressen werden protokolliert');
      if (f.audit.names) return duty(`audit.names is on: display names are recorded (audit.ip ${f.audit.ip})`, `audit.names ist an: Anzeigenamen werden protokolliert (audit.ip ${f.audit.ip})`);
      return met(`addresses: ${f.audit.ip}; identities: ${f.audit.identity}; no display names`, `Adressen: ${f.audit.ip}; Identitäten: ${f.audit.identity}; keine Anzeigenamen`);
    },
  },
  {
    id: 'GDPR Art. 15', source: 'GDPR', servable: true,
    asks: t('A person can learn everything held about them.', 'Eine Person kann alles erfahren, was über sie gespeichert ist.'),
    feature: t('`roomguard privacy export --user SUB`: sessions, second-factor metadata (never secrets), invitations created and the guests they admitted, audit records — JSON and a readable page; audited.', '`roomguard privacy export --user SUB`: Sitzungen, Metadaten der zweiten Faktoren (nie Geheimnisse), erstellte Einladungen und damit eingelassene Gäste, Audit-Einträge — JSON und lesbare Seite; protokolliert.'),
    keys: [],
    tests: [T.exportSubject],
    duty: t('Verify the requester\'s identity; add what the IdP and the backend hold.', 'Identität der anfragenden Person prüfen; ergänzen, was IdP und Backend speichern.'),
    judge: (f) => f.store.kind === 'memory'
      ? notMet('store.url is memory: privacy export cannot reach the gateway\'s in-process store and refuses', 'store.url ist memory: privacy export erreicht den Speicher im Gateway-Prozess nicht und verweigert')
      : met('privacy export is available', 'privacy export steht zur Verfügung'),
  },
  {
    id: 'GDPR Art. 17', source: 'GDPR', servable: true,
    asks: t('A person\'s data is erased on request unless a legal duty to keep it applies.', 'Daten einer Person werden auf Antrag gelöscht, sofern keine gesetzliche Aufbewahrungspflicht besteht.'),
    feature: t('`roomguard privacy erase --user SUB`: ends sessions, removes factors and locks, forgets the person wherever an invitation names them; with `audit.identity: erasable` deletes the person\'s pseudonym key, which also seals their client address and user agent, so their records stay in the verifiable chain but cannot be linked to them (records inside `audit.legalRetentionDays` only with `--force`). Residual risk: the pattern of their records (rooms, times) stays.', '`roomguard privacy erase --user SUB`: beendet Sitzungen, entfernt Faktoren und Sperren, vergisst die Person überall, wo eine Einladung sie nennt; mit `audit.identity: erasable` wird der Pseudonym-Schlüssel der Person gelöscht, unter dem auch ihre Client-Adresse und ihr User-Agent verschlüsselt sind; ihre Einträge bleiben in der prüfbaren Kette, sind ihr aber nicht mehr zuzuordnen (Einträge innerhalb `audit.legalRetentionDays` nur mit `--force`). Restrisiko: das Muster ihrer Einträge (Räume, Zeiten) bleibt.'),
    keys: ['audit.identity', 'audit.legalRetentionDays', 'audit.retentionDays'],
    tests: [T.eraseVerifies, T.eraseHeld, T.eraseSealsClient, T.eraseBySubject, T.eraseForgetsEveryone, T.eraseRecordedFirst],
    duty: t('With clear or pseudonymous identities, document reliance on Art. 17(3)(b)/(e) until retention deletes the records.', 'Bei Klartext- oder pseudonymen Identitäten die Berufung auf Art. 17 Abs. 3 lit. b/e dokumentieren, bis die Aufbewahrungsfrist die Einträge löscht.'),
    judge: (f) => f.store.kind === 'memory'
      ? notMet('store.url is memory: privacy erase cannot reach the gateway\'s in-process store and refuses', 'store.url ist memory: privacy erase erreicht den Speicher im Gateway-Prozess nicht und verweigert')
      : f.audit.identity === 'erasable'
      ? met(`audit.identity is erasable; legal retention ${f.audit.legalRetentionDays} days`, `audit.identity ist erasable; gesetzliche Aufbewahrung ${f.audit.legalRetentionDays} Tage`)
      : duty(`audit.identity is ${f.audit.identity}: a person's records go only with retention (${f.audit.retentionDays} days)`, `audit.identity ist ${f.audit.identity}: Einträge einer Person verschwinden erst mit der Aufbewahrungsfrist (${f.audit.retentionDays} Tage)`),
  },
  {
    id: 'BSI APP.5.4.A7', source: 'BSI', servable: true,
    asks: t('Moderator rights only for selected people of the inviting organisation.', 'Moderationsrechte nur für ausgewählte Personen der einladenden Institution.'),
    feature: t('The role (moderator, participant, guest) comes from the room policy and goes into the backend\'s token or signed join.', 'Die Rolle (moderierend, teilnehmend, Gast) kommt aus der Raumrichtlinie und steht im Token bzw. signierten Beitritt des Backends.'),
    keys: ['policies.dir'],
    tests: [T.roomToken],
    duty: t('Keep the moderator groups at the IdP current.', 'Die Moderationsgruppen beim IdP aktuell halten.'),
    judge: (f) => f.policyVersion ? met('roles come from the policy set', 'Rollen kommen aus dem Richtliniensatz') : notMet('no valid policy set', 'kein gültiger Richtliniensatz'),
  },
  {
    id: 'BSI ORP.4', source: 'BSI', servable: true,
    asks: t('Identities and access rights are managed centrally; leavers lose access at once.', 'Identitäten und Zugriffsrechte werden zentral verwaltet; Ausscheidende verlieren den Zugang sofort.'),
    feature: t('Login only through the organisation\'s OIDC IdP; groups from its claims; back-channel logout and `sessions revoke` end sessions on every instance.', 'Anmeldung nur über den OIDC-IdP der Organisation; Gruppen aus seinen Claims; Back-Channel-Logout und `sessions revoke` beenden Sitzungen auf allen Instanzen.'),
    keys: ['oidc.issuer', 'oidc.profile', 'oidc.claims.groups', 'oidc.claims.email', 'oidc.trustAmr'],
    tests: [T.backchannel, T.revokeCli],
    duty: t('Accounts, groups, password policy and leavers at the IdP; configure its back-channel logout.', 'Konten, Gruppen, Passwortregeln und Austritte beim IdP; dessen Back-Channel-Logout einrichten.'),
    judge: (f) => duty(
      `IdP ${f.oidc.issuer} (profile ${f.oidc.profile}); groups from claim "${f.oidc.claims.groups}", e-mail from "${f.oidc.claims.email}"; IdP MFA trusted for amr: ${f.oidc.trustAmr.join(', ') || 'never'}`,
      `IdP ${f.oidc.issuer} (Profil ${f.oidc.profile}); Gruppen aus Claim „${f.oidc.claims.groups}“, E-Mail aus „${f.oidc.claims.email}“; MFA des IdP anerkannt für amr: ${f.oidc.trustAmr.join(', ') || 'nie'}`),
  },
  {
    id: 'BSI OPS.1.1.5.A3; ASVS 16.3.1, 16.3.2', source: 'BSI', servable: true,
    asks: t('Security events are logged: every authentication (with the factor used) and every authorisation decision.', 'Sicherheitsereignisse werden protokolliert: jede Authentisierung (mit dem Faktor) und jede Autorisierungsentscheidung.'),
    feature: t('The audit log records logins, second factors, locks, every room decision with policy, rule and reasons, and admin actions; no join without a durable record.', 'Das Audit-Protokoll hält Anmeldungen, zweite Faktoren, Sperren, jede Raumentscheidung mit Richtlinie, Regel und Gründen sowie Admin-Aktionen fest; kein Zutritt ohne dauerhaften Eintrag.'),
    keys: ['audit.dir'],
    tests: [T.auditRecords, T.auditRefuses, T.totpReplayGateway],
    duty: t('Evaluate the log for the documented purposes only.', 'Das Protokoll nur für die dokumentierten Zwecke auswerten.'),
    judge: () => met('every decision is recorded before entry', 'jede Entscheidung wird vor dem Zutritt protokolliert'),
  },
  {
    id: 'BSI OPS.1.1.5.A5', source: 'BSI', servable: true,
    asks: t('Logs are deleted after a documented period, and deletion is itself recorded.', 'Protokolle werden nach einer dokumentierten Frist gelöscht, und die Löschung wird selbst protokolliert.'),
    feature: t('Whole day segments go after `audit.retentionDays`; each purge is a signed record followed by a checkpoint.', 'Ganze Tagessegmente werden nach `audit.retentionDays` gelöscht; jede Löschung ist ein signierter Eintrag mit folgendem Prüfpunkt.'),
    keys: ['audit.retentionDays'],
    tests: [T.purgeSigned],
    duty: t('Justify retention beyond 90 days in the record of processing.', 'Aufbewahrung über 90 Tage im Verzeichnis der Verarbeitungstätigkeiten begründen.'),
    judge: (f) => f.audit.retentionDays <= 90
      ? met(`records are kept ${f.audit.retentionDays} days`, `Einträge werden ${f.audit.retentionDays} Tage aufbewahrt`)
      : duty(`records are kept ${f.audit.retentionDays} days: longer than 90 needs a justification`, `Einträge werden ${f.audit.retentionDays} Tage aufbewahrt: mehr als 90 braucht eine Begründung`),
  },
  {
    id: 'BSI OPS.1.1.5.A12; ASVS 16.4.2', source: 'BSI', servable: true,
    asks: t('Logs cannot be altered or deleted unnoticed.', 'Protokolle können nicht unbemerkt verändert oder gelöscht werden.'),
    feature: t('Hash chain per instance with Ed25519-signed checkpoints; `roomguard audit verify` names the first broken place. The report says met only when given the checkpoints or the public key kept off the host (`--checkpoints`, `--public-key`): without them a deleted instance folder leaves a chain that verifies.', 'Hash-Kette je Instanz mit Ed25519-signierten Prüfpunkten; `roomguard audit verify` nennt die erste defekte Stelle. Der Bericht sagt nur mit den außerhalb des Hosts aufbewahrten Prüfpunkten oder dem öffentlichen Schlüssel (`--checkpoints`, `--public-key`) erfüllt: ohne sie hinterlässt ein gelöschter Instanzordner eine Kette, die sich prüfen lässt.'),
    keys: ['audit.checkpointEvery', 'audit.checkpointInterval'],
    tests: [T.tamperMiddle, T.verifyChanged, T.offHostDeletion],
    duty: t('Keep the signing key readable by roomguard only; keep the public key off the host.', 'Den Signaturschlüssel nur für roomguard lesbar halten; den öffentlichen Schlüssel außerhalb des Hosts aufbewahren.'),
    judge: (f) => {
      const c = f.chain;
      if (!c.ok) return notMet(`audit verify found ${c.problems} problem(s), first ${c.firstProblem}`, `audit verify fand ${c.problems} Problem(e), zuerst ${c.firstProblem}`);
      if (c.unrecognised.length > 0) return notMet(`${c.dir} holds entries verify does not read: ${c.unrecognised.join(', ')}`, `${c.dir} enthält Einträge, die verify nicht liest: ${c.unrecognised.join(', ')}`);
      if (c.missing) return duty(`there is no audit directory ${c.dir}: a gateway that never ran, or a deleted log — only checkpoints kept off the host tell`, `es gibt kein Audit-Verzeichnis ${c.dir}: ein Gateway, das nie lief, oder ein gelöschtes Protokoll — das zeigen nur Prüfpunkte außerhalb des Hosts`);
      if (c.records === 0) return duty(`no records in ${c.dir} yet`, `noch keine Einträge in ${c.dir}`);
      // Without evidence kept off the host, a whole deleted instance folder leaves a chain that verifies.
      if (!c.offHost) return duty(`${c.records} records of ${c.instances.join(', ')} verified with the key on this host; deleted instance folders show only against checkpoints kept off the host (report --checkpoints FILE)`, `${c.records} Einträge von ${c.instances.join(', ')} mit dem Schlüssel dieses Hosts geprüft; gelöschte Instanzordner zeigen sich nur gegen Prüfpunkte außerhalb des Hosts (report --checkpoints DATEI)`);
      return met(`${c.records} records of ${c.instances.join(', ')} verified against checkpoints or the public key kept off the host`, `${c.records} Einträge von ${c.instances.join(', ')} gegen Prüfpunkte bzw. den öffentlichen Schlüssel außerhalb des Hosts geprüft`);
    },
  },
  {
    id: 'BSI OPS.1.1.5.A6; ASVS 16.4.3', source: 'BSI', servable: true,
    asks: t('Logs are copied to a separate system, so a breached host cannot hide its tracks.', 'Protokolle werden auf ein getrenntes System kopiert, damit ein kompromittierter Host seine Spuren nicht verwischen kann.'),
    feature: t('Every record can go to syslog (RFC 5424) or stdout; checkpoints.jsonl is the file to ship off the host.', 'Jeder Eintrag kann an Syslog (RFC 5424) oder stdout gehen; checkpoints.jsonl ist die Datei, die vom Host weg gehört.'),
    keys: ['audit.syslog', 'audit.stdout'],
    tests: [T.offHost],
    duty: t('Ship checkpoints.jsonl off the host; carry syslog over TLS through a local relay.', 'checkpoints.jsonl vom Host weg übertragen; Syslog über ein lokales Relay per TLS weiterleiten.'),
    judge: (f) => f.audit.syslog || f.audit.stdout
      ? met(`records are copied to ${f.audit.syslog ?? 'stdout'}`, `Einträge werden nach ${f.audit.syslog ?? 'stdout'} kopiert`)
      : duty('neither audit.syslog nor audit.stdout is set: ship the files yourself', 'weder audit.syslog noch audit.stdout ist gesetzt: die Dateien selbst übertragen'),
  },
  {
    id: 'ASVS 16.2.1, 16.2.2, 16.2.5', source: 'ASVS', servable: true,
    asks: t('Each entry says when (UTC), where, who and what; sensitive data only hashed or not at all.', 'Jeder Eintrag sagt wann (UTC), wo, wer und was; sensible Daten nur gehasht oder gar nicht.'),
    feature: t('Records carry UTC time, instance, actor, room, policy and reason; never passwords, codes, tokens or session ids.', 'Einträge tragen UTC-Zeit, Instanz, Person, Raum, Richtlinie und Grund; nie Passwörter, Codes, Token oder Sitzungskennungen.'),
    keys: ['audit.instance'],
    tests: [T.sessionHash, T.auditRecords],
    duty: t('Synchronise the clocks (NTP).', 'Uhren synchronisieren (NTP).'),
    judge: () => met('records carry when, where, who and what', 'Einträge tragen wann, wo, wer und was'),
  },
  {
    id: 'ASVS 6.1.1, 6.3.1; NIST SP 800-63B §5.2.2', source: 'ASVS', servable: true,
    asks: t('Guessing is throttled; at most 100 consecutive failures before a factor is locked.', 'Rateversuche werden gebremst; höchstens 100 Fehlversuche in Folge, dann wird der Faktor gesperrt.'),
    feature: t('Attempt limiter per account and per address, doubling locks, hard lock after `mfa.hardLockAfter` failures in a row.', 'Versuchsbegrenzung je Konto und Adresse, sich verdoppelnde Sperren, harte Sperre nach `mfa.hardLockAfter` Fehlversuchen in Folge.'),
    keys: ['mfa.maxFailures', 'mfa.lockout', 'mfa.hardLockAfter', 'mfa.maxAccountsPerAddress'],
    tests: [T.limiter, T.lockEverywhere],
    duty: t('Password guessing is throttled at the IdP.', 'Passwort-Rateversuche bremst der IdP.'),
    judge: (f) => f.mfa.hardLockAfter <= 100
      ? met(`lock after ${f.mfa.maxFailures} failures for ${f.mfa.lockoutMinutes} min; hard lock after ${f.mfa.hardLockAfter}`, `Sperre nach ${f.mfa.maxFailures} Fehlversuchen für ${f.mfa.lockoutMinutes} min; harte Sperre nach ${f.mfa.hardLockAfter}`)
      : notMet(`mfa.hardLockAfter is ${f.mfa.hardLockAfter}, more than 100`, `mfa.hardLockAfter ist ${f.mfa.hardLockAfter}, mehr als 100`),
  },
  {
    id: 'ASVS 6.5.1, 6.5.2', source: 'ASVS', servable: true,
    asks: t('One-time codes work once; recovery codes are stored hashed.', 'Einmalcodes gelten einmal; Wiederherstellungscodes werden gehasht gespeichert.'),
    feature: t('TOTP replay guard across instances; recovery codes as salted scrypt hashes.', 'TOTP-Wiederholungsschutz über alle Instanzen; Wiederherstellungscodes als gesalzene scrypt-Hashes.'),
    keys: [],
    tests: [T.totpReplay, T.recoveryHashes],
    duty: t('', ''),
    judge: () => met('built in', 'eingebaut'),
  },
  {
    id: 'ASVS 6.3.3 (L3); NIST SP 800-63B AAL3', source: 'NIST', servable: true,
    asks: t('The most sensitive rooms need a hardware-bound, phishing-resistant factor.', 'Die sensibelsten Räume brauchen einen hardwaregebundenen, phishing-resistenten Faktor.'),
    feature: t('WebAuthn with challenge, origin, RP ID, flags and signature counter checked; a policy can allow only `webauthn`.', 'WebAuthn mit Prüfung von Challenge, Origin, RP-ID, Flags und Signaturzähler; eine Richtlinie kann nur `webauthn` zulassen.'),
    keys: [],
    tests: [T.webauthnCounter, T.webauthnChallenge],
    duty: t('Hand out security keys; synced passkeys are not AAL3.', 'Sicherheitsschlüssel ausgeben; synchronisierte Passkeys sind nicht AAL3.'),
    judge: (f) => {
      if (f.highRiskRooms.length === 0) return duty('no high-risk rooms', 'keine Räume mit hohem Schutzbedarf');
      const weak = f.highRiskRooms.filter((r) => !r.mfaRequired || r.methods.some((m) => m !== 'webauthn'));
      return weak.length > 0
        ? notMet(`high-risk rooms that accept more than WebAuthn: ${weak.map((r) => `${r.rooms.join(', ')} (${r.methods.join(', ')})`).join('; ')}`, `Räume mit hohem Schutzbedarf, die mehr als WebAuthn annehmen: ${weak.map((r) => `${r.rooms.join(', ')} (${r.methods.join(', ')})`).join('; ')}`)
        : met(`high-risk rooms accept WebAuthn only: ${rooms(f.highRiskRooms)}`, `Räume mit hohem Schutzbedarf nehmen nur WebAuthn an: ${rooms(f.highRiskRooms)}`);
    },
  },
  {
    id: 'NIST SP 800-63B §4.2.3 (AAL2)', source: 'NIST', servable: true,
    asks: t('Re-authentication after 30 minutes of inactivity and at least every 12 hours.', 'Erneute Anmeldung nach 30 Minuten Inaktivität und spätestens alle 12 Stunden.'),
    feature: t('Idle and absolute session timeouts, enforced server-side on every instance.', 'Leerlauf- und Höchstdauer der Sitzung, serverseitig auf jeder Instanz durchgesetzt.'),
    keys: ['session.idleTimeout', 'session.absoluteTimeout'],
    tests: [T.idleLimit, T.absoluteLimit, T.idleCeiling, T.absoluteCeiling],
    duty: t('', ''),
    judge: (f) => f.session.idleMinutes <= 30 && f.session.absoluteMinutes <= 720
      ? met(`sessions end after ${f.session.idleMinutes} min idle and ${f.session.absoluteMinutes / 60} h at most`, `Sitzungen enden nach ${f.session.idleMinutes} min Leerlauf und spätestens nach ${f.session.absoluteMinutes / 60} h`)
      : notMet(`session.idleTimeout ${f.session.idleMinutes} min / session.absoluteTimeout ${f.session.absoluteMinutes / 60} h exceed 30 min / 12 h`, `session.idleTimeout ${f.session.idleMinutes} min / session.absoluteTimeout ${f.session.absoluteMinutes / 60} h überschreiten 30 min / 12 h`),
  },
  {
    id: 'NIST SP 800-63B §4.3.3 (AAL3)', source: 'NIST', servable: true,
    asks: t('In the most sensitive rooms, re-authentication after 15 minutes of inactivity, with both factors.', 'In den sensibelsten Räumen erneute Anmeldung nach 15 Minuten Inaktivität, mit beiden Faktoren.'),
    feature: t('`risk: high` limits a session\'s idle time in the room to 15 minutes and sends the person to a fresh IdP login; `mfa.maxAge` asks for the second factor again.', '`risk: high` begrenzt die Leerlaufzeit im Raum auf 15 Minuten und schickt die Person zu einer neuen IdP-Anmeldung; `mfa.maxAge` verlangt den zweiten Faktor erneut.'),
    keys: ['session.absoluteTimeout'],
    tests: [T.highRiskIdle, T.stepUpId],
    duty: t('', ''),
    judge: (f) => {
      if (f.highRiskRooms.length === 0) return duty('no high-risk rooms', 'keine Räume mit hohem Schutzbedarf');
      const slack = f.highRiskRooms.filter((r) => (r.idleMinutes ?? f.session.idleMinutes) > 15 || !r.mfaRequired || r.mfaMaxAgeMinutes > 15);
      if (slack.length > 0 || f.session.absoluteMinutes > 720) return notMet(`not within 15 min idle / 15 min factor age / 12 h: ${rooms(slack) || `session.absoluteTimeout ${f.session.absoluteMinutes / 60} h`}`, `nicht innerhalb 15 min Leerlauf / 15 min Faktoralter / 12 h: ${rooms(slack) || `session.absoluteTimeout ${f.session.absoluteMinutes / 60} h`}`);
      return met(`high-risk rooms: 15 min idle, second factor at most ${Math.max(...f.highRiskRooms.map((r) => r.mfaMaxAgeMinutes))} min old`, `Räume mit hohem Schutzbedarf: 15 min Leerlauf, zweiter Faktor höchstens ${Math.max(...f.highRiskRooms.map((r) => r.mfaMaxAgeMinutes))} min alt`);
    },
  },
  {
    id: 'ASVS 7.2.1, 7.2.3, 7.2.4', source: 'ASVS', servable: true,
    asks: t('Sessions are checked at a trusted backend, with ≥128-bit random tokens, renewed at every (re-)authentication.', 'Sitzungen werden in einem vertrauenswürdigen Backend geprüft, mit Zufallstoken ≥128 Bit, erneuert bei jeder (erneuten) Anmeldung.'),
    feature: t('Server-side sessions in the store (256-bit id, only its hash kept), a fresh id after login and step-up; the store reached over TLS when it is not on this host.', 'Serverseitige Sitzungen im Store (256-Bit-Kennung, nur ihr Hash gespeichert), neue Kennung nach Anmeldung und Step-up; der Store über TLS, wenn er nicht auf diesem Host läuft.'),
    keys: ['store.url', 'store.tls.enabled'],
    tests: [T.sessionId, T.stepUpId, T.plantedId, T.redisTls],
    duty: t('', ''),
    judge: (f) => {
      if (f.store.kind === 'memory') return met('sessions in this process\'s memory', 'Sitzungen im Speicher dieses Prozesses');
      if (f.store.tls) return met(`Redis ${f.store.host} over TLS`, `Redis ${f.store.host} über TLS`);
      if (!f.store.loopback) return notMet(`Redis ${f.store.host} is reached without TLS, not all of it on this host`, `Redis ${f.store.host} wird ohne TLS erreicht, nicht alles auf diesem Host`);
      // Sentinel hands out the primary, a Cluster its nodes: their addresses are not in the configuration.
      if (f.store.discovered) return duty(`configured Redis nodes on this host (${f.store.host}) without TLS; the primary or nodes they hand out must be on this host too`, `konfigurierte Redis-Knoten auf diesem Host (${f.store.host}) ohne TLS; der von ihnen genannte Primary bzw. die Knoten müssen ebenfalls auf diesem Host laufen`);
      return met(`Redis on this host (${f.store.host}) without TLS`, `Redis auf diesem Host (${f.store.host}) ohne TLS`);
    },
  },
  {
    id: 'ASVS 7.1.1, 7.1.2, 7.3.1, 7.3.2', source: 'ASVS', servable: true,
    asks: t('Inactivity and absolute timeouts and the number of parallel sessions are documented and enforced.', 'Leerlauf- und Höchstdauer sowie die Zahl paralleler Sitzungen sind dokumentiert und durchgesetzt.'),
    feature: t('This report documents them; `session.maxPerPerson` ends the oldest sessions beyond it.', 'Dieser Bericht dokumentiert sie; `session.maxPerPerson` beendet die ältesten Sitzungen darüber hinaus.'),
    keys: ['session.idleTimeout', 'session.absoluteTimeout', 'session.maxPerPerson'],
    tests: [T.report, T.idleLimit, T.absoluteLimit],
    duty: t('Justify deviations from NIST SP 800-63B in the security concept.', 'Abweichungen von NIST SP 800-63B im Sicherheitskonzept begründen.'),
    judge: (f) => met(`${f.session.idleMinutes} min idle, ${f.session.absoluteMinutes / 60} h absolute, ${f.session.maxPerPerson} sessions per person`, `${f.session.idleMinutes} min Leerlauf, ${f.session.absoluteMinutes / 60} h Höchstdauer, ${f.session.maxPerPerson} Sitzungen je Person`),
  },
  {
    id: 'ASVS 7.4.1, 7.4.2, 7.4.5', source: 'ASVS', servable: true,
    asks: t('Logout, account removal and administrators end sessions everywhere.', 'Abmeldung, Kontolöschung und Administrierende beenden Sitzungen überall.'),
    feature: t('Logout, back-channel logout from the IdP, `roomguard sessions revoke` and `privacy erase` end sessions on every instance at once.', 'Abmeldung, Back-Channel-Logout vom IdP, `roomguard sessions revoke` und `privacy erase` beenden Sitzungen auf allen Instanzen sofort.'),
    keys: [],
    tests: [T.logoutEverywhere, T.backchannel, T.revokeCli],
    duty: t('Let the IdP send back-channel logout when an account is disabled.', 'Den IdP beim Sperren eines Kontos Back-Channel-Logout senden lassen.'),
    judge: () => met('built in', 'eingebaut'),
  },
  {
    id: 'ASVS 7.5.1', source: 'ASVS', servable: true,
    asks: t('Changing second factors needs a fresh authentication.', 'Das Ändern zweiter Faktoren verlangt eine frische Anmeldung.'),
    feature: t('Enrolling needs an IdP login at most `mfa.freshLogin` old; changing factors a second factor at most `mfa.freshFactor` old.', 'Das Einrichten verlangt eine IdP-Anmeldung, die höchstens `mfa.freshLogin` alt ist; Änderungen einen zweiten Faktor, höchstens `mfa.freshFactor` alt.'),
    keys: ['mfa.freshLogin', 'mfa.freshFactor'],
    tests: [T.freshLogin],
    duty: t('', ''),
    judge: () => met('built in', 'eingebaut'),
  },
  {
    id: 'ASVS 16.1.1', source: 'ASVS', servable: true,
    asks: t('An inventory says what is logged where, who may read it and for how long.', 'Ein Verzeichnis sagt, was wo protokolliert wird, wer es lesen darf und wie lange.'),
    feature: t('docs/audit.md describes roomguard\'s log; the reviewer page is open to `audit.reviewers` with a recent second factor.', 'docs/audit.md beschreibt roomguards Protokoll; die Prüfseite steht `audit.reviewers` mit frischem zweiten Faktor offen.'),
    keys: ['audit.reviewers'],
    tests: [T.reviewerPage],
    duty: t('The inventory of the rest of the stack (web server, IdP, backend).', 'Das Verzeichnis für den Rest des Stacks (Webserver, IdP, Backend).'),
    judge: (f) => duty(`reviewers: ${f.audit.reviewers.join(', ') || 'nobody (audit.reviewers is empty)'}`, `Prüfende: ${f.audit.reviewers.join(', ') || 'niemand (audit.reviewers ist leer)'}`),
  },
  // Requirements a gateway cannot serve.
  {
    id: 'DSK-OH 4.1 (media)', source: 'DSK', servable: false,
    asks: t('End-to-end encryption of media where the protection need is very high.', 'Ende-zu-Ende-Verschlüsselung der Medien bei sehr hohem Schutzbedarf.'),
    feature: t('roomguard never sees audio or video: media flow between clients and the backend\'s bridge.', 'roomguard sieht weder Ton noch Bild: Medien fließen zwischen Clients und der Bridge des Backends.'),
    keys: [], tests: [],
    duty: t('Use the backend\'s E2EE where offered, or compensate (self-hosted bridge, no admin access to media).', 'E2EE des Backends nutzen, wo angeboten, oder ausgleichen (eigene Bridge, kein Admin-Zugriff auf Medien).'),
  },
  {
    id: 'DSK-OH 4.5', source: 'DSK', servable: false,
    asks: t('Privacy-friendly defaults in the client: camera and microphone off on joining, no attention tracking.', 'Datenschutzfreundliche Voreinstellungen im Client: Kamera und Mikrofon beim Beitritt aus, keine Aufmerksamkeitsverfolgung.'),
    feature: t('These are settings of the conferencing client, which roomguard does not serve.', 'Das sind Einstellungen des Konferenz-Clients, den roomguard nicht ausliefert.'),
    keys: [], tests: [],
    duty: t('Configure the backend\'s client (e.g. Jitsi startWithAudioMuted / startWithVideoMuted).', 'Den Client des Backends konfigurieren (z. B. Jitsi startWithAudioMuted / startWithVideoMuted).'),
  },
  {
    id: 'DSK-OH 3.4.8', source: 'DSK', servable: false,
    asks: t('Recordings are announced, consented to and stored safely.', 'Aufzeichnungen werden angekündigt, eingewilligt und sicher gespeichert.'),
    feature: t('roomguard passes only whether a room may record (`backend.jitsi.features`, off by default); recording and its storage are the backend\'s.', 'roomguard gibt nur weiter, ob ein Raum aufzeichnen darf (`backend.jitsi.features`, standardmäßig aus); Aufzeichnung und Speicherung sind Sache des Backends.'),
    keys: ['backend.jitsi.features'], tests: [],
    duty: t('Recording storage, access and deletion at the backend; the consent notice.', 'Speicherung, Zugriff und Löschung von Aufzeichnungen im Backend; der Einwilligungshinweis.'),
  },
  {
    id: 'ASVS 6.2.1–6.2.12', source: 'ASVS', servable: false,
    asks: t('Password rules: length, breached-password checks, no composition rules.', 'Passwortregeln: Länge, Abgleich mit geleakten Passwörtern, keine Zusammensetzungsregeln.'),
    feature: t('roomguard never sees a password: people sign in at the IdP.', 'roomguard sieht nie ein Passwort: Anmeldung erfolgt beim IdP.'),
    keys: [], tests: [],
    duty: t('The IdP\'s password policy.', 'Die Passwortregeln des IdP.'),
  },
  {
    id: 'ASVS 6.3.4, 6.3.6', source: 'ASVS', servable: false,
    asks: t('People are told about suspicious sign-ins and changes to their factors.', 'Personen werden über verdächtige Anmeldungen und Änderungen ihrer Faktoren informiert.'),
    feature: t('roomguard has no channel to people (no e-mail); the audit log records these events for the IdP or a SIEM to act on.', 'roomguard hat keinen Kanal zu den Personen (keine E-Mail); das Audit-Protokoll hält die Ereignisse fest, damit IdP oder SIEM handeln können.'),
    keys: [], tests: [],
    duty: t('Notify from the IdP or the SIEM.', 'Benachrichtigung durch IdP oder SIEM.'),
  },
  {
    id: 'DSK-OH 3.5.3, 3.5.5', source: 'DSK', servable: false,
    asks: t('A data-protection impact assessment and an entry in the record of processing.', 'Eine Datenschutz-Folgenabschätzung und ein Eintrag im Verzeichnis der Verarbeitungstätigkeiten.'),
    feature: t('Organisational duties; this report and docs/audit.md are inputs to them.', 'Organisatorische Pflichten; dieser Bericht und docs/audit.md sind Grundlagen dafür.'),
    keys: [], tests: [],
    duty: t('Write and keep them current.', 'Erstellen und aktuell halten.'),
  },
];

/** The report's verdict for a requirement in this deployment (not-servable rows: the operator's). */
export function judge(requirement: Requirement, facts: DeploymentFacts): Verdict {
  if (!requirement.servable || !requirement.judge) return { status: 'duty', reason: requirement.duty };
  return requirement.judge(facts);
}
