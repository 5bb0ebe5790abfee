#!/usr/bin/env node
// Runs the compiled CLI (npm run build); during development use `npx tsx src/cli.ts`.
import('../dist/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('roomguard: dist/ is missing; run `npm run build` first (or use `npx tsx src/cli.ts`).');
    process.exit(2);
  }
  throw err;
});
