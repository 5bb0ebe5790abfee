// The one table of roomguard's commands. Parsing (main.ts), usage and help (help.ts) and shell completion
// (completion.ts) are all read from it, so a command, an option or a value list added here is parsed,
// documented and completed at once. Handlers are imported only when their command runs: `--help` and
// completion stay fast and load nothing of the gateway.
import { AUDIT_OUTCOMES, AUDIT_RECORD_TYPES } from '../audit/record.js';
import { MFA_METHODS } from '../policy/types.js';
import { IDP_PROFILES } from '../config/schema.js';

/** What a command's exit status means; the same for every command (README, `--help`). */
export const EXIT = { ok: 0, problems: 1, usage: 2 } as const;
export const EXIT_CODES_TEXT = 'exit codes: 0 ok; 1 problems found or the action failed; 2 wrong usage (unknown command or option, missing or invalid argument)';

/** A handler's answer for a command that keeps running (serve, demo): the process lives on. */
export const RUNNING = -1;

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in usage lines (FILE, DIR, N …). */
  value?: string;
  required?: boolean;
  /** The only values accepted (checked by the parser, offered by completion). */
  choices?: readonly string[];
  /** What completion offers for the value when there are no choices. */
  complete?: 'file' | 'dir';
  doc: string;
}

export interface PositionalSpec {
  name: string;
  required?: boolean;
  /** Takes every remaining word (`help COMMAND…`). */
  variadic?: boolean;
  choices?: readonly string[];
  complete?: 'file' | 'dir';
  doc: string;
}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** The parsed arguments of one command, read by name. */
export interface CommandArgs {
  string(name: string): string | undefined;
  flag(name: string): boolean;
  readonly positionals: readonly string[];
  /** The options as parsed, for handing to an implementation that parses them itself (audit, invite). */
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
}

export interface CommandSpec {
  /** `['serve']` or `['policy', 'explain']`. */
  path: readonly [string] | readonly [string, string];
  /** One line: in the command list and at the top of the command's help. */
  summary: string;
  /** More paragraphs for `--help`. */
  about?: string;
  options: Readonly<Record<string, OptionSpec>>;
  positionals?: readonly PositionalSpec[];
  /** Returns the exit status, or RUNNING. Throws UsageError for wrong usage. */
  run(args: CommandArgs, io: CliIo): Promise<number>;
}

/** Commands with subcommands (`policy check`, `policy explain`) are listed under their group. */
export interface GroupSpec {
  name: string;
  summary: string;
}

const config = (doc = 'roomguard.yaml; ROOMGUARD_* variables apply on top of it'): OptionSpec => ({ type: 'string', short: 'c', value: 'FILE', complete: 'file', doc });
const needsConfig = config('roomguard.yaml of the deployment (its store, keys and audit directory); ROOMGUARD_* variables apply on top of it');
const json: OptionSpec = { type: 'boolean', doc: 'print JSON instead of text' };
const user: OptionSpec = { type: 'string', value: 'SUB', required: true, doc: 'the person: their subject identifier (`sub`) at the IdP' };
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['json', 'text'] as const;
export const SHELLS = ['bash', 'zsh', 'fish'] as const;

export const GROUPS: readonly GroupSpec[] = [
  { name: 'config', summary: 'check a configuration' },
  { name: 'policy', summary: 'check room policies and explain decisions' },
  { name: 'sessions', summary: 'list or end a person\'s sessions' },
  { name: 'mfa', summary: 'a person\'s second factors' },
  { name: 'invite', summary: 'guest invitations (docs/guests.md)' },
  { name: 'rooms', summary: 'lock a room or evict people from it, on every instance (docs/policies.md)' },
  { name: 'audit', summary: 'the audit log (docs/audit.md)' },
  { name: 'privacy', summary: 'a person\'s rights of access and erasure (docs/audit.md)' },
  { name: 'compliance', summary: 'evidence for data-protection and security officers (docs/compliance.md)' },
  { name: 'keys', summary: 'new keys for a configuration' },
];

export const COMMANDS: readonly CommandSpec[] = [
  {
    path: ['serve'],
    summary: 'run the gateway',
    about: 'Validates the configuration and the policies and refuses to start on any problem. SIGHUP reloads both; SIGTERM or SIGINT drains requests, closes WebSockets, flushes the audit log and exits 0.',
    options: { config: config('roomguard.yaml; without it the configuration comes from ROOMGUARD_* variables alone') },
    run: async (args) => (await import('./serve.js')).serve(args.string('config')),
  },
  {
    path: ['demo'],
    summary: 'run a self-contained demo (NOT for production)',
    about: 'An embedded identity provider with demo users, the example policies, an in-memory store and a demo conference behind the gateway, on one port.',
    options: {
      port: { type: 'string', short: 'p', value: 'N', doc: 'port to listen on (default: $PORT, else 8080)' },
      host: { type: 'string', value: 'HOST', doc: 'address to listen on (default 127.0.0.1)' },
      data: { type: 'string', value: 'DIR', complete: 'dir', doc: 'where the demo keeps its keys and audit log (default .roomguard-demo)' },
      'log-level': { type: 'string', value: 'LEVEL', choices: LOG_LEVELS, doc: 'minimum log level (default info)' },
      'log-format': { type: 'string', value: 'FORMAT', choices: LOG_FORMATS, doc: 'log lines as text (default) or JSON' },
    },
    run: async (args) => (await import('./demo.js')).demo(args),
  },
  {
    path: ['config', 'check'],
    summary: 'validate a configuration; prints every problem and warning',
    about: 'Problems print as file:line: field: message (or $ROOMGUARD_…: field: message for a variable), warnings as file:line: field: warning: message. Warnings (a secret written into the file, a deprecated key) do not change the exit status.',
    options: { config: { ...config(), required: true } },
    run: async (args, io) => (await import('./config-check.js')).configCheck(args.string('config')!, io),
  },
  {
    path: ['policy', 'check'],
    summary: 'validate a policy directory; prints every problem',
    options: {
      config: config('take the policy directory (and the backend\'s reserved rooms) from this roomguard.yaml'),
      dir: { type: 'string', value: 'DIR', complete: 'dir', doc: 'the policy directory (default ./policies)' },
    },
    positionals: [{ name: 'DIR', complete: 'dir', doc: 'the policy directory, as --dir' }],
    run: async (args, io) => (await import('./policy.js')).policyCheck(args, io),
  },
  {
    path: ['policy', 'explain'],
    summary: 'show the decision, policy file, rule, role and reasons for one person and room',
    about: 'Without --email, --sub, --groups, --claims and --guest the person is not signed in. Groups and claims are read by the IdP profile of --config (or --profile), and the groups as read are shown.',
    options: {
      room: { type: 'string', value: 'NAME', required: true, doc: 'the room' },
      dir: { type: 'string', value: 'DIR', complete: 'dir', doc: 'the policy directory (default ./policies)' },
      config: config('take the policy directory from this roomguard.yaml'),
      email: { type: 'string', value: 'ADDRESS', doc: 'the person\'s e-mail address (verified unless --unverified-email)' },
      sub: { type: 'string', value: 'SUB', doc: 'the person\'s subject identifier' },
      groups: { type: 'string', value: 'A,B', doc: 'the person\'s groups as the IdP sends them, comma-separated (read by the IdP profile: with keycloak, /staff is staff)' },
      claims: { type: 'string', value: 'JSON', doc: 'the person as the IdP describes them: the claims of an ID token or userinfo answer, as JSON or @FILE (read as the gateway reads them at login)' },
      profile: { type: 'string', value: 'NAME', choices: IDP_PROFILES, doc: 'read --groups and --claims as this IdP sends them (default: oidc.profile of --config, else generic)' },
      'unverified-email': { type: 'boolean', doc: 'the IdP has not verified the e-mail address' },
      mfa: { type: 'string', value: 'METHOD', choices: MFA_METHODS, doc: 'a second factor confirmed with METHOD' },
      'mfa-age': { type: 'string', value: 'AGE', doc: 'how long ago the second factor was confirmed (e.g. 10m; needs --mfa)' },
      guest: { type: 'string', value: 'ROOM', doc: 'a guest without an account, admitted by an invitation to ROOM' },
      at: { type: 'string', value: 'TIME', doc: 'judge at this moment instead of now (ISO 8601 with Z or an offset, e.g. 2026-12-10T09:30+01:00)' },
      json,
    },
    run: async (args, io) => (await import('./policy.js')).policyExplain(args, io),
  },
  {
    path: ['sessions', 'list'],
    summary: 'list a person\'s sessions',
    options: { user, config: needsConfig, json },
    run: async (args) => (await import('./sessions.js')).sessionsList(args),
  },
  {
    path: ['sessions', 'revoke'],
    summary: 'end a person\'s sessions on every instance (their open WebSockets close at once)',
    options: {
      user: { ...user, required: false, doc: 'whose sessions: their subject identifier at the IdP (all of them, unless --session)' },
      session: { type: 'string', value: 'HASH', doc: 'only this session: a prefix of its hash with --user, or the full 64-digit hash alone' },
      config: needsConfig,
    },
    run: async (args) => (await import('./sessions.js')).sessionsRevoke(args),
  },
  {
    path: ['mfa', 'list'],
    summary: 'show a person\'s second factors, recovery codes left and locks',
    options: { user, config: needsConfig, json },
    run: async (args) => (await import('./mfa.js')).mfaCommand('list', args),
  },
  {
    path: ['mfa', 'reset'],
    summary: 'remove a person\'s second factors and recovery codes and end their sessions',
    options: { user, config: needsConfig },
    run: async (args) => (await import('./mfa.js')).mfaCommand('reset', args),
  },
  {
    path: ['mfa', 'unlock'],
    summary: 'clear a person\'s second-factor locks',
    options: { user, config: needsConfig },
    run: async (args) => (await import('./mfa.js')).mfaCommand('unlock', args),
  },
  {
    path: ['invite', 'create'],
    summary: 'create a guest invitation link for a room whose policy has guests.invites',
    options: {
      room: { type: 'string', value: 'ROOM', required: true, doc: 'the room' },
      ttl: { type: 'string', value: 'DURATION', doc: 'how long the link is valid (5m up to the room\'s guests.ttl, which is the default)' },
      uses: { type: 'string', value: 'N', doc: 'how many guests may use it (default 5, at most the room\'s guests.maxUses)' },
      note: { type: 'string', value: 'TEXT', doc: 'a note for the moderators (at most 200 characters)' },
      config: needsConfig,
      json,
    },
    run: async (args, io) => (await import('./invite.js')).invite('create', args, io),
  },
  {
    path: ['invite', 'list'],
    summary: 'list a room\'s invitations and who used them',
    options: { room: { type: 'string', value: 'ROOM', required: true, doc: 'the room' }, config: needsConfig, json },
    run: async (args, io) => (await import('./invite.js')).invite('list', args, io),
  },
  {
    path: ['invite', 'revoke'],
    summary: 'revoke an invitation and end its guests\' sessions on every instance',
    options: {
      room: { type: 'string', value: 'ROOM', required: true, doc: 'the room' },
      id: { type: 'string', value: 'ID', required: true, doc: 'the invitation (from `roomguard invite list`)' },
      config: needsConfig,
    },
    run: async (args, io) => (await import('./invite.js')).invite('revoke', args, io),
  },
  {
    path: ['rooms', 'lock'],
    summary: 'lock a room: nobody new is admitted (its moderators where the policy says lock.moderatorsMayEnter)',
    options: { room: { type: 'string', value: 'ROOM', required: true, doc: 'the room' }, config: needsConfig },
    run: async (args, io) => (await import('./rooms.js')).roomsCommand('lock', args, io),
  },
  {
    path: ['rooms', 'unlock'],
    summary: 'unlock a room, and let back in the people evicted from it',
    options: { room: { type: 'string', value: 'ROOM', required: true, doc: 'the room' }, config: needsConfig },
    run: async (args, io) => (await import('./rooms.js')).roomsCommand('unlock', args, io),
  },
  {
    path: ['rooms', 'evict'],
    summary: 'end the admission of one person, or of everyone, in a room on every instance',
    about: 'Their WebSockets into the room close, their Jitsi tokens and BBB joins for it are refused; for everyone on BBB the meeting is ended. One person stays out until the room is unlocked (at most 12 hours); to keep everyone out, lock the room first.',
    options: {
      room: { type: 'string', value: 'ROOM', required: true, doc: 'the room' },
      user: { type: 'string', value: 'SUB', doc: 'the person (their `sub` at the IdP); without it everyone in the room' },
      config: needsConfig,
    },
    run: async (args, io) => (await import('./rooms.js')).roomsCommand('evict', args, io),
  },
  {
    path: ['audit', 'verify'],
    summary: 'check the hash chain and signed checkpoints of every instance',
    options: {
      config: config('take the audit directory and keys from this roomguard.yaml (default directory: ./audit)'),
      'public-key': { type: 'string', value: 'FILE', complete: 'file', doc: 'the checkpoint public key kept off the host' },
      'repair-tail': { type: 'boolean', doc: 'move torn final lines (a crash mid-write) aside; only while roomguard is stopped' },
      json,
    },
    positionals: [{ name: 'DIR', complete: 'dir', doc: 'an audit directory or evidence export instead of the configured one' }],
    run: async (args) => (await import('./audit.js')).audit('verify', args),
  },
  {
    path: ['audit', 'query'],
    summary: 'records of all instances, filtered',
    options: {
      config: config('take the audit directory from this roomguard.yaml (default ./audit)'),
      room: { type: 'string', value: 'ROOM', doc: 'only this room' },
      user: { type: 'string', value: 'USER', doc: 'only this person (sub, e-mail or pseudonym)' },
      type: { type: 'string', value: 'TYPE', choices: AUDIT_RECORD_TYPES, doc: 'only this record type' },
      outcome: { type: 'string', value: 'OUTCOME', choices: AUDIT_OUTCOMES, doc: 'only this outcome' },
      since: { type: 'string', value: 'TIME', doc: 'from this time (2024-05-01, 2024-05-01T10:00:00Z) or this long ago (7d, 12h)' },
      until: { type: 'string', value: 'TIME', doc: 'up to this time' },
      limit: { type: 'string', value: 'N', doc: 'at most N records (the newest)' },
      json: { type: 'boolean', doc: 'JSON Lines' },
      csv: { type: 'boolean', doc: 'CSV' },
    },
    run: async (args) => (await import('./audit.js')).audit('query', args),
  },
  {
    path: ['audit', 'export'],
    summary: 'write an evidence package (segments, checkpoints, report, SHA256SUMS)',
    options: {
      config: config('take the audit directory and keys from this roomguard.yaml (default directory: ./audit)'),
      since: { type: 'string', value: 'TIME', required: true, doc: 'from this time or this long ago (7d)' },
      until: { type: 'string', value: 'TIME', doc: 'up to this time (default now)' },
      out: { type: 'string', value: 'DIR', required: true, complete: 'dir', doc: 'the new directory to write' },
      'public-key': { type: 'string', value: 'FILE', complete: 'file', doc: 'the checkpoint public key kept off the host' },
    },
    run: async (args) => (await import('./audit.js')).audit('export', args),
  },
  {
    path: ['audit', 'purge'],
    summary: 'delete segments older than the retention period',
    options: {
      config: needsConfig,
      days: { type: 'string', value: 'N', doc: 'keep N days (default audit.retentionDays)' },
    },
    run: async (args) => (await import('./audit.js')).audit('purge', args),
  },
  {
    path: ['audit', 'public-key'],
    summary: 'print the checkpoint public key (keep a copy off the host)',
    options: { config: needsConfig },
    run: async (args) => (await import('./audit.js')).audit('public-key', args),
  },
  {
    path: ['audit', 'pseudonym'],
    summary: 'print the pseudonym of a person (audit.identity: pseudonymous)',
    options: {
      config: needsConfig,
      iss: { type: 'string', value: 'ISSUER', required: true, doc: 'the IdP\'s issuer' },
      sub: { type: 'string', value: 'SUB', required: true, doc: 'the person\'s subject identifier' },
    },
    run: async (args) => (await import('./audit.js')).audit('pseudonym', args),
  },
  {
    path: ['privacy', 'export'],
    summary: 'everything roomguard holds about a person, for an access request (GDPR Art. 15)',
    about: 'Live sessions, second factors (metadata, never secrets), invitations the person created and the guests they admitted, and their audit records. Without --out the JSON goes to stdout. Recorded in the audit log (privacy.export).',
    options: {
      user, config: { ...needsConfig, required: true },
      out: { type: 'string', value: 'DIR', complete: 'dir', doc: 'write subject.json and a readable subject.html into DIR (created, readable only by you)' },
      lang: { type: 'string', value: 'LANG', choices: ['de', 'en'], doc: 'language of subject.html (default de)' },
    },
    run: async (args, io) => (await import('./privacy.js')).privacyExport(args, io),
  },
  {
    path: ['privacy', 'erase'],
    summary: 'erase a person: sessions, second factors and locks, and shred their audit pseudonym key (GDPR Art. 17)',
    about: 'With audit.identity: erasable the person\'s audit records stay in the chain (audit verify still passes) but their pseudonym key is deleted, so nobody can link them any more. Records inside audit.legalRetentionDays keep the key (exit 1) unless --force. Recorded in the audit log (privacy.erase, without naming the person).',
    options: {
      user, config: { ...needsConfig, required: true },
      force: { type: 'boolean', doc: 'shred also records inside audit.legalRetentionDays' },
    },
    run: async (args, io) => (await import('./privacy.js')).privacyErase(args, io),
  },
  {
    path: ['compliance', 'report'],
    summary: 'the compliance matrix filled in for this deployment, as Markdown and a printable HTML page',
    about: 'Each requirement of docs/compliance.md judged for this configuration: met, the operator\'s duty, or not met with the reason; with the actual settings, the high-risk rooms, the policy set\'s version, the audit chain\'s verification and the checkpoint key\'s fingerprint. Exit 1 when a requirement the deployment could meet is not met.',
    options: {
      config: { ...needsConfig, required: true },
      audit: { type: 'string', value: 'DIR', complete: 'dir', doc: 'verify this copy of an audit directory instead of audit.dir (an evidence package: audit verify --export)' },
      checkpoints: { type: 'string', value: 'FILE', complete: 'file', doc: 'a copy of checkpoints.jsonl kept off the host: only with it (or --public-key) can the report say the log was not altered or deleted unnoticed' },
      'public-key': { type: 'string', value: 'FILE', complete: 'file', doc: 'the checkpoint public key kept off the host (as audit verify --public-key)' },
      out: { type: 'string', value: 'FILE', required: true, complete: 'file', doc: 'where to write: FILE.md and FILE.html (an .md or .html ending is replaced)' },
      lang: { type: 'string', value: 'LANG', choices: ['de', 'en'], doc: 'language of the report (default de)' },
    },
    run: async (args, io) => (await import('./compliance.js')).complianceReport(args, io),
  },
  {
    path: ['keys', 'generate'],
    summary: 'print a new encryption key, assertion-signing key and audit-signing key',
    options: {},
    run: async (_args, io) => (await import('./keys.js')).keysGenerate(io),
  },
  {
    path: ['completion'],
    summary: 'print a shell completion script',
    about: 'bash: `source <(roomguard completion bash)` (or save it to /etc/bash_completion.d/roomguard). zsh: save it as `_roomguard` in a directory on $fpath. fish: save it to ~/.config/fish/completions/roomguard.fish.',
    options: {},
    positionals: [{ name: 'SHELL', required: true, choices: SHELLS, doc: 'bash, zsh or fish' }],
    run: async (args, io) => {
      const { completionScript } = await import('./completion.js');
      io.out(completionScript(args.positionals[0] as (typeof SHELLS)[number]));
      return EXIT.ok;
    },
  },
  {
    path: ['help'],
    summary: 'show the commands, or one command\'s options',
    options: {},
    positionals: [{ name: 'COMMAND', variadic: true, doc: 'a command, e.g. `policy explain`' }],
    run: async (args, io) => (await import('./help.js')).helpCommand(args.positionals, io),
  },
];

/** `policy explain` */
export const nameOf = (spec: CommandSpec): string => spec.path.join(' ');

export function commandsOf(group: string): CommandSpec[] {
  return COMMANDS.filter((c) => c.path.length === 2 && c.path[0] === group);
}
