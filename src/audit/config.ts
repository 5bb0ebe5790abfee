// The writer's options from roomguard.yaml (`audit.*`, `secrets.auditSigningKey`), for `serve` and the CLI.
import { hostname } from 'node:os';
import { auditDirOf } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { IdentityMode, IpMode } from './privacy.js';
import type { AuditWriterOptions } from './writer.js';

/** `audit.instance`, or the host name made safe for a folder name. */
export function auditInstanceOf(config: Config): string {
  if (config.audit.instance) return config.audit.instance;
  const name = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  return name === '' || name === 'keys' || /^\.+$/.test(name) ? 'roomguard' : name;
}

export function auditWriterOptions(config: Config, extra: Pick<AuditWriterOptions, 'now' | 'onError'> = {}): AuditWriterOptions {
  const a = config.audit;
  return {
    dir: auditDirOf(config),
    instance: auditInstanceOf(config),
    signingKeyPem: config.secrets.auditSigningKey.reveal(),
    // The schema's enums infer as string; validate.ts has already checked the values.
    ip: a.ip as IpMode,
    identity: a.identity as IdentityMode,
    names: a.names,
    checkpointEvery: a.checkpointEvery,
    checkpointInterval: a.checkpointInterval,
    stdout: a.stdout,
    ...(a.syslog !== undefined ? { syslog: a.syslog } : {}),
    ...extra,
  };
}
