// A FIDO Metadata Service blob of a test's own, as the FIDO Alliance publishes one (MDS3: a JWT whose
// x5c chains to a root, listing metadata statements by AAGUID): certificates made with Debian's openssl,
// the JWT signed with jose. With it, the attestation certificate a software authenticator signs with.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPKCS8, SignJWT } from 'jose';

export interface TestMetadata {
  dir: string;
  /** `file:` paths for mfa.metadata and mfa.metadataRoot. */
  blobFile: string;
  rootFile: string;
  /** The attestation key and certificate (DER) of the listed model. */
  attestation: { key: KeyObject; certificate: Buffer };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A self-signed CA and a leaf under it (EC P-256): `name.key`, `name.pem` for each. */
function caAndLeaf(dir: string, ca: string, leaf: string, leafSubject: string, crl?: string): void {
  const crlOf = (name: string) => (crl ? [`crlDistributionPoints=URI:${crl}/${name}.crl`] : []);
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '30', '-subj', `/C=DE/O=roomguard tests/CN=${ca}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', ...crlOf(ca).flatMap((c) => ['-addext', c])]);
  openssl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`, '-subj', leafSubject]);
  writeFileSync(join(dir, `${leaf}.ext`), ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', ...crlOf(leaf), ''].join('\n'));
  openssl(dir, ['x509', '-req', '-in', `${leaf}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${leaf}.pem`, '-days', '30', '-extfile', `${leaf}.ext`]);
}

const der = (dir: string, pem: string) => Buffer.from(new X509Certificate(readFileSync(join(dir, pem))).raw);

/**
 * A blob listing `models` (AAGUID → description), all attested under one test attestation CA. With `crl`
 * (a base URL) every certificate names a revocation list under it, as real FIDO certificates do.
 */
export async function testMetadata(models: Record<string, string>, options: { compromised?: string[]; crl?: string } = {}): Promise<TestMetadata> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-mds-'));
  caAndLeaf(dir, 'attestation-ca', 'attestation', '/C=DE/O=roomguard tests/OU=Authenticator Attestation/CN=Test Security Key', options.crl);
  caAndLeaf(dir, 'mds-root', 'mds-signer', '/C=DE/O=roomguard tests/CN=Metadata Signer', options.crl);
  const entries = Object.entries(models).map(([aaguid, description]) => ({
    aaguid,
    metadataStatement: {
      legalHeader: 'test', aaguid, description, authenticatorVersion: 1, protocolFamily: 'fido2', schema: 3,
      upv: [{ major: 1, minor: 1 }], authenticationAlgorithms: ['secp256r1_ecdsa_sha256_raw'], publicKeyAlgAndEncodings: ['cose'],
      attestationTypes: ['basic_full'], userVerificationDetails: [[{ userVerificationMethod: 'presence_internal' }]], keyProtection: ['hardware'],
      matcherProtection: ['on_chip'], attachmentHint: ['external'], tcDisplay: [], attestationRootCertificates: [der(dir, 'attestation-ca.pem').toString('base64')],
    },
    statusReports: [{ status: options.compromised?.includes(aaguid) ? 'ATTESTATION_KEY_COMPROMISE' : 'FIDO_CERTIFIED', effectiveDate: '2026-01-01' }],
    timeOfLastStatusChange: '2026-01-01',
  }));
  const signer = await importPKCS8(readFileSync(join(dir, 'mds-signer.key'), 'utf8'), 'ES256');
  const blob = await new SignJWT({ legalHeader: 'test', no: 7, nextUpdate: '2099-01-01', entries })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [der(dir, 'mds-signer.pem').toString('base64')] })
    .sign(signer);
  writeFileSync(join(dir, 'blob.jwt'), blob);
  return {
    dir, blobFile: `file:${join(dir, 'blob.jwt')}`, rootFile: `file:${join(dir, 'mds-root.pem')}`,
    attestation: { key: createPrivateKey(readFileSync(join(dir, 'attestation.key'))), certificate: der(dir, 'attestation.pem') },
  };
}
