// What can be checked of the deployment files on a machine without a container engine: they parse,
// the Jitsi stack sets the Prosody options the security model relies on, and the shipped roomguard
// config for it passes validation.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigText } from '../../src/config/validate.js';
import { generateAssertionKeyPem, generateAuditSigningKeyPem, generateEncryptionKey } from '../../src/config/keys.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('deploy/jitsi', () => {
  const compose = parse(read('deploy/jitsi/docker-compose.yml')) as { services: Record<string, { environment?: Record<string, string>; ports?: string[]; command?: string[]; volumes?: string[] }> };

  it('publishes only roomguard and the videobridge media port', () => {
    const published = Object.entries(compose.services).filter(([, s]) => s.ports?.length).map(([name]) => name).sort();
    expect(published).toEqual(['jvb', 'roomguard']);
  });

  it('keeps Redis (where second factors live) persistent and never evicting', () => {
    expect(compose.services.redis!.command!.join(' ')).toMatch(/--appendonly yes.*--maxmemory-policy noeviction/);
    expect(compose.services.redis!.volumes).toEqual(['redis-data:/data']);
  });

  it('makes Prosody enforce room-scoped tokens and refuse tokenless guests', () => {
    const env = compose.services.prosody!.environment!;
    expect(env).toMatchObject({ ENABLE_AUTH: '1', AUTH_TYPE: 'jwt', JWT_ALLOW_EMPTY: '0', ENABLE_GUESTS: '0', XMPP_MUC_MODULES: 'token_affiliation', JWT_ACCEPTED_ISSUERS: 'roomguard', JWT_ACCEPTED_AUDIENCES: 'jitsi' });
    expect(env.JWT_ACCEPTED_ALLOWNER_ISSUERS).toBeUndefined();
    expect(compose.services.jicofo!.environment).toMatchObject({ JICOFO_ENABLE_AUTH: '0', ENABLE_AUTO_OWNER: '0' });
    expect(compose.services.web!.environment).toMatchObject({ DISABLE_THIRD_PARTY_REQUESTS: 'true', ENABLE_GUESTS: '0' });
  });

  it('ships a roomguard.yaml that validates once its secrets exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-deploy-'));
    writeFileSync(join(dir, 'assertion.pem'), generateAssertionKeyPem());
    writeFileSync(join(dir, 'audit-signing.pem'), generateAuditSigningKeyPem());
    const text = read('deploy/jitsi/roomguard.yaml').replaceAll('/etc/roomguard/secrets/', `${dir}/`);
    const { config, problems } = loadConfigText('deploy/jitsi/roomguard.yaml', text, {
      ROOMGUARD_OIDC_SECRET: 'x', ROOMGUARD_ENCRYPTION_KEY: generateEncryptionKey(), JITSI_JWT_SECRET: 'j'.repeat(40),
    });
    expect(problems).toEqual([]);
    expect(config?.backend.type).toBe('jitsi');
  });
});
