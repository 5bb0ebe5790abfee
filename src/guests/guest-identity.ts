// Who a guest is to roomguard: a random pseudonymous subject under roomguard's own issuer, the display
// name they chose, no e-mail, no groups, and a grant for exactly one room until a fixed time. Pure apart
// from the random subject; the name is cleaned here, once, at the edge.
import { randomBytes, randomInt } from 'node:crypto';
import type { GuestGrant, Identity } from '../identity/types.js';

export const GUEST_NAME_MAX = 60;

/** The issuer of guest identities: never an IdP's, so no rule about accounts can match a guest by accident. */
export function guestIssuer(publicOrigin: string): string {
  return `${publicOrigin}/_roomguard/guest`;
}

/**
 * The display name to show, or undefined when it is not acceptable: control and formatting characters are
 * removed, spaces collapsed; empty is acceptable only when the room does not require a name.
 */
export function guestDisplayName(raw: unknown, requireName: boolean, fallback: string): string | undefined {
  if (raw !== undefined && typeof raw !== 'string') return undefined;
  const name = (raw ?? '').normalize('NFC').replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, '').replace(/\s+/g, ' ').trim();
  if (Array.from(name).length > GUEST_NAME_MAX) return undefined;
  if (name === '') return requireName ? undefined : `${fallback} ${randomInt(1000, 10_000)}`;
  return name;
}

export function guestIdentity(name: string, grant: GuestGrant, publicOrigin: string): Identity {
  return { sub: `guest:${randomBytes(16).toString('base64url')}`, iss: guestIssuer(publicOrigin), emailVerified: false, name, groups: [], guest: grant };
}
