// A security key in software for tests of WebAuthn ceremonies: one ES256 credential (node:crypto), CBOR
// by a small encoder, the flags a real authenticator sets (UP, UV, BE/BS for synced passkeys), its model
// (AAGUID), and attestation: `none`, or `packed` signed by an attestation certificate (x5c).
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

export const FLAG_UP = 0x01;
export const FLAG_UV = 0x04;
/** Backup eligible: a passkey that may be synced to other devices. */
export const FLAG_BE = 0x08;
export const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

/** Just enough CBOR (RFC 8949) for attestation objects and COSE keys: integers, byte and text strings, arrays, maps. */
export function cbor(value: unknown): Buffer {
  const head = (major: number, n: number): Buffer => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
    if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  if (value instanceof Map) return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
  throw new Error(`cbor: unsupported ${typeof value}`);
}

export const b64u = (b: Buffer) => b.toString('base64url');
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();

export interface AuthenticatorOptions {
  /** The model, 16 bytes (default: all zeros, as authenticators that do not say). */
  aaguid?: Buffer;
  /** Packed attestation signed by this key, with this certificate (DER) as x5c; default: `none`. */
  attestation?: { key: KeyObject; certificate: Buffer };
  /** A synced passkey: backup eligible (and backed up). */
  synced?: boolean;
  /** The relying party a ceremony is for when the call does not name one. */
  rp?: { id: string; origin: string };
}

/** A security key in software: one ES256 credential, a signature counter, and flags it sets. */
export class SoftwareAuthenticator {
  readonly id = randomBytes(32);
  readonly #key: KeyObject;
  readonly #cose: Buffer;
  readonly #options: AuthenticatorOptions;
  counter = 0;

  constructor(options: AuthenticatorOptions = {}) {
    this.#options = options;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#key = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.#cose = cbor(new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
  }

  #flags(flags: number): number {
    return this.#options.synced ? flags | FLAG_BE | FLAG_BS : flags;
  }

  #authData(rpId: string, flags: number, counter: number, attested: boolean): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    const parts: Buffer[] = [sha256(rpId), Buffer.from([flags | (attested ? FLAG_AT : 0)]), count];
    if (attested) {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(this.id.length);
      parts.push(this.#options.aaguid ?? Buffer.alloc(16), len, this.id, this.#cose);
    }
    return Buffer.concat(parts);
  }

  #rp(opts: { origin?: string; rpId?: string }): { origin: string; rpId: string } {
    const origin = opts.origin ?? this.#options.rp?.origin;
    const rpId = opts.rpId ?? this.#options.rp?.id;
    if (!origin || !rpId) throw new Error('SoftwareAuthenticator: no relying party (pass rp or origin and rpId)');
    return { origin, rpId };
  }

  register(challenge: string, opts: { origin?: string; rpId?: string; flags?: number } = {}) {
    const { origin, rpId } = this.#rp(opts);
    const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge, origin, crossOrigin: false }));
    const authData = this.#authData(rpId, this.#flags(opts.flags ?? FLAG_UP | FLAG_UV), this.counter, true);
    const attestation = this.#options.attestation;
    const attStmt = attestation
      ? new Map<string, unknown>([['alg', -7], ['sig', sign('sha256', Buffer.concat([authData, sha256(clientData)]), attestation.key)], ['x5c', [attestation.certificate]]])
      : new Map();
    const attestationObject = cbor(new Map<string, unknown>([['fmt', attestation ? 'packed' : 'none'], ['attStmt', attStmt], ['authData', authData]]));
    return {
      id: b64u(this.id), rawId: b64u(this.id), type: 'public-key' as const, clientExtensionResults: {},
      response: { clientDataJSON: b64u(clientData), attestationObject: b64u(attestationObject), transports: ['usb' as const] },
    };
  }

  assert(challenge: string, opts: { origin?: string; rpId?: string; flags?: number; counter?: number; type?: string } = {}) {
    const { origin, rpId } = this.#rp(opts);
    if (opts.counter === undefined) this.counter += 1;
    const clientData = Buffer.from(JSON.stringify({ type: opts.type ?? 'webauthn.get', challenge, origin, crossOrigin: false }));
    const authData = this.#authData(rpId, this.#flags(opts.flags ?? FLAG_UP | FLAG_UV), opts.counter ?? this.counter, false);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.#key);
    return {
      id: b64u(this.id), rawId: b64u(this.id), type: 'public-key' as const, clientExtensionResults: {},
      response: { clientDataJSON: b64u(clientData), authenticatorData: b64u(authData), signature: b64u(signature) },
    };
  }
}
