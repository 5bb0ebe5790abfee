// The BigBlueButton backend: rooms at /rooms/<room>, canonicalised like Jitsi's names. Admission is a
// `create` (idempotent; recording only where the policy allows it) and a checksum-signed `join` with the
// role from the policy; the browser may use each signed join URL once, within backend.bbb.joinTtl.
// Every other /bigbluebutton/api/* call from a browser is refused, so the server API stays private.
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { firstPathOpening, type Backend, type Entry, type EntryRequest, type RoomLookup, type SignallingRequest, type SignallingVerdict } from './backend.js';
import type { RequestPath } from './request-path.js';
import { GenericBackend } from './generic.js';
import { signedQuery, type ChecksumAlgorithm } from './bbb-api.js';
import type { Identity, Role } from '../identity/types.js';

/** API calls the HTML5 client itself makes with its session token: they need a session, not a checksum. */
const CLIENT_API_CALLS = new Set(['enter', 'stuns', 'signOut', 'guestWait']);
const API_PREFIX = '/bigbluebutton/api/';

/**
 * A segment as the most lenient router might compare it: decoded, compatibility-folded, lower case, and
 * without white space or invisible format characters anywhere (routers that trim path tokens exist).
 */
function looseName(rawSegment: string): string {
  let name: string;
  try {
    name = decodeURIComponent(rawSegment);
  } catch {
    name = rawSegment;
  }
  return name.normalize('NFKC').toLowerCase().replace(/[\p{White_Space}\p{Cf}]/gu, '');
}

export interface BbbSettings {
  upstream: URL;
  secret: string;
  checksum: ChecksumAlgorithm;
  meetingIdPrefix: string;
  joinTtlMs: number;
}

export class BbbBackend implements Backend {
  readonly type = 'bbb';
  readonly reservedRooms: readonly string[] = [];
  /** The HTML5 client and its own API calls are part of being in a room. */
  readonly guestsUseOwnPaths = true;
  readonly settings: BbbSettings;
  readonly #rooms = new GenericBackend('^/rooms/(?<room>[^/]+)/?$');
  readonly #pseudonymKey: Buffer;

  constructor(settings: BbbSettings) {
    this.settings = settings;
    this.#pseudonymKey = Buffer.from(hkdfSync('sha256', Buffer.from(settings.secret), Buffer.alloc(0), 'roomguard bbb user id v1', 32));
  }

  roomOf(path: RequestPath): RoomLookup {
    // The server API is everything bbb-web might route under /bigbluebutton/api, in any spelling a lenient
    // router could fold (case, full-width letters): only the exact client calls and the exact signed join
    // pass; every other spelling, a deeper path or the bare prefix is refused.
    const [first = '', second] = path.segments;
    if (second !== undefined && looseName(first) === 'bigbluebutton' && looseName(second) === 'api') {
      const call = path.raw.startsWith(API_PREFIX) && path.segments.length === 3 ? path.segments[2] : undefined;
      // A join URL is taken from the store once: never judged from a cached session.
      if (call === 'join') return { kind: 'signalling', fresh: true };
      return call !== undefined && CLIENT_API_CALLS.has(call) ? { kind: 'none' } : { kind: 'refused' };
    }
    return this.#rooms.roomOf(path);
  }

  pathOf(room: string): string | undefined {
    return firstPathOpening(this, room, [`/rooms/${room}`]);
  }

  /**
   * A page load into an allowed room: create the meeting (idempotent; recording only where the policy
   * allows it), sign a join with the policy's role, and send the browser to it. The join URL is
   * remembered for this session, once, for joinTtl: signalling() takes it back.
   */
  async enter(request: EntryRequest): Promise<Entry> {
    let createTime: string;
    try {
      createTime = await this.create(request.room, request.policy.title, request.features.includes('recording'), request.policy.file, request.policy.guestLobby === undefined ? {} : { guestLobby: request.policy.guestLobby });
    } catch (err) {
      return { kind: 'refuse', code: 'RG_UPSTREAM_UNAVAILABLE', detail: (err as Error).message };
    }
    const query = this.joinQuery({ room: request.room, identity: request.session.identity, role: request.role, createTime });
    const ttlMs = this.settings.joinTtlMs;
    return {
      kind: 'enter',
      location: `${API_PREFIX}join?${query}`,
      details: { meetingID: this.meetingId(request.room) },
      remember: { key: joinKey(query), value: JSON.stringify({ session: request.session.hash, exp: request.now + ttlMs, room: request.room }), ttlMs },
    };
  }

  /** A join URL passes only if roomguard signed it for this session, once, within its lifetime. */
  async signalling(request: SignallingRequest): Promise<SignallingVerdict> {
    const raw = await request.take(joinKey(request.query));
    let minted: { session?: unknown; exp?: unknown; room?: unknown } | undefined;
    try {
      minted = raw ? (JSON.parse(raw) as { session?: unknown; exp?: unknown; room?: unknown }) : undefined;
    } catch {
      minted = undefined;
    }
    if (!minted || minted.session !== request.session.hash || typeof minted.exp !== 'number' || minted.exp <= request.now) return { kind: 'refuse', code: 'RG_BBB_JOIN_INVALID' };
    return { kind: 'pass', ...(typeof minted.room === 'string' ? { room: minted.room } : {}) };
  }

  /** Ends the meeting for everyone in it (the signed `end` call); a meeting that is not running is fine. */
  async end(room: string): Promise<string> {
    const s = this.settings;
    const query = signedQuery('end', [['meetingID', this.meetingId(room)]], s.secret, s.checksum);
    const response = await fetch(new URL(`${API_PREFIX}end?${query}`, s.upstream), { signal: AbortSignal.timeout(10_000) });
    const xml = await response.text();
    const returncode = /<returncode>([^<]*)<\/returncode>/.exec(xml)?.[1];
    const key = /<messageKey>([^<]*)<\/messageKey>/.exec(xml)?.[1];
    if (response.ok && returncode === 'SUCCESS') return 'ended';
    if (response.ok && key === 'notFound') return 'not running';
    throw new Error(`BBB end failed: ${key ?? `HTTP ${response.status}`}`);
  }

  meetingId(room: string): string {
    return `${this.settings.meetingIdPrefix}${room}`;
  }

  /**
   * Creates the meeting (idempotent) and returns its createTime, which pins the join to this meeting instance.
   * `guestLobby`: the room policy's guests.lobby (undefined where the policy admits no guests).
   */
  async create(room: string, title: string | undefined, recording: boolean, policyFile: string, options: { guestLobby?: boolean } = {}): Promise<string> {
    const s = this.settings;
    const { guestLobby } = options;
    const query = signedQuery('create', [
      ['name', (title ?? decodeURIComponent(room)).slice(0, 64).padEnd(2, '-')],
      ['meetingID', this.meetingId(room)],
      ['record', recording ? 'true' : 'false'],
      // With a lobby, BBB holds joins marked guest=true until a moderator admits them; members pass. Rooms
      // without guests leave bbb-web's own default (defaultGuestPolicy) alone.
      ...(guestLobby === undefined ? [] : [['guestPolicy', guestLobby ? 'ASK_MODERATOR' : 'ALWAYS_ACCEPT'] as [string, string]]),
      ['meta_roomguard-policy', policyFile],
    ], s.secret, s.checksum);
    const response = await fetch(new URL(`${API_PREFIX}create?${query}`, s.upstream), { signal: AbortSignal.timeout(10_000) });
    const xml = await response.text();
    const returncode = /<returncode>([^<]*)<\/returncode>/.exec(xml)?.[1];
    const createTime = /<createTime>(\d+)<\/createTime>/.exec(xml)?.[1];
    if (!response.ok || returncode !== 'SUCCESS' || !createTime) {
      const key = /<messageKey>([^<]*)<\/messageKey>/.exec(xml)?.[1] ?? `HTTP ${response.status}`;
      throw new Error(`BBB create failed: ${key}`);
    }
    return createTime;
  }

  /** The signed query of a join for this person, exactly as it will be sent. */
  joinQuery(input: { room: string; identity: Identity; role: Role; createTime: string }): string {
    const s = this.settings;
    // A guest is a VIEWER marked guest=true: the meeting's guestPolicy decides whether they wait to be admitted.
    return signedQuery('join', [
      ['fullName', Array.from(input.identity.name ?? input.identity.email ?? 'Participant').slice(0, 64).join('')],
      ['meetingID', this.meetingId(input.room)],
      ['role', input.role === 'moderator' ? 'MODERATOR' : 'VIEWER'],
      ...(input.role === 'guest' ? [['guest', 'true'] as [string, string]] : []),
      ['userID', this.userId(input.identity)],
      ['createTime', input.createTime],
      ['redirect', 'true'],
    ], s.secret, s.checksum);
  }

  userId(identity: Identity): string {
    return `rg-${createHmac('sha256', this.#pseudonymKey).update(`${identity.iss}\n${identity.sub}`).digest('base64url').slice(0, 22)}`;
  }
}

/** Store key of a signed join URL (by its query's hash: the URL is a bearer secret). */
export function joinKey(query: string): string {
  return `bbb:join:${createHash('sha256').update(query).digest('hex')}`;
}
