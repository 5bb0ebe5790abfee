// A token check written from Prosody's contract (docs/jitsi.md: mod_auth_token,
// token/util.lib.lua, mod_token_verification) and independent of roomguard's minting code: plain
// node:crypto HMAC, no JWT library. Used to prove that minted tokens open exactly their room.

import { createHmac, timingSafeEqual } from 'node:crypto';

export interface ProsodySettings {
  appSecret: string;
  signatureAlgorithm: 'HS256';
  acceptedIssuers: string[];
  acceptedAudiences: string[];
  /** enable_domain_verification = true: `sub` must name the tenant (or the base domain). */
  domainVerification: boolean;
  domain: string;
}

export type ProsodyVerdict = { ok: true; moderator: boolean; claims: Record<string, unknown> } | { ok: false; why: string };

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Would Prosody let this token join `room` (the MUC node) of `tenant` at time `nowS` (seconds)? */
export function prosodyAllowsJoin(token: string, settings: ProsodySettings, target: { room: string; tenant?: string }, nowS: number): ProsodyVerdict {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, why: 'not a JWS' };
  const [h, p, s] = parts as [string, string, string];
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = decodePart(h);
    claims = decodePart(p);
  } catch {
    return { ok: false, why: 'undecodable' };
  }
  if (header.typ !== 'JWT') return { ok: false, why: 'typ must be JWT' };
  if (header.alg !== settings.signatureAlgorithm) return { ok: false, why: `alg ${String(header.alg)} is not ${settings.signatureAlgorithm}` };
  const expected = createHmac('sha256', settings.appSecret).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, why: 'bad signature' };
  if (typeof claims.iss !== 'string' || !settings.acceptedIssuers.includes(claims.iss)) return { ok: false, why: 'issuer not accepted' };
  // Compared as a string: an array aud does not pass unless '*' is accepted.
  if (typeof claims.aud !== 'string' || !(settings.acceptedAudiences.includes(claims.aud) || settings.acceptedAudiences.includes('*'))) return { ok: false, why: 'audience not accepted' };
  if (claims.exp !== undefined && (typeof claims.exp !== 'number' || nowS >= claims.exp)) return { ok: false, why: 'expired' };
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || nowS < claims.nbf)) return { ok: false, why: 'not yet valid' };
  if (typeof claims.room !== 'string') return { ok: false, why: 'room claim required' };
  const room = claims.room.toLowerCase();
  if (room !== '*' && room !== target.room) return { ok: false, why: `token is for room ${room}` };
  if (settings.domainVerification) {
    const sub = typeof claims.sub === 'string' ? claims.sub.toLowerCase() : undefined;
    const wanted = target.tenant ?? settings.domain;
    if (sub !== '*' && sub !== wanted) return { ok: false, why: `token is for ${String(sub)}, not ${wanted}` };
  }
  const context = claims.context as Record<string, unknown> | undefined;
  const user = context?.user as Record<string, unknown> | undefined;
  if (!context || !user) return { ok: false, why: 'context.user missing' };
  for (const key of ['id', 'name', 'email', 'avatar']) {
    if (user[key] !== undefined && typeof user[key] !== 'string') return { ok: false, why: `context.user.${key} must be a string` };
  }
  const moderator = user.moderator === true || user.moderator === 'true' || ['owner', 'moderator', 'teacher'].includes(String(user.affiliation));
  return { ok: true, moderator, claims };
}
