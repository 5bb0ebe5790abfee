// Recovery codes: 10 single-use codes of 80 random bits, shown once, stored only as salted scrypt
// hashes (ASVS 2.6.2), so a store dump does not let anyone log in. Regenerating replaces the whole set.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'; // no 0/o, 1/l: easy to copy by hand
const SCRYPT = { N: 1 << 14, r: 8, p: 1 };
export const RECOVERY_CODE_COUNT = 10;

function randomCode(): string {
  const bytes = randomBytes(16);
  let code = '';
  for (let i = 0; i < 16; i++) code += ALPHABET[bytes[i]! & 31];
  return code.match(/.{4}/g)!.join('-');
}

/** Normalises what a person types: case, spaces and dashes do not matter. */
export function normaliseRecoveryCode(input: string): string {
  return input.toLowerCase().replace(/[\s-]/g, '');
}

async function hashCode(code: string, salt: Buffer): Promise<string> {
  const hash = await scrypt(normaliseRecoveryCode(code), salt, 32, SCRYPT);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function generateRecoveryCodes(): Promise<{ codes: string[]; hashes: string[] }> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, randomCode);
  const hashes = await Promise.all(codes.map((c) => hashCode(c, randomBytes(16))));
  return { codes, hashes };
}

/** Index of the stored hash the code matches, or -1. Checks every hash so timing does not reveal which. */
export async function matchRecoveryCode(input: string, hashes: readonly string[]): Promise<number> {
  const code = normaliseRecoveryCode(input);
  if (!/^[a-z2-9]{16}$/.test(code)) return -1;
  let found = -1;
  for (const [index, stored] of hashes.entries()) {
    const [scheme, salt, expected] = stored.split('$');
    if (scheme !== 'scrypt' || !salt || !expected) continue;
    const actual = Buffer.from((await hashCode(code, Buffer.from(salt, 'base64url'))).split('$')[2]!, 'base64url');
    const want = Buffer.from(expected, 'base64url');
    if (actual.length === want.length && timingSafeEqual(actual, want) && found === -1) found = index;
  }
  return found;
}
