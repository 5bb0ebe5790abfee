// TOTP against RFC 6238 Appendix B (SHA-1, secret "12345678901234567890"), with the drift window and
// single use per time step that NIST SP 800-63B §5.1.4.2 asks for.
import { describe, expect, it } from 'vitest';
import { checkTotp, newTotpSecret, totpUri } from '../../src/mfa/totp.js';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // base32 of ASCII "12345678901234567890"
const at = (seconds: number) => seconds * 1000;

describe('checkTotp', () => {
  // RFC 6238 Appendix B, SHA-1, last six digits of the eight shown.
  it.each([
    [59, '287082'],
    [1111111109, '081804'],
    [1111111111, '050471'],
    [1234567890, '005924'],
    [2000000000, '279037'],
  ])('accepts the RFC 6238 code at T=%i', async (t, code) => {
    const result = await checkTotp(SECRET, code, 0, at(t));
    expect(result).toEqual({ ok: true, timeStep: Math.floor(t / 30) });
  });

  it('tolerates one step of drift either way, not two', async () => {
    expect((await checkTotp(SECRET, '081804', 0, at(1111111109 + 30))).ok).toBe(true);
    expect((await checkTotp(SECRET, '081804', 0, at(1111111109 - 30))).ok).toBe(true);
    expect(await checkTotp(SECRET, '081804', 0, at(1111111109 + 60))).toEqual({ ok: false, replay: false });
    expect(await checkTotp(SECRET, '081804', 0, at(1111111109 - 60))).toEqual({ ok: false, replay: false });
  });

  it('refuses a code whose step was already accepted, and says it is a replay', async () => {
    const step = Math.floor(1111111109 / 30);
    expect(await checkTotp(SECRET, '081804', step, at(1111111109))).toEqual({ ok: false, replay: true });
    expect(await checkTotp(SECRET, '081804', step - 1, at(1111111109))).toEqual({ ok: true, timeStep: step });
    expect(await checkTotp(SECRET, '000000', step - 1, at(1111111109))).toEqual({ ok: false, replay: false });
  });

  it('treats every code as used when the last accepted step lies beyond the window (clock went back)', async () => {
    const step = Math.floor(1111111109 / 30);
    expect(await checkTotp(SECRET, '081804', step + 10, at(1111111109))).toEqual({ ok: false, replay: true });
  });

  it.each(['28708', '2870822', 'abcdef', '', '287 08x'])('refuses malformed input %j', async (code) => {
    expect((await checkTotp(SECRET, code, 0, at(59))).ok).toBe(false);
  });

  it('ignores spaces people type inside the code', async () => {
    expect((await checkTotp(SECRET, '287 082', 0, at(59))).ok).toBe(true);
  });
});

describe('TOTP enrolment material', () => {
  it('makes distinct secrets of at least 160 bits', () => {
    const a = newTotpSecret();
    const b = newTotpSecret();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Z2-7]{32,}$/);
  });

  it('describes the authenticator for apps: issuer, label, 6 digits, 30 s, SHA1', () => {
    const uri = new URL(totpUri(SECRET, 'Example Org', 'alice@example.org'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(uri.searchParams.get('secret')).toBe(SECRET);
    expect(uri.searchParams.get('issuer')).toBe('Example Org');
    // The Key URI format's defaults are 6 digits, 30 s and SHA1: absent means exactly those.
    expect(uri.searchParams.get('digits') ?? '6').toBe('6');
    expect(uri.searchParams.get('period') ?? '30').toBe('30');
    expect((uri.searchParams.get('algorithm') ?? 'SHA1').toUpperCase()).toBe('SHA1');
  });
});
