// What the gateway asks of a conferencing backend, and nothing more: which room a request path targets
// (in the backend's own canonical form), how a person the policy allowed enters that room (a room-scoped
// token, a signed join, or nothing), whether a signalling request may go on, and where a room lives. The
// gateway never asks which backend it has: a new backend is one adapter here plus its config section.
import type { ErrorCode } from '../errors.js';
import type { Identity, Role } from '../identity/types.js';
import { readRequestPath, type RequestPath } from './request-path.js';

export type RoomLookup =
  /** Not a room: needs a session (unless listed in backend.public). */
  | { kind: 'none' }
  /** The backend's own static files (Jitsi's /libs, /css …): no login needed. */
  | { kind: 'public' }
  | { kind: 'invalid' }
  /** canonicalPath is set when the request spelled the room non-canonically; the gateway redirects there. */
  | { kind: 'room'; room: string; canonicalPath?: string }
  /**
   * A request that carries its own admission (Jitsi's XMPP/BOSH/conference request naming `?room=`, a BBB
   * join URL roomguard signed): `signalling()` decides. `fresh`: judge it from the store, never from a cached session.
   */
  | { kind: 'signalling'; tenant?: string; fresh?: boolean; endpoint?: string }
  /** A backend path browsers must never reach through the gateway (the BBB server API). */
  | { kind: 'refused' };

/** What a backend may know of the session asking: never its id, only its hash and what it holds. */
export interface SessionView {
  hash: string;
  identity: Identity;
  /** Room entries the backend handed this session before (Jitsi token ids per judged room). */
  admissions: Readonly<Record<string, readonly string[]>>;
}

/** Audit details of an entry (token id, meeting id …): strings and flags only. */
export type EntryDetails = Record<string, string | boolean>;

/** A page load into a room the policy allowed. */
export interface EntryRequest {
  room: string;
  role: Role;
  features: readonly string[];
  session: SessionView;
  /** The canonical path and the raw query of the page load. */
  path: string;
  query: string;
  now: number;
  policy: { file: string; title?: string; guestLobby?: boolean };
}

export type Entry =
  /** The page goes on to the backend as it is; the join is recorded with `details`, and `grant` kept in the session (see `enter`). */
  | { kind: 'pass'; details?: EntryDetails; grant?: { room: string; id: string } }
  /**
   * The browser is sent to `location`, which carries a backend credential (a token, a signed join): the
   * gateway records the join with `details` first, then keeps `grant` in the session (a credential id for
   * `room`, which signalling later checks) and `remember` in the store, then redirects without caching.
   */
  | { kind: 'enter'; location: string; details: EntryDetails; grant?: { room: string; id: string }; remember?: { key: string; value: string; ttlMs: number } }
  /** `detail`: for the log (why the backend could not be reached, …), never shown to the person. */
  | { kind: 'refuse'; code: ErrorCode; detail?: string };

/** A request of the kind `signalling` from a signed-in session. */
export interface SignallingRequest {
  path: string;
  method: string;
  /** The raw query, exactly as the client sent it. */
  query: string;
  tenant?: string;
  /** The backend's own name for the endpoint, as its roomOf() gave it. */
  endpoint?: string;
  /** A WebSocket opening (its messages are judged only where the verdict carries a stream rule). */
  ws?: boolean;
  session: SessionView;
  now: number;
  /** Takes a value the backend remembered (at entry) from the store, once. */
  take(key: string): Promise<string | null>;
}

/** How a request's body is judged before it goes on. */
export interface BodyRule {
  /** The most bytes read; a longer body is refused. */
  limit: number;
  /**
   * `json` (the default): an application/json body, parsed; on a pass the parsed value goes on, re-encoded.
   * `text`: the body as UTF-8 text, whatever its type; on a pass exactly the bytes judged go on.
   */
  format?: 'json' | 'text';
  /** Undefined when the body may go on; otherwise the refusal and the room it named (for the audit record). */
  judge(body: unknown): BodyRefusal | undefined;
}

/** A refused body or stream message: `room` for the audit record; `reply`: what the client gets instead of the usual error page. */
export interface BodyRefusal {
  code: ErrorCode;
  room: string;
  reply?: { status: number; contentType: string; body: string };
}

/**
 * How each message a client sends on a proxied WebSocket is judged before it goes on. A refused message
 * never reaches the upstream: the client gets `frames`, then the socket is closed, and the refusal is audited.
 */
export interface StreamRule {
  judge(message: Buffer, binary: boolean): StreamRefusal | undefined;
}

export interface StreamRefusal {
  code: ErrorCode;
  /** The room the message tried to reach, for the audit record ('' when it named none). */
  room: string;
  /** Text frames the client gets before the close. */
  frames: readonly string[];
}

export type SignallingVerdict =
  /**
   * `upstreamPath`: where the upstream gets it (query as sent); `body`: judge the body too before it goes on;
   * `stream`: (a WebSocket) judge every message the client sends. `room`: the room the request belongs to
   * (the one its admission was for), which the gateway holds to that room's schedule: a request of a closed
   * room is refused, and a WebSocket of it closed at the close.
   */
  | { kind: 'pass'; upstreamPath?: string; body?: BodyRule; stream?: StreamRule; room?: string }
  | { kind: 'refuse'; code: ErrorCode };

export interface Backend {
  readonly type: string;
  /** Room names the backend uses for itself; policy lint refuses patterns that match them. */
  readonly reservedRooms: readonly string[];
  /**
   * Whether a guest (admitted to one room by invitation) may use this backend's paths that are not rooms:
   * true where its app, assets and API are part of being in a room (Jitsi, BBB); false for an app whose
   * other pages are for people with an account.
   */
  readonly guestsUseOwnPaths: boolean;
  /**
   * The largest WebSocket message a client may send through the proxy, enforced by the WebSocket server
   * as frames arrive (larger: closed with 1009 before it is buffered whole). Set where the backend reads
   * every message (Jitsi: its stanza limit and a margin); absent: the ws library's default (100 MiB),
   * since a generic app's messages may be of any size.
   */
  readonly webSocketMessageLimit?: number;
  /**
   * Whether the backend's public paths (`roomOf` → `public`) serve static files only: then a WebSocket
   * upgrade or a request with a method other than GET, HEAD or OPTIONS there is refused, as nothing would
   * read it (Jitsi: its web server may route more than files under them).
   */
  readonly publicPathsAreStatic?: boolean;
  /**
   * Where the backend takes a WebSocket upgrade (`path`: the raw path as sent); an upgrade anywhere else is
   * refused. Absent: wherever the request would pass (a generic app may use WebSockets on any path).
   */
  takesWebSocket?(lookup: RoomLookup, path: string): boolean;
  roomOf(path: RequestPath): RoomLookup;
  /** The page-load path that opens `room`, exactly as roomOf reads it back; undefined when none can be found. */
  pathOf(room: string): string | undefined;
  /** How a person the policy allowed enters the room on a page load. */
  enter(request: EntryRequest): Promise<Entry>;
  /** Whether a signalling request may go on. */
  signalling(request: SignallingRequest): Promise<SignallingVerdict>;
  /**
   * Ends the room's meeting for everyone, at the backend itself (BBB's `end`), when everyone is evicted.
   * Absent where the gateway's own measures are the whole of it (Jitsi: its tokens for the room are
   * refused at the gate and its signalling streams closed; the generic backend: its WebSockets closed).
   * Resolves to a detail for the audit record; throws when the backend refused or could not be reached.
   */
  end?(room: string): Promise<string>;
}

/** The first of `candidates` that `backend` reads back as exactly `room`, spelled canonically (for pathOf). */
export function firstPathOpening(backend: Pick<Backend, 'roomOf'>, room: string, candidates: readonly string[]): string | undefined {
  for (const path of candidates) {
    const reading = readRequestPath(path);
    if (reading.kind !== 'path') continue;
    const lookup = backend.roomOf(reading.path);
    if (lookup.kind === 'room' && lookup.room === room && lookup.canonicalPath === undefined) return path;
  }
  return undefined;
}
