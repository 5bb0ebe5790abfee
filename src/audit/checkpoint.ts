// Signed checkpoints: an Ed25519 signature (secrets.auditSigningKey) over an instance's chain head.
// Signed message, exactly: "roomguard-audit-checkpoint v1\n<instance>\n<seq>\n<hash>". The key id is the
// first 16 hex digits of SHA-256 over the raw 32-byte public key.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { sha256Hex } from './chain.js';

export interface CheckpointHead {
  instance: string;
  seq: number;
  hash: string;
}

/** One line of `<instance>/checkpoints.jsonl` (and the details of an `audit.checkpoint` record, minus instance/ts). */
export interface CheckpointEntry extends CheckpointHead {
  v: 1;
  ts: string;
  keyId: string;
  /** Base64 Ed25519 signature over `checkpointMessage`. */
  signature: string;
}

export function checkpointMessage(head: CheckpointHead): string {
  return `roomguard-audit-checkpoint v1\n${head.instance}\n${head.seq}\n${head.hash}`;
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new TypeError('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(rawPublicKey(publicKey)).slice(0, 16);
}

export interface CheckpointSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  sign(head: CheckpointHead): string;
}

export function checkpointSigner(signingKeyPem: string): CheckpointSigner {
  const privateKey = createPrivateKey(signingKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError('the audit signing key must be an Ed25519 private key');
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKey,
    sign: (head) => sign(null, Buffer.from(checkpointMessage(head)), privateKey).toString('base64'),
  };
}

/**
 * Public keys by key id, from PEM text holding one or more public keys (several during a key rotation)
 * or a private key (from which the public key is derived; verifiers should rather use a public key kept off-host).
 */
export function checkpointKeys(pem: string): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  const blocks = pem.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
  for (const block of blocks) {
    const key = /PRIVATE KEY/.test(block) ? createPublicKey(createPrivateKey(block)) : createPublicKey(block);
    if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('audit checkpoint keys are Ed25519 keys');
    keys.set(keyIdOf(key), key);
  }
  if (keys.size === 0) throw new TypeError('no PEM key found');
  return keys;
}

export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

export function verifyCheckpointSignature(head: CheckpointHead, signature: string, key: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(checkpointMessage(head)), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
