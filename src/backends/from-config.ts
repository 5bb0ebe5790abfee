// The backend adapter the `backend` section of roomguard.yaml asks for. The section is described here by
// its shape, so that backends import nothing from config (config validates backend values with the
// adapters' own lists, e.g. Jitsi's features).
import { randomBytes } from 'node:crypto';
import type { Backend } from './backend.js';
import { GenericBackend } from './generic.js';
import { JitsiBackend } from './jitsi.js';
import { BbbBackend } from './bbb.js';
import type { ChecksumAlgorithm } from './bbb-api.js';

interface Secret {
  reveal(): string;
}

/** What a backend is made from: `config.backend` of a validated configuration. */
export interface BackendSection {
  type: string;
  upstream: URL;
  roomPath: string;
  jitsi: { auth: string; mucDomain?: string | undefined; appId?: string | undefined; appSecret?: Secret | undefined; audience: string; domain: string; tenants: boolean; tokenTtl: number; userFields: string[]; features: string[] };
  bbb: { secret?: Secret | undefined; checksum: string; meetingIdPrefix: string; joinTtl: number };
}

export function backendFor(config: { backend: BackendSection }): Backend {
  if (config.backend.type === 'jitsi') {
    const j = config.backend.jitsi;
    const none = j.auth === 'none';
    if (!none && (!j.appId || !j.appSecret)) throw new Error('backend.jitsi.appId and appSecret are required for backend.type jitsi with auth token');
    return new JitsiBackend({
      auth: none ? 'none' : 'token', ...(j.mucDomain ? { mucDomain: j.mucDomain } : {}),
      // Without tokens the secret only keys the pseudonymous user ids: a random one per start will do.
      appId: j.appId ?? 'roomguard', appSecret: j.appSecret?.reveal() ?? randomBytes(32).toString('base64url'), audience: j.audience, domain: j.domain, tenants: j.tenants,
      tokenTtlMs: j.tokenTtl, userFields: j.userFields, features: j.features,
    });
  }
  if (config.backend.type === 'bbb') {
    const b = config.backend.bbb;
    if (!b.secret) throw new Error('backend.bbb.secret is required for backend.type bbb');
    return new BbbBackend({ upstream: config.backend.upstream, secret: b.secret.reveal(), checksum: b.checksum as ChecksumAlgorithm, meetingIdPrefix: b.meetingIdPrefix, joinTtlMs: b.joinTtl });
  }
  return new GenericBackend(config.backend.roomPath);
}
