// TOTP (src/mfa/totp.ts) against RFC 6238 and the requirements (security-requirements.md B.12–B.17):
// 30 s steps, ±1 step of drift and no more, each code accepted once (its time step must be later than the
// last accepted one; a replay is told apart from a wrong code), 6 digits, ≥ 160-bit secrets from the
// CSPRNG, and an otpauth:// URI an authenticator app reads as SHA-1 / 6 digits / 30 s.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkTotp, newTotpSecret, totpUri } from '../../src/mfa/totp.js';

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
const RFC_SECRET_ASCII = '12345678901234567890';
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** RFC 6238 Appendix B, SHA-1 column (8 digits), with the 6-digit code being its last six digits. */
const RFC_VECTORS: ReadonlyArray<{ t: number; eight: string; six: string }> = [
  { t: 59, eight: '94287082', six: '287082' },
  { t: 1111111109, eight: '07081804', six: '081804' },
  { t: 1111111111, eight: '14050471', six: '050471' },
  { t: 1234567890, eight: '89005924', six: '005924' },
  { t: 2000000000, eight: '69279037', six: '279037' },
  { t: 20000000000, eight: '65353130', six: '353130' },
];

const STEP_S = 30;
const ms = (seconds: number) => seconds * 1000;
const stepOf = (seconds: number) => Math.floor(seconds / STEP_S);

// An independent RFC 4226 / RFC 6238 reference, used only to compute codes for steps the RFC table does
// not list (drift windows, replay). It is itself checked against the RFC table below.
function base32Decode(input: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = input.replace(/=+$/, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const index = alphabet.indexOf(ch);
    if (index < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function hotp(key: Buffer, counter: number, digits: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

const codeAtStep = (step: number, secret = RFC_SECRET) => hotp(base32Decode(secret), step, 6);

/** A 6-digit string that is not the code of any step in [from, to] for the given secret. */
function wrongCodeFor(from: number, to: number, secret = RFC_SECRET): string {
  const valid = new Set<string>();
  for (let s = from; s <= to; s++) valid.add(codeAtStep(s, secret));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!valid.has(candidate)) return candidate;
  }
}

describe('the test reference implementation', () => {
  it('reproduces the RFC 6238 Appendix B SHA-1 vectors (so codes it computes for other steps can be trusted)', () => {
    expect(base32Decode(RFC_SECRET).toString('ascii')).toBe(RFC_SECRET_ASCII);
    for (const v of RFC_VECTORS) {
      expect(hotp(base32Decode(RFC_SECRET), stepOf(v.t), 8)).toBe(v.eight);
      expect(hotp(base32Decode(RFC_SECRET), stepOf(v.t), 6)).toBe(v.six);
      expect(v.eight.endsWith(v.six)).toBe(true);
    }
  });
});

describe('checkTotp: RFC 6238 test vectors', () => {
  it.each(RFC_VECTORS)('accepts $six at T=$t s and reports time step floor(T/30)', async ({ t, six }) => {
    await expect(checkTotp(RFC_SECRET, six, 0, ms(t))).resolves.toEqual({ ok: true, timeStep: stepOf(t) });
  });

  it('accepts the code anywhere within its own 30-second step, not only at the vector time', async () => {
    // T=59 s lies in step 1, which spans 30 s .. 59 s.
    await expect(checkTotp(RFC_SECRET, '287082', 0, ms(30))).resolves.toEqual({ ok: true, timeStep: 1 });
    await expect(checkTotp(RFC_SECRET, '287082', 0, ms(45) + 500)).resolves.toEqual({ ok: true, timeStep: 1 });
  });

  it('refuses the 8-digit form of a valid code (6 digits only)', async () => {
    await expect(checkTotp(RFC_SECRET, '94287082', 0, ms(59))).resolves.toMatchObject({ ok: false });
  });

  it('refuses a valid code under a different secret', async () => {
    const other = newTotpSecret();
    const check = await checkTotp(other, '287082', 0, ms(59));
    // A 1-in-a-million chance that 287082 is also the other secret's code in the window; treat that as a
    // genuine coincidence rather than a failure.
    const coincidence = [0, 1, 2].some((s) => codeAtStep(s, other) === '287082');
    if (!coincidence) expect(check).toEqual({ ok: false, replay: false });
  });
});

describe('checkTotp: clock drift of at most ±1 step', () => {
  // T=1111111109 s is the last second of step 37037036 (1111111080 .. 1111111109).
  const t = 1111111109;
  const step = stepOf(t);
  const code = '081804';

  it('accepts the code one step (30 s) later and reports the code’s own step', async () => {
    await expect(checkTotp(RFC_SECRET, code, 0, ms(t + 30))).resolves.toEqual({ ok: true, timeStep: step });
  });

  it('accepts the code one step (30 s) earlier and reports the code’s own step', async () => {
    await expect(checkTotp(RFC_SECRET, code, 0, ms(t - 30))).resolves.toEqual({ ok: true, timeStep: step });
  });

  it('accepts up to the last second of the next step and from the first second of the previous step', async () => {
    const stepStart = step * STEP_S; // 1111111080
    await expect(checkTotp(RFC_SECRET, code, 0, ms(stepStart + 2 * STEP_S - 1))).resolves.toEqual({ ok: true, timeStep: step });
    await expect(checkTotp(RFC_SECRET, code, 0, ms(stepStart - STEP_S))).resolves.toEqual({ ok: true, timeStep: step });
  });

  it('refuses the code two steps (60 s) later or earlier', async () => {
    await expect(checkTotp(RFC_SECRET, code, 0, ms(t + 60))).resolves.toEqual({ ok: false, replay: false });
    await expect(checkTotp(RFC_SECRET, code, 0, ms(t - 60))).resolves.toEqual({ ok: false, replay: false });
  });

  it('refuses the code from the first second two steps later and up to the last second two steps earlier', async () => {
    const stepStart = step * STEP_S;
    await expect(checkTotp(RFC_SECRET, code, 0, ms(stepStart + 2 * STEP_S))).resolves.toEqual({ ok: false, replay: false });
    await expect(checkTotp(RFC_SECRET, code, 0, ms(stepStart - STEP_S - 1))).resolves.toEqual({ ok: false, replay: false });
  });

  it('accepts the codes of the previous, current and next step at the same instant, each with its own step', async () => {
    for (const s of [step - 1, step, step + 1]) {
      await expect(checkTotp(RFC_SECRET, codeAtStep(s), 0, ms(t))).resolves.toEqual({ ok: true, timeStep: s });
    }
  });
});

describe('checkTotp: each code only once (replay)', () => {
  const t = 1234567890;
  const step = stepOf(t);
  const code = '005924';

  it('accepts a code whose step is later than the last accepted step', async () => {
    await expect(checkTotp(RFC_SECRET, code, step - 1, ms(t))).resolves.toEqual({ ok: true, timeStep: step });
  });

  it('refuses the same code again once its step is recorded, flagged as a replay', async () => {
    const first = await checkTotp(RFC_SECRET, code, 0, ms(t));
    expect(first).toEqual({ ok: true, timeStep: step });
    if (!first.ok) return;
    await expect(checkTotp(RFC_SECRET, code, first.timeStep, ms(t))).resolves.toEqual({ ok: false, replay: true });
    // Still a replay when it is tried again a step later, while the code is inside the drift window.
    await expect(checkTotp(RFC_SECRET, code, first.timeStep, ms(t + 30))).resolves.toEqual({ ok: false, replay: true });
  });

  it('refuses an older code (step below the last accepted one) as a replay, even inside the drift window', async () => {
    // The next step's code was accepted (clock drift); the current step's code is now stale.
    await expect(checkTotp(RFC_SECRET, codeAtStep(step), step + 1, ms(t))).resolves.toEqual({ ok: false, replay: true });
    await expect(checkTotp(RFC_SECRET, codeAtStep(step - 1), step, ms(t))).resolves.toEqual({ ok: false, replay: true });
  });

  it('still accepts a newer code after an older one was used', async () => {
    await expect(checkTotp(RFC_SECRET, codeAtStep(step + 1), step, ms(t))).resolves.toEqual({ ok: true, timeStep: step + 1 });
  });

  it('does not throw and refuses as replay when the last accepted step lies beyond the window (server clock went back)', async () => {
    await expect(checkTotp(RFC_SECRET, code, step + 10, ms(t))).resolves.toEqual({ ok: false, replay: true });
    await expect(checkTotp(RFC_SECRET, code, step + 2, ms(t))).resolves.toEqual({ ok: false, replay: true });
  });

  it('flags a wrong code as replay: false, whatever the last accepted step', async () => {
    const wrong = wrongCodeFor(step - 1, step + 1);
    await expect(checkTotp(RFC_SECRET, wrong, 0, ms(t))).resolves.toEqual({ ok: false, replay: false });
    await expect(checkTotp(RFC_SECRET, wrong, step, ms(t))).resolves.toEqual({ ok: false, replay: false });
    await expect(checkTotp(RFC_SECRET, wrong, step + 10, ms(t))).resolves.toEqual({ ok: false, replay: false });
  });

  it('does not call an expired code (outside the drift window) a replay', async () => {
    await expect(checkTotp(RFC_SECRET, code, step, ms(t + 90))).resolves.toEqual({ ok: false, replay: false });
  });
});

describe('checkTotp: input format', () => {
  const t = 59;

  it.each([
    ['letters', 'abcdef'],
    ['digits mixed with a letter', '28708x'],
    ['five digits', '28708'],
    ['five digits (the code without its first digit)', '87082'],
    ['seven digits', '2870820'],
    ['seven digits (a digit in front of the code)', '9287082'],
    ['an empty string', ''],
    ['only spaces', '      '],
    ['a sign', '+287082'],
    ['a decimal point', '28708.2'],
    ['non-ASCII digits', '２８７０８２'],
    ['Arabic-Indic digits', '٢٨٧٠٨٢'],
  ])('refuses %s', async (_label, input) => {
    await expect(checkTotp(RFC_SECRET, input, 0, ms(t))).resolves.toEqual({ ok: false, replay: false });
  });

  it.each([
    ['a space in the middle', '287 082'],
    ['surrounding whitespace', ' 287082 '],
    ['spaces between all digits', '2 8 7 0 8 2'],
    ['a tab and a newline', '287\t082\n'],
  ])('tolerates %s', async (_label, input) => {
    await expect(checkTotp(RFC_SECRET, input, 0, ms(t))).resolves.toEqual({ ok: true, timeStep: 1 });
  });
});

describe('newTotpSecret', () => {
  it('is base32 of at least 160 bits (≥ 32 characters)', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    expect(secret.replace(/=+$/, '').length).toBeGreaterThanOrEqual(32);
    expect(base32Decode(secret).length * 8).toBeGreaterThanOrEqual(160);
  });

  it('is different every time', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => newTotpSecret()));
    expect(secrets.size).toBe(50);
  });

  it('does not look like a constant or low-entropy value', () => {
    const bytes = base32Decode(newTotpSecret());
    expect(new Set(bytes).size).toBeGreaterThan(8);
  });

  it('works with checkTotp: the code an authenticator computes from it is accepted', async () => {
    const secret = newTotpSecret();
    const now = Date.UTC(2030, 0, 1, 12, 0, 10);
    const step = stepOf(Math.floor(now / 1000));
    await expect(checkTotp(secret, codeAtStep(step, secret), 0, now)).resolves.toEqual({ ok: true, timeStep: step });
  });
});

describe('totpUri', () => {
  const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
  const parse = () => new URL(totpUri(secret, 'Example Org', 'alice@example.org'));

  it('is an otpauth://totp/ URI', () => {
    const uri = parse();
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(uri.pathname.startsWith('/')).toBe(true);
  });

  it('carries the secret and the issuer, and the label names the issuer and the account', () => {
    const uri = parse();
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('Example Org');
    expect(decodeURIComponent(uri.pathname.slice(1))).toBe('Example Org:alice@example.org');
  });

  // Key URI format: algorithm, digits and period are optional and default to SHA1, 6 and 30. What matters
  // is what an authenticator app reads from the URI, so an absent parameter counts as its default.
  const effective = (uri: URL, name: string, fallback: string) => uri.searchParams.get(name) ?? fallback;

  it('means a 30-second period, 6 digits and SHA-1 to an authenticator app', () => {
    const uri = parse();
    expect(effective(uri, 'period', '30')).toBe('30');
    expect(effective(uri, 'digits', '6')).toBe('6');
    expect(effective(uri, 'algorithm', 'SHA1').toUpperCase()).toBe('SHA1');
  });

  it('encodes special characters in issuer and label so they cannot inject parameters', () => {
    const uri = new URL(totpUri(secret, 'Org & Co', 'bob?x=1&secret=AAAA'));
    expect(uri.searchParams.getAll('secret')).toEqual([secret]);
    expect(uri.searchParams.get('issuer')).toBe('Org & Co');
  });
});
