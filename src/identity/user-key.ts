// The store's name for a person: a hash of the IdP subject, so keys reveal no identifiers.
import { createHash } from 'node:crypto';

export function userKey(sub: string): string {
  return createHash('sha256').update(`roomguard user\n${sub}`).digest('hex');
}
