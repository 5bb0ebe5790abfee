// `roomguard mfa list|reset|unlock --user SUB`: a person's second factors in the shared store. A reset
// usually follows a lost or stolen device, so it also ends the person's sessions on every instance.
import { withStoreSessions } from './store-sessions.js';
import { loadConfigFile } from '../config/load.js';
import { decodeKey } from '../config/validate.js';
import { printProblems } from './output.js';
import { EXIT, type CommandArgs } from './table.js';

export async function mfaCommand(sub: 'list' | 'reset' | 'unlock', args: CommandArgs): Promise<number> {
  const user = args.string('user')!;
  const { config, problems } = loadConfigFile(args.string('config'));
  if (!config) {
    printProblems(problems);
    return EXIT.problems;
  }
  const { openStore } = await import('../store/open.js');
  const { MfaAdmin } = await import('../mfa/admin.js');
  const store = await openStore(config);
  try {
    const m = config.mfa;
    const admin = new MfaAdmin(store, { maxFailures: m.maxFailures, windowMs: m.failureWindow, lockoutMs: m.lockout, maxLockoutMs: m.maxLockout, hardLockAfter: m.hardLockAfter, maxAccountsPerAddress: m.maxAccountsPerAddress }, decodeKey(config.secrets.encryptionKey.reveal())!);
    if (sub === 'list') {
      const summary = await admin.list(user);
      if (args.flag('json')) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        process.stdout.write(`${summary.user}: ${summary.factors.length} factor(s), ${summary.recoveryCodesLeft} recovery code(s) left${summary.hardLocked ? ', LOCKED (run `roomguard mfa unlock`)' : ''}\n`);
        for (const f of summary.factors) process.stdout.write(`  ${f.kind.padEnd(8)} ${f.name}  added ${f.createdAt}  last used ${f.lastUsedAt ?? 'never'}\n`);
      }
    } else if (sub === 'reset') {
      const removed = await admin.reset(user);
      const ended = await withStoreSessions(config, store, (sessions) => sessions.destroyAllFor(user));
      process.stdout.write(`${user}: removed ${removed} factor(s) and all recovery codes, ended ${ended} session(s) on every instance; they enrol anew after a fresh login\n`);
    } else {
      await admin.unlock(user);
      process.stdout.write(`${user}: second-factor locks cleared\n`);
    }
  } finally {
    await store.close();
  }
  return EXIT.ok;
}
