// The OIDC relying party (openid-client v6): authorization-code flow with PKCE S256, state and nonce.
// Pending logins live in the store (TTL = oidc.loginTimeout), so the callback may land on any instance;
// each is bound to the browser that started it and can be completed once.
import { createHash, randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { RoomguardError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { Identity } from '../policy/types.js';
import { identityFromClaims, type ClaimPaths } from './claims.js';
import { isLoopbackHost } from '../config/net.js';

export interface OidcSettings {
  issuer: URL;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  claims: ClaimPaths;
  userinfo: boolean;
  loginTimeoutMs: number;
  redirectUri: string;
  postLogoutRedirectUri: string;
}

interface PendingLogin {
  codeVerifier: string;
  nonce: string;
  returnTo: string;
  /** SHA-256 of the browser-binding cookie that started this login (login CSRF defence). */
  binding: string;
  /** OIDC max_age sent with this login, in seconds (fresh login for enrolment). */
  maxAge?: number;
}

export interface CompletedLogin {
  identity: Identity;
  returnTo: string;
  /** When the person authenticated at the IdP (ms): `auth_time`, else now. */
  authTime: number;
  /** Authentication methods the IdP reports (`amr`). */
  amr: string[];
  sid?: string;
  idToken?: string;
}

export interface LoginOptions {
  /** Demand an IdP login at most this many seconds old (OIDC max_age). */
  maxAgeSeconds?: number;
}

const DISCOVERY_RETRY_MS = 5000;

export class OidcRelyingParty {
  readonly settings: OidcSettings;
  readonly #store: Store;
  #config?: client.Configuration;
  #pending?: Promise<client.Configuration>;
  #lastFailure = 0;

  constructor(settings: OidcSettings, store: Store) {
    this.settings = settings;
    this.#store = store;
  }

  /** The IdP metadata; discovered on first use and retried (at most every 5 s) after a failure. */
  async metadata(): Promise<client.Configuration> {
    if (this.#config) return this.#config;
    if (!this.#pending) {
      if (Date.now() - this.#lastFailure < DISCOVERY_RETRY_MS) throw new RoomguardError('RG_IDP_UNAVAILABLE', 'discovery failed recently');
      const insecure = this.settings.issuer.protocol === 'http:' && isLoopbackHost(this.settings.issuer.hostname);
      this.#pending = client
        .discovery(this.settings.issuer, this.settings.clientId, undefined, client.ClientSecretBasic(this.settings.clientSecret), {
          ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
          timeout: 10,
        })
        .then((config) => {
          this.#config = config;
          return config;
        })
        .catch((err: unknown) => {
          this.#lastFailure = Date.now();
          throw new RoomguardError('RG_IDP_UNAVAILABLE', (err as Error).message, { cause: err });
        })
        .finally(() => {
          this.#pending = undefined;
        });
    }
    return this.#pending;
  }

  get ready(): boolean {
    return this.#config !== undefined;
  }

  /** Starts a login: stores the pending state and returns the IdP URL to redirect the browser to. */
  async begin(returnTo: string, browserBinding: string, options: LoginOptions = {}): Promise<URL> {
    const config = await this.metadata();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const pending: PendingLogin = { codeVerifier, nonce, returnTo, binding: bindingHash(browserBinding), ...(options.maxAgeSeconds !== undefined ? { maxAge: options.maxAgeSeconds } : {}) };
    await this.#store.set(`login:${state}`, JSON.stringify(pending), this.settings.loginTimeoutMs);
    return client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: this.settings.scopes.join(' '),
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(options.maxAgeSeconds !== undefined ? { max_age: String(options.maxAgeSeconds) } : {}),
    });
  }

  /** Completes a login from the callback URL. The pending state is taken (single use) before anything else. */
  async complete(callbackUrl: URL, browserBinding: string | undefined): Promise<CompletedLogin> {
    const state = callbackUrl.searchParams.get('state');
    if (!state || state.length > 512) throw new RoomguardError('RG_LOGIN_STATE_UNKNOWN', 'no state');
    const raw = await this.#store.take(`login:${state}`);
    if (raw === null) throw new RoomguardError('RG_LOGIN_STATE_UNKNOWN', 'state not pending');
    const pending = JSON.parse(raw) as PendingLogin;
    if (!browserBinding || bindingHash(browserBinding) !== pending.binding) {
      throw new RoomguardError('RG_LOGIN_STATE_UNKNOWN', 'callback arrived in a different browser than the login started in');
    }
    const error = callbackUrl.searchParams.get('error');
    if (error) {
      throw new RoomguardError(error === 'access_denied' ? 'RG_LOGIN_DENIED_BY_IDP' : 'RG_LOGIN_FAILED', `IdP returned error=${error.slice(0, 100)}`);
    }
    const config = await this.metadata();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
        // With max_age sent, openid-client requires auth_time and checks it is recent enough.
        ...(pending.maxAge !== undefined ? { maxAge: pending.maxAge } : {}),
      });
    } catch (err) {
      throw new RoomguardError('RG_LOGIN_FAILED', (err as Error).message, { cause: err });
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw new RoomguardError('RG_LOGIN_FAILED', 'no ID token');
    let claims: Record<string, unknown> = { ...idClaims };
    if (this.settings.userinfo && config.serverMetadata().userinfo_endpoint) {
      try {
        const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        claims = { ...info, ...idClaims };
      } catch (err) {
        throw new RoomguardError('RG_LOGIN_FAILED', `userinfo: ${(err as Error).message}`, { cause: err });
      }
    }
    const authTime = typeof idClaims.auth_time === 'number' ? idClaims.auth_time * 1000 : Date.now();
    return {
      identity: identityFromClaims(claims, this.settings.claims),
      returnTo: pending.returnTo,
      authTime: Math.min(authTime, Date.now()),
      amr: Array.isArray(idClaims.amr) ? idClaims.amr.filter((m): m is string => typeof m === 'string') : [],
      ...(typeof idClaims.sid === 'string' ? { sid: idClaims.sid } : {}),
      ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
    };
  }

  /** Where to send the browser after local logout, when the IdP supports RP-initiated logout. */
  async endSessionUrl(idToken: string | undefined): Promise<URL | undefined> {
    const config = this.#config ?? (await this.metadata().catch(() => undefined));
    if (!config?.serverMetadata().end_session_endpoint) return undefined;
    return client.buildEndSessionUrl(config, {
      post_logout_redirect_uri: this.settings.postLogoutRedirectUri,
      client_id: this.settings.clientId,
      ...(idToken ? { id_token_hint: idToken } : {}),
    });
  }
}

export function newBrowserBinding(): string {
  return randomBytes(32).toString('base64url');
}

function bindingHash(binding: string): string {
  return createHash('sha256').update(binding).digest('hex');
}
