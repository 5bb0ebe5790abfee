// Proxy mode: every HTTP request and WebSocket upgrade is judged (admission.ts) and then refused,
// redirected to a step, or passed to the upstream with identity headers; open WebSockets are closed
// when their session ends on any instance.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy';
import { isSpoofable, stripOwnCookies } from './identity-headers.js';
import type { GatewayContext } from './context.js';
import { RoomguardError } from '../errors.js';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { AdmissionJudge, admittedIdentityHeaders, isNavigation, isWebSocketUpgrade, type Admission } from './admission.js';
import type { BodyRefusal, BodyRule, StreamRefusal, StreamRule } from '../backends/backend.js';
import type { ErrorCode } from '../errors.js';
import { roomOpenAt } from '../policy/decide.js';
import { roomEventHash } from '../rooms/controls.js';

/** How often open WebSockets are checked against the store while the session bus is down. */
const SOCKET_POLL_MS = 1000;
/** With the bus up, ended sessions are reported at once; the store is still checked this often (timeouts). */
const SOCKET_RECHECK_MS = 15_000;

/**
 * Open proxied WebSockets per session. A session ended on any instance (logout, revocation, back-channel
 * logout, factor removal) closes its sockets as soon as the session bus reports it; sessions that simply
 * time out, or end while the bus is down, are found by checking the store. Any gap in the bus (it
 * dropped, or came back after a drop however short) may have swallowed an "ended" event, so every tracked
 * session is checked in the store at once then, not at its next 15 s re-check.
 */
export class SocketTracker {
  readonly #sockets = new Map<string, Set<Socket>>();
  /** WebSockets of public paths (no session): counted and closed at shutdown only. */
  readonly #anonymous = new Set<Socket>();
  readonly #checkedAt = new Map<string, number>();
  /** The room and person of each WebSocket that belongs to a room: closed when the room closes. */
  readonly #inRoom = new Map<Socket, { room: string; sub: string; openedAt: number }>();
  readonly #timer: NodeJS.Timeout;
  readonly #ctx: GatewayContext;
  readonly #unsubscribe: Array<() => void>;
  #sweeping = false;
  /** A gap was reported while a sweep was under way: that sweep may have read the store too early. */
  #sweepAgain = false;
  /** Counts gaps: a store read begun before the latest one must not mark its sessions as checked. */
  #gaps = 0;
  /** When the controls of the rooms with tracked sockets were last read from the store (0: due now). */
  #roomsCheckedAt = 0;
  #roomsChecking = false;
  #roomsAgain = false;

  constructor(ctx: GatewayContext) {
    this.#ctx = ctx;
    this.#unsubscribe = [
      ctx.sessions.onEnded((hash) => this.#close(hash)), ctx.sessions.onEventsMissed(() => this.#recheckAll()),
      ctx.rooms.onChange((hash) => void this.#closeEvicted(hash)),
    ];
    this.#timer = setInterval(() => {
      this.#closeClosedRooms();
      void this.#sweep();
      void this.#recheckRooms();
    }, SOCKET_POLL_MS);
    this.#timer.unref();
  }

  /** `room`: the room the WebSocket belongs to (its judged room, or the room a signalling stream was admitted to). */
  track(sessionHash: string, socket: Socket, room?: string, sub?: string): void {
    if (room !== undefined && sub !== undefined) {
      this.#inRoom.set(socket, { room, sub, openedAt: this.#ctx.now() });
      socket.once('close', () => this.#inRoom.delete(socket));
    }
    const set = this.#sockets.get(sessionHash) ?? new Set<Socket>();
    set.add(socket);
    this.#sockets.set(sessionHash, set);
    if (!this.#checkedAt.has(sessionHash)) this.#checkedAt.set(sessionHash, Date.now());
    this.#ctx.deps.metrics.websockets.inc();
    socket.once('close', () => {
      this.#ctx.deps.metrics.websockets.dec();
      set.delete(socket);
      if (set.size === 0 && this.#sockets.get(sessionHash) === set) {
        this.#sockets.delete(sessionHash);
        this.#checkedAt.delete(sessionHash);
      }
    });
  }

  trackAnonymous(socket: Socket): void {
    this.#anonymous.add(socket);
    this.#ctx.deps.metrics.websockets.inc();
    socket.once('close', () => {
      this.#ctx.deps.metrics.websockets.dec();
      this.#anonymous.delete(socket);
    });
  }

  /** Shutdown: tells every client "going away" (close code 1001) so it reconnects elsewhere, then ends the connection. */
  closeAll(): void {
    const goingAway = Buffer.from([0x88, 0x02, 0x03, 0xe9]); // FIN + close frame, status 1001, unmasked (server to client)
    for (const socket of [...this.#anonymous, ...[...this.#sockets.values()].flatMap((set) => [...set])]) {
      if (socket.destroyed) continue;
      socket.end(goingAway);
      setTimeout(() => socket.destroy(), 1000).unref();
    }
  }

  /** How many proxied WebSockets are open (graceful shutdown, retiring an app generation). */
  count(): number {
    let n = this.#anonymous.size;
    for (const set of this.#sockets.values()) n += set.size;
    return n;
  }

  /** Time-boxed rooms: the WebSockets of a room whose schedule has closed it (end plus closeGrace) are closed. */
  #closeClosedRooms(): void {
    if (this.#inRoom.size === 0) return;
    const set = this.#ctx.deps.policies.current;
    const now = this.#ctx.now();
    const open = new Map<string, boolean>();
    for (const [socket, { room }] of this.#inRoom) {
      let isOpen = open.get(room);
      if (isOpen === undefined) open.set(room, (isOpen = roomOpenAt(room, set, now)));
      if (!isOpen) socket.destroy();
    }
  }

  /** A room's evictions changed (on any instance): its WebSockets of evicted people, or of everyone admitted before, close. */
  async #closeEvicted(eventHash: string): Promise<void> {
    await this.#closeEvictedIn([...this.#inRoom.values()].map((v) => v.room).filter((room) => roomEventHash(room) === eventHash), false);
  }

  /**
   * An eviction's bus event may be lost (a gap; or an instance that missed it unnoticed): the controls of
   * every room with tracked sockets are read from the store at once after a gap, and on the sessions'
   * schedule otherwise (every 15 s with the bus up, every second without).
   */
  async #recheckRooms(): Promise<void> {
    const interval = this.#ctx.sessions.endsAreReported ? SOCKET_RECHECK_MS : SOCKET_POLL_MS;
    if (this.#inRoom.size === 0 || Date.now() - this.#roomsCheckedAt < interval) return;
    if (this.#roomsChecking) {
      this.#roomsAgain = true;
      return;
    }
    this.#roomsChecking = true;
    try {
      do {
        this.#roomsAgain = false;
        this.#roomsCheckedAt = Date.now();
        await this.#closeEvictedIn([...this.#inRoom.values()].map((v) => v.room), true);
      } while (this.#roomsAgain);
    } finally {
      this.#roomsChecking = false;
    }
  }

  async #closeEvictedIn(list: string[], fresh: boolean): Promise<void> {
    for (const room of new Set(list)) {
      let controls;
      try {
        controls = await this.#ctx.rooms.state(room, fresh);
      } catch {
        continue; // store unreachable: the admission checks refuse what the sockets would carry next
      }
      for (const [socket, where] of this.#inRoom) {
        if (where.room !== room) continue;
        const everyone = controls.everyoneEvictedAt !== undefined && where.openedAt <= controls.everyoneEvictedAt;
        if (everyone || controls.evicted.has(where.sub)) socket.destroy();
      }
    }
  }

  #close(hash: string): void {
    const sockets = this.#sockets.get(hash);
    if (!sockets) return;
    for (const socket of sockets) socket.destroy();
  }

  /** Every tracked session is due now (a gap in the bus): checked by a sweep started at once. */
  #recheckAll(): void {
    this.#gaps++;
    this.#checkedAt.clear();
    if (this.#sweeping) this.#sweepAgain = true;
    else void this.#sweep();
    this.#roomsCheckedAt = 0;
    void this.#recheckRooms();
  }

  async #sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      do {
        this.#sweepAgain = false;
        await this.#checkDue();
      } while (this.#sweepAgain);
    } finally {
      this.#sweeping = false;
    }
  }

  /** Closes the sockets of due sessions that no longer exist: every session while the bus is down. */
  async #checkDue(): Promise<void> {
    const interval = this.#ctx.sessions.endsAreReported ? SOCKET_RECHECK_MS : SOCKET_POLL_MS;
    const now = Date.now();
    const due = [...this.#sockets.keys()].filter((hash) => now - (this.#checkedAt.get(hash) ?? 0) >= interval);
    if (due.length === 0) return;
    const gaps = this.#gaps;
    let live: Set<string>;
    try {
      live = await this.#ctx.sessions.existing(due);
    } catch {
      return; // store unreachable: keep connections rather than cut every meeting
    }
    const checkedAt = Date.now();
    for (const hash of due) {
      // A socket that closed meanwhile left no entry: none is made for it.
      if (this.#sockets.has(hash) && gaps === this.#gaps) this.#checkedAt.set(hash, checkedAt);
      if (!live.has(hash)) this.#close(hash);
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
  }
}

/**
 * Reads the request body (at most `rule.limit` bytes) and lets the rule judge it. A JSON body is parsed
 * and, on a pass, the parsed value replaces the body, so the upstream gets it re-encoded — exactly what
 * was judged, never a second `room` or a spelling another parser reads differently. A text body goes on
 * byte for byte as it was judged. Undefined when it may go on.
 */
async function judgeBody(request: FastifyRequest, rule: BodyRule): Promise<{ code: ErrorCode; room?: string; reply?: BodyRefusal['reply'] } | undefined> {
  const json = (rule.format ?? 'json') === 'json';
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (json && type !== 'application/json') return { code: 'RG_REQUEST_INVALID' };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > rule.limit) return { code: 'RG_REQUEST_INVALID' };
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  let body: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    body = json ? JSON.parse(text) : text;
  } catch {
    return { code: 'RG_REQUEST_INVALID' };
  }
  const refusal = rule.judge(body);
  if (refusal) return refusal;
  request.body = json ? body : bytes;
  return undefined;
}

/** Request headers never copied to the upstream: hop-by-hop ones, and host and length (the proxy sets those) and the cookie (filtered). */
const NOT_COPIED = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'upgrade', 'cookie']);

declare module 'fastify' {
  interface FastifyRequest {
    admission?: Admission & { upstreamHeaders?: Record<string, string | string[] | undefined> };
  }
}

type UpstreamHeaders = Record<string, string | string[] | undefined>;

export async function registerProxy(app: FastifyInstance, ctx: GatewayContext): Promise<SocketTracker> {
  const tracker = new SocketTracker(ctx);
  app.addHook('onClose', async () => tracker.stop());
  app.decorate('roomguardSockets', () => tracker.count());
  app.decorate('roomguardCloseSockets', () => tracker.closeAll());
  // WebSockets whose messages are judged, by their connection: the proxy's message hook sees only the socket.
  const judgedStreams = new WeakMap<Socket, FastifyRequest>();
  const guard = proxyGuard(ctx, new AdmissionJudge(ctx), tracker, upstreamHeadersOf(ctx), judgedStreams);
  await app.register(async (proxied) => {
    proxied.addHook('onRequest', guard);
    // Requests the judge wants judged by their body too: only once the body has arrived.
    proxied.addHook('preHandler', bodyCheck(ctx));
    const streams = streamHooks(ctx, judgedStreams);
    await proxied.register(httpProxy, { ...proxyOptions(ctx, reportingWebSocket(streams.refusedByProtocol)), wsHooks: streams.hooks });
  });
  return tracker;
}

/** Every request is judged before anything reaches the upstream: refused, sent to a step, or passed with its headers prepared. */
function proxyGuard(ctx: GatewayContext, judge: AdmissionJudge, tracker: SocketTracker, upstreamHeaders: UpstreamHeaderBuilder, judgedStreams: WeakMap<Socket, FastifyRequest>) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const ws = isWebSocketUpgrade(request);
    const view = { method: request.method, rawUrl: request.raw.url ?? '/', ws, navigation: isNavigation(request.method, request.headers) };
    const read = judge.read(request, view);
    // A public path (the backend's static files) passes at once: no session to read, no identity to sign,
    // the client's headers still filtered like every other request's.
    if (read.kind === 'verdict' && read.verdict.kind === 'pass' && read.verdict.admission.public && !ws) {
      request.admission = { ...read.verdict.admission, upstreamHeaders: upstreamHeaders.plain(request) };
      return;
    }
    const verdict = read.kind === 'verdict' ? read.verdict : await judge.judgeTarget(request, view, read.target);
    switch (verdict.kind) {
      case 'refuse':
        return ctx.fail(request, reply, verdict.code, verdict.opens ? { opens: verdict.opens } : {});
      case 'redirect':
        if (verdict.sensitive) reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
        return reply.redirect(verdict.location, 302);
      case 'pass':
        request.admission = verdict.admission;
        if (ws && verdict.admission.session) {
          const { session, decision, room } = verdict.admission;
          tracker.track(session.hash, request.raw.socket, decision?.room ?? room, session.data.identity.sub);
        }
        else if (ws) tracker.trackAnonymous(request.raw.socket);
        if (ws && verdict.admission.stream) judgedStreams.set(request.raw.socket, request);
        // Identity headers are signed asynchronously: prepared here for the (synchronous) proxy rewrite.
        request.admission = { ...verdict.admission, upstreamHeaders: await upstreamHeaders.admitted(request) };
    }
  };
}

/**
 * The headers the upstream gets: the client's, without anything spoofable (identity, X-Forwarded-*,
 * proxy and address headers), roomguard's cookies or hop-by-hop headers (host and length are the
 * proxy's own, set at the rewrite); then roomguard's forwarding and identity headers. Built as a new
 * object rather than by deleting from a copy, which left it slow for every later access.
 */
function upstreamHeadersOf(ctx: GatewayContext): UpstreamHeaderBuilder {
  const ownCookies = [ctx.cookies.session, ctx.cookies.binding, ctx.cookies.lang];
  const forwardedProto = ctx.publicUrl.protocol.slice(0, -1);
  const forwardedHost = ctx.publicUrl.host;
  const plain = (request: FastifyRequest): UpstreamHeaders => {
    const incoming = request.headers;
    const headers: UpstreamHeaders = {};
    for (const name in incoming) {
      if (NOT_COPIED.has(name) || isSpoofable(name)) continue;
      headers[name] = incoming[name];
    }
    const cookie = stripOwnCookies(typeof incoming.cookie === 'string' ? incoming.cookie : undefined, ownCookies);
    if (cookie) headers.cookie = cookie;
    headers['x-forwarded-for'] = request.ip;
    headers['x-forwarded-proto'] = forwardedProto;
    headers['x-forwarded-host'] = forwardedHost;
    return headers;
  };
  return {
    plain,
    async admitted(request) {
      const headers = plain(request);
      const identity = await admittedIdentityHeaders(ctx, request.admission);
      for (const name in identity) headers[name] = identity[name];
      return headers;
    },
  };
}

/** The upstream's headers without identity (public paths, at once) or with the admitted identity's. */
interface UpstreamHeaderBuilder {
  plain(request: FastifyRequest): UpstreamHeaders;
  admitted(request: FastifyRequest): Promise<UpstreamHeaders>;
}

/** A request the judge passed with a body rule: refused here (and audited with the room it named) unless its body holds. */
function bodyCheck(ctx: GatewayContext) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const rule = request.admission?.body;
    if (!rule) return;
    const refusal = await judgeBody(request, rule);
    if (refusal === undefined) return;
    request.log.info({ event: 'body.refused', code: refusal.code }, 'request body refused');
    if (refusal.room !== undefined) ctx.auditQuietly(request, request.admission?.session, { type: 'room.decision', outcome: 'deny', reason: refusal.code, details: { path: request.url.split('?')[0]!.slice(0, 100), attempted: refusal.room.slice(0, 200) } });
    // The backend's own answer where its client reads one (a BOSH terminate body), else the error page.
    if (refusal.reply) return reply.code(refusal.reply.status).header('content-type', refusal.reply.contentType).header('cache-control', 'no-store').send(refusal.reply.body);
    return ctx.fail(request, reply, refusal.code);
  };
}

/** What the proxy's WebSocket relay sees of a connection: the client side (ws's WebSocket). */
interface RelaySocket {
  readonly _socket?: Socket;
  send(data: string): void;
  close(code: number): void;
  terminate(): void;
}

/** A stream rule's verdict; a rule that throws refuses the message. */
function judgeOrRefuse(request: FastifyRequest, rule: StreamRule, bytes: Buffer, binary: boolean): StreamRefusal | undefined {
  try {
    return rule.judge(bytes, binary);
  } catch (err) {
    request.log.error({ err }, 'stream rule failed: message refused');
    return { code: 'RG_REQUEST_INVALID', room: '', frames: [] };
  }
}

/** Holds a socket's writes until the current read has been relayed (nextTick: before any more input is read). */
function corkForThisTick(socket: Socket | undefined): void {
  if (!socket || socket.writableCorked > 0) return;
  socket.cork();
  process.nextTick(uncork, socket);
}

/** Every cork level: ours, and none other (ws corks and uncorks within one synchronous send). */
function uncork(socket: Socket | undefined): void {
  while (socket && socket.writableCorked > 0) socket.uncork();
}

/**
 * The proxy calls onIncomingMessage for each client message just before it forwards it (onOutgoingMessage
 * for each upstream message before it goes to the client). A message its stream rule refuses never
 * leaves: the messages before it are flushed, the upstream connection is dropped (the relay's send to a
 * closed socket sends nothing, and so does every later one), the client gets the rule's frames and a
 * normal close, and the refusal is audited with the room it named. Messages judged good go on at once.
 *
 * Both directions are corked while the messages of one read are relayed and uncorked before the next
 * tick: the messages that arrived together leave in one write instead of one system call each, which on
 * a busy relay costs more than reading the message (npm run bench, xmpp). Nothing waits for more input.
 */
function streamHooks(ctx: GatewayContext, judgedStreams: WeakMap<Socket, FastifyRequest>) {
  const refused = new WeakSet<Socket>();
  const audit = (request: FastifyRequest, code: ErrorCode, details: Record<string, string>) => {
    request.log.info({ event: 'stream.refused', code, ...details }, 'stream message refused');
    ctx.auditQuietly(request, request.admission?.session, { type: 'room.decision', outcome: 'deny', reason: code, details: { path: request.url.split('?')[0]!.slice(0, 100), ...details } });
  };
  return {
    hooks: {
      onOutgoingMessage: (_context: unknown, source: RelaySocket) => corkForThisTick(source._socket),
      onIncomingMessage: (_context: unknown, source: RelaySocket, target: RelaySocket, message: { data: Buffer | ArrayBuffer | Buffer[]; binary: boolean }) => {
        const socket = source._socket;
        const request = socket ? judgedStreams.get(socket) : undefined;
        const rule = request?.admission?.stream;
        if (!socket || !request || !rule) return corkForThisTick(target._socket);
        if (refused.has(socket)) return target.terminate();
        const { data } = message;
        const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
        // The proxy forwards a message whose hook threw: a judge that fails refuses instead.
        const refusal = judgeOrRefuse(request, rule, bytes, message.binary);
        if (!refusal) return corkForThisTick(target._socket);
        refused.add(socket);
        // The messages judged good before this one go out as they would have without the cork; this one never.
        uncork(target._socket);
        target.terminate();
        for (const frame of refusal.frames) source.send(frame);
        source.close(1000);
        audit(request, refusal.code, { attempted: refusal.room.slice(0, 200) });
      },
    },
    /** A judged stream the WebSocket library closed for a message no hook saw (`error`: the library's code). */
    refusedByProtocol: (socket: Socket, error: string) => {
      const request = judgedStreams.get(socket);
      if (!request || refused.has(socket)) return;
      refused.add(socket);
      audit(request, 'RG_REQUEST_INVALID', { websocketError: error.slice(0, 60) });
    },
  };
}

type ServerSocketClass = NonNullable<NonNullable<FastifyHttpProxyOptions['wsServerOptions']>['WebSocket']>;

/**
 * The server side of every proxied WebSocket. The WebSocket library refuses some messages before any
 * hook sees them — text that is not UTF-8 (closed with 1007), a message over the backend's bound (1009),
 * a frame against the protocol (1002) — and says so with an `error` event, reported here so that on a
 * judged stream the refusal is audited like the judge's own.
 */

function reportingWebSocket(report: (socket: Socket, error: string) => void): ServerSocketClass {
  const reporting = class ReportingWebSocket extends WebSocket {
    // The server calls it as ws's own WebSocket (null, undefined, its options): passed on as they come.
    constructor(...args: unknown[]) {
      super(...(args as [null]));
      this.on('error', (err: Error & { code?: string }) => {
        const socket = (this as unknown as RelaySocket)._socket;
        try {
          if (socket) report(socket, err.code ?? 'WS_ERR');
        } catch {
          // The relay's own error handling (which closes both sides) must run whatever the report did.
        }
      });
    }
  };
  // ws's own class with its statics (Server, createWebSocketStream, …) is what the options type names.
  return reporting as unknown as ServerSocketClass;
}

/** @fastify/http-proxy's options: where, with which headers, the query as judged, and what a refused upgrade or a dead upstream gets. */
function proxyOptions(ctx: GatewayContext, serverSocket: ServerSocketClass): FastifyHttpProxyOptions & { websocket: true } {
  const upstream = ctx.config.backend.upstream;
  const limit = ctx.deps.backend.webSocketMessageLimit;
  return {
    upstream: upstream.origin + upstream.pathname.replace(/\/$/, ''),
    websocket: true,
    // One WebSocket server serves every proxied path: the backend's bound, where it reads every message.
    wsServerOptions: { WebSocket: serverSocket, ...(limit !== undefined ? { maxPayload: limit } : {}) },
    proxyPayloads: true,
    // Where the judge said the request goes (a backend's own path for it), else where it was asked.
    handler: (request: FastifyRequest, reply: FastifyReply, dest: string, options: object) => reply.from(request.admission?.upstreamPath ?? dest, options),
    // @fastify/reply-from would log two more info lines per proxied request ("fetching from remote
    // server", "response received"): a third of the request's logging; roomguard writes its own access line.
    disableRequestLogging: true,
    replyOptions: {
      // The query exactly as the client sent it, as judged: the proxy would otherwise parse it and write it anew.
      queryString: (_search: string | undefined, rawUrl: string) => {
        const at = rawUrl.indexOf('?');
        return at === -1 ? '' : rawUrl.slice(at + 1);
      },
      rewriteRequestHeaders: (request, headers) => {
        const ready = (request as FastifyRequest).admission?.upstreamHeaders;
        // Fail closed: without prepared headers nothing is forwarded (never the raw ones with our cookie).
        if (!ready) throw new RoomguardError('RG_INTERNAL', 'upstream headers were not prepared');
        // Built for this request alone (by the guard), so completed in place. Host and length come from
        // the proxy's own view of this request; hop-by-hop headers were never copied.
        const merged = ready;
        merged.host = headers.host as string;
        if (headers['content-length'] !== undefined) merged['content-length'] = headers['content-length'] as string;
        return merged as typeof headers;
      },
      onError: (reply, { error }) => {
        reply.request.log.warn({ err: error.message }, 'upstream unavailable');
        void ctx.fail(reply.request as FastifyRequest, reply as unknown as FastifyReply, 'RG_UPSTREAM_UNAVAILABLE');
      },
    },
    wsClientOptions: {
      // Typed loosely upstream; the plugin calls it with (headers, request) for every proxied upgrade.
      rewriteRequestHeaders: (_headers: Record<string, string>, request: FastifyRequest) => {
        const ready = request.admission?.upstreamHeaders ?? {};
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(ready)) {
          if (typeof value !== 'string') continue;
          if (name === 'cookie' || name === 'user-agent' || name === 'accept-language' || name === 'origin' || name.startsWith('x-forwarded-') || name.startsWith('x-roomguard-')) out[name] = value;
        }
        return out;
      },
    } as object,
  };
}
