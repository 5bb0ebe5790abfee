// `roomguard privacy export|erase --user SUB`: a data subject's rights of access (GDPR Art. 15) and to
// erasure (Art. 17) over the shared store and the audit log (src/privacy/subject.ts). Both are recorded in
// the command line's own audit chain.
import { withStoreSessions } from './store-sessions.js';
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { userInfo } from 'node:os';
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
  const { MfaAdmin } = await import('../mfa/admin.js');
  const { Invitations } = await import('../guests/invitations.js');
  const { PersonKeys } = await import('../audit/person-keys.js');
  const store = await openStore(config);
  try {
    const m = config.mfa;
    return await withStoreSessions(config, store, (sessions) => use({
      sessions,
      mfa: new MfaAdmin(store, { maxFailures: m.maxFailures, windowMs: m.failureWindow, lockoutMs: m.lockout, maxLockoutMs: m.maxLockout, hardLockAfter: m.hardLockAfter, maxAccountsPerAddress: m.maxAccountsPerAddress }, decodeKey(config.secrets.encryptionKey.reveal())!),
      invitations: new Invitations(store),
      personKeys: new PersonKeys(store, config.audit.retentionDays),
      auditDir: auditDirOf(config),
      issuer: config.oidc.issuer.href,
      signingKeyPem: config.secrets.auditSigningKey.reveal(),
      now: Date.now,
    }, store));
  } finally {
    await store.close();
  }
}

/**
 * The config, or undefined (problems printed). `store.url: memory` is refused: the command would work on
 * its own empty store and report an erasure or an export that never touched the gateway's data.
 */
function configOf(args: CommandArgs, io: CliIo): Config | undefined {
  const { config, problems } = loadConfigFile(args.string('config'));
  if (!config) printProblems(problems);
  if (config?.store.url === 'memory') {
    io.err(`${config.sourceFile}: store.url is "memory": privacy commands need the gateway's shared store (Redis); an in-memory store belongs to one process and this command cannot reach it\n`);
    return undefined;
  }
  return config ?? undefined;
}

/** Who ran the command, for the record (the operator, never the data subject). */
function operator(): string {
  try {
    return `cli:${userInfo().username || 'unknown'}`;
  } catch {
    return 'cli:unknown';
  }
}

/**
 * Writes the export into a new directory of its own: an existing one (perhaps made by someone else to read
 * or redirect the export) is refused, and files are created exclusively without following symlinks.
 */
async function writeExportDir(dir: string, files: ReadonlyArray<[string, string]>): Promise<void> {
  await mkdir(dir, { mode: 0o700 });
  for (const [name, text] of files) {
    const handle = await open(join(dir, name), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
  }
}

export async function privacyExport(args: CommandArgs, io: CliIo): Promise<number> {
  const user = args.string('user')!;
  const config = configOf(args, io);
  if (!config) return EXIT.problems;
  const { collectSubject } = await import('../privacy/subject.js');
  const { appendFromCli } = await import('../audit/config.js');
  return withSources(config, async (src, store) => {
    const data = await collectSubject(src, user);
    const out = args.string('out');
    // Recorded before anything is handed out: an export nobody can account for does not happen. Without
    // the person in it (no actor, no counts): it must neither make them a key nor point at their records.
    await appendFromCli(config, store, [{ type: 'privacy.export', outcome: 'success', details: { operator: operator(), written: out ? 'files' : 'stdout' } }]);
    if (!out) {
      io.out(`${JSON.stringify(data, null, 2)}\n`);
      return EXIT.ok;
    }
    const { renderSubjectPage } = await import('../ui/privacy-page.js');
    const dir = resolve(out);
    const lang = args.string('lang') === 'en' ? 'en' : 'de';
    try {
      await writeExportDir(dir, [['subject.json', `${JSON.stringify(data, null, 2)}\n`], ['subject.html', renderSubjectPage(data, lang)]]);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      io.err(code === 'EEXIST' ? `${dir} exists: privacy export writes into a new directory of its own; name one that does not exist yet\n` : `cannot write the export to ${dir}: ${(err as Error).message}\n`);
      return EXIT.problems;
    }
    io.out(`wrote ${join(dir, 'subject.json')} and ${join(dir, 'subject.html')}: ${data.sessions.length} session(s), ${data.factors.factors.length} factor(s), ${data.invitations.length} invitation(s), ${data.audit.length} audit record(s)\n`);
    return EXIT.ok;
  });
}

function describeErasure(r: ErasureReport, legalDays: number, auditDir: string): string {
  const lines = [`${r.user}: ended ${r.sessionsEnded} session(s), removed ${r.factorsRemoved} factor(s), recovery codes and locks`];
  if (r.invitationsForgotten > 0) lines.push(`forgot ${r.user} as the creator or revoker of ${r.invitationsForgotten} guest invitation(s); they stay usable until they expire (revoke them with roomguard invite revoke)`);
  if (r.keyWithoutRecords) lines.push(`warning: ${r.user} had a pseudonym key but no audit record under it was found in ${auditDir}; check that --config names the gateway's own audit.dir`);
  if (r.recordsShredded > 0) lines.push(`shredded the pseudonym key of ${r.recordsShredded} audit record(s): they stay in the chain and can no longer be linked to ${r.user}`);
  if (r.keyHeld) lines.push(`NOT shredded: ${r.recordsHeld} audit record(s) found, and the pseudonym key was in use, inside the legal retention period (audit.legalRetentionDays: ${legalDays}) until ${r.heldUntil}; run again then, or with --force`);
  if (r.recordsInClear > 0) lines.push(`${r.recordsInClear} audit record(s) name ${r.user} in clear (written with audit.identity: clear); they cannot be shredded and go with retention by ${r.purgedBy}`);
  if (r.recordsPseudonymous > 0) lines.push(`${r.recordsPseudonymous} audit record(s) carry the deployment-wide pseudonym (audit.identity: pseudonymous); they go with retention by ${r.purgedBy}`);
  return `${lines.join('\n')}\n`;
}

export async function privacyErase(args: CommandArgs, io: CliIo): Promise<number> {
  const user = args.string('user')!;
  const config = configOf(args, io);
  if (!config) return EXIT.problems;
  const { eraseSubject } = await import('../privacy/subject.js');
  const { appendFromCli } = await import('../audit/config.js');
  return withSources(config, async (src, store) => {
    const force = args.flag('force');
    // Recorded before anything changes: when the record cannot be written, nothing is erased. It names
    // neither the person nor how much was theirs (counts would point at their records).
    await appendFromCli(config, store, [{ type: 'privacy.erase', outcome: 'success', details: { operator: operator(), forced: force } }]);
    const report = await eraseSubject(src, user, { force, legalRetentionDays: config.audit.legalRetentionDays, retentionDays: config.audit.retentionDays });
    io.out(describeErasure(report, config.audit.legalRetentionDays, src.auditDir));
    return report.keyHeld ? EXIT.problems : EXIT.ok;
  });
}
