// Config strictness (issue 16): a misspelt ROOMGUARD_* variable is a problem with a did-you-mean, as a
// misspelt key is; a secret written into the file is a warning that names env: and file:; `listen`
// explains host:port; an unknown key anywhere gets the closest key (or the key of that name elsewhere);
// a renamed key keeps working with a warning naming its new name until it is removed.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/validate.js';
import { generateAssertionKeyPem } from '../../src/config/keys.js';
import { NON_CONFIG_VARIABLES, envNameFor, schemaLeaves } from '../../src/config/schema.js';
import { closestNames, editDistance } from '../../src/config/suggest.js';
import { formatProblem, formatWarning, type Problem } from '../../src/config/yaml-source.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FILE = 'roomguard.yaml';

const ENV: NodeJS.ProcessEnv = {
  RG_OIDC: 'oidc-secret-0123456789',
  RG_ENC: randomBytes(32).toString('base64'),
  RG_ASSERTION: generateAssertionKeyPem(),
  RG_AUDIT: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
};

/** A valid config with every secret as env:; `extra` lines are appended, `secret` replaces the client secret line. */
function configText(opts: { extra?: string[]; clientSecret?: string; top?: string[] } = {}): string {
  return [
    ...(opts.top ?? []),
    'publicUrl: https://meet.example.org',
    'oidc:',
    '  issuer: https://id.example.org',
    '  clientId: roomguard',
    `  clientSecret: ${opts.clientSecret ?? 'env:RG_OIDC'}`,
    'backend:',
    '  upstream: http://127.0.0.1:8000',
    'secrets:',
    '  encryptionKey: env:RG_ENC',
    '  assertionKey: env:RG_ASSERTION',
    '  auditSigningKey: env:RG_AUDIT',
    ...(opts.extra ?? []),
  ].join('\n') + '\n';
}

const load = (text: string, env: NodeJS.ProcessEnv = {}, options = {}) => loadConfigText(FILE, text, { ...ENV, ...env }, options);
const lines = (problems: Problem[]) => problems.map(formatProblem).join('\n');

describe('suggestions', () => {
  it('counts a dropped, doubled, wrong or swapped letter as one edit', () => {
    expect(editDistance('sesion', 'session')).toBe(1);
    expect(editDistance('sessiion', 'session')).toBe(1);
    expect(editDistance('sessoin', 'session')).toBe(1);
    expect(editDistance('session', 'session')).toBe(0);
  });

  it('ignores case, _ and -, and suggests nothing for a name that resembles none', () => {
    expect(closestNames('PUBLIC-URL', ['publicUrl', 'trustProxy'])).toEqual(['publicUrl']);
    expect(closestNames('colour', ['publicUrl', 'listen', 'oidc'])).toEqual([]);
    // Short names tolerate no edit, or every two-letter key would match every other.
    expect(closestNames('ux', ['ui'])).toEqual([]);
  });
});

describe('ROOMGUARD_* variables', () => {
  it('reports a misspelt variable by name, with the variable it resembles and the key that one sets', () => {
    const result = load(configText(), { ROOMGUARD_SESION_IDLE_TIMEOUT: '5m' });
    expect(result.config).toBeUndefined();
    expect(lines(result.problems)).toBe('$ROOMGUARD_SESION_IDLE_TIMEOUT: (environment): unknown variable (did you mean ROOMGUARD_SESSION_IDLE_TIMEOUT, which sets session.idleTimeout?)');
  });

  it('accepts the correctly spelt variable, and applies it', () => {
    const result = load(configText(), { ROOMGUARD_SESSION_IDLE_TIMEOUT: '5m' });
    expect(lines(result.problems)).toBe('');
    expect(result.config!.session.idleTimeout).toBe(300_000);
  });

  it('reports a variable in the wrong letter case with the upper-case name', () => {
    const { problems } = load(configText(), { roomguard_log_level: 'debug' });
    expect(lines(problems)).toBe('$roomguard_log_level: (environment): unknown variable: variable names are upper case; did you mean ROOMGUARD_LOG_LEVEL (log.level)?');
  });

  it('reports a variable named after a section with the keys it has', () => {
    const { problems } = load(configText(), { ROOMGUARD_SESSION: '5m' });
    expect(lines(problems)).toMatch(/^\$ROOMGUARD_SESSION: \(environment\): is a section, not a key; set its keys, e\.g\. ROOMGUARD_SESSION_IDLE_TIMEOUT/);
  });

  it('reports a variable that resembles nothing, and where every variable is listed', () => {
    const { problems } = load(configText(), { ROOMGUARD_FROBNICATE: '1' });
    expect(lines(problems)).toMatch(/^\$ROOMGUARD_FROBNICATE: \(environment\): unknown variable: it sets no configuration key \(docs\/configuration\.md/);
  });

  it('reports every unknown variable at once, next to the file\'s own problems', () => {
    const { problems } = load(configText({ extra: ['colour: red'] }), { ROOMGUARD_A_B: '1', ROOMGUARD_LOG_LEVL: 'info' });
    expect(problems.map((p) => p.file)).toEqual(expect.arrayContaining([FILE, '$ROOMGUARD_A_B', '$ROOMGUARD_LOG_LEVL']));
  });

  it('accepts a variable the config names in an env: reference, and refuses the same name when nothing names it', () => {
    const referenced = load(configText({ clientSecret: 'env:ROOMGUARD_OIDC_SECRET' }), { ROOMGUARD_OIDC_SECRET: 'from-the-environment' });
    expect(lines(referenced.problems)).toBe('');
    expect(referenced.config!.oidc.clientSecret.reveal()).toBe('from-the-environment');
    const stray = load(configText(), { ROOMGUARD_OIDC_SECRET: 'from-the-environment' });
    expect(lines(stray.problems)).toBe('$ROOMGUARD_OIDC_SECRET: (environment): unknown variable: it sets no configuration key (docs/configuration.md lists every key with its variable), and no env: reference of this config names it');
  });

  it('accepts roomguard\'s own variables that are not keys (the image\'s health check, the Caddyfile\'s), and ignores every other variable', () => {
    const env = Object.fromEntries(Object.keys(NON_CONFIG_VARIABLES).map((name) => [name, 'x']));
    const { problems } = load(configText(), { ...env, PATH: '/usr/bin', RG_ANYTHING: '1', XROOMGUARD_LOG: '1' });
    expect(lines(problems)).toBe('');
  });

  it('names in every shipped file and document a ROOMGUARD_ variable that config check accepts, unless it is a mistake shown on purpose', () => {
    // Examples of mistakes in the docs (threat model, changelog): each must really be reported.
    const SHOWN_AS_MISTAKES = new Set(['ROOMGUARD_SESION_IDLE_TIMEOUT', 'ROOMGUARD_SESSION']);
    const known = new Set([...schemaLeaves().map(({ path }) => envNameFor(path)), ...Object.keys(NON_CONFIG_VARIABLES)]);
    const files = ['README.md', 'CHANGELOG.md', 'Dockerfile', 'examples/roomguard.yaml', ...walk('docs'), ...walk('deploy')];
    const referenced = new Set(files.flatMap((f) => [...read(f).matchAll(/env:(ROOMGUARD_[A-Z0-9_]+)/g)].map((m) => m[1]!)));
    const named = files.flatMap((f) => [...read(f).matchAll(/\bROOMGUARD_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => ({ file: f, name: m[0] })));
    expect(named.filter(({ name }) => !known.has(name) && !referenced.has(name) && !SHOWN_AS_MISTAKES.has(name)).map(({ file, name }) => `${file}: ${name}`)).toEqual([]);
    for (const name of SHOWN_AS_MISTAKES) expect(load(configText(), { [name]: '5m' }).problems.map((p) => p.file), name).toEqual([`$${name}`]);
  });
});

describe('secrets written into the file', () => {
  it('warn, naming env: and file:, and the config is still valid', () => {
    const result = load(configText({ clientSecret: 'hunter2' }));
    expect(lines(result.problems)).toBe('');
    expect(result.config!.oidc.clientSecret.reveal()).toBe('hunter2');
    expect(result.warnings.map(formatWarning)).toEqual([
      'roomguard.yaml:5: oidc.clientSecret: warning: the secret is written into the config file; keep it out of the file: env:NAME reads it from the environment variable NAME, file:/path from a file only roomguard can read',
    ]);
  });

  it('do not warn when the value is env:NAME, file:/path, or comes from a ROOMGUARD_ variable', () => {
    const file = join(ROOT, 'package.json');
    expect(load(configText()).warnings).toEqual([]);
    expect(load(configText({ clientSecret: `file:${file}` })).warnings).toEqual([]);
    expect(load(configText(), { ROOMGUARD_OIDC_CLIENT_SECRET: 'hunter2' }).warnings).toEqual([]);
  });

  it('never print the secret itself in the warning', () => {
    const { warnings } = load(configText({ clientSecret: 'correct-horse-battery-staple' }));
    expect(warnings.map(formatWarning).join('\n')).not.toContain('correct-horse');
  });

  it('warn for every secret key of the schema', () => {
    const secrets = schemaLeaves().filter(({ field }) => field.kind === 'secret').map(({ path }) => path.join('.'));
    const text = configText({ extra: ['store:', '  password: literal-redis-password'] });
    expect(load(text).warnings.map((w) => w.field)).toEqual(['store.password']);
    expect(secrets).toContain('store.password');
  });
});

describe('listen and metrics.listen', () => {
  it('explain host:port for a bare port, with the port given', () => {
    const { problems } = load(configText({ top: ['listen: 8090'] }));
    expect(lines(problems)).toBe('roomguard.yaml:1: listen: 8090 is only a port: write host:port, e.g. "0.0.0.0:8090" (every interface) or "127.0.0.1:8090" (this machine only); IPv6 as "[::]:8090"');
  });

  it('explain host:port for a bare port from the environment', () => {
    const { problems } = load(configText(), { ROOMGUARD_LISTEN: '8090' });
    expect(lines(problems)).toMatch(/^\$ROOMGUARD_LISTEN: listen: 8090 is only a port: write host:port, e\.g\. "0\.0\.0\.0:8090"/);
  });

  it('explain host:port for a host without a port, a port too large and a mapping', () => {
    for (const value of ['localhost', '127.0.0.1:70000', '{ port: 80 }']) {
      const { problems } = load(configText({ top: [`listen: ${value}`] }));
      expect(lines(problems), value).toMatch(/^roomguard\.yaml:1: listen: .* is not host:port: write host:port, e\.g\. "0\.0\.0\.0:8080"/);
    }
    const { problems } = load(configText({ extra: ['metrics:', '  listen: 9464'] }));
    expect(lines(problems)).toContain('metrics.listen: 9464 is only a port: write host:port, e.g. "0.0.0.0:9464" (every interface) or "127.0.0.1:9464"');
  });

  it('accepts IPv4, IPv6 and host names with a port', () => {
    for (const value of ['0.0.0.0:8080', '127.0.0.1:8090', '"[::]:8080"', 'localhost:8080']) {
      const result = load(configText({ top: [`listen: ${value}`] }));
      expect(lines(result.problems), value).toBe('');
    }
  });
});

describe('unknown keys', () => {
  it('get the closest top-level key for a misspelt top-level key', () => {
    const { problems } = load(configText({ extra: ['sesion:', '  idleTimeout: 5m', 'pubicUrl: https://x.example.org'] }));
    expect(lines(problems)).toContain('roomguard.yaml:12: sesion: unknown key (did you mean "session"?)');
    expect(lines(problems)).toContain('roomguard.yaml:14: pubicUrl: unknown key (did you mean "publicUrl"?)');
  });

  it('get the full path of a key written at the wrong level', () => {
    const { problems } = load(configText({ extra: ['idleTimeout: 5m'] }));
    expect(lines(problems)).toBe('roomguard.yaml:12: idleTimeout: unknown key here (did you mean "session.idleTimeout" or "guests.idleTimeout"?)');
  });

  it('get the closest key of their own section', () => {
    const { problems } = load(configText({ extra: ['session:', '  idleTimout: 5m'] }));
    expect(lines(problems)).toBe('roomguard.yaml:13: session.idleTimout: unknown key (did you mean "idleTimeout"?)');
  });

  it('get the list of the section\'s keys when nothing is close', () => {
    const { problems } = load(configText({ extra: ['log:', '  colour: red'] }));
    expect(lines(problems)).toBe('roomguard.yaml:13: log.colour: unknown key; known keys of log: level, format');
  });
});

describe('deprecated keys', () => {
  const deprecated = [{ from: 'session.idle', to: 'session.idleTimeout', since: '0.3.0', removal: '1.0.0' }];

  it('are read as their new key, with a warning that names the new key and the release that removes the old one', () => {
    const result = load(configText({ extra: ['session:', '  idle: 5m'] }), {}, { deprecated });
    expect(lines(result.problems)).toBe('');
    expect(result.config!.session.idleTimeout).toBe(300_000);
    expect(result.warnings.map(formatWarning)).toEqual(['roomguard.yaml:13: session.idle: warning: deprecated since 0.3.0 and no longer read from 1.0.0: rename it to session.idleTimeout']);
  });

  it('are a problem when the new key is set too', () => {
    const { problems } = load(configText({ extra: ['session:', '  idle: 5m', '  idleTimeout: 10m'] }), {}, { deprecated });
    expect(lines(problems)).toBe('roomguard.yaml:13: session.idle: is the old name of session.idleTimeout, which is set too; keep only session.idleTimeout');
  });

  it('work as variables too, with a warning naming the new variable', () => {
    const result = load(configText(), { ROOMGUARD_SESSION_IDLE: '5m' }, { deprecated });
    expect(lines(result.problems)).toBe('');
    expect(result.config!.session.idleTimeout).toBe(300_000);
    expect(result.warnings.map(formatWarning)).toEqual(['$ROOMGUARD_SESSION_IDLE: session.idle: warning: deprecated since 0.3.0 and no longer read from 1.0.0: rename the variable to ROOMGUARD_SESSION_IDLE_TIMEOUT']);
  });

  it('are unknown keys once removed from the list', () => {
    const { problems } = load(configText({ extra: ['session:', '  idle: 5m'] }));
    expect(lines(problems)).toMatch(/session\.idle: unknown key/);
  });
});

describe('the shipped configurations', () => {
  it('give no warning: every secret in them is env: or file:', () => {
    const shipped = ['examples/roomguard.yaml', ...walk('deploy').filter((f) => /roomguard\.ya?ml$/.test(f))];
    expect(shipped.length).toBeGreaterThanOrEqual(4);
    for (const file of shipped) {
      const { warnings } = loadConfigText(file, read(file), {});
      expect(warnings.map(formatWarning), file).toEqual([]);
    }
  });
});

function read(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

function walk(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}
