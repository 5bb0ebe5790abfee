// The one catalogue of roomguard's error and reason codes. The same code appears in logs, on the
// participant's error page (with a next step in their language) and, later, in the audit record's `reason`.

export interface ErrorSpec {
  /** HTTP status when the code ends a participant's request. */
  readonly status: number;
  /** Short explanation for logs and `policy explain`. */
  readonly summary: string;
}

export const ERRORS = {
  RG_LOGIN_REQUIRED: { status: 401, summary: 'no valid session; the person must log in first' },
  RG_ROOM_IDLE_LIMIT: { status: 401, summary: 'the session was idle longer than this room allows (risk: high); only a fresh login at the identity provider lets it in' },
  RG_CONFIG_INVALID: { status: 500, summary: 'a reloaded configuration file has problems and was rejected; the running configuration keeps serving' },
  RG_POLICY_INVALID: { status: 500, summary: 'a changed policy set has problems and was rejected; the previous set keeps serving' },
  RG_POLICY_NO_MATCH: { status: 403, summary: 'no policy file matches this room (deny by default)' },
  RG_POLICY_AMBIGUOUS: { status: 403, summary: 'two policy files match this room equally' },
  RG_POLICY_DENY_RULE: { status: 403, summary: 'a deny rule of the room policy matches this person' },
  RG_POLICY_NOT_ALLOWED: { status: 403, summary: 'no allow rule of the room policy matches this person' },
  RG_MFA_REQUIRED: { status: 403, summary: 'the room requires a second factor the session does not have' },
  RG_MFA_TOO_OLD: { status: 403, summary: "the session's second factor is older than the room's maxAge" },
  RG_MFA_AUTHENTICATOR_REFUSED: { status: 403, summary: 'the room accepts only certain authenticators (mfa.authenticators): this key is synced, or not one of the listed models with a verified attestation' },
  RG_MFA_INVALID: { status: 422, summary: 'the second factor was wrong' },
  RG_MFA_REPLAY: { status: 422, summary: 'an authenticator code was used a second time (replay refused)' },
  RG_MFA_COUNTER: { status: 400, summary: "a security key's signature counter went backwards (possibly cloned); refused" },
  RG_MFA_LOCKED: { status: 429, summary: 'too many failed second-factor attempts; locked for a while (or until an admin unlocks)' },
  RG_MFA_NOT_ENROLLED: { status: 409, summary: 'the account has no second factor of the kind sent (no authenticator app, no recovery codes, or not this passkey); nothing was checked' },
  RG_MFA_FRESH_LOGIN: { status: 403, summary: 'enrolling the first second factor needs a recent login at the identity provider' },
  RG_ROOM_NOT_OPEN: { status: 403, summary: "the room is outside its scheduled times (policy schedule): it refuses new joins and its admitted connections are closed" },
  RG_ROOM_LOCKED: { status: 403, summary: 'the room is locked: nobody new is admitted (its moderators only where the policy says lock.moderatorsMayEnter)' },
  RG_ROOM_EVICTED: { status: 403, summary: 'this person was evicted from the room (or everyone was), which ended their admission' },
  RG_ROOM_NOT_MODERATOR: { status: 403, summary: "only moderators of the room (per its policy) may lock it or evict people" },
  RG_ROOM_INVALID: { status: 400, summary: 'the room name is not a valid room name' },
  RG_REQUEST_BAD_PATH: { status: 400, summary: 'the request path holds something an upstream could read as another path (a ; path parameter, an empty or dot segment, an escaped slash or control character, a malformed escape or invalid UTF-8)' },
  RG_REQUEST_INVALID: { status: 400, summary: 'the request is malformed' },
  RG_METHOD_NOT_ALLOWED: { status: 405, summary: 'the request method is not one the gateway passes on (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)' },
  RG_RETURN_TO_INVALID: { status: 400, summary: 'returnTo is not a same-origin relative path' },
  RG_LOGIN_STATE_UNKNOWN: { status: 400, summary: 'the login callback does not belong to a pending login (expired, reused or forged)' },
  RG_LOGIN_FAILED: { status: 502, summary: 'the identity provider did not complete the login' },
  RG_LOGIN_DENIED_BY_IDP: { status: 403, summary: 'the identity provider refused the login' },
  RG_IDP_UNAVAILABLE: { status: 503, summary: 'the identity provider cannot be reached' },
  RG_LOGOUT_TOKEN_INVALID: { status: 400, summary: 'a back-channel logout token failed verification' },
  RG_CSRF: { status: 403, summary: 'the form was not sent from a roomguard page (CSRF check failed)' },
  RG_NOT_FOUND: { status: 404, summary: 'no such page' },
  RG_STORE_UNAVAILABLE: { status: 503, summary: 'the session store cannot be reached' },
  RG_JITSI_NOT_ADMITTED: { status: 403, summary: 'signalling for a room this session was not admitted to (room hopping refused)' },
  RG_JITSI_TOKEN_INVALID: { status: 403, summary: 'the Jitsi token is not one roomguard issued to this session for this room' },
  RG_BBB_JOIN_INVALID: { status: 403, summary: 'a BBB join URL that roomguard did not sign for this session, or that was used already or expired' },
  RG_FORWARD_AUTH_BODY: { status: 403, summary: 'this request is judged by its body, which a forward-auth check does not carry: the web server must send it to roomguard itself' },
  RG_FORWARD_AUTH_STREAM: { status: 403, summary: 'this connection is judged message by message (XMPP signalling), which a forward-auth check cannot do: the web server must send it to roomguard itself' },
  RG_BACKEND_API_REFUSED: { status: 403, summary: 'the backend server API is not reachable through the gateway' },
  RG_AUDIT_FORBIDDEN: { status: 403, summary: 'only members of the audit.reviewers groups may read the audit log' },
  RG_AUDIT_UNAVAILABLE: { status: 503, summary: 'the audit log cannot be written, so nobody is let in' },
  RG_UPSTREAM_UNAVAILABLE: { status: 502, summary: 'the conferencing backend cannot be reached' },
  RG_GUEST_INVITES_OFF: { status: 403, summary: "the room's policy does not admit guests by invitation (guests.invites)" },
  RG_GUEST_WRONG_ROOM: { status: 403, summary: 'a guest (or an invitation) was bound to another room' },
  RG_GUEST_EXPIRED: { status: 403, summary: "the guest's admission has run out; a new invitation is needed" },
  RG_GUEST_NOT_ALLOWED: { status: 403, summary: 'guests may only enter their one room; this page is for people with an account' },
  RG_GUEST_NOT_MODERATOR: { status: 403, summary: 'only moderators of the room (per its policy) may create, list or revoke invitations' },
  RG_GUEST_INVITE_UNKNOWN: { status: 404, summary: 'the invitation link is not known (mistyped, or deleted long ago)' },
  RG_GUEST_INVITE_EXPIRED: { status: 410, summary: 'the invitation has expired' },
  RG_GUEST_INVITE_USED_UP: { status: 410, summary: 'the invitation has been used as often as it allows' },
  RG_GUEST_INVITE_REVOKED: { status: 410, summary: 'a moderator revoked the invitation' },
  RG_GUEST_NAME_INVALID: { status: 422, summary: 'the display name is missing or too long (this room requires one)' },
  RG_GUEST_SIGNED_IN: { status: 409, summary: 'a signed-in person opened a guest invitation; they enter with their account instead' },
  RG_INTERNAL: { status: 500, summary: 'unexpected internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** An error that ends a request with a catalogued code; the gateway renders it as a page. */
export class RoomguardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${ERRORS[code].summary}: ${detail}` : ERRORS[code].summary, options);
    this.name = 'RoomguardError';
    this.code = code;
    this.status = ERRORS[code].status;
  }
}

export function isRoomguardError(err: unknown): err is RoomguardError {
  return err instanceof RoomguardError;
}
