// Recovery codes (src/mfa/recovery.ts) against security-requirements.md A.11 and issue 3: 10 single-use
// codes, random enough (≥ 80 bits each here; < 64 bits only with rate limiting), stored only as salted
// password hashes (scrypt), easy to type (no 0/o/1/l), matched regardless of case, spaces and dashes.
import { describe, expect, it } from 'vitest';
import { generateRecoveryCodes, matchRecoveryCode, normaliseRecoveryCode, RECOVERY_CODE_COUNT } from '../../src/mfa/recovery.js';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const FORMAT = /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/;

// scrypt is deliberately slow: generate the sets once and share them.
const setA = generateRecoveryCodes();
const setB = generateRecoveryCodes();

function parseHash(stored: string) {
  const parts = stored.split('$');
  expect(parts).toHaveLength(3);
  const [scheme, salt, hash] = parts as [string, string, string];
  return { scheme, salt: Buffer.from(salt, 'base64url'), saltText: salt, hash: Buffer.from(hash, 'base64url'), hashText: hash };
}

describe('generateRecoveryCodes: the codes', () => {
  it('gives 10 codes and 10 hashes', async () => {
    const { codes, hashes } = await setA;
    expect(RECOVERY_CODE_COUNT).toBe(10);
    expect(codes).toHaveLength(10);
    expect(hashes).toHaveLength(10);
  });

  it('gives distinct codes, also across sets', async () => {
    const a = (await setA).codes;
    const b = (await setB).codes;
    expect(new Set(a).size).toBe(10);
    expect(new Set([...a, ...b]).size).toBe(20);
  });

  it('formats each code as xxxx-xxxx-xxxx-xxxx', async () => {
    for (const code of (await setA).codes) expect(code).toMatch(FORMAT);
  });

  it('uses only the unambiguous alphabet: never 0, o, 1 or l, and no upper case', async () => {
    const all = [...(await setA).codes, ...(await setB).codes].join('').replaceAll('-', '');
    expect(all).not.toMatch(/[0o1lA-Z]/);
    for (const ch of all) expect(ALPHABET).toContain(ch);
  });

  it('carries at least 80 bits per code (16 symbols from a 32-symbol alphabet)', async () => {
    expect(new Set(ALPHABET).size).toBe(32);
    for (const code of (await setA).codes) {
      const symbols = code.replaceAll('-', '').length;
      expect(symbols * Math.log2(ALPHABET.length)).toBeGreaterThanOrEqual(80);
    }
  });

  it('draws symbols from the whole alphabet (not a constant or narrow subset)', async () => {
    // 320 symbols from 32: the chance that fewer than 24 distinct symbols appear is negligible.
    const [a, b] = [await setA, await setB];
    const used = new Set([...a.codes, ...b.codes].join('').replaceAll('-', ''));
    expect(used.size).toBeGreaterThanOrEqual(24);
  });
});

describe('generateRecoveryCodes: the stored hashes', () => {
  it('are scrypt$salt$hash with a salt of at least 16 bytes and a hash of at least 32 bytes', async () => {
    for (const stored of (await setA).hashes) {
      const { scheme, salt, hash } = parseHash(stored);
      expect(scheme).toBe('scrypt');
      expect(salt.length).toBeGreaterThanOrEqual(16);
      expect(hash.length).toBeGreaterThanOrEqual(32);
    }
  });

  it('never contain the code, with or without dashes, in any case', async () => {
    const { codes, hashes } = await setA;
    const joined = hashes.join('\n').toLowerCase();
    for (const code of codes) {
      const bare = code.replaceAll('-', '');
      expect(joined).not.toContain(code);
      expect(joined).not.toContain(bare);
      for (const group of code.split('-')) expect(hashes.some((h) => h.includes(`$${group}`))).toBe(false);
    }
  });

  it('use a different salt for every code, also across sets', async () => {
    const salts = [...(await setA).hashes, ...(await setB).hashes].map((h) => parseHash(h).saltText);
    expect(new Set(salts).size).toBe(20);
  });

  it('are salted: the same code under another salt gives another hash', async () => {
    const { codes, hashes } = await setA;
    const own = parseHash(hashes[0]!);
    const other = parseHash(hashes[1]!);
    // The stored value for code 0 verifies as is…
    await expect(matchRecoveryCode(codes[0]!, [`scrypt$${own.saltText}$${own.hashText}`])).resolves.toBe(0);
    // …but with its salt swapped for another one it no longer does: the salt is an input of the hash,
    // so identical codes stored with different salts hash differently.
    await expect(matchRecoveryCode(codes[0]!, [`scrypt$${other.saltText}$${own.hashText}`])).resolves.toBe(-1);
  });
});

describe('matchRecoveryCode', () => {
  it('finds the index of each code in its set', async () => {
    const { codes, hashes } = await setA;
    for (const index of [0, 4, 9]) await expect(matchRecoveryCode(codes[index]!, hashes)).resolves.toBe(index);
  });

  it('ignores case, spaces and dashes', async () => {
    const { codes, hashes } = await setA;
    const code = codes[3]!;
    const bare = code.replaceAll('-', '');
    for (const typed of [code.toUpperCase(), bare, bare.toUpperCase(), code.replaceAll('-', ' '), ` ${code} `, `${bare.slice(0, 8)} ${bare.slice(8)}`, code.replaceAll('-', '--')]) {
      await expect(matchRecoveryCode(typed, hashes), typed).resolves.toBe(3);
    }
  });

  it('returns -1 for a wrong code of the right format', async () => {
    const { codes, hashes } = await setA;
    const code = codes[0]!;
    // Change one symbol to another symbol of the alphabet.
    const first = code[0]!;
    const replacement = ALPHABET[(ALPHABET.indexOf(first) + 1) % ALPHABET.length]!;
    const wrong = replacement + code.slice(1);
    if (codes.includes(wrong)) throw new Error('unexpected collision');
    await expect(matchRecoveryCode(wrong, hashes)).resolves.toBe(-1);
  });

  it('returns -1 for a code from another set', async () => {
    const { hashes } = await setA;
    const { codes: otherCodes } = await setB;
    await expect(matchRecoveryCode(otherCodes[0]!, hashes)).resolves.toBe(-1);
    await expect(matchRecoveryCode(otherCodes[9]!, hashes)).resolves.toBe(-1);
  });

  it.each([
    ['empty', ''],
    ['too short', 'abcd-efgh-ijkm'],
    ['too long', 'abcd-efgh-ijkm-npqr-s'],
    ['with punctuation', 'abcd.efgh.ijkm.npqr'],
    ['with non-ASCII letters', 'äbcd-efgh-ijkm-npqr'],
    ['a TOTP code', '287082'],
  ])('returns -1 for a malformed code (%s)', async (_label, input) => {
    const { hashes } = await setA;
    await expect(matchRecoveryCode(input, hashes)).resolves.toBe(-1);
  });

  it('returns -1 for a prefix or truncation of a real code', async () => {
    const { codes, hashes } = await setA;
    const code = codes[2]!;
    await expect(matchRecoveryCode(code.slice(0, -1), hashes)).resolves.toBe(-1);
    await expect(matchRecoveryCode(code.slice(0, 14), hashes)).resolves.toBe(-1);
  });

  it('returns -1 against an empty set and skips stored values it cannot read', async () => {
    const { codes, hashes } = await setA;
    await expect(matchRecoveryCode(codes[0]!, [])).resolves.toBe(-1);
    await expect(matchRecoveryCode(codes[1]!, ['garbage', 'md5$x$y', 'scrypt$$', hashes[1]!])).resolves.toBe(3);
  });

  it('does not accept the stored hash itself as a code', async () => {
    const { hashes } = await setA;
    await expect(matchRecoveryCode(hashes[0]!, hashes)).resolves.toBe(-1);
  });

  it('lets a used code be retired: once its hash is removed, the code no longer matches but the others do', async () => {
    const { codes, hashes } = await setA;
    const remaining = hashes.filter((_, i) => i !== 5);
    await expect(matchRecoveryCode(codes[5]!, remaining)).resolves.toBe(-1);
    await expect(matchRecoveryCode(codes[6]!, remaining)).resolves.toBe(5);
  });
});

describe('normaliseRecoveryCode', () => {
  it('lower-cases and drops spaces and dashes', () => {
    expect(normaliseRecoveryCode(' ABCD-efgh ijkm\tNPQR ')).toBe('abcdefghijkmnpqr');
  });
});
