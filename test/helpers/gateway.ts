// Builds real gateways for integration tests: config through the real validator, real store, the
// shipped example policies, the real demo OIDC provider.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadConfigText } from '../../src/config/validate.js';
import { formatProblem } from '../../src/config/yaml-source.js';
import { generateAssertionKeyPem, generateAuditSigningKeyPem, generateEncryptionKey } from '../../src/config/keys.js';
import type { Config } from '../../src/config/schema.js';

export const EXAMPLE_POLICIES = fileURLToPath(new URL('../../policies', import.meta.url));

export interface TestKeys {
  encryptionKey: string;
  assertionKey: string;
  auditSigningKey: string;
}

export function testKeys(): TestKeys {
  return { encryptionKey: generateEncryptionKey(), assertionKey: generateAssertionKeyPem(), auditSigningKey: generateAuditSigningKeyPem() };
}

export interface TestConfigOptions {
  port: number;
  publicUrl?: string;
  issuer: string;
  clientSecret: string;
  upstream: string;
  store: string;
  keys: TestKeys;
  policiesDir?: string;
  keyPrefix?: string;
  /** Audit directory (default: a fresh temporary one per gateway). */
  auditDir?: string;
  extra?: Record<string, unknown>;
}

export function testConfig(options: TestConfigOptions): Config {
  const { config, problems } = loadConfigText('test.yaml', testConfigYaml(options), {});
  if (!config) throw new Error(problems.map(formatProblem).join('\n'));
  return config;
}

/** The YAML text of a test config (for `roomguard serve -c` in a child process). */
export function testConfigYaml(options: TestConfigOptions): string {
  return stringify({
    listen: `127.0.0.1:${options.port}`,
    publicUrl: options.publicUrl ?? `http://127.0.0.1:${options.port}`,
    oidc: { issuer: options.issuer, clientId: 'roomguard-test', clientSecret: options.clientSecret, scopes: ['openid', 'email', 'profile', 'groups'] },
    store: options.store === 'memory' ? { url: 'memory', allowMemory: true } : { url: options.store, keyPrefix: options.keyPrefix ?? 'rgtest:' },
    // A short settle period: tests write their policy directories a moment before the gateway starts.
    // Tests of the settle rule itself pass their own `policies`.
    policies: { dir: options.policiesDir ?? EXAMPLE_POLICIES, watch: false, settle: '100ms' },
    backend: { type: 'generic', upstream: options.upstream, public: ['/public/*', '/favicon.ico'] },
    audit: { dir: options.auditDir ?? mkdtempSync(join(tmpdir(), 'rg-audit-')), instance: `gw-${options.port}` },
    secrets: options.keys,
    ...(options.extra ?? {}),
  });
}
