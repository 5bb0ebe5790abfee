// Key material for secrets.encryptionKey and secrets.assertionKey (`roomguard keys generate`, the demo).
import { generateKeyPairSync, randomBytes } from 'node:crypto';

export function generateEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}

export function generateAssertionKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function generateAuditSigningKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
