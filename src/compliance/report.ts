// `roomguard compliance report`: the matrix filled in for one deployment — its settings, each row's verdict
// (met, the operator's duty, or not met with the reason), the audit chain's verification and the checkpoint
// key's fingerprint — as Markdown (this file) and as a printable page (src/ui/compliance-page.ts).
import type { DeploymentFacts } from './facts.js';
import { judge, REQUIREMENTS, type Requirement, type Status, type Text, type Verdict } from './requirements.js';

export type ReportLang = 'de' | 'en';

export interface ReportRow {
  requirement: Requirement;
  verdict: Verdict;
}

export interface ComplianceReport {
  facts: DeploymentFacts;
  rows: ReportRow[];
  /** Servable rows that are not met: the command exits 1 when there is any. */
  notMet: number;
}

export function buildReport(facts: DeploymentFacts): ComplianceReport {
  const rows = REQUIREMENTS.map((requirement) => ({ requirement, verdict: judge(requirement, facts) }));
  return { facts, rows, notMet: rows.filter((r) => r.requirement.servable && r.verdict.status === 'not-met').length };
}

export const REPORT_TEXT = {
  en: {
    title: 'Compliance report', made: 'Made', config: 'Configuration', summary: 'Summary',
    settings: 'Settings of this deployment', matrix: 'Requirements', notServable: 'Requirements a gateway cannot serve',
    requirement: 'Requirement', asks: 'What it asks', verdict: 'Verdict', reason: 'In this deployment', duty: 'Operator\'s duty', why: 'Why roomguard cannot serve it', proof: 'Proof (tests)',
    status: { met: 'met', duty: 'operator\'s duty', 'not-met': 'NOT MET' } satisfies Record<Status, string>,
    chain: 'Audit chain', chainOk: 'verified, intact', chainBad: 'verification FAILED', records: 'records', instances: 'instances',
    keyFingerprint: 'Checkpoint public key (SHA-256 of the raw Ed25519 key)', keyId: 'key id', lastCheckpoint: 'last signed checkpoint', none: 'none',
    policyVersion: 'Policy set version', policyBroken: 'the policy set has problems', mode: 'Mode', modeLimits: 'Limits of this mode',
    proxyLimits: 'roomguard is the proxy: every request and WebSocket passes it.',
    forwardLimits: 'the web server asks roomguard per request; requests judged by their body (Jicofo\'s conference request) must be sent to roomguard itself (the shipped snippets do), and WebSockets are judged only when they open.',
    sessions: 'Sessions', idle: 'idle timeout', absolute: 'absolute timeout', perPerson: 'per person', guests: 'Guest sessions',
    highRisk: 'High-risk rooms', noHighRisk: 'none', requires: 'requires', factorAge: 'second factor at most', minutes: 'min', mfaRooms: 'Other rooms with a second factor',
    idp: 'Identity provider', claims: 'claims trusted', trustAmr: 'IdP MFA trusted for amr', never: 'never',
    store: 'Session store', tls: 'TLS', yes: 'yes', no: 'no', onHost: 'on this host',
    auditSettings: 'Audit log', ipMode: 'addresses', identityMode: 'identities', retention: 'retention', legalRetention: 'legal retention', days: 'days', copies: 'copies', reviewers: 'reviewers',
    counts: (met: number, duty: number, notMet: number) => `${met} met, ${duty} operator's duty, ${notMet} not met`,
  },
  de: {
    title: 'Compliance-Bericht', made: 'Erstellt', config: 'Konfiguration', summary: 'Übersicht',
    settings: 'Einstellungen dieser Installation', matrix: 'Anforderungen', notServable: 'Anforderungen, die ein Gateway nicht erfüllen kann',
    requirement: 'Anforderung', asks: 'Was sie verlangt', verdict: 'Ergebnis', reason: 'In dieser Installation', duty: 'Pflicht des Betreibers', why: 'Warum roomguard sie nicht erfüllen kann', proof: 'Nachweis (Tests)',
    status: { met: 'erfüllt', duty: 'Pflicht des Betreibers', 'not-met': 'NICHT ERFÜLLT' } satisfies Record<Status, string>,
    chain: 'Audit-Kette', chainOk: 'geprüft, unversehrt', chainBad: 'Prüfung FEHLGESCHLAGEN', records: 'Einträge', instances: 'Instanzen',
    keyFingerprint: 'Öffentlicher Prüfpunkt-Schlüssel (SHA-256 des rohen Ed25519-Schlüssels)', keyId: 'Schlüssel-ID', lastCheckpoint: 'letzter signierter Prüfpunkt', none: 'keiner',
    policyVersion: 'Version des Richtliniensatzes', policyBroken: 'der Richtliniensatz hat Fehler', mode: 'Betriebsart', modeLimits: 'Grenzen dieser Betriebsart',
    proxyLimits: 'roomguard ist der Proxy: jede Anfrage und jeder WebSocket läuft hindurch.',
    forwardLimits: 'der Webserver fragt roomguard je Anfrage; Anfragen, die nach ihrem Inhalt beurteilt werden (Jicofos Konferenzanfrage), müssen an roomguard selbst gehen (die mitgelieferten Snippets tun das), und WebSockets werden nur beim Öffnen beurteilt.',
    sessions: 'Sitzungen', idle: 'Leerlaufgrenze', absolute: 'Höchstdauer', perPerson: 'je Person', guests: 'Gastsitzungen',
    highRisk: 'Räume mit hohem Schutzbedarf', noHighRisk: 'keine', requires: 'verlangt', factorAge: 'zweiter Faktor höchstens', minutes: 'min', mfaRooms: 'Weitere Räume mit zweitem Faktor',
    idp: 'Identitätsanbieter', claims: 'übernommene Claims', trustAmr: 'MFA des IdP anerkannt für amr', never: 'nie',
    store: 'Sitzungsspeicher', tls: 'TLS', yes: 'ja', no: 'nein', onHost: 'auf diesem Host',
    auditSettings: 'Audit-Protokoll', ipMode: 'Adressen', identityMode: 'Identitäten', retention: 'Aufbewahrung', legalRetention: 'gesetzliche Aufbewahrung', days: 'Tage', copies: 'Kopien', reviewers: 'Prüfende',
    counts: (met: number, duty: number, notMet: number) => `${met} erfüllt, ${duty} Pflicht des Betreibers, ${notMet} nicht erfüllt`,
  },
} as const;

export const textIn = (text: Text, lang: ReportLang): string => text[lang];

/** Key facts as label/value pairs, shared by the Markdown and the HTML report. */
export function settingsOf(facts: DeploymentFacts, lang: ReportLang): Array<[string, string]> {
  const w = REPORT_TEXT[lang];
  const room = (r: DeploymentFacts['highRiskRooms'][number]) => `${r.rooms.join(', ')} (${r.file}): ${r.mfaRequired ? `${w.requires} ${r.methods.join(' / ')}, ${w.factorAge} ${r.mfaMaxAgeMinutes} ${w.minutes}` : `${w.requires} —`}${r.idleMinutes !== undefined ? `, ${w.idle} ${r.idleMinutes} ${w.minutes}` : ''}`;
  const s = facts.store;
  return [
    [w.config, facts.configFile],
    [w.mode, `${facts.mode}${facts.forwardAuthProxy ? ` (${facts.forwardAuthProxy})` : ''}, backend ${facts.backend}, ${facts.publicUrl}`],
    [w.modeLimits, facts.mode === 'proxy' ? w.proxyLimits : w.forwardLimits],
    [w.sessions, `session.idleTimeout ${facts.session.idleMinutes} ${w.minutes}, session.absoluteTimeout ${facts.session.absoluteMinutes} ${w.minutes}, session.maxPerPerson ${facts.session.maxPerPerson}`],
    [w.guests, `guests.idleTimeout ${facts.guests.idleMinutes} ${w.minutes}, guests.absoluteTimeout ${facts.guests.absoluteMinutes} ${w.minutes}`],
    [w.highRisk, facts.highRiskRooms.length ? facts.highRiskRooms.map(room).join('; ') : w.noHighRisk],
    [w.mfaRooms, facts.mfaRooms.length ? facts.mfaRooms.map(room).join('; ') : w.noHighRisk],
    [w.idp, `${facts.oidc.issuer}; ${w.claims}: email=${facts.oidc.claims.email}, name=${facts.oidc.claims.name}, groups=${facts.oidc.claims.groups}; ${w.trustAmr}: ${facts.oidc.trustAmr.join(', ') || w.never}`],
    [w.store, s.kind === 'memory' ? 'memory' : `Redis ${s.host}; ${w.tls}: ${s.tls ? w.yes : w.no}${s.loopback ? ` (${w.onHost})` : ''}`],
    [w.auditSettings, `audit.ip ${facts.audit.ip}, audit.identity ${facts.audit.identity}, audit.retentionDays ${facts.audit.retentionDays} ${w.days}, audit.legalRetentionDays ${facts.audit.legalRetentionDays} ${w.days}; ${w.copies}: ${[facts.audit.syslog, facts.audit.stdout ? 'stdout' : undefined].filter(Boolean).join(', ') || w.none}; ${w.reviewers}: ${facts.audit.reviewers.join(', ') || w.none}`],
    [w.policyVersion, facts.policyVersion ?? `${w.policyBroken}: ${facts.policyProblems[0] ?? ''}`],
    [w.chain, chainLine(facts, lang)],
    [w.keyFingerprint, `${facts.checkpointKey.fingerprint} (${w.keyId} ${facts.checkpointKey.keyId})`],
  ];
}

function chainLine(facts: DeploymentFacts, lang: ReportLang): string {
  const w = REPORT_TEXT[lang];
  const c = facts.chain;
  const cp = c.lastCheckpoint;
  return `${c.dir}: ${c.ok ? w.chainOk : `${w.chainBad} (${c.problems}, ${c.firstProblem})`}; ${c.records} ${w.records}, ${w.instances}: ${c.instances.join(', ') || w.none}; ${w.lastCheckpoint}: ${cp ? `${cp.instance} seq ${cp.seq} ${cp.ts} (${w.keyId} ${cp.keyId})` : w.none}`;
}

export function countsOf(report: ComplianceReport): { met: number; duty: number; notMet: number } {
  const of = (status: Status) => report.rows.filter((r) => r.verdict.status === status).length;
  return { met: of('met'), duty: of('duty'), notMet: of('not-met') };
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function reportMarkdown(report: ComplianceReport, lang: ReportLang): string {
  const w = REPORT_TEXT[lang];
  const c = countsOf(report);
  const lines = [`# ${w.title}`, '', `${w.made}: ${report.facts.generatedAt}`, '', `## ${w.summary}`, '', w.counts(c.met, c.duty, c.notMet), '', `## ${w.settings}`, ''];
  lines.push(`| | |`, `| --- | --- |`, ...settingsOf(report.facts, lang).map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`), '');
  lines.push(`## ${w.matrix}`, '', `| ${w.requirement} | ${w.asks} | ${w.verdict} | ${w.reason} | ${w.duty} | ${w.proof} |`, '| --- | --- | --- | --- | --- | --- |');
  for (const { requirement: r, verdict } of report.rows.filter((row) => row.requirement.servable)) {
    const proof = r.tests.map((t) => `\`${t.file}\`: "${t.name}"`).join('<br>');
    lines.push(`| ${cell(r.id)} | ${cell(textIn(r.asks, lang))} | **${w.status[verdict.status]}** | ${cell(textIn(verdict.reason, lang))} | ${cell(textIn(r.duty, lang))} | ${cell(proof)} |`);
  }
  lines.push('', `## ${w.notServable}`, '', `| ${w.requirement} | ${w.asks} | ${w.why} | ${w.duty} |`, '| --- | --- | --- | --- |');
  for (const { requirement: r } of report.rows.filter((row) => !row.requirement.servable)) {
    lines.push(`| ${cell(r.id)} | ${cell(textIn(r.asks, lang))} | ${cell(textIn(r.feature, lang))} | ${cell(textIn(r.duty, lang))} |`);
  }
  return `${lines.join('\n')}\n`;
}
