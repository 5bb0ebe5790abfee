// The backend adapter a config asks for.
import type { Config } from '../config/schema.js';
import type { Backend } from './backend.js';
import { GenericBackend } from './generic.js';
import { JitsiBackend } from './jitsi.js';

export function backendFor(config: Config): Backend {
  if (config.backend.type === 'jitsi') {
    const j = config.backend.jitsi;
    if (!j.appId || !j.appSecret) throw new Error('backend.jitsi.appId and appSecret are required for backend.type jitsi');
    return new JitsiBackend({
      appId: j.appId, appSecret: j.appSecret.reveal(), audience: j.audience, domain: j.domain, tenants: j.tenants,
      tokenTtlMs: j.tokenTtl, userFields: j.userFields, features: j.features,
    });
  }
  return new GenericBackend(config.backend.roomPath);
}
