// `roomguard sessions list|revoke`: a person's sessions in the shared store. Revocations are announced to
// every running instance, which close the sessions' WebSockets at once.
import { withStoreSessions } from './store-sessions.js';
import type { Config } from '../config/schema.js';
import { loadConfigFile } from '../config/load.js';
import { UsageError } from './cli-args.js';
import { printProblems } from './output.js';
import { EXIT, type CommandArgs } from './table.js';

const FULL_SESSION_HASH = /^[0-9a-f]{64}$/;

async function withSessions<T>(config: Config, use: (sessions: import('../session/sessions.js').Sessions) => Promise<T>): Promise<T> {
  const { openStore } = await import('../store/open.js');
  const store = await openStore(config);
  try {
    return await withStoreSessions(config, store, use);
  } finally {
    await store.close();
  }
}

export async function sessionsList(args: CommandArgs): Promise<number> {
  const user = args.string('user')!;
  const { config, problems } = loadConfigFile(args.string('config'));
  if (!config) {
    printProblems(problems);
    return EXIT.problems;
  }
  return withSessions(config, async (sessions) => {
    const rows = (await sessions.listFor(user)).map((s) => ({ session: s.hash.slice(0, 16), createdAt: new Date(s.data.createdAt).toISOString(), lastSeenAt: new Date(s.data.lastSeenAt).toISOString(), secondFactor: s.data.mfa?.method ?? null, userAgent: s.data.userAgent ?? null }));
    if (args.flag('json')) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else {
      process.stdout.write(`${user}: ${rows.length} session(s)\n`);
      for (const r of rows) process.stdout.write(`  ${r.session}  since ${r.createdAt}  last seen ${r.lastSeenAt}  ${r.secondFactor ?? '-'}  ${r.userAgent ?? ''}\n`);
    }
    return EXIT.ok;
  });
}

export async function sessionsRevoke(args: CommandArgs): Promise<number> {
  const user = args.string('user');
  const session = args.string('session');
  if (!user && !(session && FULL_SESSION_HASH.test(session))) throw new UsageError('sessions revoke needs --user SUB (or --session with the full 64-digit session hash)');
  const { config, problems } = loadConfigFile(args.string('config'));
  if (!config) {
    printProblems(problems);
    return EXIT.problems;
  }
  return withSessions(config, async (sessions) => {
    let ended: number;
    if (session) {
      const prefix = session.toLowerCase();
      const target = user ? (await sessions.listFor(user)).find((s) => s.hash.startsWith(prefix)) : await sessions.byHash(prefix);
      if (!target) {
        process.stderr.write(`roomguard: no live session ${session}${user ? ` of ${user}` : ''}\n`);
        return EXIT.problems;
      }
      await sessions.destroy(target);
      ended = 1;
    } else ended = await sessions.destroyAllFor(user!);
    process.stdout.write(`ended ${ended} session(s) on every instance; their open WebSockets are closed\n`);
    return EXIT.ok;
  });
}
