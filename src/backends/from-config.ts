// The backend adapter a config asks for.
import type { Config } from '../config/schema.js';
import type { Backend } from './backend.js';
import { GenericBackend } from './generic.js';
import { JitsiBackend } from './jitsi.js';
import { BbbBackend } from './bbb.js';
import type { ChecksumAlgorithm } from './bbb-api.js';

export function backendFor(config: Config): Backend {
  if (config.backend.type === 'jitsi') {
    const j = config.backend.jitsi;
    if (!j.appId || !j.appSecret) throw new Error('backend.jitsi.appId and appSecret are required for backend.type jitsi');
    return new JitsiBackend({
      appId: j.appId, appSecret: j.appSecret.reveal(), audience: j.audience, domain: j.domain, tenants: j.tenants,
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
