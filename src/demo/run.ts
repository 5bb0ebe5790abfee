// `roomguard demo`: the whole path of a join on one machine — embedded OIDC provider with demo users,
// in-memory store, the example policies, and a demo conference behind the gateway. Not for production.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadConfigText } from '../config/validate.js';
import { formatProblem } from '../config/yaml-source.js';
import { generateAssertionKeyPem, generateAuditSigningKeyPem, generateEncryptionKey } from '../config/keys.js';
import { createGateway, type Gateway } from '../gateway/server.js';
import { loggerOptions, type LogFormat } from '../gateway/logger.js';
import { DEMO_USERS, startDemoIdp, type DemoIdp } from './idp.js';
import { startDemoConference, type DemoConference } from './conference.js';

export const EXAMPLE_POLICIES_DIR = fileURLToPath(new URL('../../policies', import.meta.url));

export interface DemoOptions {
  host: string;
  port: number;
  dataDir: string;
  logLevel: string;
  /** Text lines by default: a person watches the demo in a terminal. */
  logFormat?: LogFormat;
  quiet?: boolean;
}

export interface RunningDemo {
  url: string;
  idp: DemoIdp;
  conference: DemoConference;
  gateway: Gateway;
  close(): Promise<void>;
}

/** Keys live in the data directory so a restarted demo keeps its assertion key id. */
function demoSecret(dataDir: string, name: string, make: () => string): string {
  const path = join(dataDir, name);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, value + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
  return value;
}

export async function runDemo(options: DemoOptions): Promise<RunningDemo> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const encryptionKey = demoSecret(dataDir, 'encryption.key', generateEncryptionKey);
  const assertionKey = demoSecret(dataDir, 'assertion.pem', generateAssertionKeyPem);
  const auditSigningKey = demoSecret(dataDir, 'audit-signing.pem', generateAuditSigningKeyPem);
  // Browsers allow passkeys on http://localhost but not on an IP address, so the demo lives at localhost.
  const loopback = ['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost'].includes(options.host);
  const publicUrl = `http://${loopback ? 'localhost' : options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
  const clientSecret = generateEncryptionKey();

  const conference = await startDemoConference();
  const idp = await startDemoIdp({
    clients: [{
      clientId: 'roomguard-demo',
      clientSecret,
      redirectUris: [`${publicUrl}/_roomguard/callback`],
      postLogoutRedirectUris: [`${publicUrl}/_roomguard/logged-out`],
    }],
  });
  const yaml = stringify({
    listen: `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`,
    publicUrl,
    oidc: { issuer: idp.issuer, clientId: 'roomguard-demo', clientSecret, scopes: ['openid', 'email', 'profile', 'groups'] },
    store: { url: 'memory', allowMemory: true },
    policies: { dir: EXAMPLE_POLICIES_DIR, watch: true },
    backend: { type: 'generic', upstream: conference.url, public: ['/static/*', '/favicon.ico'] },
    audit: { dir: join(dataDir, 'audit'), instance: 'demo', reviewers: ['board-chair'] },
    secrets: { encryptionKey, assertionKey, auditSigningKey },
    log: { level: options.logLevel, format: options.logFormat ?? 'text' },
  });
  // The demo ignores ROOMGUARD_* variables so a stray production setting cannot leak into it.
  const { config, problems } = loadConfigText('(demo config)', yaml, {});
  if (!config) {
    await Promise.all([idp.close(), conference.close()]);
    throw new Error(`demo config invalid:\n${problems.map(formatProblem).join('\n')}`);
  }
  let gateway: Gateway | undefined;
  try {
    gateway = await createGateway(config, { logger: options.quiet ? false : loggerOptions(options.logLevel, options.logFormat ?? 'text'), redirectToPublicHost: true });
    await gateway.listen();
  } catch (err) {
    // A taken port, say: close what started, or its servers keep the process alive after the error.
    await gateway?.close();
    await Promise.all([idp.close(), conference.close()]);
    throw err;
  }
  if (!options.quiet) printBanner(publicUrl, idp.issuer, dataDir, join(dataDir, 'audit'));
  return {
    url: publicUrl,
    idp,
    conference,
    gateway,
    async close() {
      await gateway.close();
      await Promise.all([idp.close(), conference.close()]);
    },
  };
}

function printBanner(url: string, issuer: string, dataDir: string, auditDir: string): void {
  const users = DEMO_USERS.map((u) => `    ${u.sub.padEnd(6)} password "${u.password}"  groups: ${u.groups.length ? u.groups.join(', ') : '(none)'}`).join('\n');
  process.stderr.write(`
  ┌──────────────────────────────────────────────────────────────────────┐
  │  roomguard DEMO — NOT FOR PRODUCTION                                 │
  │  In-memory sessions, an embedded identity provider with fixed        │
  │  passwords, and a fake conference backend. Use \`roomguard serve\`.    │
  └──────────────────────────────────────────────────────────────────────┘

  Open:            ${url}/rooms/town-hall   (anyone who signs in)
                   ${url}/rooms/staff-weekly (group staff)
                   ${url}/rooms/board       (group board, high risk: needs a second factor)
  Sign out:        ${url}/_roomguard/logout
  Identity provider (demo): ${issuer}
  Demo users:
${users}
  Data directory:  ${dataDir}
  Audit log:       ${auditDir}   (check it: roomguard audit verify ${auditDir})
  Reviewer page:   ${url}/_roomguard/audit   (alice, as board-chair, after her second factor)
  Policies:        ${EXAMPLE_POLICIES_DIR}

`);
}
