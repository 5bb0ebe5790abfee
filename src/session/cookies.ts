// The cookies of a roomguard session (DESIGN invariant 5): the session id (opaque, HttpOnly, Secure on
// https with the __Host- prefix, SameSite=Lax), the browser's sealed pending logins, and the page language.
// Names and options live here only; nothing else sets a session cookie.
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface CookieNames {
  session: string;
  /** The sealed pending logins of the browser (it binds a login to the browser that started it). */
  binding: string;
  lang: string;
}

export interface CookieOptions {
  path: string;
  httpOnly: boolean;
  secure: boolean;
  sameSite: 'lax';
}

export class SessionCookies {
  readonly names: CookieNames;
  readonly options: CookieOptions;

  /** `cookieName`: session.cookieName; on https every name gets the __Host- prefix. */
  constructor(cookieName: string, https: boolean) {
    const prefix = https ? '__Host-' : '';
    this.names = { session: `${prefix}${cookieName}`, binding: `${prefix}${cookieName}_login`, lang: `${prefix}${cookieName}_lang` };
    this.options = { path: '/', httpOnly: true, secure: https, sameSite: 'lax' };
  }

  /** The session id the browser sent, if any (`cookies` is missing before @fastify/cookie's hook ran). */
  sessionId(request: FastifyRequest): string | undefined {
    return request.cookies?.[this.names.session];
  }

  setSession(reply: FastifyReply, session: { id: string }): void {
    reply.setCookie(this.names.session, session.id, this.options);
  }
}
