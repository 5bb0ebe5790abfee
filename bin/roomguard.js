#!/usr/bin/env node
// The `roomguard` command: runs the compiled CLI (dist/, built by `npm run build`, shipped in the package).
// In a clone without a build, use `npm run roomguard -- …` (tsx, from the sources) or build first.
import('../dist/cli/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/cli.js')) {
    console.error('roomguard: dist/ is missing; run `npm run build` first (or `npm run roomguard -- …` from the sources).');
    process.exit(2);
  }
  throw err;
});
