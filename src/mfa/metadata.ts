// The FIDO Metadata Service blob an admin stores locally (`mfa.metadata: file:/…`): read once at start,
// its signature chain checked against the FIDO Alliance's root (or `mfa.metadataRoot`), never fetched.
// Its statements feed @simplewebauthn/server's MetadataService, which then checks every attestation of
// a listed authenticator against the statement's own roots; roomguard reads names and AAGUIDs from it.
import { readFileSync } from 'node:fs';
import { MetadataService, SettingsService, type MetadataStatement } from '@simplewebauthn/server';
import { verifyMDSBlob } from '@simplewebauthn/server/helpers';
import './no-fetch.js';

/** Status reports after which an authenticator's attestation proves nothing (FIDO MDS3 AuthenticatorStatus). */
const COMPROMISED = new Set(['USER_VERIFICATION_BYPASS', 'ATTESTATION_KEY_COMPROMISE', 'USER_KEY_REMOTE_COMPROMISE', 'USER_KEY_PHYSICAL_COMPROMISE', 'REVOKED']);

/** What roomguard knows of the authenticators the blob lists. */
export interface AuthenticatorMetadata {
  /** AAGUID (lowercase, with dashes) → the authenticator's description, for pages and the audit log. */
  readonly names: ReadonlyMap<string, string>;
  /** The blob's serial number and next update (for the log at start). */
  readonly serial: number;
  readonly nextUpdate: string;
}

/** The path of a `file:/…` setting, or undefined for anything else. */
export function filePathOf(setting: string): string | undefined {
  return setting.startsWith('file:/') ? setting.slice('file:'.length) : undefined;
}

/**
 * Reads and verifies the blob and hands its statements to the MetadataService (no download: its list of
 * servers is empty). Throws with a message naming the file when it cannot be read or does not verify.
 */
export async function loadAuthenticatorMetadata(settings: { metadata: string; metadataRoot?: string | undefined }): Promise<AuthenticatorMetadata> {
  const path = filePathOf(settings.metadata);
  if (!path) throw new Error(`mfa.metadata: "${settings.metadata}" must be file:/path`);
  const blob = readFileSync(path, 'utf8').trim();
  const rootPath = settings.metadataRoot ? filePathOf(settings.metadataRoot) : undefined;
  if (rootPath) SettingsService.setRootCertificates({ identifier: 'mds', certificates: [readFileSync(rootPath, 'utf8')] });
  let verified: Awaited<ReturnType<typeof verifyMDSBlob>>;
  try {
    verified = await verifyMDSBlob(blob);
  } catch (err) {
    throw new Error(`mfa.metadata ${path}: not a FIDO metadata blob signed under ${rootPath ?? "the FIDO Alliance's root"} (${(err as Error).message})`, { cause: err });
  }
  const names = new Map<string, string>();
  const statements: MetadataStatement[] = [];
  for (const entry of verified.payload.entries) {
    if (!entry.aaguid || !entry.metadataStatement) continue;
    // A compromised authenticator is left out: its attestation then counts for nothing.
    if (entry.statusReports.some((report) => COMPROMISED.has(report.status))) continue;
    statements.push(entry.metadataStatement);
    names.set(entry.aaguid.toLowerCase(), entry.metadataStatement.description);
  }
  await MetadataService.initialize({ mdsServers: [], statements, verificationMode: 'permissive' });
  return { names, serial: verified.payload.no, nextUpdate: verified.payload.nextUpdate };
}
