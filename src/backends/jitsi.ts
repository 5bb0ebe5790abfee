// The Jitsi Meet backend: rooms are /<room> (or /<tenant>/<room>), canonicalised exactly like Jitsi's
// getBackendSafeRoomName; Jitsi's own paths are never rooms. Admission is a room-scoped HS256 JWT in the
// contract Prosody's token verification enforces (reference/jitsi.md §5): `room` names exactly one room,
// never "*"; `sub` is the tenant or the XMPP domain; short `exp`, backdated `nbf`.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { firstPathOpening, type Backend, type Entry, type EntryRequest, type RoomLookup, type SignallingRequest, type SignallingVerdict } from './backend.js';
import type { RequestPath } from './request-path.js';
import { canonicalRoom } from './room-name.js';
import { boshTerminateBody, judgeBoshBody, judgeWebSocketBytes, mucTenantOf, STANZA_BYTES_LIMIT, streamErrorCondition, streamErrorFrames, type StanzaRules, type StanzaVerdict } from './xmpp-stanzas.js';
import type { Identity, Role } from '../identity/types.js';

/** First path segments that are Jitsi's own files, served without login. */
const STATIC = new Set(['libs', 'css', 'static', 'images', 'sounds', 'lang', 'fonts', 'favicon.ico', 'robots.txt', 'manifest.json', 'pwa-worker.js']);
/**
 * Signalling endpoints that name the room in ?room=, by their first segment, and the exact rest of the
 * path each one has. Anything else under these names is refused: Jitsi's web server passes deeper
 * paths on (`/conference-request/v1/`, `/http-bind/x`) to Prosody or Jicofo, which answer them too.
 */
const SIGNALLING = new Map<string, { rest: readonly string[]; endpoint: SignallingEndpoint }>([
  ['http-bind', { rest: [], endpoint: 'bosh' }],
  ['xmpp-websocket', { rest: [], endpoint: 'xmpp' }],
  ['conference-request', { rest: ['v1'], endpoint: 'conference' }],
]);
type SignallingEndpoint = 'bosh' | 'xmpp' | 'conference' | 'room-info';
/** Prosody's room information (`/_api/room-info?room=…`, also under a tenant), which lists who is in the room. */
const ROOM_INFO = 'room-info';
/** Where Jitsi's web server may route a path to Prosody or Jicofo (prefix match of a segment; case folded, to be safe). */
const SIGNALLING_NAME = /(?:^|\/)(?:http-bind|xmpp-websocket|conference-request|_api\/room-info)/i;
/** Query parameters Prosody reads that the web server (not the browser) sets: the tenant of the connection. */
const SERVER_SET_PARAMETERS = ['prefix'];
/** Other paths of Jitsi (and of roomguard) that are never rooms. */
const OWN = new Set([
  'config.js', 'interface_config.js', 'external_api.js', 'logging_config.js', 'colibri-ws', '_unlock', '.well-known', '_api',
  'title.html', 'body.html', 'head.html', 'base.html', 'plugin.head.html', 'fonts.html',
  '_roomguard', 'healthz', 'readyz',
]);

/** Features a room policy may switch on for Jitsi (`context.features`). */
export const JITSI_FEATURES: readonly string[] = ['recording', 'livestreaming', 'transcription', 'outbound-call', 'sip-outbound-call'];

/** The largest conference-request body roomguard reads (the web client's is a few hundred bytes). */
export const CONFERENCE_BODY_LIMIT = 16 * 1024;
/** Jicofo's one HTTP conference-request path; Jitsi's web server maps the tenant forms onto it too. */
export const CONFERENCE_REQUEST_PATH = '/conference-request/v1';

/**
 * The room a conference request names for Jicofo, which reads it from the JSON body (`room`: the MUC JID
 * `room@<muc domain>`, or `[tenant]room@…` under a tenant), as a judged name (`room` or `tenant/room`);
 * undefined for anything else. The local part must already be canonical (Prosody takes it literally, so
 * `Board` or `b%61ard` would be another room than the one judged), one `@`, no resource.
 */
export function conferenceRequestRoom(body: unknown, muc: { mucDomain: string; tenants: boolean }): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const jid = (body as Record<string, unknown>).room;
  if (typeof jid !== 'string' || jid.length > 1024) return undefined;
  const at = jid.indexOf('@');
  if (at <= 0 || jid.indexOf('@', at + 1) !== -1 || jid.includes('/') || at === jid.length - 1) return undefined;
  // Only a room of the MUC service (or, with tenants, its tenant subdomain form Prosody maps to
  // `[tenant]room`): the same local part on the lobby, another service or another domain is another room.
  const tenant = mucTenantOf(jid.slice(at + 1), muc.mucDomain.toLowerCase());
  if (tenant === undefined || (tenant !== '' && !muc.tenants)) return undefined;
  const local = jid.slice(0, at);
  const tenanted = tenant === '' ? /^\[([^\]]+)\](.+)$/.exec(local) : null;
  const parts = tenant !== '' ? [tenant, local] : tenanted ? [tenanted[1]!, tenanted[2]!] : [local];
  if (parts.some((part) => canonicalRoom(part) !== part)) return undefined;
  return parts.join('/');
}

/** Over the stanza limit, messages still get the stream error (`too-large`) up to this many more bytes. */
const WEBSOCKET_MARGIN = 16 * 1024;

/**
 * An admission's id under auth: none, which carries when it was granted (`n<ms in base 36>.<random>`):
 * nothing else ends such an admission (no token expires). Ids of any other form never count as fresh.
 */
export function noneAdmissionId(now: number): string {
  return `n${Math.floor(now).toString(36)}.${randomBytes(12).toString('base64url')}`;
}

function noneAdmissionTime(id: string): number | undefined {
  const match = /^n([0-9a-z]{1,12})\./.exec(id);
  return match ? parseInt(match[1]!, 36) : undefined;
}

/** Nothing a client sends can be older than this for Prosody, which checks nbf without leeway. */
const NBF_BACKDATE_S = 30;

export interface JitsiSettings {
  /** `token`: each admission is a room-scoped JWT Prosody checks; `none`: no JWT, stock (anonymous) Prosody. */
  auth: 'token' | 'none';
  appId: string;
  appSecret: string;
  /** The MUC service whose rooms the stanza inspection judges (`conference.<domain>` in a stock Jitsi). */
  mucDomain: string;
  audience: string;
  domain: string;
  tenants: boolean;
  tokenTtlMs: number;
  userFields: string[];
  features: string[];
}

export interface MintedToken {
  token: string;
  jti: string;
  exp: number;
}

/** The judged name of a tenant room is `tenant/room`; without tenants just the room. */
export function splitRoom(judged: string): { tenant?: string; room: string } {
  const at = judged.indexOf('/');
  return at === -1 ? { room: judged } : { tenant: judged.slice(0, at), room: judged.slice(at + 1) };
}

export class JitsiBackend implements Backend {
  readonly type = 'jitsi';
  readonly reservedRooms: readonly string[] = [...STATIC, ...SIGNALLING.keys(), ...OWN];
  /** Jitsi's app, assets and signalling are part of being in a room. */
  readonly guestsUseOwnPaths = true;
  /** Every message is read (up to the stanza limit): anything far beyond it is no XMPP, never buffered. */
  readonly webSocketMessageLimit = STANZA_BYTES_LIMIT + WEBSOCKET_MARGIN;
  /** /libs, /css, /images …: files, never a WebSocket or a request body. */
  readonly publicPathsAreStatic = true;
  readonly settings: JitsiSettings;
  readonly #key: Uint8Array;
  readonly #pseudonymKey: Buffer;

  constructor(given: Omit<JitsiSettings, 'auth' | 'mucDomain'> & Partial<Pick<JitsiSettings, 'auth' | 'mucDomain'>>) {
    const settings: JitsiSettings = { ...given, auth: given.auth ?? 'token', mucDomain: given.mucDomain || `conference.${given.domain}` };
    this.settings = settings;
    this.#key = new TextEncoder().encode(settings.appSecret);
    this.#pseudonymKey = Buffer.from(hkdfSync('sha256', Buffer.from(settings.appSecret), Buffer.alloc(0), 'roomguard jitsi user id v1', 32));
  }

  /**
   * Jitsi's web server sends a path to Prosody or Jicofo wherever one of its segments begins with a
   * signalling name: its tenant locations (`^/([^/?&:'"]+)/xmpp-websocket`, `…/http-bind`,
   * `…/conference-request/v1`) match unanchored, and its catch-all (`^/([^/?&:'"]+)/(.*)$`) strips the first
   * segment and looks again. So `/favicon.ico/xmpp-websocket` or `/a/b/http-bind-x` would reach Prosody as
   * signalling that nobody read: such a segment anywhere but where roomguard reads signalling is refused
   * (and so is `_api/room-info…`, routed the same way to Prosody's room information).
   */
  roomOf(path: RequestPath): RoomLookup {
    const lookup = this.#lookup(path);
    if (lookup.kind === 'signalling') return lookup;
    return SIGNALLING_NAME.test(path.decoded) ? { kind: 'refused' } : lookup;
  }

  /**
   * Jitsi's WebSockets are the XMPP stream (`signalling()` takes it only on /xmpp-websocket, where every
   * message is read) and the videobridge's `/colibri-ws/…`; an upgrade on any other of its paths would be
   * relayed unread to wherever the web server sends it.
   */
  takesWebSocket(lookup: RoomLookup, path: string): boolean {
    if (lookup.kind === 'signalling') return true;
    const segments = path.split('/');
    return lookup.kind === 'none' && (segments[1] === 'colibri-ws' || (this.settings.tenants && segments[2] === 'colibri-ws'));
  }

  #lookup(path: RequestPath): RoomLookup {
    const rawPath = path.raw;
    if (rawPath === '/') return { kind: 'none' };
    const { segments } = path;
    // Jitsi's nginx matches case-sensitively: /LIBS is not /libs (it would serve the app page for room "libs").
    const first = segments[0]!;
    const own = (at: number, tenant?: string): RoomLookup | undefined => {
      const name = segments[at]!;
      if (STATIC.has(name)) return { kind: 'public' };
      // The room information Prosody gives the prejoin screen (its participants' names): only for an admitted room.
      if (name === '_api' && segments[at + 1] === ROOM_INFO) {
        return segments.length === at + 2 ? { kind: 'signalling', endpoint: 'room-info', ...(tenant !== undefined ? { tenant } : {}) } : { kind: 'refused' };
      }
      if (OWN.has(name)) return { kind: 'none' };
      const signalling = SIGNALLING.get(name);
      if (!signalling) return undefined;
      const rest = segments.slice(at + 1);
      if (rest.length !== signalling.rest.length || rest.some((part, i) => part !== signalling.rest[i])) return { kind: 'refused' };
      return { kind: 'signalling', endpoint: signalling.endpoint, ...(tenant !== undefined ? { tenant } : {}) };
    };
    const top = own(0);
    if (top) return top;
    const roomAt = (raw: string, prefix: string): RoomLookup => {
      const room = canonicalRoom(raw);
      if (room === undefined || this.reservedRooms.includes(room)) return { kind: 'invalid' };
      const canonicalPath = `${prefix}/${room}`;
      const judged = prefix ? `${prefix.slice(1)}/${room}` : room;
      return canonicalPath === rawPath ? { kind: 'room', room: judged } : { kind: 'room', room: judged, canonicalPath };
    };
    if (segments.length === 1) return roomAt(segments[0]!, '');
    // `/room/` (trailing slash) is the same room.
    if (segments.length === 2 && segments[1] === '' && !this.settings.tenants) {
      const lookup = roomAt(segments[0]!, '');
      return lookup.kind === 'room' ? { ...lookup, canonicalPath: `/${lookup.room}` } : lookup;
    }
    if (!this.settings.tenants) return { kind: 'invalid' };
    const tenant = canonicalRoom(segments[0]!);
    if (tenant === undefined) return { kind: 'invalid' };
    const second = segments[1]!;
    const tenantOwn = own(1, tenant);
    if (tenantOwn) return tenantOwn;
    if (segments.length === 2 && second !== '') return roomAt(segments[1]!, `/${tenant}`);
    return { kind: 'invalid' };
  }

  pathOf(room: string): string | undefined {
    return firstPathOpening(this, room, [`/${room}`]);
  }

  /**
   * A page load into an allowed room: a `?jwt=` the browser brings counts only if roomguard minted it for
   * this session and room (the page then goes on as it is); otherwise a fresh token for exactly this room
   * is minted and the browser sent to the room with it.
   */
  async enter(request: EntryRequest): Promise<Entry> {
    // Without tokens the page goes on as it is; the admission the stanza inspection reads is kept.
    if (this.settings.auth === 'none') return { kind: 'pass', details: { auth: 'none' }, grant: { room: request.room, id: noneAdmissionId(request.now) } };
    const params = new URLSearchParams(request.query);
    const given = params.get('jwt');
    const jti = given ? await this.tokenFor(given, request.room, request.now) : undefined;
    if (jti && (request.session.admissions[request.room] ?? []).includes(jti)) return { kind: 'pass', details: { tokenId: jti, reused: true } };
    const minted = await this.mint({ judgedRoom: request.room, identity: request.session.identity, role: request.role, features: request.features, now: request.now });
    params.set('jwt', minted.token);
    return {
      kind: 'enter',
      location: `${request.path}?${params}`,
      details: { tokenId: minted.jti, tokenExpires: new Date(minted.exp).toISOString() },
      grant: { room: request.room, id: minted.jti },
    };
  }

  /**
   * XMPP over WebSocket or BOSH, and Jicofo's conference request: only for a room this session was
   * admitted to (exactly one `?room=`), with exactly one token roomguard minted for it (required on the
   * XMPP connection, where Prosody would otherwise admit it anonymously). A conference request must be a
   * POST whose JSON body names that same room (Jicofo reads the body, not the query); it goes on to
   * Jicofo's one path with the body re-encoded.
   */
  async signalling(request: SignallingRequest): Promise<SignallingVerdict> {
    const conference = request.endpoint === 'conference';
    const roomInfo = request.endpoint === 'room-info';
    const refuse = (code: 'RG_JITSI_NOT_ADMITTED' | 'RG_JITSI_TOKEN_INVALID' | 'RG_REQUEST_INVALID'): SignallingVerdict => ({ kind: 'refuse', code });
    // Only the XMPP WebSocket is read message by message: an upgrade anywhere else would be relayed unread.
    if (request.ws === true && request.endpoint !== 'xmpp') return refuse('RG_REQUEST_INVALID');
    const params = new URLSearchParams(request.query);
    // Prosody takes the tenant of the connection from `prefix`, which Jitsi's web server sets: never the browser's.
    if ([...params.keys()].some((name) => SERVER_SET_PARAMETERS.includes(name.trim().toLowerCase()))) return refuse('RG_REQUEST_INVALID');
    // Exactly one room and at most one token: a second value might be the one the backend reads.
    if (params.getAll('room').length !== 1 || params.getAll('token').length > 1) return refuse('RG_JITSI_NOT_ADMITTED');
    const raw = params.get('room');
    const room = raw ? canonicalRoom(raw) : undefined;
    if (!room) return refuse('RG_JITSI_NOT_ADMITTED');
    const judged = request.tenant ? `${request.tenant}/${room}` : room;
    const admitted = request.session.admissions[judged] ?? [];
    if (admitted.length === 0) return refuse('RG_JITSI_NOT_ADMITTED');
    // Without tokens nothing else ends an admission: it lasts tokenTtl, then the next page load re-judges.
    if (this.settings.auth === 'none' && !this.#fresh(admitted, request.now)) return refuse('RG_JITSI_NOT_ADMITTED');
    const token = params.get('token');
    if (this.settings.auth === 'token') {
      if (token === null && !conference && !roomInfo) return refuse('RG_JITSI_TOKEN_INVALID');
      if (token !== null) {
        const jti = await this.tokenFor(token, judged, request.now);
        if (!jti || !admitted.includes(jti)) return refuse('RG_JITSI_TOKEN_INVALID');
      }
    }
    if (roomInfo) {
      // Prosody reads this query itself: only the admitted room, spelled exactly as Jitsi's client spells it.
      if (raw !== room) return refuse('RG_JITSI_NOT_ADMITTED');
      return request.method === 'GET' || request.method === 'HEAD' ? { kind: 'pass', room: judged } : refuse('RG_REQUEST_INVALID');
    }
    if (!conference) {
      const verdict = this.#xmppVerdict(request);
      return verdict.kind === 'pass' ? { ...verdict, room: judged } : verdict;
    }
    if (request.method !== 'POST') return refuse('RG_REQUEST_INVALID');
    const at = request.query === '' ? '' : `?${request.query}`;
    return {
      kind: 'pass',
      room: judged,
      upstreamPath: CONFERENCE_REQUEST_PATH + at,
      body: {
        limit: CONFERENCE_BODY_LIMIT,
        judge: (body) => {
          const named = conferenceRequestRoom(body, this.settings);
          return named === judged ? undefined : { code: 'RG_JITSI_NOT_ADMITTED', room: named ?? '(unreadable)' };
        },
      },
    };
  }

  /**
   * The XMPP itself is read too, whatever the auth mode: a connection opened for one room must not join
   * another. WebSocket: every message; BOSH: every POST body (GET only shows Prosody's info page).
   */
  /** auth: none: whether one of a room's admissions was granted less than tokenTtl ago. */
  #fresh(ids: readonly string[], now: number): boolean {
    return ids.some((id) => {
      const at = noneAdmissionTime(id);
      return at !== undefined && at <= now && now - at < this.settings.tokenTtlMs;
    });
  }

  #xmppVerdict(request: SignallingRequest): SignallingVerdict {
    const admissions = request.session.admissions;
    const rules: StanzaRules = {
      domain: this.settings.domain.toLowerCase(), mucDomain: this.settings.mucDomain.toLowerCase(), tenants: this.settings.tenants,
      // Own entries only: `constructor` or `__proto__` must never read as an admission.
      // auth: none: only admissions still fresh when the connection opened (a meeting in progress goes on).
      admitted: (room) => Object.hasOwn(admissions, room) && Array.isArray(admissions[room]) && admissions[room].length > 0 && (this.settings.auth === 'token' || this.#fresh(admissions[room], request.now)),
    };
    const code = (verdict: Extract<StanzaVerdict, { ok: false }>) => (verdict.why === 'not-admitted' ? 'RG_JITSI_NOT_ADMITTED' : 'RG_REQUEST_INVALID') as 'RG_JITSI_NOT_ADMITTED' | 'RG_REQUEST_INVALID';
    if (request.endpoint === 'xmpp') {
      return {
        kind: 'pass',
        stream: {
          judge: (message, binary) => {
            const verdict: StanzaVerdict = binary ? { ok: false, why: 'malformed' } : judgeWebSocketBytes(message, rules);
            if (verdict.ok) return undefined;
            return { code: code(verdict), room: verdict.room ?? '', frames: streamErrorFrames(streamErrorCondition(verdict.why)) };
          },
        },
      };
    }
    if (request.method === 'GET' || request.method === 'HEAD') return { kind: 'pass' };
    if (request.method !== 'POST') return { kind: 'refuse', code: 'RG_REQUEST_INVALID' };
    return {
      kind: 'pass',
      body: {
        limit: STANZA_BYTES_LIMIT,
        format: 'text',
        judge: (body) => {
          const verdict = judgeBoshBody(String(body), rules);
          if (verdict.ok) return undefined;
          // BOSH clients read a terminate body; the HTTP status says the same to anything else.
          return { code: code(verdict), room: verdict.room ?? '', reply: { status: 403, contentType: 'text/xml; charset=utf-8', body: boshTerminateBody(streamErrorCondition(verdict.why)) } };
        },
      },
    };
  }

  /** A stable pseudonymous user id: the same person gets the same id in every room and instance. */
  userId(identity: Identity): string {
    return createHmac('sha256', this.#pseudonymKey).update(`${identity.iss}\n${identity.sub}`).digest('base64url').slice(0, 22);
  }

  async mint(input: { judgedRoom: string; identity: Identity; role: Role; features: readonly string[]; now: number }): Promise<MintedToken> {
    const { tenant, room } = splitRoom(input.judgedRoom);
    if (!room || room === '*') throw new Error('a Jitsi token must name exactly one room');
    const s = this.settings;
    const iat = Math.floor(input.now / 1000);
    const exp = iat + Math.floor(s.tokenTtlMs / 1000);
    const jti = randomBytes(16).toString('base64url');
    const guest = input.role === 'guest';
    const user: Record<string, string | boolean> = { id: this.userId(input.identity), moderator: input.role === 'moderator' };
    // A guest's name is the one they chose (a pseudonym) and the only thing the others learn about them.
    if (s.userFields.includes('name') || guest) user.name = input.identity.name ?? input.identity.email ?? 'Participant';
    // Only an address the IdP verified (or oidc.trustEmail vouches for): the others in the room see it as this person's.
    if (s.userFields.includes('email') && input.identity.email && input.identity.emailVerified && !guest) user.email = input.identity.email;
    if (guest) user.guest = 'true';
    const features: Record<string, boolean> = Object.fromEntries(JITSI_FEATURES.map((f) => [f, !guest && s.features.includes(f) && input.features.includes(f)]));
    // Members the policy let in skip the lobby a moderator switched on; guests wait there to be admitted.
    features.lobby_bypass = !guest;
    const token = await new SignJWT({
      room,
      context: { user, features, ...(tenant ? { tenant } : {}) },
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(s.appId)
      .setAudience(s.audience)
      .setSubject(tenant ?? s.domain)
      .setIssuedAt(iat)
      .setNotBefore(iat - NBF_BACKDATE_S)
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(this.#key);
    return { token, jti, exp: exp * 1000 };
  }

  /** The token's jti when it is one of ours, unexpired, and for exactly this room; otherwise undefined. */
  async tokenFor(token: string, judgedRoom: string, now: number): Promise<string | undefined> {
    const { tenant, room } = splitRoom(judgedRoom);
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'], issuer: this.settings.appId, audience: this.settings.audience, subject: tenant ?? this.settings.domain,
        currentDate: new Date(now), typ: 'JWT',
      });
      return payload.room === room && typeof payload.jti === 'string' ? payload.jti : undefined;
    } catch {
      return undefined;
    }
  }
}
