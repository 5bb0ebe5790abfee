// roomguard's own version and the oldest Node.js it runs on, both read from the package.json that ships
// next to the code (dist/cli/ and src/cli/ are both two folders below it), so they cannot disagree.
import { readFileSync } from 'node:fs';

interface PackageFacts {
  version: string;
  engines: { node: string };
}

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageFacts;

export const VERSION: string = PACKAGE.version;

/** The major version in `engines.node` (`>=22` → 22). */
export const MIN_NODE_MAJOR: number = Number(/^>=\s*(\d+)/.exec(PACKAGE.engines.node)?.[1] ?? NaN);

/** Why this Node.js cannot run roomguard, or undefined when it can. */
export function unsupportedRuntime(nodeVersion: string = process.versions.node): string | undefined {
  const major = Number(nodeVersion.split('.')[0]);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return `roomguard ${VERSION} needs Node.js ${MIN_NODE_MAJOR} or newer (${PACKAGE.engines.node}); this is Node.js ${nodeVersion}. Install a supported LTS release (README: "Node.js").`;
}
