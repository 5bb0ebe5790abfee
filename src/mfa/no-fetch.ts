// @simplewebauthn/server downloads certificate revocation lists named inside certificates (the FIDO blob's
// signing chain at start, every attestation chain at registration) and the MDS blob through one internal
// fetch, failing open when the download fails. roomguard never lets it reach the network: revocation comes
// from the locally stored blob's statusReports (see metadata.ts). The library exposes the hook only for its
// own tests (`_fetchInternals`, not in its exports map), so it is found next to the package's entry point
// and replaced, in both its ES module and CommonJS builds, as soon as this module is loaded.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface FetchInternals {
  stubThis: (url: string) => Promise<Response>;
}

const require = createRequire(import.meta.url);
const packageDir = join(dirname(require.resolve('@simplewebauthn/server')), '..');

function refuse(url: string): Promise<Response> {
  return Promise.reject(new Error(`roomguard: @simplewebauthn/server may not fetch ${url}: revocation comes from the local FIDO metadata blob`));
}

const esm = (await import(pathToFileURL(join(packageDir, 'esm/helpers/fetch.js')).href)) as { _fetchInternals: FetchInternals };
const cjs = require(join(packageDir, 'script/helpers/fetch.js')) as { _fetchInternals: FetchInternals };
for (const internals of [esm._fetchInternals, cjs._fetchInternals]) internals.stubThis = refuse;

/** Whether the library's fetch is replaced in both builds (for the start-up check and tests). */
export function webauthnFetchBlocked(): boolean {
  return esm._fetchInternals.stubThis === refuse && cjs._fetchInternals.stubThis === refuse;
}
