// `roomguard privacy export|erase --user SUB`: a data subject's rights of access (GDPR Art. 15) and to
// erasure (Art. 17) over the shared store and the audit log (src/privacy/subject.ts). Both are recorded in
// the command line's own audit chain.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { auditDirOf, loadConfigFile } from '../config/load.js';
import { decodeKey } from '../config/validate.js';
import type { Store } from '../store/store.js';
import type { ErasureReport, SubjectSources } from '../privacy/subject.js';
import { printProblems } from './output.js';
import { EXIT, type CliIo, type CommandArgs } from './table.js';

async function withSources<T>(config: Config, use: (src: SubjectSources, store: Store) => Promise<T>): Promise<T> {
  const { openStore } = await import('../store/open.js');
  const { Sessions } = await import('../session/sessions.js');
  const { openSessionBus } = await import('../store/bus.js');
  const { MfaAdmin } = await import('../mfa/admin.js');
  const { Invitations } = await import('../guests/invitations.js');
  const { PersonKeys } = await import('../audit/person-keys.js');
  const store = await openStore(config);
  const bus = await openSessionBus(store, config.store.keyPrefix);
  try {
    const m = config.mfa;
    const src: SubjectSources = {
      sessions: new Sessions(store, { idleMs: config.session.idleTimeout, absoluteMs: config.session.absoluteTimeout }, Date.now, { bus }),
      mfa: new MfaAdmin(store, { maxFailures: m.maxFailures, windowMs: m.failureWindow, lockoutMs: m.lockout, maxLockoutMs: m.maxLockout, hardLockAfter: m.hardLockAfter, maxAccountsPerAddress: m.maxAccountsPerAddress }, decodeKey(config.secrets.encryptionKey.reveal())!),
      invitations: new Invitations(store),
      personKeys: new PersonKeys(store, config.audit.retentionDays),
      auditDir: auditDirOf(config),
      issuer: config.oidc.issuer.href,
      signingKeyPem: config.secrets.auditSigningKey.reveal(),
      now: Date.now,
    };
    return await use(src, store);
  } finally {
    await bus.close();
    await store.close();
  }
}

function configOf(args: CommandArgs): Config | undefined {
  const { config, problems } = loadConfigFile(args.string('config'));
  if (!config) printProblems(problems);
  return config ?? undefined;
}

export async function privacyExport(args: CommandArgs, io: CliIo): Promise<number> {
  const user = args.string('user')!;
  const config = configOf(args);
  if (!config) return EXIT.problems;
  const { collectSubject } = await import('../privacy/subject.js');
  const { appendFromCli } = await import('../audit/config.js');
  return withSources(config, async (src, store) => {
    const data = await collectSubject(src, user);
    const out = args.string('out');
    // Recorded before anything is handed out: an export nobody can account for does not happen.
    await appendFromCli(config, store, [{ type: 'privacy.export', outcome: 'success', actor: { sub: user, iss: config.oidc.issuer.href }, details: { sessions: data.sessions.length, factors: data.factors.factors.length, invitations: data.invitations.length, auditRecords: data.audit.length, ...(out ? { written: 'files' } : { written: 'stdout' }) } }]);
    if (!out) {
      io.out(`${JSON.stringify(data, null, 2)}\n`);
      return EXIT.ok;
    }
    const { renderSubjectPage } = await import('../ui/privacy-page.js');
    const dir = resolve(out);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const lang = args.string('lang') === 'en' ? 'en' : 'de';
    await writeFile(join(dir, 'subject.json'), `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
    await writeFile(join(dir, 'subject.html'), renderSubjectPage(data, lang), { mode: 0o600 });
    io.out(`wrote ${join(dir, 'subject.json')} and ${join(dir, 'subject.html')}: ${data.sessions.length} session(s), ${data.factors.factors.length} factor(s), ${data.invitations.length} invitation(s), ${data.audit.length} audit record(s)\n`);
    return EXIT.ok;
  });
}

function describeErasure(r: ErasureReport, legalDays: number): string {
  const lines = [`${r.user}: ended ${r.sessionsEnded} session(s), removed ${r.factorsRemoved} factor(s), recovery codes and locks`];
  if (r.invitationsForgotten > 0) lines.push(`forgot ${r.user} as the creator of ${r.invitationsForgotten} guest invitation(s); they stay usable until they expire (revoke them with roomguard invite revoke)`);
  if (r.recordsShredded > 0) lines.push(`shredded the pseudonym key of ${r.recordsShredded} audit record(s): they stay in the chain and can no longer be linked to ${r.user}`);
  if (r.recordsHeld > 0) lines.push(`NOT shredded: ${r.recordsHeld} audit record(s) are inside the legal retention period (audit.legalRetentionDays: ${legalDays}) until ${r.heldUntil}; run again then, or with --force`);
  if (r.recordsInClear > 0) lines.push(`${r.recordsInClear} audit record(s) name ${r.user} in clear (written with audit.identity: clear); they cannot be shredded and go with retention by ${r.purgedBy}`);
  if (r.recordsPseudonymous > 0) lines.push(`${r.recordsPseudonymous} audit record(s) carry the deployment-wide pseudonym (audit.identity: pseudonymous); they go with retention by ${r.purgedBy}`);
  return `${lines.join('\n')}\n`;
}

export async function privacyErase(args: CommandArgs, io: CliIo): Promise<number> {
  const user = args.string('user')!;
  const config = configOf(args);
  if (!config) return EXIT.problems;
  const { eraseSubject } = await import('../privacy/subject.js');
  const { appendFromCli } = await import('../audit/config.js');
  return withSources(config, async (src, store) => {
    const force = args.flag('force');
    const report = await eraseSubject(src, user, { force, legalRetentionDays: config.audit.legalRetentionDays, retentionDays: config.audit.retentionDays });
    // No actor: a record naming the person would link them again.
    await appendFromCli(config, store, [{
      type: 'privacy.erase', outcome: 'success',
      details: { sessionsEnded: report.sessionsEnded, factorsRemoved: report.factorsRemoved, invitationsForgotten: report.invitationsForgotten, recordsShredded: report.recordsShredded, recordsHeld: report.recordsHeld, recordsInClear: report.recordsInClear, recordsPseudonymous: report.recordsPseudonymous, forced: force },
    }]);
    io.out(describeErasure(report, config.audit.legalRetentionDays));
    return report.recordsHeld > 0 ? EXIT.problems : EXIT.ok;
  });
}
