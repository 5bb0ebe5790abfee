#!/usr/bin/env node
// roomguard's command line: serve, demo, config check, policy check/explain, sessions, mfa, invite, keys, audit.
// Flags are parsed strictly (unknown flags are errors); problems print as file:line: field: message.
import { parseFlags, UsageError } from './cli-args.js';
import { resolve } from 'node:path';
import { loadConfigFile, policiesDirOf } from './config/load.js';
import { formatProblem, type Problem } from './config/yaml-source.js';
import { parseDuration } from './config/duration.js';
import { generateAssertionKeyPem, generateAuditSigningKeyPem, generateEncryptionKey } from './config/keys.js';
import { loadPolicyDir } from './policy/load.js';
import { decide } from './policy/decide.js';
import { explainJson, explainText } from './policy/explain.js';
import { MFA_METHODS, type MfaMethod, type Subject } from './policy/types.js';
import { canonicalRoom } from './backends/room-name.js';
import { AUDIT_USAGE } from './audit/commands.js';
import { INVITE_USAGE } from './guests/commands.js';

const USAGE = `usage: roomguard <command> [options]

  serve --config FILE             run the gateway (config: docs/configuration.md)
  demo [--port N] [--host H] [--data DIR] [--log-level L]
                                  run a self-contained demo (NOT for production)
  config check --config FILE      validate a config file; prints every problem
  policy check [DIR] [--config FILE]
                                  validate a policy directory; prints every problem
  policy explain --room NAME [--dir DIR | --config FILE] [--email E] [--sub S]
                 [--groups a,b] [--unverified-email] [--mfa METHOD --mfa-age AGE]
                 [--guest ROOM] [--json]
                                  show the decision for one person and room
  sessions list --user SUB --config FILE [--json]
  sessions revoke (--user SUB [--session HASH-PREFIX] | --session HASH) --config FILE
                                  list or end a person's sessions (on every instance at once)
  mfa list|reset|unlock --user SUB --config FILE [--json]
                                  show, remove or unlock a person's second factors
${INVITE_USAGE}
  keys generate                   print new secrets.encryptionKey, assertionKey and auditSigningKey
  audit … [--config FILE]         the audit log (directory and keys from the config; see below)
${AUDIT_USAGE}
Exit codes: 0 ok, 1 problems found, 2 wrong usage.
`;


function printProblems(problems: Problem[]): void {
  for (const p of problems) process.stdout.write(`${formatProblem(p)}\n`);
  process.stdout.write(`${problems.length} problem${problems.length === 1 ? '' : 's'} found\n`);
}

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'serve') {
    const { values } = parseFlags(argv.slice(1), { config: { type: 'string', short: 'c' } });
    const { serve } = await import('./serve.js');
    return serve(values.config);
  }
  if (command === 'demo') {
    const { values } = parseFlags(argv.slice(1), { port: { type: 'string', short: 'p' }, host: { type: 'string' }, data: { type: 'string' }, 'log-level': { type: 'string' } });
    const portText = values.port ?? process.env.PORT ?? '8080';
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new UsageError(`--port: "${portText}" is not a port number`);
    const { runDemo } = await import('./demo/run.js');
    const demo = await runDemo({ host: values.host ?? '127.0.0.1', port: Number(portText), dataDir: values.data ?? '.roomguard-demo', logLevel: values['log-level'] ?? 'info' });
    const stop = () => void demo.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return -1;
  }
  if (command === 'config' && sub === 'check') {
    const { values } = parseFlags(rest, { config: { type: 'string', short: 'c' } });
    if (!values.config) throw new UsageError('config check needs --config FILE');
    const { config, problems } = loadConfigFile(values.config);
    if (!config) {
      printProblems(problems);
      return 1;
    }
    process.stdout.write(`${values.config}: ok\n`);
    return 0;
  }
  if (command === 'policy' && (sub === 'check' || sub === 'explain')) {
    const common = { config: { type: 'string', short: 'c' }, dir: { type: 'string' } } as const;
    if (sub === 'check') {
      const { values, positionals } = parseFlags(rest, common, 1);
      const dir = policyDir(positionals[0] ?? values.dir, values.config);
      const result = loadPolicyDir(dir, await reservedRoomsOf(values.config));
      // Notes first: an ignored backup or a hard link is worth knowing about whether or not the set is ok.
      for (const n of result.notices) process.stdout.write(`${n.file}: note: ${n.message}\n`);
      if (!result.set) {
        printProblems(result.problems);
        return 1;
      }
      process.stdout.write(`${dir}: ${result.files.length} policy file${result.files.length === 1 ? '' : 's'} ok (version ${result.set.version.slice(0, 12)})\n`);
      return 0;
    }
    const { values } = parseFlags(rest, {
      ...common, room: { type: 'string' }, email: { type: 'string' }, sub: { type: 'string' }, groups: { type: 'string' },
      'unverified-email': { type: 'boolean' }, mfa: { type: 'string' }, 'mfa-age': { type: 'string' }, json: { type: 'boolean' }, guest: { type: 'string' },
    });
    if (!values.room) throw new UsageError('policy explain needs --room NAME');
    const room = canonicalRoom(values.room);
    if (!room) throw new UsageError(`--room: "${values.room}" is not a valid room name`);
    const subject: Subject = {};
    if (values.email !== undefined || values.sub !== undefined || values.groups !== undefined) {
      subject.identity = {
        sub: values.sub ?? values.email ?? 'cli-user',
        iss: 'roomguard-cli',
        emailVerified: values.email !== undefined && !values['unverified-email'],
        groups: (values.groups ?? '').split(',').map((g) => g.trim()).filter(Boolean),
        ...(values.email !== undefined ? { email: values.email.toLowerCase() } : {}),
      };
    }
    const now = Date.now();
    if (values.guest !== undefined) {
      // A guest admitted by an invitation to ROOM (for an hour from now), instead of a person with an account.
      if (subject.identity) throw new UsageError('--guest stands for a person without an account: leave out --email, --sub and --groups');
      const invitedTo = canonicalRoom(values.guest);
      if (!invitedTo) throw new UsageError(`--guest: "${values.guest}" is not a valid room name`);
      subject.identity = { sub: 'guest:cli', iss: 'roomguard-cli/guest', emailVerified: false, groups: [], guest: { room: invitedTo, invitation: 'cli', expiresAt: now + 3_600_000 } };
    }
    if (values.mfa !== undefined) {
      if (!(MFA_METHODS as readonly string[]).includes(values.mfa)) throw new UsageError(`--mfa: use one of ${MFA_METHODS.join(', ')}`);
      const age = parseDuration(values['mfa-age'] ?? '0s');
      if (age === undefined) throw new UsageError(`--mfa-age: "${values['mfa-age']}" is not a duration (e.g. 10m)`);
      subject.mfa = { method: values.mfa as MfaMethod, at: now - age };
    } else if (values['mfa-age'] !== undefined) throw new UsageError('--mfa-age needs --mfa METHOD');
    const dir = policyDir(values.dir, values.config);
    const result = loadPolicyDir(dir);
    if (!result.set) {
      printProblems(result.problems);
      return 1;
    }
    const decision = decide(subject, room, result.set, now);
    process.stdout.write(`${values.json ? explainJson(decision) : explainText(decision)}\n`);
    return 0;
  }
  if (command === 'sessions' && (sub === 'list' || sub === 'revoke')) {
    const { values } = parseFlags(rest, { config: { type: 'string', short: 'c' }, user: { type: 'string' }, session: { type: 'string' }, json: { type: 'boolean' } });
    if (!values.user && !(sub === 'revoke' && values.session && /^[0-9a-f]{64}$/.test(values.session))) {
      throw new UsageError(`sessions ${sub} needs --user SUB${sub === 'revoke' ? ' (or --session with the full 64-digit session hash)' : ''}`);
    }
    const { config, problems } = loadConfigFile(values.config);
    if (!config) {
      printProblems(problems);
      return 1;
    }
    const { openStore } = await import('./store/open.js');
    const { Sessions } = await import('./session/sessions.js');
    const { openSessionBus } = await import('./store/bus.js');
    const store = await openStore(config);
    // Revocations are announced to every running instance, which close the sessions' WebSockets at once.
    const bus = await openSessionBus(store, config.store.keyPrefix);
    try {
      const sessions = new Sessions(store, { idleMs: config.session.idleTimeout, absoluteMs: config.session.absoluteTimeout }, Date.now, { bus });
      const mine = values.user ? await sessions.listFor(values.user) : [];
      if (sub === 'list') {
        const rows = mine.map((s) => ({ session: s.hash.slice(0, 16), createdAt: new Date(s.data.createdAt).toISOString(), lastSeenAt: new Date(s.data.lastSeenAt).toISOString(), secondFactor: s.data.mfa?.method ?? null, userAgent: s.data.userAgent ?? null }));
        if (values.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else {
          process.stdout.write(`${values.user}: ${rows.length} session(s)\n`);
          for (const r of rows) process.stdout.write(`  ${r.session}  since ${r.createdAt}  last seen ${r.lastSeenAt}  ${r.secondFactor ?? '-'}  ${r.userAgent ?? ''}\n`);
        }
        return 0;
      }
      let ended = 0;
      if (values.session) {
        const prefix = values.session.toLowerCase();
        const target = values.user ? mine.find((s) => s.hash.startsWith(prefix)) : await sessions.byHash(prefix);
        if (!target) {
          process.stderr.write(`roomguard: no live session ${values.session}${values.user ? ` of ${values.user}` : ''}\n`);
          return 1;
        }
        await sessions.destroy(target);
        ended = 1;
      } else ended = await sessions.destroyAllFor(values.user!);
      process.stdout.write(`ended ${ended} session(s) on every instance; their open WebSockets are closed\n`);
      return 0;
    } finally {
      await bus.close();
      await store.close();
    }
  }
  if (command === 'mfa' && (sub === 'list' || sub === 'reset' || sub === 'unlock')) {
    const { values } = parseFlags(rest, { config: { type: 'string', short: 'c' }, user: { type: 'string' }, json: { type: 'boolean' } });
    if (!values.user) throw new UsageError(`mfa ${sub} needs --user SUB (the person's subject identifier at the IdP)`);
    const { config, problems } = loadConfigFile(values.config);
    if (!config) {
      printProblems(problems);
      return 1;
    }
    const { openStore } = await import('./store/open.js');
    const { MfaAdmin } = await import('./mfa/admin.js');
    const { decodeKey } = await import('./config/validate.js');
    const store = await openStore(config);
    try {
      const m = config.mfa;
      const admin = new MfaAdmin(store, { maxFailures: m.maxFailures, windowMs: m.failureWindow, lockoutMs: m.lockout, maxLockoutMs: m.maxLockout, hardLockAfter: m.hardLockAfter, maxAccountsPerAddress: m.maxAccountsPerAddress }, decodeKey(config.secrets.encryptionKey.reveal())!);
      if (sub === 'list') {
        const summary = await admin.list(values.user);
        if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else {
          process.stdout.write(`${summary.user}: ${summary.factors.length} factor(s), ${summary.recoveryCodesLeft} recovery code(s) left${summary.hardLocked ? ', LOCKED (run `roomguard mfa unlock`)' : ''}\n`);
          for (const f of summary.factors) process.stdout.write(`  ${f.kind.padEnd(8)} ${f.name}  added ${f.createdAt}  last used ${f.lastUsedAt ?? 'never'}\n`);
        }
      } else if (sub === 'reset') {
        const removed = await admin.reset(values.user);
        // A reset usually follows a lost or stolen device: sessions that passed with it end everywhere now.
        const { Sessions } = await import('./session/sessions.js');
        const { openSessionBus } = await import('./store/bus.js');
        const bus = await openSessionBus(store, config.store.keyPrefix);
        const ended = await new Sessions(store, { idleMs: config.session.idleTimeout, absoluteMs: config.session.absoluteTimeout }, Date.now, { bus }).destroyAllFor(values.user).finally(() => bus.close());
        process.stdout.write(`${values.user}: removed ${removed} factor(s) and all recovery codes, ended ${ended} session(s) on every instance; they enrol anew after a fresh login\n`);
      } else {
        await admin.unlock(values.user);
        process.stdout.write(`${values.user}: second-factor locks cleared\n`);
      }
    } finally {
      await store.close();
    }
    return 0;
  }
  if (command === 'invite') {
    const { runInviteCommand } = await import('./guests/commands.js');
    return runInviteCommand(sub, rest, { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) });
  }
  if (command === 'audit') {
    // --config belongs to roomguard; the rest goes to the audit commands.
    const args = argv.slice(1);
    const at = args.findIndex((a) => a === '--config' || a === '-c' || a.startsWith('--config='));
    let configFile: string | undefined;
    if (at !== -1) {
      const flag = args[at]!;
      configFile = flag.startsWith('--config=') ? flag.slice(9) : args[at + 1];
      if (!configFile) throw new UsageError('--config needs a file');
      args.splice(at, flag.startsWith('--config=') ? 1 : 2);
    }
    const { runAuditCommand } = await import('./audit/commands.js');
    if (!configFile) return runAuditCommand(args, { auditDir: resolve('audit') });
    const { config, problems } = loadConfigFile(configFile);
    if (!config) {
      printProblems(problems);
      return 1;
    }
    const { auditDirOf } = await import('./config/load.js');
    return runAuditCommand(args, { auditDir: auditDirOf(config), signingKeyPem: config.secrets.auditSigningKey.reveal(), retentionDays: config.audit.retentionDays });
  }
  if (command === 'keys' && sub === 'generate') {
    parseFlags(rest, {});
    process.stdout.write([
      `# secrets.encryptionKey (store it in a secret, e.g. ROOMGUARD_ENCRYPTION_KEY):\n${generateEncryptionKey()}\n`,
      `# secrets.assertionKey (save as a file readable only by roomguard, e.g. /etc/roomguard/assertion.pem):\n${generateAssertionKeyPem()}`,
      `# secrets.auditSigningKey (save as a file readable only by roomguard, e.g. /etc/roomguard/audit-signing.pem):\n${generateAuditSigningKeyPem()}`,
    ].join('\n'));
    return 0;
  }
  throw new UsageError(`unknown command: ${[command, sub].filter(Boolean).join(' ')}`);
}

/** Room names the configured backend keeps for itself (Jitsi's /libs, /http-bind …), for policy lint. */
async function reservedRoomsOf(configFile: string | undefined): Promise<readonly string[]> {
  if (!configFile) return [];
  const { config } = loadConfigFile(configFile);
  if (!config) return [];
  const { backendFor } = await import('./backends/from-config.js');
  return backendFor(config).reservedRooms;
}

function policyDir(dir: string | undefined, configFile: string | undefined): string {
  if (dir) return resolve(dir);
  if (configFile) {
    const { config, problems } = loadConfigFile(configFile);
    if (!config) {
      printProblems(problems);
      throw new UsageError('cannot find the policy directory: the config has problems');
    }
    return policiesDirOf(config);
  }
  return resolve('policies');
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`roomguard: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`roomguard: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  },
);
