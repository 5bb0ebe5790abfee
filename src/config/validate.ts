// Turns roomguard.yaml plus ROOMGUARD_* environment variables into a typed Config, or into the list
// of *every* problem found (file:line: field: message). Environment values override the file.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { parseDuration, formatDuration } from './duration.js';
import { CONFIG_SCHEMA, envNameFor, type Config, type Field, type ObjectField } from './schema.js';
import { resolveSecret, Secret } from './secret.js';
import { parseYamlSource, type Problem, type YamlSource } from './yaml-source.js';
import { isLoopbackHost, parseCidr, parseHostPort } from './net.js';
import { JITSI_FEATURES } from '../backends/jitsi.js';

interface Location { file: string; line?: number }

export interface ConfigResult {
  config?: Config;
  problems: Problem[];
}

export function loadConfigText(file: string, text: string, env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const problems: Problem[] = [];
  let source: YamlSource | undefined;
  if (text.trim() !== '') {
    const parsed = parseYamlSource(file, text);
    problems.push(...parsed.problems);
    source = parsed.source;
    if (!source) return { problems };
  }
  const root = source?.doc.contents ?? null;
  if (root !== null && !isMap(root)) {
    problems.push({ file, line: source!.lineOf(root as Node), field: '', message: 'the config must be a mapping of keys to values' });
    return { problems };
  }
  const ctx: Ctx = { file, source, env, problems };
  const value = readObject(ctx, CONFIG_SCHEMA, root as YAMLMap | null, [], { file, line: 1 });
  crossChecks(ctx, value as Partial2<Config>);
  if (problems.length > 0) return { problems };
  return { config: Object.assign(value as object, { sourceFile: file }) as Config, problems: [] };
}

interface Ctx {
  file: string;
  source: YamlSource | undefined;
  env: NodeJS.ProcessEnv;
  problems: Problem[];
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
        const known = Object.keys(schema.fields);
        const hint = known.find((k) => k.toLowerCase() === key.toLowerCase().replace(/[_-]/g, ''));
        ctx.problems.push({
          file: ctx.file, line: ctx.source!.lineOf(pair.key as Node), field: [...path, key].join('.'),
          message: `unknown key${hint ? ` (did you mean "${hint}"?)` : `; known keys: ${known.join(', ')}`}`,
        });
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
      if (typeof raw !== 'string' || raw === '') return problem('must be a non-empty string');
      return raw;
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
  if (oidc?.issuer?.protocol === 'http:' && !isLoopbackHost(oidc.issuer.hostname)) problem(['oidc', 'issuer'], 'must be https:// (http:// is allowed only for loopback addresses)');
  if (oidc?.scopes && !oidc.scopes.includes('openid')) problem(['oidc', 'scopes'], 'must include "openid"');
  if (config.listen !== undefined && (!/^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):\d{1,5}$/.test(config.listen) || Number(config.listen.split(':').pop()) > 65535)) {
    problem(['listen'], `"${config.listen}" is not host:port`);
  }
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
  if (session?.cookieName !== undefined && !/^[A-Za-z0-9_-]+$/.test(session.cookieName)) problem(['session', 'cookieName'], 'may contain only letters, digits, _ and -');
  if (backend?.roomPath !== undefined) {
    try {
      new RegExp(backend.roomPath, 'd');
      if (!backend.roomPath.startsWith('^')) problem(['backend', 'roomPath'], 'must be anchored with ^ so it judges the whole path');
      if (!backend.roomPath.includes('(?<room>')) problem(['backend', 'roomPath'], 'must contain a named group (?<room>…)');
    } catch (err) {
      problem(['backend', 'roomPath'], `not a valid regular expression: ${(err as Error).message}`);
    }
  }
  if (backend?.type === 'bbb') {
    if (!backend.bbb?.secret) problem(['backend', 'bbb', 'secret'], 'required when backend.type is bbb');
    if (backend.bbb?.meetingIdPrefix !== undefined && !/^[A-Za-z0-9_.-]{0,32}$/.test(backend.bbb.meetingIdPrefix)) problem(['backend', 'bbb', 'meetingIdPrefix'], 'may contain only letters, digits, _ . - (at most 32)');
  }
  if (backend?.type === 'jitsi') {
    const j = backend.jitsi;
    if (!j?.appId) problem(['backend', 'jitsi', 'appId'], 'required when backend.type is jitsi');
    if (!j?.appSecret) problem(['backend', 'jitsi', 'appSecret'], 'required when backend.type is jitsi');
    else if (j.appSecret.reveal().length < 32) problem(['backend', 'jitsi', 'appSecret'], 'must be at least 32 characters (it is an HS256 key)');
    for (const field of j?.userFields ?? []) if (field !== 'name' && field !== 'email') problem(['backend', 'jitsi', 'userFields'], `"${field}" is not name or email`);
    for (const feature of j?.features ?? []) if (!JITSI_FEATURES.includes(feature)) problem(['backend', 'jitsi', 'features'], `"${feature}" is not one of ${JITSI_FEATURES.join(', ')}`);
  }
  for (const entry of backend?.public ?? []) {
    if (!entry.startsWith('/') || entry.startsWith('/_roomguard')) problem(['backend', 'public'], `"${entry}" must be a path starting with / (and not under /_roomguard)`);
    if (entry.indexOf('*') !== -1 && entry.indexOf('*') !== entry.length - 1) problem(['backend', 'public'], `"${entry}": * is allowed only at the end (prefix match)`);
  }
  if (secrets?.encryptionKey && decodeKey(secrets.encryptionKey.reveal()) === undefined) {
    problem(['secrets', 'encryptionKey'], 'must be 32 bytes, written as base64 (44 characters) or 64 hex digits; `roomguard keys generate` makes one');
  }
  if (secrets?.previousEncryptionKey && decodeKey(secrets.previousEncryptionKey.reveal()) === undefined) problem(['secrets', 'previousEncryptionKey'], 'must be 32 bytes, written as base64 or 64 hex digits');
  if (secrets?.assertionKey) {
    try {
      const key = createPrivateKey(secrets.assertionKey.reveal());
      if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') problem(['secrets', 'assertionKey'], 'must be an EC P-256 private key (ES256)');
    } catch {
      problem(['secrets', 'assertionKey'], 'is not a PEM private key; `roomguard keys generate` makes one');
    }
  }
  if (secrets?.auditSigningKey) {
    try {
      if (createPrivateKey(secrets.auditSigningKey.reveal()).asymmetricKeyType !== 'ed25519') problem(['secrets', 'auditSigningKey'], 'must be an Ed25519 private key');
    } catch {
      problem(['secrets', 'auditSigningKey'], 'is not a PEM private key; `roomguard keys generate` makes one');
    }
  }
  if (ui?.primaryColor !== undefined && !/^#[0-9a-fA-F]{6}$/.test(ui.primaryColor)) problem(['ui', 'primaryColor'], 'must be a colour written as #rrggbb');
  if (ui?.logo !== undefined && !/\.(svg|png)$/i.test(ui.logo)) problem(['ui', 'logo'], 'must be a .svg or .png file');
  if (mfa?.lockout !== undefined && mfa.maxLockout !== undefined && mfa.lockout > mfa.maxLockout) problem(['mfa', 'lockout'], 'must not be longer than mfa.maxLockout');
  if (config.metrics?.listen !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):\d{1,5}$/.test(config.metrics.listen)) problem(['metrics', 'listen'], `"${config.metrics.listen}" is not host:port`);
  if (audit?.syslog !== undefined && !/^(udp|tcp):\/\/[^/:]+:\d{1,5}$/.test(audit.syslog)) problem(['audit', 'syslog'], 'must be udp://host:port or tcp://host:port');
  if (audit?.instance !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(audit.instance)) problem(['audit', 'instance'], 'may contain only letters, digits, . _ - (at most 64)');
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
