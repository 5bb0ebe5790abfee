// The writer's options from roomguard.yaml (`audit.*`, `secrets.auditSigningKey`), for `serve` and the CLI.
import { hostname } from 'node:os';
import { auditDirOf } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { IdentityMode, IpMode } from './privacy.js';
import { PersonKeys, type PersonKeyStore } from './person-keys.js';
import type { AuditEvent, AuditRecord } from './record.js';
import { AuditWriter, type AuditWriterOptions } from './writer.js';

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

/**
 * Appends records to the command line's own chain (`<instance>-cli`: the running server holds its own
 * chain's lock) and closes it. `store` holds the person keys of `audit.identity: erasable`.
 */
export async function appendFromCli(config: Config, store: PersonKeyStore, events: readonly AuditEvent[]): Promise<AuditRecord[]> {
  const writer = await AuditWriter.open({ ...auditWriterOptions(config), instance: `${auditInstanceOf(config)}-cli`, stdout: false });
  writer.usePersonKeys(new PersonKeys(store, config.audit.retentionDays));
  try {
    const records: AuditRecord[] = [];
    for (const event of events) records.push(await writer.append(event));
    return records;
  } finally {
    await writer.close();
  }
}
