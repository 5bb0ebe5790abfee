/// <reference path="./oidc-provider.d.ts" />
/**
 * Embedded OpenID Connect provider for `roomguard demo` and the integration
 * tests. It is the real `oidc-provider` (panva) with in-memory storage,
 * per-start random signing keys / cookie keys and a handful of demo accounts.
 *
 * FOR DEMOS AND TESTS ONLY: the accounts and their password are public, all
 * state is lost on restart and it speaks plain http on loopback.
 *
 * Nothing is started at import time: `oidc-provider` itself is imported lazily
 * by `startDemoIdp()` (importing it prints a runtime notice on Node 20).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { exportJWK, generateKeyPair } from 'jose';
import { html, join, type SafeHtml } from '../ui/html.js';
import type {
  Account,
  ClientMetadata,
  Configuration,
  ErrorOut,
  Interaction,
  KoaContextWithOIDC,
  Provider as OidcProvider,
} from 'oidc-provider';

// ---------------------------------------------------------------------------
// Demo accounts
// ---------------------------------------------------------------------------

export interface DemoUser {
  /** Stable subject identifier; also the login name ("Username"). */
  readonly sub: string;
  /** Plain-text demo password (these accounts are public by design). */
  readonly password: string;
  readonly email: string;
  /** Display name, e.g. "Alice Example". */
  readonly name: string;
  readonly groups: readonly string[];
  /**
   * The claims as a particular IdP would send them (tests of `oidc.profile`): when set, the ID token
   * carries `sub` plus `idToken`, and userinfo `sub` plus `userinfo`, instead of the demo's own claims.
   */
  readonly shape?: { idToken: Readonly<Record<string, unknown>>; userinfo: Readonly<Record<string, unknown>>; amr?: readonly string[]; acr?: string };
}

function demoUser(sub: string, name: string, groups: string[]): DemoUser {
  return Object.freeze({
    sub,
    password: 'demo',
    email: `${sub}@example.org`,
    name,
    groups: Object.freeze([...groups]),
  });
}

/** alice (board, board-chair, staff), bob (staff), carol (no groups); password `demo`. */
export const DEMO_USERS: readonly DemoUser[] = Object.freeze([
  demoUser('alice', 'Alice Example', ['board', 'board-chair', 'staff']),
  demoUser('bob', 'Bob Example', ['staff']),
  demoUser('carol', 'Carol Example', []),
]);

// ---------------------------------------------------------------------------
// Public API types
// ---------------------------------------------------------------------------

export interface DemoIdpClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /** When set, the client receives OIDC Back-Channel Logout tokens here. */
  backchannelLogoutUri?: string;
}

export interface DemoIdpOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 (default) picks a free port. */
  port?: number;
  clients: DemoIdpClient[];
  /** Accounts; default DEMO_USERS. */
  users?: readonly DemoUser[];
  /** Optional path component of the issuer, e.g. "/oidc". */
  issuerPath?: string;
}

export interface DemoIdp {
  /** Issuer identifier: `http://127.0.0.1:<port>` plus issuerPath (no trailing slash). */
  issuer: string;
  /** Origin the server listens on: `http://127.0.0.1:<port>` (no path). */
  url: string;
  /** Stops the server (idempotent); drops open keep-alive connections. */
  close(): Promise<void>;
  /** The underlying oidc-provider `Provider` instance (escape hatch for tests). */
  provider: unknown;
}

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

const PAGE_TITLE = 'roomguard demo identity provider';
const MAX_FORM_BYTES = 8 * 1024;
const MAX_FIELD_CHARS = 256;
const LOG_PREFIX = '[roomguard demo-idp]';
/** Marker of oidc-provider's self-submitting form_post page. */
const AUTO_SUBMIT_MARKER = 'document.forms[0].submit()';
const HTML_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

const TTL = {
  AccessToken: 60 * 60,
  AuthorizationCode: 60,
  BackchannelAuthenticationRequest: 10 * 60,
  ClientCredentials: 10 * 60,
  DeviceCode: 10 * 60,
  Grant: 24 * 60 * 60,
  IdToken: 60 * 60,
  Interaction: 30 * 60,
  PreAuthorizedCode: 10 * 60,
  RefreshToken: 24 * 60 * 60,
  Session: 8 * 60 * 60,
} as const;

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

function logError(message: string): void {
  process.stderr.write(`${LOG_PREFIX} ${message}\n`);
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const detail = (err as { error_description?: unknown }).error_description;
    return typeof detail === 'string' && detail !== err.message ? `${err.message} (${detail})` : err.message;
  }
  return String(err);
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function passwordMatches(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

function normalizeIssuerPath(issuerPath: string | undefined): string {
  if (issuerPath === undefined) return '';
  let p = issuerPath.trim();
  if (p === '' || p === '/') return '';
  if (!p.startsWith('/')) p = `/${p}`;
  p = p.replace(/\/+$/, '');
  if (!/^(?:\/[A-Za-z0-9._~-]+)+$/.test(p)) {
    throw new TypeError(`startDemoIdp: invalid issuerPath ${JSON.stringify(issuerPath)}`);
  }
  return p;
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

// Silence oidc-provider's console notices (runtime / in-memory adapter /
// "you SHOULD change ..." hints) while importing and constructing it. Only
// lines starting with "oidc-provider NOTICE|WARNING" are dropped; the filter is
// reference counted so concurrent starts restore the console correctly.
const OIDC_NOISE = /^(?:\u001b\[[0-9;]*m)?oidc-provider (?:NOTICE|WARNING):/;
let quietDepth = 0;
let savedConsole: { warn: typeof console.warn; info: typeof console.info } | undefined;

function quietOn(): void {
  if (quietDepth++ > 0) return;
  const saved = { warn: console.warn, info: console.info };
  savedConsole = saved;
  const filter =
    (original: (...args: unknown[]) => void) =>
    (...args: unknown[]): void => {
      if (typeof args[0] === 'string' && OIDC_NOISE.test(args[0])) return;
      original.apply(console, args);
    };
  console.warn = filter(saved.warn);
  console.info = filter(saved.info);
}

function quietOff(): void {
  if (--quietDepth > 0 || !savedConsole) return;
  console.warn = savedConsole.warn;
  console.info = savedConsole.info;
  savedConsole = undefined;
}

type OidcModule = typeof import('oidc-provider');
let oidcModule: Promise<OidcModule> | undefined;

async function loadOidcProvider(): Promise<OidcModule> {
  if (!oidcModule) {
    quietOn();
    oidcModule = import('oidc-provider').finally(quietOff);
    oidcModule.catch(() => {
      oidcModule = undefined;
    });
  }
  return oidcModule;
}

// ---------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------

// The style is part of the template's own text: inside <style> nothing may be escaped.
function layout(heading: string, body: SafeHtml): string {
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${PAGE_TITLE}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1f2328;margin:0;padding:2rem 1rem}
main{max-width:24rem;margin:0 auto;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1.5rem 1.75rem}
h1{font-size:1.25rem;margin:0 0 .25rem}
.demo{font-size:.85rem;color:#9a6700;background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.4rem .6rem;margin:.5rem 0 1rem}
.error{color:#d1242f;background:#ffebe9;border:1px solid #ff8182;border-radius:6px;padding:.4rem .6rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #d0d7de;border-radius:6px}
button{margin-top:1rem;padding:.55rem 1rem;font-size:1rem;border-radius:6px;border:1px solid #1f883d;background:#1f883d;color:#fff;cursor:pointer}
button.secondary{background:#f6f8fa;color:#1f2328;border-color:#d0d7de;margin-left:.5rem}
.hint{font-size:.85rem;color:#59636e;margin-top:1.25rem}
code{font-size:.9em}
</style>
</head>
<body>
<main>
<h1>${heading}</h1>
<p class="demo">${PAGE_TITLE} &mdash; for demos and tests only. Never use it for real accounts.</p>
${body}
</main>
</body>
</html>
`.toString();
}

function sendHtml(res: ServerResponse, status: number, html: string, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(html, 'utf8');
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(body.length),
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'content-security-policy': HTML_CSP,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    ...extraHeaders,
  });
  res.end(body);
}

function messagePage(res: ServerResponse, status: number, heading: string, message: string, extraHeaders?: Record<string, string>): void {
  sendHtml(res, status, layout(heading, html`<p>${message}</p>`), extraHeaders);
}

interface LoginFormLocals {
  action: string;
  clientLabel: string;
  login: string;
  error?: string;
  users: readonly DemoUser[];
  showDemoAccounts: boolean;
}

function loginPage(l: LoginFormLocals): string {
  const accounts = l.showDemoAccounts
    && html`<p class="hint">Demo accounts (password <code>demo</code>): ${join(
      l.users.map((u) => html`<code>${u.sub}</code>${u.groups.length ? ` (${u.groups.join(', ')})` : ' (no groups)'}`),
      ', ',
    )}</p>`;
  return layout(
    PAGE_TITLE,
    html`<p>Sign in to continue to <strong>${l.clientLabel}</strong>.</p>
${l.error && html`<p class="error" role="alert">${l.error}</p>`}
<form method="post" action="${l.action}">
<label for="login">Username</label>
<input id="login" name="login" type="text" value="${l.login}" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="${MAX_FIELD_CHARS}" required${!l.login && html` autofocus`}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" maxlength="${MAX_FIELD_CHARS}" required${l.login && html` autofocus`}>
<div><button type="submit">Sign in</button><button type="submit" class="secondary" name="abort" value="1" formnovalidate>Cancel</button></div>
</form>
${accounts}`,
  );
}

/**
 * oidc-provider renders a self-submitting (inline JavaScript) form for
 * form_post responses and for the "no session" / "principal changed" logout
 * hops. Rewrite those into a plain form with a visible button so that nothing
 * depends on inline script (CSP) or on JavaScript being enabled.
 */
function rewriteAutoSubmit(body: string, route: string | undefined): string | undefined {
  const form = /<form method="post" action="([^"<>]*)">/.exec(body);
  if (!form) return undefined;
  const action = unescapeAttribute(form[1] ?? '');
  const isLogout = route === 'end_session' || /\/session\/end\/confirm$/.test(action);
  const text =
    route === 'resume'
      ? 'You signed in as a different user. Press Continue to end the previous session first.'
      : isLogout
        ? 'To finish signing out of the demo identity provider, press Continue.'
        : 'Press Continue to return to the application.';
  return layout(
    isLogout ? 'Sign out' : PAGE_TITLE,
    html`<p>${text}</p>
<form method="post" action="${action}">
${hiddenInputs(body)}
<button type="submit" autofocus>Continue</button>
</form>`,
  );
}

/** The hidden fields of a form oidc-provider wrote (names restricted, values as it escaped them), written again. */
function hiddenInputs(markup: string): SafeHtml {
  const fields = [...markup.matchAll(/<input type="hidden" name="([A-Za-z0-9_.-]+)" value="([^"<>]*)"\/>/g)];
  return join(fields.map(([, name = '', value = '']) => html`<input type="hidden" name="${name}" value="${unescapeAttribute(value)}">`), '\n');
}

/** An attribute value as oidc-provider's htmlSafe escaped it, back to its text (the template escapes it again). */
function unescapeAttribute(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|#39);/g, (_entity, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name]!);
}

// ---------------------------------------------------------------------------
// Request body parsing
// ---------------------------------------------------------------------------

type FormResult = { ok: true; form: URLSearchParams } | { ok: false; status: 413 | 415 | 400 };

function readForm(req: IncomingMessage): Promise<FormResult> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    return Promise.resolve({ ok: false, status: 415 });
  }
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > MAX_FORM_BYTES) {
    req.resume();
    return Promise.resolve({ ok: false, status: 413 });
  }
  return new Promise<FormResult>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: FormResult): void => {
      if (done) return;
      done = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_FORM_BYTES) {
        chunks.length = 0;
        finish({ ok: false, status: 413 });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => finish({ ok: true, form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) }));
    req.on('error', () => finish({ ok: false, status: 400 }));
  });
}

// ---------------------------------------------------------------------------
// The provider
// ---------------------------------------------------------------------------

function accountFor(user: DemoUser): Account {
  const shape = user.shape;
  return {
    accountId: user.sub,
    claims(use) {
      if (shape) return { ...(use === 'id_token' ? shape.idToken : shape.userinfo), sub: user.sub };
      return {
        sub: user.sub,
        email: user.email,
        email_verified: true,
        name: user.name,
        preferred_username: user.sub,
        groups: [...user.groups],
      };
    },
  };
}

/** Every claim name the shaped users send that the standard scopes do not already carry. */
function shapedClaimNames(users: readonly DemoUser[]): string[] {
  const standard = new Set(['sub', 'email', 'email_verified', 'name', 'preferred_username', 'groups']);
  const names = new Set<string>();
  for (const u of users) for (const part of [u.shape?.idToken, u.shape?.userinfo]) for (const key of Object.keys(part ?? {})) if (!standard.has(key)) names.add(key);
  return [...names];
}

function toClientMetadata(c: DemoIdpClient): ClientMetadata {
  if (!c.clientId || !c.clientSecret) {
    throw new TypeError('startDemoIdp: every client needs clientId and clientSecret');
  }
  const meta: ClientMetadata = {
    client_id: c.clientId,
    client_secret: c.clientSecret,
    redirect_uris: [...c.redirectUris],
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    // oidc-provider accepts client_secret_post as well for secret-based clients.
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    application_type: 'web',
  };
  if (c.postLogoutRedirectUris?.length) meta.post_logout_redirect_uris = [...c.postLogoutRedirectUris];
  if (c.backchannelLogoutUri) {
    meta.backchannel_logout_uri = c.backchannelLogoutUri;
    meta.backchannel_logout_session_required = true;
  }
  return meta;
}

async function signingKeys(): Promise<{ keys: Array<Record<string, unknown> & { kty: string }> }> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  if (!jwk.kty) throw new Error('exportJWK returned a key without kty');
  return {
    keys: [{ ...jwk, kty: jwk.kty, kid: `demo-${randomBytes(6).toString('base64url')}`, alg: 'RS256', use: 'sig' }],
  };
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      if (!address || typeof address === 'string') {
        reject(new Error('demo IdP: unexpected server address'));
        return;
      }
      resolve(address);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeIdleConnections();
    // Give in-flight responses a moment, then drop whatever is left.
    setTimeout(() => server.closeAllConnections(), 250).unref();
  });
}

export async function startDemoIdp(options: DemoIdpOptions): Promise<DemoIdp> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const basePath = normalizeIssuerPath(options.issuerPath);
  const users = options.users ?? DEMO_USERS;
  const showDemoAccounts = options.users === undefined;

  const usersBySub = new Map<string, DemoUser>();
  for (const u of users) {
    if (usersBySub.has(u.sub)) throw new TypeError(`startDemoIdp: duplicate user sub ${JSON.stringify(u.sub)}`);
    usersBySub.set(u.sub, u);
  }
  const clients = options.clients.map(toClientMetadata);

  // Load the library and keys before binding, so a failure leaves nothing open.
  const [{ Provider }, jwks] = await Promise.all([loadOidcProvider(), signingKeys()]);

  const server = createServer();
  server.keepAliveTimeout = 5_000;
  const address = await listen(server, port, host);
  const url = `http://${hostForUrl(host)}:${address.port}`;
  const issuer = `${url}${basePath}`;

  let provider: OidcProvider;
  try {
    const configuration: Configuration = {
      clients,
      clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
      responseTypes: ['code'],
      pkce: { required: () => true },
      scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
      claims: {
        // amr and auth_time in every ID token: roomguard reads them (oidc.trustAmr, enrolment freshness).
        // Claims of shaped users (another IdP's claim names) travel with openid, which every login has.
        openid: ['sub', 'amr', 'auth_time', 'acr', ...shapedClaimNames(users)],
        email: ['email', 'email_verified'],
        profile: ['name', 'preferred_username'],
        groups: ['groups'],
      },
      conformIdTokenClaims: false,
      jwks,
      cookies: {
        keys: [randomBytes(32).toString('base64url')],
        // Browsers do not isolate cookies by port: include it in the names so
        // several demo IdPs (and the gateway) on 127.0.0.1 do not clobber each other.
        names: {
          session: `rgidp${address.port}_session`,
          interaction: `rgidp${address.port}_interaction`,
          resume: `rgidp${address.port}_resume`,
        },
      },
      findAccount: (_ctx, sub) => {
        const user = usersBySub.get(sub);
        return user ? accountFor(user) : undefined;
      },
      interactions: {
        url: (_ctx, interaction) => `${basePath}/interaction/${interaction.uid}`,
      },
      features: {
        devInteractions: { enabled: false },
        backchannelLogout: { enabled: true },
        userinfo: { enabled: true },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource(ctx, form) {
            const client = ctx.oidc?.client;
            const label = client ? (client.clientName ?? client.clientId) : undefined;
            ctx.type = 'html';
            // `form` is generated by oidc-provider: an empty <form id="op.logoutForm"
            // method="post"> carrying the xsrf token, written again here; the buttons reference it.
            const action = unescapeAttribute(/<form id="op\.logoutForm" method="post" action="([^"<>]*)">/.exec(form)?.[1] ?? '');
            ctx.body = layout(
              'Sign out',
              html`<p>Do you want to sign out of the demo identity provider${label && html` (requested by <strong>${label}</strong>)`}?</p>
<form id="op.logoutForm" method="post" action="${action}">${hiddenInputs(form)}</form>
<div><button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Sign out</button><button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button></div>`,
            );
          },
          postLogoutSuccessSource(ctx) {
            ctx.type = 'html';
            ctx.body = layout('Signed out', html`<p>You have been signed out. You can close this window.</p>`);
          },
        },
      },
      ttl: { ...TTL },
      clientBasedCORS: () => false,
      renderError(ctx, out: ErrorOut) {
        ctx.type = 'html';
        ctx.body = layout(
          'Something went wrong',
          html`<p class="error" role="alert"><strong>${out.error}</strong>${out.error_description && `: ${out.error_description}`}</p>
<p>Go back to the application and start again.</p>`,
        );
      },
      // oidc-provider's default fetch uses an SSRF-protecting dispatcher that refuses
      // loopback / private addresses, which would break back-channel logout to a
      // gateway on 127.0.0.1. The only targets are the statically configured clients.
      fetch: (target, init) => {
        const { dispatcher: _ignored, ...rest } = init;
        return globalThis.fetch(target, rest);
      },
    };

    quietOn();
    try {
      provider = new Provider(issuer, configuration);
    } finally {
      quietOff();
    }
  } catch (err) {
    await closeServer(server).catch(() => undefined);
    throw err;
  }

  provider.on('server_error', (ctx: KoaContextWithOIDC, err: unknown) => {
    logError(`server_error on ${ctx.method} ${ctx.path}: ${errorMessage(err)}`);
  });
  provider.on('backchannel.error', (_ctx: unknown, err: unknown, client: { clientId?: string } | undefined) => {
    logError(`back-channel logout to ${client?.clientId ?? '?'} failed: ${errorMessage(err)}`);
  });
  // Koa-level errors (escaped oidc-provider's own handlers). Registering a listener
  // also replaces Koa's default handler that prints full stacks.
  provider.on('error', (err: unknown) => {
    const e = err as { expose?: boolean; status?: number };
    if (e?.expose && (e.status ?? 500) < 500) return;
    logError(`request failed: ${errorMessage(err)}`);
  });

  provider.use(async (ctx, next) => {
    await next();
    if (ctx.type !== 'text/html') return;
    if (typeof ctx.body === 'string' && ctx.body.includes(AUTO_SUBMIT_MARKER)) {
      const rewritten = rewriteAutoSubmit(ctx.body, ctx.oidc?.route);
      if (rewritten === undefined) return; // unknown shape: leave it (and without CSP) as is
      ctx.body = rewritten;
      ctx.type = 'html';
    }
    if (typeof ctx.body === 'string' && !ctx.body.includes('<script')) {
      ctx.set('content-security-policy', HTML_CSP);
      ctx.set('x-frame-options', 'DENY');
      ctx.set('referrer-policy', 'no-referrer');
    }
  });

  const providerCallback = provider.callback();

  const clientLabel = (clientId: unknown): string => (typeof clientId === 'string' && clientId ? clientId : 'the application');

  const renderLogin = (res: ServerResponse, interaction: Interaction, login: string, error?: string): void => {
    const hint = interaction.params.login_hint;
    sendHtml(
      res,
      200,
      loginPage({
        action: `${basePath}/interaction/${interaction.uid}`,
        clientLabel: clientLabel(interaction.params.client_id),
        login: login || (typeof hint === 'string' ? hint.slice(0, MAX_FIELD_CHARS) : ''),
        ...(error !== undefined ? { error } : {}),
        users,
        showDemoAccounts,
      }),
    );
  };

  const findUser = (login: string): DemoUser | undefined => {
    const wanted = login.trim().toLowerCase();
    if (!wanted) return undefined;
    for (const u of users) {
      if (u.sub.toLowerCase() === wanted || u.email.toLowerCase() === wanted) return u;
    }
    return undefined;
  };

  const grantConsent = async (req: IncomingMessage, res: ServerResponse, interaction: Interaction): Promise<void> => {
    const accountId = interaction.session?.accountId;
    const clientId = interaction.params.client_id;
    if (!accountId || typeof clientId !== 'string') {
      messagePage(res, 400, 'Sign-in failed', 'This sign-in request is incomplete. Go back to the application and start again.');
      return;
    }
    const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
    const grant = existing ?? new provider.Grant({ accountId, clientId });
    const { details } = interaction.prompt;
    if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
    if (details.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(details.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  };

  const handleInteraction = async (req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'POST') {
      req.resume();
      messagePage(res, 405, 'Method not allowed', 'Use the sign-in form.', { allow: 'GET, POST' });
      return;
    }

    let form: URLSearchParams | undefined;
    if (req.method === 'POST') {
      const parsed = await readForm(req);
      if (!parsed.ok) {
        const text =
          parsed.status === 413
            ? 'The submitted form is too large.'
            : parsed.status === 415
              ? 'Unsupported form encoding.'
              : 'The form could not be read.';
        messagePage(res, parsed.status, 'Sign-in failed', text, parsed.status === 413 ? { connection: 'close' } : {});
        return;
      }
      form = parsed.form;
    }

    let interaction: Interaction;
    try {
      interaction = await provider.interactionDetails(req, res);
    } catch (err) {
      if ((err as { name?: unknown }).name === 'SessionNotFound') {
        messagePage(res, 400, 'Sign-in expired', 'This sign-in request has expired or is no longer valid. Go back to the application and start again.');
        return;
      }
      throw err;
    }
    if (interaction.uid !== uid) {
      messagePage(res, 400, 'Sign-in expired', 'This sign-in request does not match your browser session. Go back to the application and start again.');
      return;
    }

    switch (interaction.prompt.name) {
      case 'login': {
        if (!form) {
          renderLogin(res, interaction, '');
          return;
        }
        if (form.has('abort')) {
          await provider.interactionFinished(
            req,
            res,
            { error: 'access_denied', error_description: 'End-User aborted interaction' },
            { mergeWithLastSubmission: false },
          );
          return;
        }
        const login = (form.get('login') ?? '').slice(0, MAX_FIELD_CHARS);
        const password = (form.get('password') ?? '').slice(0, MAX_FIELD_CHARS);
        const user = findUser(login);
        // Always compare (against a dummy when the user is unknown) to keep timing flat.
        const ok = passwordMatches(password, user?.password ?? '\u0000no-such-user') && user !== undefined;
        if (!user || !ok) {
          renderLogin(res, interaction, login.trim(), 'Invalid username or password.');
          return;
        }
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: user.sub, amr: [...(user.shape?.amr ?? ['pwd'])], ...(user.shape?.acr ? { acr: user.shape.acr } : {}) } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      case 'consent':
        // Demo clients are first-party: consent is granted automatically.
        await grantConsent(req, res, interaction);
        return;
      default:
        messagePage(res, 400, 'Sign-in failed', `Unsupported interaction prompt "${interaction.prompt.name}".`);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawUrl = req.url ?? '/';
    let pathname = rawUrl.split('?', 1)[0] ?? '/';
    if (basePath) {
      if (pathname !== basePath && !pathname.startsWith(`${basePath}/`)) {
        req.resume();
        messagePage(res, 404, 'Not found', 'Nothing here.');
        return;
      }
      // "Mount" the provider under the issuer path the way express would:
      // oidc-provider derives its mount path from req.baseUrl.
      const rest = rawUrl.slice(basePath.length);
      req.url = rest.startsWith('/') ? rest : `/${rest}`;
      (req as IncomingMessage & { baseUrl?: string }).baseUrl = basePath;
      pathname = pathname.slice(basePath.length) || '/';
    }
    const m = /^\/interaction\/([A-Za-z0-9_-]{1,128})\/?$/.exec(pathname);
    if (m?.[1]) {
      await handleInteraction(req, res, m[1]);
      return;
    }
    await providerCallback(req, res);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      logError(`${req.method ?? '?'} ${req.url ?? '?'} failed: ${errorMessage(err)}`);
      if (!res.headersSent) {
        messagePage(res, 500, 'Something went wrong', 'The demo identity provider hit an internal error.');
      } else {
        res.destroy();
      }
    });
  });

  let closing: Promise<void> | undefined;
  return {
    issuer,
    url,
    provider,
    close: () => (closing ??= closeServer(server)),
  };
}
