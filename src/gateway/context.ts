// What the gateway's route groups share: settings, the services they call (sessions and their cookies
// and CSRF tokens from session/, page framing from ui/, second factors, the audit trail's two ways in), and
// refusals. It composes; the rules live in their own folders.
import { hkdfSync } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Config } from '../config/schema.js';
import { ERRORS, type ErrorCode } from '../errors.js';
import type { Backend } from '../backends/backend.js';
import type { LivePolicies } from '../policy/load.js';
import type { OidcRelyingParty } from '../identity/oidc.js';
import { Sessions, type LoadedSession } from '../session/sessions.js';
import type { Store } from '../store/store.js';
import { FactorStore, userKey, type UserFactors } from '../mfa/factors.js';
import { generateRecoveryCodes } from '../mfa/recovery.js';
import { AttemptLimiter } from '../mfa/limiter.js';
import { PendingLoginSeal } from '../identity/pending-logins.js';
import { decodeKey } from '../config/validate.js';
import { WebAuthnCeremonies } from '../mfa/webauthn.js';
import type { Lang } from '../ui/i18n.js';
import { errorPage } from '../ui/pages.js';
import type { Frame } from '../ui/layout.js';
import { PageFrames } from '../ui/page-frames.js';
import { serverTimeZone } from '../ui/time.js';
import type { SiteLinks } from '../ui/layout.js';
import { SessionCookies, type CookieNames } from '../session/cookies.js';
import { CsrfTokens } from '../session/csrf.js';
import type { AssertionSigner } from './assertion.js';
import type { AuditTrail } from './audit-trail.js';
import { isWebSocketUpgrade } from './admission.js';
import type { GatewayMetrics } from './metrics.js';
import type { SessionBus } from '../store/bus.js';
import { RoomControls } from '../rooms/controls.js';
import { ScheduleClosings } from '../rooms/closings.js';
import { scheduleStateOf } from '../policy/decide.js';
import type { AuthenticatorMetadata } from '../mfa/metadata.js';

export interface GatewayDeps {
  config: Config;
  /** The store everything lives in (already sealed). */
  store: Store;
  policies: LivePolicies;
  backend: Backend;
  oidc: OidcRelyingParty;
  assertion: AssertionSigner;
  /** secrets.encryptionKey, from which CSRF and address-hashing keys are derived. */
  encryptionKey: Buffer;
  /** The process's one audit trail (audit-trail.ts), shared by every generation of the app. */
  audit: AuditTrail;
  /** Logo bytes and type when ui.logo is set. */
  logo?: { body: Buffer; type: string };
  logger?: boolean | object;
  now?: () => number;
  metrics: GatewayMetrics;
  /** The authenticators listed in the FIDO metadata blob (mfa.metadata), when one is configured. */
  metadata?: AuthenticatorMetadata;
  /** Session ended/changed events between instances (pub/sub); without it nothing is cached and WebSockets are polled. */
  bus?: SessionBus;
  /** Builds the app on a server of its own (generations after a config reload; see handover.ts). */
  serverFactory?: (handler: (req: IncomingMessage, res: ServerResponse) => void) => Server;
  /** What /readyz reports about reloads (shared by every generation of the app). */
  status?: GatewayStatus;
  /** Send GET/HEAD requests for another Host to publicUrl, so cookies land where the login expects them. */
  redirectToPublicHost?: boolean;
}

export interface GatewayStatus {
  /** The running configuration and, after a rejected reload, why it was rejected. */
  config?: string;
  /** Why the last policy reload was rejected (the previous set keeps serving), if it was. */
  policiesRejected?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The session a hook read after the body arrived, for the handler's first loadSession (see there). */
    keptSession?: { session: LoadedSession | undefined };
  }
}

/** New recovery codes can be fetched for display this long, once. */
const SHOW_CODES_TTL_MS = 10 * 60_000;

const WS_STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests', 502: 'Bad Gateway', 503: 'Service Unavailable' };

export class GatewayContext {
  readonly deps: GatewayDeps;
  readonly config: Config;
  readonly publicUrl: URL;
  readonly https: boolean;
  readonly sessions: Sessions;
  readonly factors: FactorStore;
  readonly limiter: AttemptLimiter;
  readonly ceremonies: WebAuthnCeremonies;
  /** Seals the pending logins a browser keeps in its login cookie until the callback. */
  readonly pendingLogins: PendingLoginSeal;
  readonly cookies: CookieNames;
  readonly cookieBase: { path: string; httpOnly: boolean; secure: boolean; sameSite: 'lax' };
  readonly now: () => number;
  /** Appends an audit event about a request and resolves once it is durable (a join waits for it). */
  readonly audit: AuditTrail['record'];
  /** Appends an audit event about a request best-effort (refusals; anonymous ones within the refusal budget). */
  readonly auditQuietly: AuditTrail['recordQuietly'];
  readonly sessionCookies: SessionCookies;
  readonly csrf: CsrfTokens;
  readonly frames: PageFrames;
  /** Locks and evictions of rooms, shared by every instance through the store and the bus. */
  readonly rooms: RoomControls;
  /** Time-boxed rooms ended at the backend at their close, where the backend can end a meeting. */
  readonly closings: ScheduleClosings | undefined;

  constructor(deps: GatewayDeps) {
    this.deps = deps;
    this.config = deps.config;
    this.publicUrl = deps.config.publicUrl;
    this.https = this.publicUrl.protocol === 'https:';
    this.now = deps.now ?? Date.now;
    this.audit = deps.audit.record;
    this.auditQuietly = deps.audit.recordQuietly;
    this.sessionCookies = new SessionCookies(deps.config.session.cookieName, this.https);
    this.cookies = this.sessionCookies.names;
    this.cookieBase = this.sessionCookies.options;
    this.frames = new PageFrames({
      publicUrl: this.publicUrl, orgName: deps.config.ui.orgName, hasLogo: Boolean(deps.logo), idpOrigin: deps.oidc.settings.issuer.origin,
      langCookie: { name: this.cookies.lang, options: { ...this.cookieBase } },
      timeZone: deps.config.ui.timeZone ?? serverTimeZone(), links: siteLinksOf(deps.config.ui.links),
    });
    this.sessions = new Sessions(deps.store, { idleMs: deps.config.session.idleTimeout, absoluteMs: deps.config.session.absoluteTimeout }, this.now, {
      ...(deps.bus ? { bus: deps.bus } : {}),
      cacheMs: deps.config.session.localCache,
      maxPerPerson: deps.config.session.maxPerPerson,
    });
    this.rooms = new RoomControls(deps.store, deps.bus, this.now);
    const end = deps.backend.end?.bind(deps.backend);
    this.closings = end && new ScheduleClosings({
      store: deps.store, end, now: this.now,
      stateOf: (room, now) => scheduleStateOf(room, deps.policies.current, now),
      recorded: (room, details) => void deps.audit.recordProcess({ type: 'room.evicted', outcome: 'success', room, details }),
    });
    this.csrf = new CsrfTokens(derive(deps.encryptionKey, 'roomguard csrf v1'), this.publicUrl.origin);
    this.factors = new FactorStore(deps.store);
    const mfa = deps.config.mfa;
    this.limiter = new AttemptLimiter(deps.store, {
      maxFailures: mfa.maxFailures, windowMs: mfa.failureWindow, lockoutMs: mfa.lockout, maxLockoutMs: mfa.maxLockout, hardLockAfter: mfa.hardLockAfter, maxAccountsPerAddress: mfa.maxAccountsPerAddress,
    }, derive(deps.encryptionKey, 'roomguard address hash v1'), this.now);
    const previousKey = deps.config.secrets.previousEncryptionKey ? decodeKey(deps.config.secrets.previousEncryptionKey.reveal()) : undefined;
    this.pendingLogins = new PendingLoginSeal(deps.encryptionKey, previousKey ? [previousKey] : [], this.now);
    this.ceremonies = new WebAuthnCeremonies(deps.store, { id: this.publicUrl.hostname, name: deps.config.ui.orgName, origin: this.publicUrl.origin }, mfa.challengeTimeout);
  }

  /** The zone of times on pages and in messages (`ui.timeZone`, else the server's). */
  get timeZone(): string {
    return this.config.ui.timeZone ?? serverTimeZone();
  }

  lang(request: FastifyRequest): Lang {
    return this.frames.lang(request);
  }

  frame(request: FastifyRequest, reply: FastifyReply): Frame {
    return this.frames.frame(request, reply);
  }

  page(request: FastifyRequest, reply: FastifyReply, render: (frame: Frame) => string, status = 200) {
    return this.frames.page(request, reply, render, status);
  }

  isWebSocket(request: FastifyRequest): boolean {
    return isWebSocketUpgrade(request);
  }

  /** Ends a request with a catalogued error: a page in the person's language, or a bare refusal for WebSockets and JSON calls. */
  fail(request: FastifyRequest, reply: FastifyReply, code: ErrorCode, options: { action?: { href: string; label: string }; detail?: string; opens?: { at?: number; timeZone: string } } = {}) {
    const status = ERRORS[code].status;
    if (this.isWebSocket(request)) {
      return reply.code(status).header('connection', 'close').header('x-roomguard-reason', code).type('text/plain').send(`${WS_STATUS_TEXT[status] ?? 'Refused'}: ${code}\n`);
    }
    if (request.headers['content-type']?.startsWith('application/json')) {
      return reply.code(status).header('cache-control', 'no-store').send({ error: code, requestId: request.id });
    }
    return this.page(request, reply, (frame) => errorPage(frame, { code, requestId: request.id, ...options }), status);
  }

  /**
   * The request's session; `cached` lets a sub-resource request reuse a copy read within
   * session.localCache. With `keep`, a hook that runs after the body has arrived (guest-routes'
   * preValidation, right before the route's schema check and handler) leaves what it read for the
   * handler's own first call, which then costs no second store read a moment later; only that one call
   * gets it, every later one reads the store (the request may have changed the session meanwhile).
   * Never from onRequest: a client can hold its body back for seconds.
   */
  async loadSession(request: FastifyRequest, options: { cached?: boolean; keep?: boolean } = {}): Promise<LoadedSession | undefined> {
    const kept = request.keptSession;
    if (kept) {
      request.keptSession = undefined;
      return kept.session;
    }
    const session = await this.sessions.load(this.sessionCookies.sessionId(request), options.cached ? { cached: true } : {});
    if (options.keep) request.keptSession = { session };
    return session;
  }

  setSessionCookie(reply: FastifyReply, session: LoadedSession): void {
    this.sessionCookies.setSession(reply, session);
  }

  csrfToken(session: LoadedSession): string {
    return this.csrf.token(session);
  }

  /** A state-changing request must carry the session's CSRF token and, if the browser names one, our origin. */
  csrfValid(request: FastifyRequest, session: LoadedSession, token: unknown): boolean {
    return this.csrf.valid(request, session, token);
  }

  /** Whether the session's second factor (not the IdP's) is recent enough to change factors (mfa.freshFactor). */
  factorIsFresh(session: LoadedSession): boolean {
    const mfa = session.data.mfa;
    return Boolean(mfa && mfa.method !== 'idp' && this.now() - mfa.at <= this.config.mfa.freshFactor);
  }

  /**
   * Replaces the person's recovery codes, saves the factor document, and keeps the new codes for one
   * showing; returns the page that shows them and then continues to `returnTo`.
   */
  async issueRecoveryCodes(session: LoadedSession, doc: UserFactors, returnTo: string): Promise<{ page: string; count: number }> {
    const { codes, hashes } = await generateRecoveryCodes();
    doc.recovery = { hashes, createdAt: this.now() };
    await this.factors.save(userKey(session.data.identity.sub), doc);
    await this.deps.store.set(`mfa:show-codes:${session.hash}`, JSON.stringify(codes), SHOW_CODES_TTL_MS);
    return { page: `/_roomguard/mfa/recovery-codes?${new URLSearchParams({ returnTo })}`, count: codes.length };
  }

  loginHref(returnTo: string, fresh = false): string {
    return `/_roomguard/login?${new URLSearchParams({ returnTo, ...(fresh ? { fresh: '1' } : {}) })}`;
  }
}

function derive(key: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, 32));
}

/** `ui.links` as the hrefs the footer and notices use. */
function siteLinksOf(links: { privacy?: URL | undefined; imprint?: URL | undefined; help?: URL | undefined }): SiteLinks {
  return {
    ...(links.privacy ? { privacy: links.privacy.href } : {}),
    ...(links.imprint ? { imprint: links.imprint.href } : {}),
    ...(links.help ? { help: links.help.href } : {}),
  };
}
