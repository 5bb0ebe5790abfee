// Who a person is, as roomguard knows them after login (or after a guest invitation), and the role a
// room gives them. Plain types shared by policy, sessions, backends and the audit log; no code.

/** A person as the IdP (or a guest invitation) describes them. */
export interface Identity {
  sub: string;
  iss: string;
  email?: string;
  /** False when the IdP says the address is unverified; e-mail and domain rules then never match. */
  emailVerified: boolean;
  name?: string;
  groups: string[];
  /**
   * The IdP did not send the whole membership (overage marker, a value too long, more than 1000): every
   * deny entry naming groups then matches, since the missing group may be the denied one.
   */
  groupsIncomplete?: true;
  /** Set only for a guest admitted by invitation: the one room the guest may enter, and until when. */
  guest?: GuestGrant;
}

/** What an invitation gave a guest: one canonical room, until `expiresAt` (ms), from one invitation. */
export interface GuestGrant {
  room: string;
  /** Short id of the invitation (not its token). */
  invitation: string;
  expiresAt: number;
}

export type Role = 'moderator' | 'participant' | 'guest';
