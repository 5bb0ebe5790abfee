// `roomguard keys generate`: fresh keys for a configuration, each with where it belongs.
import { generateAssertionKeyPem, generateAuditSigningKeyPem, generateEncryptionKey } from '../config/keys.js';
import { EXIT, type CliIo } from './table.js';

export async function keysGenerate(io: CliIo): Promise<number> {
  io.out([
    `# secrets.encryptionKey (store it in a secret, e.g. ROOMGUARD_ENCRYPTION_KEY):\n${generateEncryptionKey()}\n`,
    `# secrets.assertionKey (save as a file readable only by roomguard, e.g. /etc/roomguard/assertion.pem):\n${generateAssertionKeyPem()}`,
    `# secrets.auditSigningKey (save as a file readable only by roomguard, e.g. /etc/roomguard/audit-signing.pem):\n${generateAuditSigningKeyPem()}`,
  ].join('\n'));
  return EXIT.ok;
}
