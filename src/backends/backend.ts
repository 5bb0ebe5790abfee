// What the gateway asks of a conferencing backend: which room does this request path target, in the
// backend's own canonical form? The path comes read by the one path model (request-path.ts), so every
// backend judges the spelling every upstream reads. (Admission of the person — tokens, signed joins —
// comes with the Jitsi and BBB adapters.)
import type { RequestPath } from './request-path.js';

export type RoomLookup =
  /** Not a room: needs a session (unless listed in backend.public). */
  | { kind: 'none' }
  /** The backend's own static files (Jitsi's /libs, /css …): no login needed. */
  | { kind: 'public' }
  | { kind: 'invalid' }
  /** canonicalPath is set when the request spelled the room non-canonically; the gateway redirects there. */
  | { kind: 'room'; room: string; canonicalPath?: string }
  /** A signalling endpoint (Jitsi XMPP/BOSH/conference request) that carries the room in `?room=`. */
  | { kind: 'signalling'; tenant?: string }
  /** A BBB join: only join URLs roomguard itself signed pass, once. */
  | { kind: 'signed-join' }
  /** A backend path browsers must never reach through the gateway (the BBB server API). */
  | { kind: 'refused' };

export interface Backend {
  readonly type: string;
  /** Room names the backend uses for itself; policy lint refuses patterns that match them. */
  readonly reservedRooms: readonly string[];
  roomOf(path: RequestPath): RoomLookup;
}
