// OpenID Connect Back-Channel Logout 1.0: the IdP POSTs a signed logout_token when a person's IdP
// session ends; roomguard verifies it (signature from the IdP's JWKS, iss, aud, iat, jti once, the
// back-channel event, sid and/or sub, no nonce) and ends the matching sessions on every instance.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { RoomguardError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { OidcRelyingParty } from './oidc.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Logout tokens older than this are refused; their jti is remembered this long against replays. */
const MAX_AGE_S = 300;

export interface LogoutTarget {
  sub?: string;
  sid?: string;
}

export class BackchannelLogout {
  readonly #oidc: OidcRelyingParty;
  readonly #store: Store;
  #jwks?: ReturnType<typeof createRemoteJWKSet>;

  constructor(oidc: OidcRelyingParty, store: Store) {
    this.#oidc = oidc;
    this.#store = store;
  }

  async verify(logoutToken: unknown, now = Date.now()): Promise<LogoutTarget> {
    if (typeof logoutToken !== 'string' || logoutToken.length > 16_384) throw new RoomguardError('RG_LOGOUT_TOKEN_INVALID', 'missing logout_token');
    const config = await this.#oidc.metadata();
    const metadata = config.serverMetadata();
    if (!metadata.jwks_uri) throw new RoomguardError('RG_LOGOUT_TOKEN_INVALID', 'the IdP publishes no jwks_uri');
    this.#jwks ??= createRemoteJWKSet(new URL(metadata.jwks_uri));
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(logoutToken, this.#jwks, {
        issuer: metadata.issuer,
        audience: this.#oidc.settings.clientId,
        currentDate: new Date(now),
        maxTokenAge: MAX_AGE_S,
        requiredClaims: ['iat', 'jti'],
      }));
    } catch (err) {
      throw new RoomguardError('RG_LOGOUT_TOKEN_INVALID', (err as Error).message);
    }
    const events = payload.events as Record<string, unknown> | undefined;
    if (!events || typeof events !== 'object' || typeof events[EVENT] !== 'object' || events[EVENT] === null) throw new RoomguardError('RG_LOGOUT_TOKEN_INVALID', 'no back-channel logout event');
    if ('nonce' in payload) throw new RoomguardError('RG_LOGOUT_TOKEN_INVALID', 'a logout token must not carry a nonce');
    const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
    const sid = typeof payload.sid === 'string' ? (payload.sid as string) : undefined;
    if (!sub && !sid) throw new RoomguardError('RG_LOGOUT_TOKEN_INVALID', 'neither sub nor sid');
    if (!(await this.#store.add(`logout:jti:${payload.jti}`, '1', MAX_AGE_S * 2000))) throw new RoomguardError('RG_LOGOUT_TOKEN_INVALID', 'replayed logout token');
    return { ...(sub ? { sub } : {}), ...(sid ? { sid } : {}) };
  }
}
