// `roomguard policy check` and `roomguard policy explain`: lint a policy directory; show the decision for
// one person and room, with the policy file, rule, role and reasons the gateway would use.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { canonicalRoom } from '../backends/room-name.js';
import { parseDuration } from '../config/duration.js';
import { loadConfigFile, policiesDirOf } from '../config/load.js';
import { decide } from '../policy/decide.js';
import { explainJson, explainText } from '../policy/explain.js';
import { loadPolicyDir } from '../policy/load.js';
import type { MfaMethod, Subject } from '../policy/types.js';
import { identityFromClaims, readGroups, type GroupReading } from '../identity/claims.js';
import { claimMapping, groupNameTable, profileNamed, type ClaimMapping, type IdpProfile } from '../identity/profiles.js';
import type { Identity } from '../identity/types.js';
import { UsageError } from './cli-args.js';
import { printProblems } from './output.js';
import { EXIT, type CliIo, type CommandArgs } from './table.js';

export async function policyCheck(args: CommandArgs, io: CliIo): Promise<number> {
  const configFile = args.string('config');
  const dir = policyDir(args.positionals[0] ?? args.string('dir'), configFile);
  const result = loadPolicyDir(dir, await reservedRoomsOf(configFile));
  // Notes first: an ignored backup or a hard link is worth knowing about whether or not the set is ok.
  for (const n of result.notices) io.out(`${n.file}: note: ${n.message}\n`);
  if (!result.set) {
    printProblems(result.problems, io.out);
    return EXIT.problems;
  }
  io.out(`${dir}: ${result.files.length} policy file${result.files.length === 1 ? '' : 's'} ok (version ${result.set.version.slice(0, 12)})\n`);
  return EXIT.ok;
}

export async function policyExplain(args: CommandArgs, io: CliIo): Promise<number> {
  const roomText = args.string('room')!;
  const room = canonicalRoom(roomText);
  if (!room) throw new UsageError(`--room: "${roomText}" is not a valid room name`);
  const now = momentOf(args.string('at'));
  const { profile, mapping } = claimReading(args);
  const reading = readPerson(args, mapping);
  const subject = subjectOf(args, now, reading);
  const result = loadPolicyDir(policyDir(args.string('dir'), args.string('config')));
  if (!result.set) {
    printProblems(result.problems, io.out);
    return EXIT.problems;
  }
  const decision = decide(subject, room, result.set, now);
  const groups = reading?.groups ?? [];
  if (args.flag('json')) {
    io.out(`${explainJson(decision, reading ? { profile, groups } : {})}\n`);
    return EXIT.ok;
  }
  const before: Array<[string, string]> = reading ? [['profile', profile], ['groups', groups.length ? groups.map(groupText).join(', ') : '(none)']] : [];
  io.out(`${explainText(decision, before)}\n`);
  return EXIT.ok;
}

/** `--at`: an ISO 8601 date and time with Z or an offset (a time without one would be ambiguous); now without it. */
function momentOf(at: string | undefined): number {
  if (at === undefined) return Date.now();
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(at) ? Date.parse(at) : NaN;
  if (Number.isNaN(ms)) throw new UsageError(`--at: "${at}" is not an ISO 8601 date and time with Z or an offset (e.g. 2026-12-10T09:30+01:00)`);
  return ms;
}

const groupText = (g: GroupReading): string => (g.sent === g.group ? g.group : `${g.group} (sent as ${g.sent})`);

/** The IdP profile and group names of --config (or --profile, which wins): how the IdP's claims are read. */
function claimReading(args: CommandArgs): { profile: IdpProfile; mapping: ClaimMapping } {
  const configFile = args.string('config');
  const config = configFile ? loadConfigFile(configFile).config : undefined;
  const profile = profileNamed(args.string('profile') ?? config?.oidc.profile ?? 'generic');
  return { profile, mapping: claimMapping(profile, config?.oidc.claims, groupNameTable(config?.oidc.groupNames ?? []), config?.oidc.trustEmail ?? false) };
}

/**
 * The signed-in person from --claims (an ID token's or userinfo's claims, as JSON or @file) or from
 * --groups (values as the IdP sends them), read the way the gateway reads them at login.
 */
function readPerson(args: CommandArgs, mapping: ClaimMapping): { identity?: Identity; groups: GroupReading[] } | undefined {
  const claimsText = args.string('claims');
  if (claimsText !== undefined) {
    if (args.string('groups') !== undefined || args.string('email') !== undefined) throw new UsageError('--claims describes the person already: leave out --groups and --email');
    const claims = parseClaims(claimsText);
    const full = { sub: 'cli-user', iss: 'roomguard-cli', ...claims };
    return { identity: identityFromClaims(full, mapping), groups: readGroups(full, mapping) };
  }
  const groups = args.string('groups');
  if (groups === undefined) return undefined;
  const values = groups.split(',').map((g) => g.trim()).filter(Boolean);
  return { groups: readGroups({ groups: values }, { ...mapping, groups: ['groups'] }) };
}

function parseClaims(text: string): Record<string, unknown> {
  let source = text;
  if (text.startsWith('@')) {
    try {
      source = readFileSync(text.slice(1), 'utf8');
    } catch (err) {
      throw new UsageError(`--claims: cannot read ${text.slice(1)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (err) {
    throw new UsageError(`--claims: not JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('--claims: must be a JSON object of claims, e.g. {"groups":["/staff"]}');
  return parsed as Record<string, unknown>;
}

/** The person the flags describe: signed in (--email/--sub/--groups), a guest (--guest), or nobody. */
function subjectOf(args: CommandArgs, now: number, reading?: { identity?: Identity; groups: GroupReading[] }): Subject {
  const fromClaims = reading?.identity;
  const subject: Subject = {};
  const email = args.string('email');
  const sub = args.string('sub');
  const groups = args.string('groups');
  if (fromClaims) subject.identity = { ...fromClaims, ...(sub !== undefined ? { sub } : {}) };
  else if (email !== undefined || sub !== undefined || groups !== undefined) {
    subject.identity = {
      sub: sub ?? email ?? 'cli-user',
      iss: 'roomguard-cli',
      emailVerified: email !== undefined && !args.flag('unverified-email'),
      groups: (reading?.groups ?? []).map((g) => g.group),
      ...(email !== undefined ? { email: email.toLowerCase() } : {}),
    };
  }
  const guest = args.string('guest');
  if (guest !== undefined) {
    // A guest admitted by an invitation to ROOM (for an hour from now), instead of a person with an account.
    if (subject.identity) throw new UsageError('--guest stands for a person without an account: leave out --email, --sub and --groups');
    const invitedTo = canonicalRoom(guest);
    if (!invitedTo) throw new UsageError(`--guest: "${guest}" is not a valid room name`);
    subject.identity = { sub: 'guest:cli', iss: 'roomguard-cli/guest', emailVerified: false, groups: [], guest: { room: invitedTo, invitation: 'cli', expiresAt: now + 3_600_000 } };
  }
  const mfa = args.string('mfa');
  const mfaAge = args.string('mfa-age');
  if (mfa !== undefined) {
    const age = parseDuration(mfaAge ?? '0s');
    if (age === undefined) throw new UsageError(`--mfa-age: "${mfaAge}" is not a duration (e.g. 10m)`);
    // The table accepts only MFA_METHODS for --mfa.
    subject.mfa = { method: mfa as MfaMethod, at: now - age };
  } else if (mfaAge !== undefined) throw new UsageError('--mfa-age needs --mfa METHOD');
  return subject;
}

/** Room names the configured backend keeps for itself (Jitsi's /libs, /http-bind …), for policy lint. */
async function reservedRoomsOf(configFile: string | undefined): Promise<readonly string[]> {
  if (!configFile) return [];
  const { config } = loadConfigFile(configFile);
  if (!config) return [];
  const { backendFor } = await import('../backends/from-config.js');
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
