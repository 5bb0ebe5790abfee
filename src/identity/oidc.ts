// The OIDC relying party (openid-client v6): authorization-code flow with PKCE S256, state and nonce.
// A started login is handed back to the caller, which keeps it sealed in the browser that started it
// (pending-logins.ts), so a login start writes nothing to the store and the callback may land on any
// instance. A login completes once: after the IdP has exchanged its code, its state is claimed in the
// store, so even an IdP that accepted a code twice could not make two sessions of one login.
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { RoomguardError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { Identity } from '../identity/types.js';
import { identityFromClaims, mergeClaims } from './claims.js';
import type { ClaimMapping } from './profiles.js';
import { isLoopbackHost } from '../config/net.js';
import type { PendingLogin } from './pending-logins.js';

export interface OidcSettings {
  issuer: URL;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  claims: ClaimMapping;
  userinfo: boolean;
  loginTimeoutMs: number;
  redirectUri: string;
  postLogoutRedirectUri: string;
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

  /**
   * Starts a login: returns the IdP URL to redirect the browser to, and the pending login for the caller
   * to keep in that browser (sealed) until the callback. Nothing is written to the store.
   */
  async begin(returnTo: string, options: LoginOptions = {}, now = Date.now()): Promise<{ url: URL; pending: PendingLogin }> {
    const config = await this.metadata();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const pending: PendingLogin = { state, codeVerifier, nonce, returnTo, ...(options.maxAgeSeconds !== undefined ? { maxAge: options.maxAgeSeconds } : {}), expiresAt: now + this.settings.loginTimeoutMs };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: this.settings.scopes.join(' '),
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(options.maxAgeSeconds !== undefined ? { max_age: String(options.maxAgeSeconds) } : {}),
    });
    return { url, pending };
  }

  /**
   * Completes a login from the callback URL, against the pending logins of the browser it arrived in
   * (none there: it started elsewhere, or long ago). The caller drops the matching one from the browser
   * whatever the outcome; the state is claimed in the store once the IdP has answered, so a callback
   * replayed with a copy of the cookie fails.
   */
  async complete(callbackUrl: URL, pendingLogins: readonly PendingLogin[], now = Date.now()): Promise<CompletedLogin> {
    const state = callbackUrl.searchParams.getAll('state');
    if (state.length !== 1 || !state[0] || state[0].length > 512) throw new RoomguardError('RG_LOGIN_STATE_UNKNOWN', 'no state');
    const pending = pendingLogins.find((login) => login.state === state[0]);
    if (!pending || pending.expiresAt <= now) throw new RoomguardError('RG_LOGIN_STATE_UNKNOWN', 'no pending login for this state in this browser');
    const error = callbackUrl.searchParams.get('error');
    if (error) {
      throw new RoomguardError(error === 'access_denied' ? 'RG_LOGIN_DENIED_BY_IDP' : 'RG_LOGIN_FAILED', `IdP returned error=${error.slice(0, 100)}`);
    }
    const config = await this.metadata();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
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
    // Written only now, after the IdP vouched for a login: an anonymous callback never reaches the store.
    const claimed = await this.#store.add(`login:done:${createHash('sha256').update(pending.state).digest('hex')}`, '1', Math.max(1000, pending.expiresAt - now));
    if (!claimed) throw new RoomguardError('RG_LOGIN_STATE_UNKNOWN', 'this login was completed already');
    let claims: Record<string, unknown> = { ...idClaims };
    if (this.settings.userinfo && config.serverMetadata().userinfo_endpoint) {
      try {
        const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        claims = mergeClaims(info, idClaims);
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

