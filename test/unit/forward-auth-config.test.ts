// forwardAuth.proxy decides which headers roomguard believes about the original request, so it must be
// named whenever forward-auth is on, and only the three known web servers are accepted.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfigText } from '../../src/config/validate.js';
import { formatProblem } from '../../src/config/yaml-source.js';
import { generateAssertionKeyPem, generateAuditSigningKeyPem, generateEncryptionKey } from '../../src/config/keys.js';

const base = {
  publicUrl: 'https://meet.example.org',
  oidc: { issuer: 'https://idp.example.org', clientId: 'roomguard', clientSecret: 'secret-0123456789abcdef' },
  backend: { upstream: 'http://127.0.0.1:8000' },
  secrets: { encryptionKey: generateEncryptionKey(), assertionKey: generateAssertionKeyPem(), auditSigningKey: generateAuditSigningKeyPem() },
};
const check = (forwardAuth: Record<string, unknown>) => {
  const result = loadConfigText('roomguard.yaml', stringify({ ...base, forwardAuth }), {});
  return { config: result.config, problems: result.problems.map(formatProblem) };
};

describe('forwardAuth.proxy', () => {
  it('is required when forward-auth is enabled, and reported at its section', () => {
    const { config, problems } = check({ enabled: true });
    expect(config).toBeUndefined();
    expect(problems).toEqual([expect.stringMatching(/^roomguard\.yaml:\d+: forwardAuth\.proxy: required when forwardAuth\.enabled is true/)]);
  });

  it('accepts nginx, caddy and traefik', () => {
    for (const proxy of ['nginx', 'caddy', 'traefik']) expect(check({ enabled: true, proxy }).config?.forwardAuth.proxy).toBe(proxy);
  });

  it('refuses any other value, even with forward-auth off', () => {
    expect(check({ enabled: false, proxy: 'haproxy' }).problems).toEqual([expect.stringMatching(/forwardAuth\.proxy: "haproxy" is not one of nginx, caddy, traefik/)]);
  });

  it('is not needed while forward-auth is off', () => {
    expect(check({}).problems).toEqual([]);
  });
});
