// Turns roomguard.yaml plus ROOMGUARD_* environment variables into a typed Config, or into the list
// of *every* problem found (file:line: field: message). Environment values override the file.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { parseDuration, formatDuration } from './duration.js';
import { CONFIG_SCHEMA, DEPRECATED_KEYS, NON_CONFIG_VARIABLES, envNameFor, schemaLeaves, type Config, type DeprecatedKey, type Field, type ObjectField } from './schema.js';
import { closestNames, didYouMean } from './suggest.js';
import { resolveSecret, Secret } from './secret.js';
import { parseYamlSource, type Problem, type YamlSource } from './yaml-source.js';
import { isLoopbackHost, parseCidr, parseHostPort } from './net.js';
import { JITSI_FEATURES } from '../backends/jitsi.js';

interface Location { file: string; line?: number }

export interface ConfigResult {
  config?: Config;
  problems: Problem[];
  /** What is accepted but should change: a secret written into the file, a deprecated key. */
  warnings: Problem[];
}

export interface LoadOptions {
  /** Renamed keys (default: the schema's DEPRECATED_KEYS; tests pass their own). */
  deprecated?: readonly DeprecatedKey[];
}

export function loadConfigText(file: string, text: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): ConfigResult {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const deprecated = options.deprecated ?? DEPRECATED_KEYS;
  let source: YamlSource | undefined;
  if (text.trim() !== '') {
    const parsed = parseYamlSource(file, text);
    problems.push(...parsed.problems);
    source = parsed.source;
    if (!source) return { problems, warnings };
  }
  const root = source?.doc.contents ?? null;
  if (root !== null && !isMap(root)) {
    problems.push({ file, line: source!.lineOf(root as Node), field: '', message: 'the config must be a mapping of keys to values' });
    return { problems, warnings };
  }
  const ctx: Ctx = { file, source, env: renamedEnvironment(env, deprecated, problems, warnings), problems, warnings, referencedEnv: new Set() };
  if (source) moveRenamedKeys(ctx, source, deprecated);
  const value = readObject(ctx, CONFIG_SCHEMA, source?.doc.contents as YAMLMap | null ?? null, [], { file, line: 1 });
  crossChecks(ctx, value as Partial2<Config>);
  problems.push(...unknownVariables(env, ctx.referencedEnv, deprecated));
  if (problems.length > 0) return { problems, warnings };
  return { config: Object.assign(value as object, { sourceFile: file }) as Config, problems: [], warnings };
}

interface Ctx {
  file: string;
  source: YamlSource | undefined;
  env: NodeJS.ProcessEnv;
  problems: Problem[];
  warnings: Problem[];
  /** Variables the config names in `env:NAME` secret references: known, whatever their name. */
  referencedEnv: Set<string>;
}

const deprecationNote = (d: DeprecatedKey) => `deprecated since ${d.since} and no longer read from ${d.removal}`;

/**
 * A deprecated key in the file is read as its new key (its node moves, keeping its line) with a warning
 * naming the new key; both at once is a problem, as the admin cannot have meant both.
 */
function moveRenamedKeys(ctx: Ctx, source: YamlSource, deprecated: readonly DeprecatedKey[]): void {
  for (const d of deprecated) {
    const from = d.from.split('.');
    const to = d.to.split('.');
    const parent = from.length > 1 ? source.doc.getIn(from.slice(0, -1), true) : source.doc.contents;
    if (!isMap(parent)) continue;
    const pair = (parent.items as Pair[]).find((p) => pairKey(p) === from.at(-1));
    if (!pair) continue;
    const line = source.lineOf(pair.key as Node);
    if (source.doc.hasIn(to)) {
      ctx.problems.push({ file: ctx.file, line, field: d.from, message: `is the old name of ${d.to}, which is set too; keep only ${d.to}` });
    } else {
      ctx.warnings.push({ file: ctx.file, line, field: d.from, message: `${deprecationNote(d)}: rename it to ${d.to}` });
      source.doc.setIn(to, pair.value);
    }
    source.doc.deleteIn(from);
  }
}

/** The environment with deprecated variables read under their new names (warned about, or a problem when both are set). */
function renamedEnvironment(env: NodeJS.ProcessEnv, deprecated: readonly DeprecatedKey[], problems: Problem[], warnings: Problem[]): NodeJS.ProcessEnv {
  let out = env;
  for (const d of deprecated) {
    const oldName = envNameFor(d.from.split('.'));
    const newName = envNameFor(d.to.split('.'));
    if (env[oldName] === undefined) continue;
    if (env[newName] !== undefined) {
      problems.push({ file: `$${oldName}`, field: d.from, message: `is the old name of $${newName}, which is set too; keep only ${newName}` });
      continue;
    }
    warnings.push({ file: `$${oldName}`, field: d.from, message: `${deprecationNote(d)}: rename the variable to ${newName}` });
    out = { ...out, [newName]: env[oldName] };
  }
  return out;
}

const VARIABLE_PREFIX = 'ROOMGUARD_';

/**
 * Every ROOMGUARD_* variable (in any letter case) must set a key, be named by an `env:` reference of
 * this config, or be one of roomguard's own non-config variables: a misspelt one would otherwise be
 * ignored while the admin believes it in force.
 */
function unknownVariables(env: NodeJS.ProcessEnv, referenced: ReadonlySet<string>, deprecated: readonly DeprecatedKey[]): Problem[] {
  const keys = new Map(schemaLeaves().map(({ path }) => [envNameFor(path), path.join('.')]));
  const known = new Set([...keys.keys(), ...Object.keys(NON_CONFIG_VARIABLES), ...referenced, ...deprecated.map((d) => envNameFor(d.from.split('.')))]);
  const problems: Problem[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.toUpperCase().startsWith(VARIABLE_PREFIX) || known.has(name) || env[name] === undefined) continue;
    problems.push({ file: `$${name}`, field: '(environment)', message: unknownVariableMessage(name, keys) });
  }
  return problems;
}

function unknownVariableMessage(name: string, keys: ReadonlyMap<string, string>): string {
  const upper = name.toUpperCase();
  if (keys.has(upper)) return `unknown variable: variable names are upper case; did you mean ${upper} (${keys.get(upper)})?`;
  const section = [...keys.keys()].filter((k) => k.startsWith(`${upper}_`));
  if (section.length > 0) return `is a section, not a key; set its keys, e.g. ${section.slice(0, 3).join(', ')}`;
  const suffixes = new Map([...keys.keys(), ...Object.keys(NON_CONFIG_VARIABLES)].map((k) => [k.slice(VARIABLE_PREFIX.length), k]));
  const close = closestNames(upper.slice(VARIABLE_PREFIX.length), suffixes.keys()).map((s) => suffixes.get(s)!);
  if (close.length > 0) return `unknown variable (did you mean ${close.slice(0, 3).map((k) => (keys.has(k) ? `${k}, which sets ${keys.get(k)}` : k)).join(' or ')}?)`;
  return 'unknown variable: it sets no configuration key (docs/configuration.md lists every key with its variable), and no env: reference of this config names it';
}

function pairKey(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

function readObject(ctx: Ctx, schema: ObjectField, node: YAMLMap | null, path: string[], at: Location): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const pairs = new Map<string, Pair>();
  if (node) {
    for (const pair of node.items as Pair[]) {
      const key = pairKey(pair);
      if (!(key in schema.fields)) {
        ctx.problems.push({ file: ctx.file, line: ctx.source!.lineOf(pair.key as Node), field: [...path, key].join('.'), message: unknownKeyMessage(schema, key, path) });
        continue;
      }
      pairs.set(key, pair);
    }
  }
  for (const [key, field] of Object.entries(schema.fields)) {
    const childPath = [...path, key];
    const pair = pairs.get(key);
    const valueNode = (pair?.value ?? null) as Node | null;
    const here: Location = pair ? { file: ctx.file, line: ctx.source!.lineOf((pair.value ?? pair.key) as Node) } : at;
    if (field.kind === 'object') {
      if (valueNode !== null && !isMap(valueNode)) {
        ctx.problems.push({ file: ctx.file, line: here.line, field: childPath.join('.'), message: 'must be a mapping' });
        continue;
      }
      out[key] = readObject(ctx, field, valueNode as YAMLMap | null, childPath, here);
      continue;
    }
    const envName = envNameFor(childPath);
    const envValue = ctx.env[envName];
    if (envValue !== undefined) {
      out[key] = readLeaf(ctx, field, envValue, childPath, { file: `$${envName}` }, true);
      continue;
    }
    let raw: unknown = undefined;
    if (valueNode !== null) {
      if (isSeq(valueNode)) raw = valueNode.items.map((item) => (isScalar(item) ? item.value : item));
      else if (isScalar(valueNode)) raw = valueNode.value;
      else raw = valueNode;
    }
    out[key] = readLeaf(ctx, field, raw, childPath, here, false);
  }
  return out;
}

/**
 * `unknown key (did you mean "idleTimeout"?)`: a key of the same section one typo away; else a key of
 * that name elsewhere (`idleTimeout` at the top is `session.idleTimeout`); else the section's keys.
 */
function unknownKeyMessage(schema: ObjectField, key: string, path: string[]): string {
  const siblings = Object.keys(schema.fields);
  const hint = didYouMean(key, siblings);
  if (hint) return `unknown key${hint}`;
  const elsewhere = allPaths().filter((p) => p.length > path.length + 1 && closestNames(key, [p.at(-1)!]).length > 0).map((p) => p.join('.'));
  if (elsewhere.length > 0) return `unknown key here (did you mean ${elsewhere.slice(0, 3).map((p) => `"${p}"`).join(' or ')}?)`;
  return `unknown key; known keys${path.length ? ` of ${path.join('.')}` : ''}: ${siblings.join(', ')}`;
}

/** Every key path of the schema, sections included. */
function allPaths(field: ObjectField = CONFIG_SCHEMA, prefix: string[] = []): string[][] {
  return Object.entries(field.fields).flatMap(([key, child]) => [[...prefix, key], ...(child.kind === 'object' ? allPaths(child, [...prefix, key]) : [])]);
}

/** `8090`, `"localhost"`: what was written instead of host:port, and the form that works. */
function addressProblem(raw: unknown, field: Exclude<Field, ObjectField>): string {
  const fallbackPort = /:(\d+)$/.exec(('default' in field && typeof field.default === 'string' ? field.default : undefined) ?? field.example ?? '')?.[1] ?? '8080';
  const port = typeof raw === 'number' || (typeof raw === 'string' && /^\d{1,5}$/.test(raw)) ? String(raw) : fallbackPort;
  const forms = `write host:port, e.g. "0.0.0.0:${port}" (every interface) or "127.0.0.1:${port}" (this machine only); IPv6 as "[::]:${port}"`;
  if (String(raw) === port) return `${port} is only a port: ${forms}`;
  return `${JSON.stringify(String(raw))} is not host:port: ${forms}`;
}

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/;

function readLeaf(ctx: Ctx, field: Exclude<Field, ObjectField>, raw: unknown, path: string[], at: Location, fromEnv: boolean): unknown {
  const fieldName = path.join('.');
  const problem = (message: string) => {
    ctx.problems.push({ file: at.file, line: at.line, field: fieldName, message });
    return undefined;
  };
  if (raw === undefined || raw === null) {
    if ('required' in field && field.required) return problem(`required (set it in the file or as $${envNameFor(path)})`);
    if ('default' in field && field.default !== undefined) return readLeaf(ctx, field, field.default, path, at, false);
    return undefined;
  }
  switch (field.kind) {
    case 'string':
      if (typeof raw !== 'string' || raw === '') return problem(typeof raw === 'number' || typeof raw === 'boolean' ? `must be text, not the ${typeof raw} ${String(raw)} (quote it: "${String(raw)}")` : 'must be a non-empty string');
      return raw;
    case 'address': {
      const match = typeof raw === 'string' ? ADDRESS.exec(raw) : null;
      if (!match || Number(match[2]) > 65535) return problem(addressProblem(raw, field));
      return raw;
    }
    case 'url': {
      if (typeof raw !== 'string') return problem('must be a URL');
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return problem(`"${raw}" is not a valid URL`);
      }
      if (!field.protocols.includes(url.protocol)) return problem(`must start with ${field.protocols.map((p) => `${p}//`).join(' or ')}`);
      if (url.username || url.password) return problem('must not contain credentials');
      return url;
    }
    case 'duration': {
      const ms = typeof raw === 'string' ? parseDuration(raw) : undefined;
      if (ms === undefined) return problem(`"${String(raw)}" is not a duration (examples: 90s, 15m, 12h, 1h30m)`);
      if (field.min && ms < parseDuration(field.min)!) return problem(`must be at least ${field.min}`);
      if (field.max && ms > parseDuration(field.max)!) return problem(`must be at most ${field.max} (got ${formatDuration(ms)})`);
      return ms;
    }
    case 'integer': {
      const n = typeof raw === 'string' && fromEnv ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isInteger(n)) return problem('must be a whole number');
      if (n < field.min || n > field.max) return problem(`must be between ${field.min} and ${field.max}`);
      return n;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (fromEnv && (raw === 'true' || raw === 'false')) return raw === 'true';
      return problem('must be true or false');
    }
    case 'enum':
      if (typeof raw !== 'string' || !field.values.includes(raw)) return problem(`must be one of: ${field.values.join(', ')}`);
      return raw;
    case 'list': {
      const items = fromEnv && typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw;
      if (!Array.isArray(items) || items.some((i) => typeof i !== 'string' || i === '')) return problem('must be a list of non-empty strings');
      return items as string[];
    }
    case 'secret': {
      if (typeof raw !== 'string' || raw === '') return problem('must be a secret reference (env:NAME, file:/path) or a value');
      if (raw.startsWith('env:')) ctx.referencedEnv.add(raw.slice(4));
      else if (!raw.startsWith('file:') && !fromEnv) {
        // Accepted (demos, tests), but a secret in the file travels wherever the file does: backups, tickets, version control.
        ctx.warnings.push({ file: at.file, line: at.line, field: fieldName, message: 'the secret is written into the config file; keep it out of the file: env:NAME reads it from the environment variable NAME, file:/path from a file only roomguard can read' });
      }
      const secret = resolveSecret(raw, ctx.env);
      if (!(secret instanceof Secret)) return problem(secret.error);
      return secret;
    }
  }
}

/** A config whose fields may be missing because they had problems of their own. */
type Partial2<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends URL | string[] | Secret ? T[K] : Partial2<T[K]>) : T[K] };

/**
 * Checks that relate fields to each other or look inside values. Runs even when other fields had
 * problems (config check reports everything at once); a check whose inputs are missing is skipped.
 */
/** mfa.metadata and mfa.metadataRoot name files on this host: the blob is never fetched. */
function metadataFiles(mfa: { metadata?: string | undefined; metadataRoot?: string | undefined } | undefined, problem: (path: string[], message: string) => void): void {
  for (const key of ['metadata', 'metadataRoot'] as const) {
    const value = mfa?.[key];
    if (value !== undefined && !/^file:\/./.test(value)) problem(['mfa', key], 'must be file:/path (a file on this host; roomguard never fetches it)');
  }
}

function crossChecks(ctx: Ctx, config: Partial2<Config>): void {
  const lineOf = (path: string[]): Location => {
    const envName = envNameFor(path);
    if (ctx.env[envName] !== undefined) return { file: `$${envName}` };
    // A missing key is reported at the nearest section that is there (store.sentinel for its name).
    for (let depth = path.length; depth > 0; depth--) {
      const node = ctx.source?.doc.getIn(path.slice(0, depth), true) as Node | undefined;
      if (node) return { file: ctx.file, line: ctx.source!.lineOf(node) };
    }
    return { file: ctx.file, line: 1 };
  };
  const problem = (path: string[], message: string) => ctx.problems.push({ ...lineOf(path), field: path.join('.'), message });
  const { publicUrl: pub, oidc, store, session, backend, secrets, audit, ui, mfa } = config;

  if (pub) {
    if (pub.pathname !== '/' || pub.search || pub.hash) problem(['publicUrl'], 'must be an origin without path, query or fragment (e.g. https://meet.example.org)');
    if (pub.protocol === 'http:' && !isLoopbackHost(pub.hostname)) problem(['publicUrl'], 'must be https:// (http:// is allowed only for loopback addresses)');
  }
  if (oidc) oidcChecks(oidc, problem);
  for (const entry of config.trustProxy ?? []) {
    if (!parseCidr(entry)) problem(['trustProxy'], `"${entry}" is not an IP address or CIDR range`);
  }
  if (store) storeChecks(ctx, store, problem);
  const proxy = config.forwardAuth?.proxy;
  if (proxy !== undefined && !['nginx', 'caddy', 'traefik'].includes(proxy)) problem(['forwardAuth', 'proxy'], `"${proxy}" is not one of nginx, caddy, traefik`);
  else if (config.forwardAuth?.enabled && proxy === undefined) problem(['forwardAuth', 'proxy'], 'required when forwardAuth.enabled is true: nginx, caddy or traefik (the headers roomguard trusts depend on it)');
  if (session?.idleTimeout !== undefined && session.absoluteTimeout !== undefined && session.idleTimeout > session.absoluteTimeout) problem(['session', 'idleTimeout'], 'must not be longer than session.absoluteTimeout');
  const http = config.http;
  if (http?.headersTimeout !== undefined && http.requestTimeout !== undefined && http.headersTimeout > http.requestTimeout) problem(['http', 'headersTimeout'], 'must not be longer than http.requestTimeout');
  if (audit?.legalRetentionDays !== undefined && audit.retentionDays !== undefined && audit.legalRetentionDays > audit.retentionDays) problem(['audit', 'legalRetentionDays'], 'must not be longer than audit.retentionDays (records are purged after that)');
  if (session?.cookieName !== undefined && !/^[A-Za-z0-9_-]+$/.test(session.cookieName)) problem(['session', 'cookieName'], 'may contain only letters, digits, _ and -');
  if (backend) backendChecks(backend, problem);
  if (secrets) secretsChecks(secrets, problem);
  if (ui?.primaryColor !== undefined && !/^#[0-9a-fA-F]{6}$/.test(ui.primaryColor)) problem(['ui', 'primaryColor'], 'must be a colour written as #rrggbb');
  if (ui?.logo !== undefined && !/\.(svg|png)$/i.test(ui.logo)) problem(['ui', 'logo'], 'must be a .svg or .png file');
  if (ui?.timeZone !== undefined && !isTimeZone(ui.timeZone)) problem(['ui', 'timeZone'], `"${ui.timeZone}" is not a time zone name (IANA, e.g. Europe/Berlin or UTC)`);
  if (mfa?.lockout !== undefined && mfa.maxLockout !== undefined && mfa.lockout > mfa.maxLockout) problem(['mfa', 'lockout'], 'must not be longer than mfa.maxLockout');
  metadataFiles(mfa, problem);
  if (audit?.syslog !== undefined && !/^(udp|tcp):\/\/[^/:]+:\d{1,5}$/.test(audit.syslog)) problem(['audit', 'syslog'], 'must be udp://host:port or tcp://host:port');
  if (audit?.instance !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(audit.instance)) problem(['audit', 'instance'], 'may contain only letters, digits, . _ - (at most 64)');
}

type ProblemAt = (path: string[], message: string) => void;

/** The backend section: a room pattern that is a sound, anchored regex; each adapter's own required fields. */
function backendChecks(backend: NonNullable<Partial2<Config>['backend']>, problem: ProblemAt): void {
  if (backend.roomPath !== undefined) {
    try {
      new RegExp(backend.roomPath, 'd');
      if (!backend.roomPath.startsWith('^')) problem(['backend', 'roomPath'], 'must be anchored with ^ so it judges the whole path');
      if (!backend.roomPath.includes('(?<room>')) problem(['backend', 'roomPath'], 'must contain a named group (?<room>…)');
    } catch (err) {
      problem(['backend', 'roomPath'], `not a valid regular expression: ${(err as Error).message}`);
    }
  }
  if (backend.type === 'bbb') {
    if (!backend.bbb?.secret) problem(['backend', 'bbb', 'secret'], 'required when backend.type is bbb');
    if (backend.bbb?.meetingIdPrefix !== undefined && !/^[A-Za-z0-9_.-]{0,32}$/.test(backend.bbb.meetingIdPrefix)) problem(['backend', 'bbb', 'meetingIdPrefix'], 'may contain only letters, digits, _ . - (at most 32)');
  }
  if (backend.type === 'jitsi') {
    const j = backend.jitsi;
    const token = j?.auth !== 'none';
    if (token && !j?.appId) problem(['backend', 'jitsi', 'appId'], 'required when backend.type is jitsi (auth: token)');
    if (token && !j?.appSecret) problem(['backend', 'jitsi', 'appSecret'], 'required when backend.type is jitsi (auth: token)');
    else if (j?.appSecret && j.appSecret.reveal().length < 32) problem(['backend', 'jitsi', 'appSecret'], 'must be at least 32 characters (it is an HS256 key)');
    for (const field of j?.userFields ?? []) if (field !== 'name' && field !== 'email') problem(['backend', 'jitsi', 'userFields'], `"${field}" is not name or email`);
    for (const feature of j?.features ?? []) if (!JITSI_FEATURES.includes(feature)) problem(['backend', 'jitsi', 'features'], `"${feature}" is not one of ${JITSI_FEATURES.join(', ')}`);
  }
  for (const entry of backend.public ?? []) {
    if (!entry.startsWith('/') || entry.startsWith('/_roomguard')) problem(['backend', 'public'], `"${entry}" must be a path starting with / (and not under /_roomguard)`);
    if (entry.indexOf('*') !== -1 && entry.indexOf('*') !== entry.length - 1) problem(['backend', 'public'], `"${entry}": * is allowed only at the end (prefix match)`);
  }
}

/** Keys: the right length, type and curve, each readable as written. */
function secretsChecks(secrets: NonNullable<Partial2<Config>['secrets']>, problem: ProblemAt): void {
  if (secrets.encryptionKey && decodeKey(secrets.encryptionKey.reveal()) === undefined) {
    problem(['secrets', 'encryptionKey'], 'must be 32 bytes, written as base64 (44 characters) or 64 hex digits; `roomguard keys generate` makes one');
  }
  if (secrets.previousEncryptionKey && decodeKey(secrets.previousEncryptionKey.reveal()) === undefined) problem(['secrets', 'previousEncryptionKey'], 'must be 32 bytes, written as base64 or 64 hex digits');
  if (secrets.assertionKey) {
    try {
      const key = createPrivateKey(secrets.assertionKey.reveal());
      if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') problem(['secrets', 'assertionKey'], 'must be an EC P-256 private key (ES256)');
    } catch {
      problem(['secrets', 'assertionKey'], 'is not a PEM private key; `roomguard keys generate` makes one');
    }
  }
  if (secrets.auditSigningKey) {
    try {
      if (createPrivateKey(secrets.auditSigningKey.reveal()).asymmetricKeyType !== 'ed25519') problem(['secrets', 'auditSigningKey'], 'must be an Ed25519 private key');
    } catch {
      problem(['secrets', 'auditSigningKey'], 'is not a PEM private key; `roomguard keys generate` makes one');
    }
  }
}

function oidcChecks(oidc: NonNullable<Partial2<Config>['oidc']>, problem: (path: string[], message: string) => void): void {
  if (oidc.issuer?.protocol === 'http:' && !isLoopbackHost(oidc.issuer.hostname)) problem(['oidc', 'issuer'], 'must be https:// (http:// is allowed only for loopback addresses)');
  if (oidc.scopes && !oidc.scopes.includes('openid')) problem(['oidc', 'scopes'], 'must include "openid"');
  for (const message of groupNameProblems(oidc.groupNames ?? [])) problem(['oidc', 'groupNames'], message);
}

/** Whether `zone` is an IANA zone name this Node knows (`Europe/Berlin`, `UTC`). */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Problems of `oidc.groupNames` entries (`<value>=<name>`, each value once). */
function groupNameProblems(entries: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const at = entry.indexOf('=');
    const value = at > 0 ? entry.slice(0, at).trim() : '';
    const name = at > 0 ? entry.slice(at + 1).trim() : '';
    if (!value || !name) problems.push(`"${entry}" is not <group value>=<name> (e.g. 3f9ac1d2-…=staff)`);
    else if (seen.has(value)) problems.push(`"${value}" is named twice`);
    seen.add(value);
  }
  return problems;
}

/** The Redis topology: exactly one of URL, Sentinel and Cluster, TLS only where it takes effect, readable PEM files. */
function storeChecks(ctx: Ctx, store: NonNullable<Partial2<Config>['store']>, problem: (path: string[], message: string) => void): void {
  // store.url has a default, so "set by the admin" is asked of the file and the environment.
  const urlGiven = ctx.env[envNameFor(['store', 'url'])] !== undefined || ctx.source?.doc.hasIn(['store', 'url']) === true;
  const sentinel = (store.sentinel?.nodes ?? []).length > 0 || store.sentinel?.name !== undefined;
  const cluster = (store.cluster?.nodes ?? []).length > 0;
  const url = store.url;
  if (sentinel && cluster) problem(['store', 'cluster', 'nodes'], 'store.sentinel and store.cluster exclude each other: choose one topology');
  if (urlGiven && (sentinel || cluster)) problem(['store', 'url'], `must not be set together with store.${sentinel ? 'sentinel' : 'cluster'} (the ${sentinel ? 'sentinels name the primary' : 'Cluster nodes are listed there'})`);
  const standalone = !sentinel && !cluster;
  let rediss = false;
  if (standalone && url !== undefined && url !== 'memory') {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      problem(['store', 'url'], `"${url.replace(/\/\/[^@/]*@/, '//…@')}" is not a valid URL`);
    }
    if (parsed) {
      rediss = parsed.protocol === 'rediss:';
      if (parsed.protocol !== 'redis:' && !rediss) problem(['store', 'url'], 'must be redis://…, rediss://… or memory');
      else if (!parsed.hostname) problem(['store', 'url'], 'needs a host (redis://host:6379)');
      // ioredis would read connection options from a query string, past this validation.
      if (parsed.search || parsed.hash) problem(['store', 'url'], 'must not have a query string or fragment; use the store.* keys');
      if (parsed.pathname !== '' && parsed.pathname !== '/' && !/^\/\d{1,2}$/.test(parsed.pathname)) problem(['store', 'url'], 'the path must be a database number (redis://host:6379/2)');
      if (parsed.password && store.password) problem(['store', 'password'], 'the URL already carries a password: keep only one');
      if (parsed.username && store.username !== undefined) problem(['store', 'username'], 'the URL already carries a user name: keep only one');
    }
  }
  if (sentinel) {
    if (store.sentinel?.name === undefined) problem(['store', 'sentinel', 'name'], 'required with store.sentinel.nodes: the primary\'s name from `sentinel monitor <name> …`');
    else if (!/^[A-Za-z0-9._-]+$/.test(store.sentinel.name)) problem(['store', 'sentinel', 'name'], 'may contain only letters, digits, . _ -');
    if ((store.sentinel?.nodes ?? []).length === 0) problem(['store', 'sentinel', 'nodes'], 'list at least one sentinel as host:port');
  }
  for (const [path, nodes] of [[['store', 'sentinel', 'nodes'], store.sentinel?.nodes], [['store', 'cluster', 'nodes'], store.cluster?.nodes]] as const) {
    for (const node of nodes ?? []) if (!parseHostPort(node)) problem([...path], `"${node}" is not host:port (IPv6 as [::1]:6379)`);
  }
  const tls = store.tls ?? {};
  const tlsOn = standalone ? rediss : tls.enabled === true;
  if (standalone && tls.enabled) problem(['store', 'tls', 'enabled'], 'is for store.sentinel and store.cluster; with store.url write rediss:// instead');
  else {
    // TLS settings that would be ignored mean the admin believes in TLS that is not there.
    for (const field of ['ca', 'cert', 'key', 'servername'] as const) {
      if (tls[field] !== undefined && !tlsOn) problem(['store', 'tls', field], standalone ? 'has no effect: store.url is not rediss://' : 'has no effect: store.tls.enabled is false');
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) problem(['store', 'tls', tls.cert === undefined ? 'cert' : 'key'], `required with store.tls.${tls.cert === undefined ? 'key' : 'cert'} (a client certificate needs its key)`);
  const pem = (field: 'ca' | 'cert' | 'key', check: (text: string) => void, what: string) => {
    const file = tls[field];
    if (file === undefined) return;
    let text: string;
    try {
      text = readFileSync(configRelativePath(ctx.file, file), 'utf8');
    } catch (err) {
      problem(['store', 'tls', field], `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return;
    }
    try {
      check(text);
    } catch {
      problem(['store', 'tls', field], `${file} does not hold ${what}`);
    }
  };
  pem('ca', (text) => void new X509Certificate(text), 'a PEM certificate');
  pem('cert', (text) => void new X509Certificate(text), 'a PEM certificate');
  pem('key', (text) => void createPrivateKey(text), 'a PEM private key');
}

/** A path from the config, relative to the config file's folder (as `configRelative` does once loaded). */
function configRelativePath(configFile: string, path: string): string {
  if (isAbsolute(path) || configFile.startsWith('(') || configFile.startsWith('$')) return path;
  return resolve(dirname(resolve(configFile)), path);
}

/** Decodes the 32-byte encryption key from base64 or hex. */
export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  const buf = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  return buf.length === 32 && (/^[0-9a-fA-F]{64}$/.test(trimmed) || /^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) ? buf : undefined;
}
