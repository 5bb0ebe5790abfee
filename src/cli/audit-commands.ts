// `roomguard audit verify | query | export | purge | public-key | pseudonym`. Flags are parsed strictly;
// exit codes: 0 ok, 1 problems found, 2 wrong usage. Problems print as `file:line: kind: expected … found …`.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseFlags, UsageError } from './cli-args.js';
import { checkpointKeys, publicKeyPem as toPem } from '../audit/checkpoint.js';
import { exportEvidence } from '../audit/export.js';
import { pseudonymKey, pseudonymOf } from '../audit/privacy.js';
import { describeRefusal, purgeAudit } from '../audit/purge.js';
import { formatCsv, formatJsonLines, formatTable, parseTimeFilter, queryAudit, type QueryFilters } from '../audit/query.js';
import { AUDIT_OUTCOMES, AUDIT_RECORD_TYPES, type AuditOutcome, type AuditRecordType } from '../audit/record.js';
import { repairTail, verifyAuditDir, type VerifyProblem, type VerifyReport } from '../audit/verify.js';

export const AUDIT_USAGE = `  audit verify [DIR] [--public-key FILE] [--checkpoints FILE]... [--repair-tail] [--json]
                                  check the hash chain, signed checkpoints and purges of every instance
                                  (--checkpoints: a copy of checkpoints.jsonl kept off the host)
  audit verify PACKAGE --export [--public-key FILE] [--checkpoints FILE]... [--json]
                                  check an evidence package of audit export: its signed export.json
                                  says where its chains start and end and names every file
  audit query [--room R] [--user U] [--type T] [--outcome O] [--since ISO|DUR] [--until ISO]
              [--limit N] [--json | --csv]
                                  records of all instances (DUR: 7d, 12h … back from now)
  audit export --since ISO|DUR [--until ISO] --out DIR [--public-key FILE]
                                  write an evidence package (segments, checkpoints, report, SHA256SUMS)
  audit purge [--days N]          delete segments older than N days (default audit.retentionDays)
  audit public-key                print the checkpoint public key (keep a copy off the host)
  audit pseudonym --iss ISS --sub SUB
                                  print the pseudonym of a person (audit.identity: pseudonymous)
`;

export interface AuditCommandContext {
  /** `audit.dir` of the config (resolved), or the default. */
  auditDir: string;
  /** Checkpoint public key(s), PEM. */
  publicKeyPem?: string;
  /** `secrets.auditSigningKey`, PEM: needed by purge, public-key and pseudonym; else a fallback for verify. */
  signingKeyPem?: string;
  /** `audit.retentionDays` (default 90). */
  retentionDays?: number;
  /** Pseudonyms the person named by `query --user` goes by (worked out by the caller: see person-keys.ts `pseudonymsOf`). */
  userPseudonyms?: readonly string[];
  stdout?: { write(text: string): unknown };
  stderr?: { write(text: string): unknown };
  now?: () => number;
}


export function formatVerifyProblem(p: VerifyProblem): string {
  const parts = [`${p.file}:${p.line}: ${p.kind}:`];
  if (p.expected !== undefined) parts.push(`expected ${p.expected}`);
  if (p.found !== undefined) parts.push(`found ${p.found}`);
  parts.push(`(${p.message})`);
  return parts.join(' ');
}

export function formatVerifySummary(report: VerifyReport): string {
  const lines: string[] = [];
  const what = `${report.records} record${report.records === 1 ? '' : 's'} in ${report.segments} segment${report.segments === 1 ? '' : 's'}, ${report.instances} instance${report.instances === 1 ? '' : 's'}${report.instances ? ` (${report.instanceNames.join(', ')})` : ''}`;
  if (report.ok) lines.push(`ok: ${what}`);
  else lines.push(`${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${what}`);
  const pkg = report.evidencePackage;
  if (pkg) {
    const stretches = Object.entries(pkg.chains).map(([instance, c]) => `${instance} seq ${c.firstSeq}–${c.lastSeq}`).join(', ');
    lines.push(`evidence package for ${pkg.since} to ${pkg.until} (a stretch of each chain, as its signed export.json states: ${stretches || 'no records'})`);
  }
  const cp = report.lastCheckpoint;
  lines.push(cp ? `last checkpoint: ${cp.instance} seq ${cp.seq} hash ${cp.hash} at ${cp.ts} (key ${cp.keyId})` : 'last checkpoint: none');
  if (report.signatures === 'unchecked') lines.push('checkpoint signatures NOT checked: give the public key kept off the host with --public-key FILE');
  if (report.repairable) lines.push('only torn final lines (a crash in the middle of a write): repair with --repair-tail while roomguard is stopped');
  return `${lines.join('\n')}\n`;
}

/** A file named by a flag; one that cannot be read is wrong usage (exit 2), not a finding. */
function readFlagFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function timeFlag(name: string, value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTimeFilter(value, now);
  if (ms === undefined) throw new UsageError(`--${name}: "${value}" is not a time (2024-05-01, 2024-05-01T10:00:00Z) or a duration (7d, 12h)`);
  return ms;
}

/** Runs `roomguard audit <args>`; returns the exit code. */
export async function runAuditCommand(argv: string[], ctx: AuditCommandContext): Promise<number> {
  const out = ctx.stdout ?? process.stdout;
  const err = ctx.stderr ?? process.stderr;
  const now = (ctx.now ?? Date.now)();
  try {
    return await run(argv, ctx, out, now);
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`roomguard audit: ${error.message}\n\nusage:\n${AUDIT_USAGE}`);
      return 2;
    }
    err.write(`roomguard audit: ${(error as Error).message}\n`);
    return 1;
  }
}

type Out = { write(text: string): unknown };
/** One audit subcommand: its arguments after the name; returns the exit code. */
type AuditSubcommand = (args: string[], ctx: AuditCommandContext, out: Out, now: number) => Promise<number>;

async function run(argv: string[], ctx: AuditCommandContext, out: Out, now: number): Promise<number> {
  const [command, ...rest] = argv;
  const subcommand = command !== undefined && Object.hasOwn(AUDIT_SUBCOMMANDS, command) ? AUDIT_SUBCOMMANDS[command] : undefined;
  if (!subcommand) throw new UsageError(command ? `unknown audit command: ${command}` : 'audit needs a command');
  return subcommand(rest, ctx, out, now);
}

/** The checkpoint public key(s) from --public-key or the config, checked, with the signing key where there is one. */
function keyOptions(ctx: AuditCommandContext, file: string | undefined): { publicKeyPem?: string; signingKeyPem?: string } {
  const publicKeyPem = file !== undefined ? readFlagFile(file) : ctx.publicKeyPem;
  if (publicKeyPem !== undefined) {
    try {
      checkpointKeys(publicKeyPem);
    } catch (error) {
      throw new UsageError(`--public-key: ${(error as Error).message}`);
    }
  }
  return { ...(publicKeyPem !== undefined ? { publicKeyPem } : {}), ...(ctx.signingKeyPem !== undefined ? { signingKeyPem: ctx.signingKeyPem } : {}) };
}

async function verifyCommand(args: string[], ctx: AuditCommandContext, out: Out, now: number): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    'public-key': { type: 'string' }, checkpoints: { type: 'string', multiple: true }, 'repair-tail': { type: 'boolean' }, json: { type: 'boolean' }, export: { type: 'boolean' },
  }, 1);
  const dir = resolve(positionals[0] ?? ctx.auditDir);
  const live = dir === resolve(ctx.auditDir);
  // An evidence package is a folder audit export wrote; the live directory never is one.
  if (values.export && live) throw new UsageError('--export verifies an evidence package: name its folder (not the audit directory roomguard writes)');
  if (values.export && values['repair-tail']) throw new UsageError('--repair-tail repairs the live audit log, not an evidence package');
  const keys = keyOptions(ctx, values['public-key']);
  const checkpointFiles = (values.checkpoints ?? []).map((file) => {
    const path = resolve(file);
    readFlagFile(path);
    return path;
  });
  if (values['repair-tail']) {
    for (const torn of await repairTail(dir)) out.write(`repaired ${torn.file}:${torn.line}: moved ${torn.bytes} bytes to ${torn.file}.torn\n`);
  }
  // An export manifest is honoured only when the reviewer says this is an evidence package.
  const report = await verifyAuditDir(dir, { ...keys, live, ...(values.export ? { evidencePackage: true } : {}), ...(checkpointFiles.length > 0 ? { checkpointFiles } : {}), now });
  if (values.json) out.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    for (const p of report.problems) out.write(`${formatVerifyProblem(p)}\n`);
    out.write(formatVerifySummary(report));
  }
  return report.ok ? 0 : 1;
}

/** `audit query`'s flags as filters; a value outside its set is wrong usage. */
function queryFilters(values: { room?: string | undefined; user?: string | undefined; type?: string | undefined; outcome?: string | undefined; since?: string | undefined; until?: string | undefined }, now: number): QueryFilters {
  const filters: QueryFilters = {};
  if (values.room !== undefined) filters.room = values.room;
  if (values.user !== undefined) filters.user = values.user;
  if (values.type !== undefined) {
    if (!(AUDIT_RECORD_TYPES as readonly string[]).includes(values.type)) throw new UsageError(`--type: use one of ${AUDIT_RECORD_TYPES.join(', ')}`);
    filters.type = values.type as AuditRecordType;
  }
  if (values.outcome !== undefined) {
    if (!(AUDIT_OUTCOMES as readonly string[]).includes(values.outcome)) throw new UsageError(`--outcome: use one of ${AUDIT_OUTCOMES.join(', ')}`);
    filters.outcome = values.outcome as AuditOutcome;
  }
  const since = timeFlag('since', values.since, now);
  if (since !== undefined) filters.since = since;
  const until = timeFlag('until', values.until, now);
  if (until !== undefined) filters.until = until;
  return filters;
}

async function queryCommand(args: string[], ctx: AuditCommandContext, out: Out, now: number): Promise<number> {
  const { values } = parseFlags(args, {
    room: { type: 'string' }, user: { type: 'string' }, type: { type: 'string' }, outcome: { type: 'string' },
    since: { type: 'string' }, until: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, csv: { type: 'boolean' },
  });
  if (values.json && values.csv) throw new UsageError('choose one of --json and --csv');
  const filters = queryFilters(values, now);
  if (filters.user !== undefined && ctx.userPseudonyms) filters.userPseudonyms = ctx.userPseudonyms;
  let limit: number | undefined;
  if (values.limit !== undefined) {
    if (!/^\d{1,9}$/.test(values.limit) || Number(values.limit) === 0) throw new UsageError('--limit: a positive whole number');
    limit = Number(values.limit);
  }
  const records = await queryAudit(resolve(ctx.auditDir), filters, limit !== undefined ? { limit } : {});
  out.write(values.json ? formatJsonLines(records) : values.csv ? formatCsv(records) : formatTable(records));
  return 0;
}

async function exportCommand(args: string[], ctx: AuditCommandContext, out: Out, now: number): Promise<number> {
  const { values } = parseFlags(args, { since: { type: 'string' }, until: { type: 'string' }, out: { type: 'string' }, 'public-key': { type: 'string' } });
  if (values.since === undefined || values.out === undefined) throw new UsageError('export needs --since and --out');
  const since = timeFlag('since', values.since, now)!;
  const until = timeFlag('until', values.until, now) ?? now;
  if (!ctx.signingKeyPem) throw new Error('export needs secrets.auditSigningKey to sign the package\'s manifest (run it with --config FILE)');
  const result = await exportEvidence({ dir: resolve(ctx.auditDir), since, until, out: resolve(values.out), now, ...keyOptions(ctx, values['public-key']), signingKeyPem: ctx.signingKeyPem });
  out.write(`wrote ${result.out}: ${result.segments} segment${result.segments === 1 ? '' : 's'}, ${result.records} records, ${result.files.length + 1} files (check with: cd ${result.out} && sha256sum -c SHA256SUMS)\n`);
  out.write(formatVerifySummary(result.package));
  return result.source.ok && result.package.ok ? 0 : 1;
}

async function purgeCommand(args: string[], ctx: AuditCommandContext, out: Out, now: number): Promise<number> {
  const { values } = parseFlags(args, { days: { type: 'string' } });
  let days = ctx.retentionDays ?? 90;
  if (values.days !== undefined) {
    if (!/^\d{1,4}$/.test(values.days) || Number(values.days) < 1) throw new UsageError('--days: a whole number of at least 1');
    days = Number(values.days);
  }
  if (!ctx.signingKeyPem) throw new Error('purge needs secrets.auditSigningKey (run it with --config FILE)');
  const result = await purgeAudit({ dir: resolve(ctx.auditDir), signingKeyPem: ctx.signingKeyPem }, days, now);
  for (const s of result.segments) out.write(`purged ${s.instance}/${s.segment}: ${s.records} records${s.finalHash ? `, final hash ${s.finalHash}` : ''}\n`);
  if (result.ipKeys.length > 0) out.write(`deleted address keys of ${result.ipKeys.join(', ')}\n`);
  for (const s of result.skipped) out.write(`skipped ${s.instance}: ${s.reason}\n`);
  for (const r of result.refused) out.write(`${describeRefusal(r)}\n`);
  out.write(`${result.segments.length} segment${result.segments.length === 1 ? '' : 's'} older than ${days} day${days === 1 ? '' : 's'} purged\n`);
  return result.refused.length > 0 ? 1 : 0;
}

async function publicKeyCommand(args: string[], ctx: AuditCommandContext, out: Out): Promise<number> {
  parseFlags(args, {});
  const pem = ctx.signingKeyPem ?? ctx.publicKeyPem;
  if (!pem) throw new Error('public-key needs secrets.auditSigningKey (run it with --config FILE)');
  for (const [keyId, key] of checkpointKeys(pem)) out.write(`# audit checkpoint key ${keyId}\n${toPem(key)}`);
  return 0;
}

async function pseudonymCommand(args: string[], ctx: AuditCommandContext, out: Out): Promise<number> {
  const { values } = parseFlags(args, { iss: { type: 'string' }, sub: { type: 'string' } });
  if (values.iss === undefined || values.sub === undefined) throw new UsageError('pseudonym needs --iss and --sub');
  if (!ctx.signingKeyPem) throw new Error('pseudonym needs secrets.auditSigningKey (run it with --config FILE)');
  out.write(`${pseudonymOf(pseudonymKey(ctx.signingKeyPem), values.iss, values.sub)}\n`);
  return 0;
}

const AUDIT_SUBCOMMANDS: Record<string, AuditSubcommand> = {
  verify: verifyCommand,
  query: queryCommand,
  export: exportCommand,
  purge: purgeCommand,
  'public-key': publicKeyCommand,
  pseudonym: pseudonymCommand,
};
