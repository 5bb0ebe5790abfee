// Signed checkpoints: an Ed25519 signature (secrets.auditSigningKey) over an instance's chain head.
// Signed message, exactly: "roomguard-audit-checkpoint v1\n<instance>\n<seq>\n<hash>". The key id is the
// first 16 hex digits of SHA-256 over the raw 32-byte public key. The same key signs each `audit.purge`
// record (what was deleted, at which place in the chain), so that a purge cannot be forged by someone who
// can only write the files, and evidence-export manifests (where an exported stretch of the chain starts).
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, sha256Hex, type JsonValue } from './chain.js';

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

/** Where a purge record stands in its chain, and what it states (its details without keyId and signature). */
export interface PurgeStatement {
  instance: string;
  /** seq, prev and ts of the purge record itself: a copy of it elsewhere in a chain does not verify. */
  seq: number;
  prev: string;
  ts: string;
  details: Record<string, JsonValue>;
}

/** "roomguard-audit-purge v1\n<instance>\n<seq>\n<prev>\n<ts>\n<canonical JSON of the details>". */
export function purgeMessage(purge: PurgeStatement): string {
  return `roomguard-audit-purge v1\n${purge.instance}\n${purge.seq}\n${purge.prev}\n${purge.ts}\n${canonicalJson(purge.details)}`;
}

/**
 * "roomguard-audit-export v2\n<canonical JSON of the manifest without its signature>". v2 manifests bind
 * every file of the package; a v1 signature (over a manifest that bound none) never verifies as one.
 */
export function exportManifestMessage(manifest: Record<string, JsonValue>): string {
  return `roomguard-audit-export v2\n${canonicalJson(manifest)}`;
}

export interface CheckpointSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  sign(head: CheckpointHead): string;
  /** Base64 Ed25519 signature over `purgeMessage`. */
  signPurge(purge: PurgeStatement): string;
  /** Base64 Ed25519 signature over a message of its own kind (`exportManifestMessage`). */
  signMessage(message: string): string;
}

export function checkpointSigner(signingKeyPem: string): CheckpointSigner {
  const privateKey = createPrivateKey(signingKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError('the audit signing key must be an Ed25519 private key');
  const publicKey = createPublicKey(privateKey);
  const signMessage = (message: string) => sign(null, Buffer.from(message), privateKey).toString('base64');
  return {
    keyId: keyIdOf(publicKey),
    publicKey,
    sign: (head) => signMessage(checkpointMessage(head)),
    signPurge: (purge) => signMessage(purgeMessage(purge)),
    signMessage,
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

export function verifySignedMessage(message: string, signature: string, key: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(message), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

export function verifyCheckpointSignature(head: CheckpointHead, signature: string, key: KeyObject): boolean {
  return verifySignedMessage(checkpointMessage(head), signature, key);
}
