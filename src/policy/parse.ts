// Parses one policy file into a typed Policy, collecting every problem as file:line: field: message.
import { createHash } from 'node:crypto';
import { isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { parseDuration } from '../config/duration.js';
import { parseYamlSource, type Problem, type YamlSource } from '../config/yaml-source.js';
import { canonicalPattern, patternMatches, isGlob } from './rooms.js';
import { JITSI_FEATURES } from '../backends/jitsi.js';
import { checkRecurrence, isTimeZone, parseInterval, type Schedule } from './schedule.js';
import { MFA_METHODS, type GuestPolicy, type Matcher, type MfaMethod, type MfaRequirement, type Policy, type Risk } from './types.js';

/** Names the gateway routes itself; no room pattern may name them. */
export const RESERVED_ROOM_NAMES = ['_roomguard', 'healthz', 'readyz'] as const;

const TOP_KEYS = ['rooms', 'risk', 'allow', 'deny', 'moderators', 'mfa', 'notice', 'title', 'features', 'guests', 'schedule', 'lock'] as const;
const SCHEDULE_KEYS = ['timeZone', 'windows', 'rrule', 'duration', 'opensBefore', 'closeGrace'] as const;
const GUEST_KEYS = ['invites', 'ttl', 'maxUses', 'lobby', 'requireName'] as const;
const MATCHER_KEYS = ['groups', 'emails', 'domains', 'anyone'] as const;
const MFA_KEYS = ['required', 'methods', 'maxAge', 'userVerification', 'phishingResistant', 'authenticators'] as const;
const AUTHENTICATOR_KEYS = ['aaguids', 'allowSynced'] as const;
const AAGUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HIGH_RISK_IDLE_MS = 15 * 60_000;
const DEFAULT_MFA_MAX_AGE = '12h';

export function parsePolicyText(file: string, text: string, extraReserved: readonly string[] = []): { policy?: Policy; problems: Problem[] } {
  const parsed = parseYamlSource(file, text);
  if (!parsed.source) return { problems: parsed.problems };
  const src = parsed.source;
  const problems: Problem[] = [];
  const add = (node: Node | null | undefined, field: string, message: string) => problems.push({ file, line: src.lineOf(node), field, message });
  const root = src.doc.contents as Node | null;
  if (!isMap(root)) {
    add(root, '', 'a policy file must be a mapping with at least `rooms` and `allow`');
    return { problems };
  }
  const fields = pairsOf(src, root, TOP_KEYS, '', problems);

  const { rooms, roomLines } = roomPatterns(src, root, fields.get('rooms')?.value as Node | undefined, extraReserved, problems);

  // risk
  let risk: Risk = 'normal';
  const riskNode = fields.get('risk')?.value as Node | undefined;
  if (riskNode) {
    const value = isScalar(riskNode) ? riskNode.value : undefined;
    if (value === 'low' || value === 'normal' || value === 'high') risk = value;
    else add(riskNode, 'risk', 'must be low, normal or high');
  }

  const allowNode = fields.get('allow')?.value as Node | undefined;
  if (!allowNode) add(root, 'allow', 'required: who may enter (e.g. `- groups: [staff]` or `- anyone: true`)');
  const allow = allowNode ? matchers(src, allowNode, 'allow', problems) : [];
  if (allowNode && allow.length === 0 && !problems.some((p) => p.field.startsWith('allow'))) add(allowNode, 'allow', 'must have at least one entry');
  const denyNode = fields.get('deny')?.value as Node | undefined;
  const deny = denyNode ? matchers(src, denyNode, 'deny', problems) : [];
  const modNode = fields.get('moderators')?.value as Node | undefined;
  const moderators = modNode ? matchers(src, modNode, 'moderators', problems) : [];

  const mfa = mfaRequirement(src, fields.get('mfa')?.value as Node | undefined, risk, problems);

  const notice = noticeText(src, fields.get('notice')?.value as Node | undefined, problems);
  const title = titleText(src, fields.get('title')?.value as Node | undefined, problems);

  let features: string[] = [];
  const featuresNode = fields.get('features')?.value as Node | undefined;
  if (featuresNode) {
    features = stringList(src, featuresNode, 'features', problems, (v) => (JITSI_FEATURES.includes(v) ? undefined : `"${v}" is not a feature; use ${JITSI_FEATURES.join(', ')}`));
  }

  const guestsNode = fields.get('guests')?.value as Node | undefined;
  const guestsKey = fields.get('guests')?.key as Node | undefined;
  const guests = guestsKey ? guestPolicy(src, guestsNode ?? guestsKey, src.lineOf(guestsKey), mfa, problems) : undefined;

  const scheduleKey = fields.get('schedule')?.key as Node | undefined;
  const schedule = scheduleKey ? roomSchedule(src, (fields.get('schedule')?.value as Node | null) ?? scheduleKey, problems) : undefined;

  const lock = roomLock(src, fields.get('lock'), problems);

  if (problems.length > 0) return { problems };
  const policy: Policy = {
    file,
    sha256: createHash('sha256').update(text).digest('hex'),
    rooms,
    roomLines,
    risk,
    allow,
    deny,
    moderators,
    mfa,
    ...(risk === 'high' ? { sessionIdleTimeout: HIGH_RISK_IDLE_MS } : {}),
    ...(notice ? { notice } : {}),
    ...(title ? { title } : {}),
    features: [...new Set(features)],
    ...(guests ? { guests } : {}),
    ...(schedule ? { schedule } : {}),
    ...(lock ? { lock } : {}),
  };
  return { policy, problems };
}

/** `rooms`: canonical room patterns and their lines; none may name what the gateway reserves. */
function roomPatterns(src: YamlSource, root: YAMLMap, roomsNode: Node | undefined, extraReserved: readonly string[], problems: Problem[]): { rooms: string[]; roomLines: number[] } {
  const add = (node: Node | null | undefined, field: string, message: string) => problems.push({ file: src.file, line: src.lineOf(node), field, message });
  const rooms: string[] = [];
  const roomLines: number[] = [];
  if (!roomsNode) {
    add(root, 'rooms', 'required: the room names or globs this policy judges');
    return { rooms, roomLines };
  }
  for (const [i, item] of listItems(roomsNode).entries()) {
    const field = `rooms[${i}]`;
    if (!isScalar(item) || typeof item.value !== 'string' || item.value.trim() === '') {
      add(item ?? roomsNode, field, 'must be a room name or glob (text)');
      continue;
    }
    const raw = item.value.trim();
    if (/[\\\u0000-\u001f]/.test(raw) || raw.split('/').length > 2 || raw.startsWith('/') || raw.endsWith('/')) {
      add(item, field, `"${raw}" may not contain backslashes, control characters or more than one "/" (tenant/room)`);
      continue;
    }
    const pattern = canonicalPattern(raw);
    for (const reserved of [...RESERVED_ROOM_NAMES, ...extraReserved]) {
      if (pattern !== '*' && patternMatches(pattern, reserved)) add(item, field, `"${raw}" would match "${reserved}", which the gateway reserves for itself`);
    }
    if (rooms.includes(pattern)) add(item, field, `"${raw}" is listed twice`);
    rooms.push(pattern);
    roomLines.push(src.lineOf(item));
  }
  if (rooms.length === 0 && !problems.some((p) => p.field.startsWith('rooms'))) add(roomsNode, 'rooms', 'must list at least one room name or glob');
  return { rooms, roomLines };
}

/** `notice`: the room notice by language. */
function noticeText(src: YamlSource, noticeNode: Node | undefined, problems: Problem[]): Policy['notice'] {
  if (!noticeNode) return undefined;
  if (!isMap(noticeNode)) {
    problems.push({ file: src.file, line: src.lineOf(noticeNode), field: 'notice', message: 'must be a mapping of language to text, e.g. { de: "…", en: "…" }' });
    return undefined;
  }
  const notice: NonNullable<Policy['notice']> = {};
  for (const [lang, pair] of pairsOf(src, noticeNode, ['de', 'en'] as const, 'notice', problems)) {
    const v = pair.value as Node | null;
    if (!isScalar(v) || typeof v.value !== 'string' || v.value.trim() === '') problems.push({ file: src.file, line: src.lineOf(v ?? pair.key as Node), field: `notice.${lang}`, message: 'must be text' });
    else notice[lang] = v.value;
  }
  return notice;
}

/** `title`: the room's title on its pages. */
function titleText(src: YamlSource, titleNode: Node | undefined, problems: Problem[]): string | undefined {
  if (!titleNode) return undefined;
  if (isScalar(titleNode) && typeof titleNode.value === 'string' && titleNode.value.length <= 200) return titleNode.value;
  problems.push({ file: src.file, line: src.lineOf(titleNode), field: 'title', message: 'must be text of at most 200 characters' });
  return undefined;
}

function pairsOf<K extends string>(src: YamlSource, map: YAMLMap, known: readonly K[], prefix: string, problems: Problem[]): Map<K, Pair> {
  const out = new Map<K, Pair>();
  for (const pair of map.items as Pair[]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const field = prefix ? `${prefix}.${key}` : key;
    if (!(known as readonly string[]).includes(key)) {
      problems.push({ file: src.file, line: src.lineOf(pair.key as Node), field, message: `unknown field; known fields: ${known.join(', ')}` });
      continue;
    }
    out.set(key as K, pair);
  }
  return out;
}

function listItems(node: Node): Array<Node | null> {
  if (isSeq(node)) return (node as YAMLSeq).items as Array<Node | null>;
  return [node];
}

function stringList(src: YamlSource, node: Node, field: string, problems: Problem[], check?: (v: string) => string | undefined): string[] {
  const out: string[] = [];
  const items = listItems(node);
  if (items.length === 0) problems.push({ file: src.file, line: src.lineOf(node), field, message: 'must not be empty' });
  for (const [i, item] of items.entries()) {
    if (!isScalar(item) || typeof item.value !== 'string' || item.value.trim() === '') {
      problems.push({ file: src.file, line: src.lineOf(item ?? node), field: `${field}[${i}]`, message: 'must be text' });
      continue;
    }
    const message = check?.(item.value.trim());
    if (message) problems.push({ file: src.file, line: src.lineOf(item), field: `${field}[${i}]`, message });
    else out.push(item.value.trim());
  }
  return out;
}

function matchers(src: YamlSource, node: Node, field: string, problems: Problem[]): Matcher[] {
  if (!isSeq(node)) {
    problems.push({ file: src.file, line: src.lineOf(node), field, message: 'must be a list of entries such as `- groups: [staff]`' });
    return [];
  }
  const out: Matcher[] = [];
  for (const [i, item] of (node.items as Array<Node | null>).entries()) {
    const at = `${field}[${i}]`;
    if (!isMap(item)) {
      problems.push({ file: src.file, line: src.lineOf(item ?? node), field: at, message: 'must be a mapping with groups, emails, domains or anyone' });
      continue;
    }
    const pairs = pairsOf(src, item, MATCHER_KEYS, at, problems);
    if (pairs.size === 0) {
      problems.push({ file: src.file, line: src.lineOf(item), field: at, message: 'needs at least one of groups, emails, domains, anyone' });
      continue;
    }
    const matcher: Matcher = { line: src.lineOf(item) };
    for (const [key, pair] of pairs) {
      const value = pair.value as Node | null;
      const f = `${at}.${key}`;
      if (value === null) {
        problems.push({ file: src.file, line: src.lineOf(pair.key as Node), field: f, message: 'has no value' });
        continue;
      }
      if (key === 'anyone') {
        if (!isScalar(value) || value.value !== true) problems.push({ file: src.file, line: src.lineOf(value), field: f, message: 'must be true (leave the entry out instead of writing false)' });
        else matcher.anyone = true;
      } else if (key === 'groups') {
        matcher.groups = stringList(src, value, f, problems);
      } else if (key === 'emails') {
        matcher.emails = stringList(src, value, f, problems, (v) => (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v) ? undefined : `"${v}" is not an e-mail address`)).map((e) => e.toLowerCase());
      } else if (key === 'domains') {
        matcher.domains = stringList(src, value, f, problems, (v) => (/^(?!-)[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(v) ? undefined : `"${v}" is not a domain name (write example.org, without @)`)).map((d) => d.toLowerCase());
      }
    }
    if (matcher.anyone && pairs.size > 1) {
      problems.push({ file: src.file, line: src.lineOf(item), field: at, message: '`anyone: true` cannot be combined with other fields in the same entry (it would make them pointless)' });
    }
    out.push(matcher);
  }
  return out;
}

function mfaRequirement(src: YamlSource, node: Node | undefined, risk: Risk, problems: Problem[]): MfaRequirement {
  const result: MfaRequirement = {
    required: risk === 'high',
    methods: ['webauthn', 'totp'],
    maxAge: parseDuration(DEFAULT_MFA_MAX_AGE)!,
    userVerification: 'preferred',
    phishingResistant: false,
  };
  if (!node) return result;
  if (!isMap(node)) {
    problems.push({ file: src.file, line: src.lineOf(node), field: 'mfa', message: 'must be a mapping, e.g. { required: true, methods: [webauthn, totp], maxAge: 15m }' });
    return result;
  }
  const pairs = pairsOf(src, node, MFA_KEYS, 'mfa', problems);
  for (const [key, pair] of pairs) {
    const value = pair.value as Node | null;
    const f = `mfa.${key}`;
    const line = src.lineOf(value ?? (pair.key as Node));
    if (key === 'required') {
      if (!isScalar(value) || typeof value.value !== 'boolean') problems.push({ file: src.file, line, field: f, message: 'must be true or false' });
      else result.required = value.value;
    } else if (key === 'methods') {
      if (!value) problems.push({ file: src.file, line, field: f, message: 'has no value' });
      else {
        const methods = stringList(src, value, f, problems, (v) => ((MFA_METHODS as readonly string[]).includes(v) ? undefined : `"${v}" is not a method; use ${MFA_METHODS.join(', ')}`));
        if (methods.length > 0) result.methods = [...new Set(methods)] as MfaMethod[];
      }
    } else if (key === 'maxAge') {
      const ms = isScalar(value) && typeof value.value === 'string' ? parseDuration(value.value) : undefined;
      if (ms === undefined || ms < 60_000 || ms > 24 * 3_600_000) problems.push({ file: src.file, line, field: f, message: 'must be a duration between 1m and 24h (e.g. 15m, 12h)' });
      else result.maxAge = ms;
    } else if (key === 'userVerification') {
      if (!isScalar(value) || (value.value !== 'required' && value.value !== 'preferred')) problems.push({ file: src.file, line, field: f, message: 'must be required or preferred' });
      else result.userVerification = value.value;
    } else if (key === 'phishingResistant') {
      if (!isScalar(value) || typeof value.value !== 'boolean') problems.push({ file: src.file, line, field: f, message: 'must be true or false' });
      else result.phishingResistant = value.value;
    } else if (key === 'authenticators') {
      const authenticators = authenticatorRule(src, value ?? (pair.key as Node), problems);
      if (authenticators) result.authenticators = authenticators;
    }
  }
  phishingResistance(src, node, pairs, result, problems);
  if (risk === 'high' && !result.required) {
    problems.push({ file: src.file, line: src.lineOf(pairs.get('required')?.value as Node ?? node), field: 'mfa.required', message: 'risk: high rooms always require a second factor; lower the risk instead' });
  }
  return result;
}

/** Records a problem of the field being read at a node of it (or, without one, at `whole`, the field's own node). */
function problemAt(src: YamlSource, whole: Node, problems: Problem[]) {
  return (at: Node | null | undefined, field: string, message: string) => problems.push({ file: src.file, line: src.lineOf(at ?? whole), field, message });
}

/** `mfa.authenticators`: an AAGUID allow-list and whether synced passkeys count. */
function authenticatorRule(src: YamlSource, node: Node, problems: Problem[]): MfaRequirement['authenticators'] {
  const add = problemAt(src, node, problems);
  if (!isMap(node)) {
    add(node, 'mfa.authenticators', 'must be a mapping, e.g. { aaguids: [ee882879-721c-4913-9775-3dfcce97072a], allowSynced: false }');
    return undefined;
  }
  const before = problems.length;
  const pairs = pairsOf(src, node, AUTHENTICATOR_KEYS, 'mfa.authenticators', problems);
  const rule: NonNullable<MfaRequirement['authenticators']> = { allowSynced: true };
  const synced = pairs.get('allowSynced')?.value as Node | null | undefined;
  if (pairs.has('allowSynced')) {
    if (!isScalar(synced) || typeof synced.value !== 'boolean') add(synced, 'mfa.authenticators.allowSynced', 'must be true or false');
    else rule.allowSynced = synced.value;
  }
  const list = pairs.get('aaguids')?.value as Node | null | undefined;
  if (pairs.has('aaguids')) {
    if (!list) add(node, 'mfa.authenticators.aaguids', 'has no value');
    else rule.aaguids = [...new Set(stringList(src, list, 'mfa.authenticators.aaguids', problems, (v) => (AAGUID.test(v.toLowerCase()) ? undefined : `"${v}" is not an AAGUID (8-4-4-4-12 hexadecimal digits, as in the FIDO metadata)`)).map((v) => v.toLowerCase()))];
  }
  if (pairs.size === 0) add(node, 'mfa.authenticators', 'needs aaguids, allowSynced or both');
  return problems.length === before ? rule : undefined;
}

/** A phishing-resistant room counts only passkeys and security keys that verify the person; authenticator rules need one. */
function phishingResistance(src: YamlSource, node: YAMLMap, pairs: Map<(typeof MFA_KEYS)[number], Pair>, result: MfaRequirement, problems: Problem[]): void {
  const at = (key: (typeof MFA_KEYS)[number]) => src.lineOf((pairs.get(key)?.value as Node | undefined) ?? node);
  if (result.authenticators && !result.phishingResistant) problems.push({ file: src.file, line: at('authenticators'), field: 'mfa.authenticators', message: 'needs mfa.phishingResistant: true (only passkeys and security keys have an authenticator to judge)' });
  if (!result.phishingResistant) return;
  if (pairs.has('methods') && result.methods.some((m) => m !== 'webauthn')) problems.push({ file: src.file, line: at('methods'), field: 'mfa.methods', message: 'a phishing-resistant room accepts only webauthn (leave methods out, or write [webauthn])' });
  if (pairs.has('userVerification') && result.userVerification !== 'required') problems.push({ file: src.file, line: at('userVerification'), field: 'mfa.userVerification', message: 'a phishing-resistant room requires user verification (leave it out, or write required)' });
  if (pairs.has('required') && !result.required) problems.push({ file: src.file, line: at('required'), field: 'mfa.required', message: 'a phishing-resistant room requires its second factor' });
  result.required = true;
  result.methods = ['webauthn'];
  result.userVerification = 'required';
}

const GUEST_TTL_LIMITS = { min: 5 * 60_000, max: 90 * 86_400_000 };
const GUEST_MAX_USES_LIMIT = 1000;

/** The `guests:` field: invitations for people without an account (docs/guests.md). */
function guestPolicy(src: YamlSource, node: Node, line: number, mfa: MfaRequirement, problems: Problem[]): GuestPolicy | undefined {
  const add = problemAt(src, node, problems);
  if (!isMap(node)) {
    add(node, 'guests', 'must be a mapping, e.g. { invites: true, ttl: 7d, maxUses: 30, lobby: true, requireName: true }');
    return undefined;
  }
  const result: GuestPolicy = { invites: false, ttl: 7 * 86_400_000, maxUses: 30, lobby: true, requireName: true, line };
  const pairs = pairsOf(src, node, GUEST_KEYS, 'guests', problems);
  if (!pairs.has('invites')) add(node, 'guests.invites', 'required: true lets moderators invite guests, false keeps the settings but admits none');
  for (const [key, pair] of pairs) {
    const value = pair.value as Node | null;
    const f = `guests.${key}`;
    const at = value ?? (pair.key as Node);
    if (key === 'invites' || key === 'lobby' || key === 'requireName') {
      if (!isScalar(value) || typeof value.value !== 'boolean') add(at, f, 'must be true or false');
      else result[key] = value.value;
    } else if (key === 'ttl') {
      const ms = isScalar(value) && typeof value.value === 'string' ? parseDuration(value.value) : undefined;
      if (ms === undefined || ms < GUEST_TTL_LIMITS.min || ms > GUEST_TTL_LIMITS.max) add(at, f, 'must be a duration between 5m and 90d (e.g. 2d, 7d)');
      else result.ttl = ms;
    } else if (key === 'maxUses') {
      const n = isScalar(value) ? value.value : undefined;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > GUEST_MAX_USES_LIMIT) add(at, f, `must be a whole number from 1 to ${GUEST_MAX_USES_LIMIT}`);
      else result.maxUses = n;
    }
  }
  // A guest has no account and so no second factor: a room that demands one cannot also admit guests.
  if (result.invites && mfa.required) add(pairs.get('invites')?.value as Node, 'guests.invites', 'this room requires a second factor, which guests cannot have; lower the risk and mfa.required, or leave guests out');
  return result;
}

/** The `lock:` field: what a lock set at run time (`roomguard rooms lock`, the moderator's page) still lets in. */
function roomLock(src: YamlSource, pair: Pair | undefined, problems: Problem[]): Policy['lock'] {
  if (!pair) return undefined;
  const node = (pair.value as Node | null) ?? (pair.key as Node);
  if (!isMap(node)) {
    problems.push({ file: src.file, line: src.lineOf(node), field: 'lock', message: 'must be a mapping, e.g. { moderatorsMayEnter: true }' });
    return undefined;
  }
  const pairs = pairsOf(src, node, ['moderatorsMayEnter'] as const, 'lock', problems);
  const value = pairs.get('moderatorsMayEnter')?.value as Node | null | undefined;
  if (!isScalar(value) || typeof value.value !== 'boolean') {
    problems.push({ file: src.file, line: src.lineOf(value ?? node), field: 'lock.moderatorsMayEnter', message: 'must be true or false' });
    return undefined;
  }
  return { moderatorsMayEnter: value.value };
}

const SCHEDULE_MARGIN_LIMIT = 24 * 3_600_000;

/** The `schedule:` field: when a time-boxed room is open (docs/policies.md). */
function roomSchedule(src: YamlSource, node: Node, problems: Problem[]): Schedule | undefined {
  const add = problemAt(src, node, problems);
  if (!isMap(node)) {
    add(node, 'schedule', 'must be a mapping, e.g. { timeZone: Europe/Berlin, windows: ["2026-12-10T09:00/11:00"] }');
    return undefined;
  }
  const before = problems.length;
  const pairs = pairsOf(src, node, SCHEDULE_KEYS, 'schedule', problems);
  const text = (key: (typeof SCHEDULE_KEYS)[number]): { value?: string; at: Node } => {
    const pair = pairs.get(key);
    const value = pair?.value as Node | null | undefined;
    const at = value ?? (pair?.key as Node | undefined) ?? node;
    if (!pair) return { at };
    if (!isScalar(value) || typeof value.value !== 'string' || value.value.trim() === '') {
      add(at, `schedule.${key}`, 'must be text');
      return { at };
    }
    return { value: value.value.trim(), at };
  };
  const zone = text('timeZone');
  if (!pairs.has('timeZone')) add(node, 'schedule.timeZone', 'required: the IANA time zone the windows are written in, e.g. Europe/Berlin');
  else if (zone.value !== undefined && !isTimeZone(zone.value)) add(zone.at, 'schedule.timeZone', `"${zone.value}" is not a time zone (IANA name such as Europe/Berlin or UTC)`);
  const timeZone = zone.value !== undefined && isTimeZone(zone.value) ? zone.value : 'UTC';
  const margin = (key: 'opensBefore' | 'closeGrace'): number => {
    const { value, at } = text(key);
    if (value === undefined) return 0;
    const ms = parseDuration(value);
    if (ms === undefined || ms > SCHEDULE_MARGIN_LIMIT) add(at, `schedule.${key}`, 'must be a duration of at most 24h (e.g. 15m, 0s)');
    return ms ?? 0;
  };
  const schedule: Schedule = { timeZone, windows: [], opensBefore: margin('opensBefore'), closeGrace: margin('closeGrace'), line: src.lineOf(node) };
  const windowsNode = pairs.get('windows')?.value as Node | null | undefined;
  if (pairs.has('windows')) {
    if (!windowsNode || !isSeq(windowsNode)) add(windowsNode, 'schedule.windows', 'must be a list of intervals, e.g. ["2026-12-10T09:00/11:00"]');
    else for (const [i, item] of (windowsNode.items as Array<Node | null>).entries()) {
      const interval = isScalar(item) && typeof item.value === 'string' ? parseInterval(item.value.trim(), timeZone) : 'must be an interval START/END as text, e.g. "2026-12-10T09:00/11:00"';
      if (typeof interval === 'string') add(item ?? windowsNode, `schedule.windows[${i}]`, interval);
      else schedule.windows.push({ ...interval, line: src.lineOf(item) });
    }
  }
  const rule = text('rrule');
  const duration = text('duration');
  if (rule.value !== undefined) {
    const wrong = checkRecurrence(rule.value);
    if (wrong) add(rule.at, 'schedule.rrule', wrong);
    const ms = duration.value !== undefined ? parseDuration(duration.value) : undefined;
    if (!pairs.has('duration')) add(node, 'schedule.duration', 'required with rrule: how long each meeting lasts, e.g. 2h');
    else if (ms === undefined || ms < 60_000 || ms > 7 * 86_400_000) add(duration.at, 'schedule.duration', 'must be a duration between 1m and 7d (e.g. 90m, 2h)');
    if (!wrong && ms !== undefined) schedule.recurrence = { rule: rule.value, duration: ms, line: src.lineOf(rule.at) };
  } else if (pairs.has('duration')) add(duration.at, 'schedule.duration', 'only has a meaning with rrule (a window carries its own end)');
  if (!pairs.has('windows') && !pairs.has('rrule')) add(node, 'schedule', 'needs windows, rrule or both: a room with a schedule but no times would never open');
  return problems.length === before ? schedule : undefined;
}

export { isGlob };
