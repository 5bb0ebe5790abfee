// TOTP per RFC 6238 through otplib: 6 digits, 30 s steps, ±1 step of drift, 160-bit secrets from the
// CSPRNG. A code is accepted at most once per authenticator: its time step must be later than the
// last accepted one (NIST SP 800-63B §5.1.4.2).
import { generateSecret, generateURI, verify } from 'otplib';

export const TOTP_PERIOD_S = 30;
export const TOTP_DIGITS = 6;

export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function totpUri(secret: string, issuer: string, label: string): string {
  return generateURI({ issuer, label, secret, period: TOTP_PERIOD_S, digits: TOTP_DIGITS, algorithm: 'sha1' });
}

export type TotpCheck = { ok: true; timeStep: number } | { ok: false; replay: boolean };

/** Checks a code against one secret. `now` in milliseconds. */
export async function checkTotp(secret: string, code: string, lastTimeStep: number, now: number): Promise<TotpCheck> {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return { ok: false, replay: false };
  const epoch = Math.floor(now / 1000);
  const options = { secret, token, epoch, period: TOTP_PERIOD_S, digits: TOTP_DIGITS, epochTolerance: TOTP_PERIOD_S } as const;
  // If the last accepted step lies beyond this window (the server clock went back), no code of the
  // window is new; otplib would throw on such an afterTimeStep, so decide here.
  const windowEnd = Math.floor(epoch / TOTP_PERIOD_S) + 1;
  if (lastTimeStep < windowEnd) {
    const fresh = await verify({ ...options, afterTimeStep: lastTimeStep });
    if (fresh.valid && 'timeStep' in fresh) return { ok: true, timeStep: fresh.timeStep };
  }
  // Tell a replayed code (valid, but already used) from a wrong one: replays are audited and refused.
  const any = await verify(options);
  return { ok: false, replay: any.valid };
}
